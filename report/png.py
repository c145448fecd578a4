"""The few PNG facts the charts and report.pdf share: chunks, the header, the image data.

The standard library only: report.pdf's process reads these without numpy or matplotlib.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
RGB8 = (8, 2, 0, 0, 0)  # IHDR after the size: 8 bits, truecolour, deflate, filter 0, no interlace
# A private ancillary chunk: the chart that a placeholder stands for (PNG decoders skip it).
PLACEHOLDER_CHUNK = b"itPh"


def png_chunk(kind: bytes, data: bytes) -> bytes:
    """One chunk: its length, type, data and CRC."""
    crc = zlib.crc32(kind + data)
    return struct.pack("!I", len(data)) + kind + data + struct.pack("!I", crc)


def png_chunks(png: bytes) -> Iterator[tuple[bytes, bytes]]:
    """Each chunk's type and data, in order; nothing when `png` is not a PNG."""
    if png[:8] != PNG_SIGNATURE:
        return
    position = 8
    while position + 8 <= len(png):
        (length,) = struct.unpack_from("!I", png, position)
        yield png[position + 4 : position + 8], png[position + 8 : position + 8 + length]
        position += 12 + length


def png_header(png: bytes) -> bytes | None:
    """The IHDR data (size, depth, colour type...), or None when `png` is not a PNG."""
    if png[:8] != PNG_SIGNATURE or png[12:16] != b"IHDR":
        return None
    return png[16:29]


def plain_rgb_idat(png: bytes) -> bytes | None:
    """The joined IDAT data of an 8-bit RGB, non-interlaced PNG; None for any other PNG."""
    header = png_header(png)
    if header is None or tuple(header[8:]) != RGB8:
        return None
    return b"".join(data for kind, data in png_chunks(png) if kind == b"IDAT")


def placeholder_png(size: tuple[int, int], stands_for: bytes) -> bytes:
    """A white 8-bit RGB PNG of this size (width, height) that names what it stands for.

    report.pdf lays its pages out around placeholders while the charts are still drawn; each
    is swapped for its chart when the PDF is written (`report.pdf`).
    """
    width, height = size
    rows = b"\x00" + b"\xff" * (3 * width)  # filter "None", white
    return b"".join(
        (
            PNG_SIGNATURE,
            png_chunk(b"IHDR", struct.pack("!II", width, height) + bytes(RGB8)),
            png_chunk(PLACEHOLDER_CHUNK, stands_for),
            png_chunk(b"IDAT", zlib.compress(rows * height, 1)),
            png_chunk(b"IEND", b""),
        )
    )


def placeholder_target(png: bytes) -> bytes | None:
    """What a placeholder stands for; None for any other PNG."""
    for kind, data in png_chunks(png):
        if kind == PLACEHOLDER_CHUNK:
            return data
        if kind == b"IDAT":
            return None
    return None
