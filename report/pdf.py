"""The report as a PDF for the archive: the same HTML laid out on A4 pages by WeasyPrint.

WeasyPrint (the `pdf` extra) needs Pango from the system. It is imported here only, and only
when a PDF is asked for, so everything else works on a machine that lacks it.
"""

from __future__ import annotations

import functools
import io
import os
import struct
import time
import warnings
from collections.abc import Callable, Collection
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from urllib.request import url2pathname

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
WAIT_SECONDS = 300  # a chart drawn by another process; a chart takes well under a second
INSTALL_HINT = (
    "install the pdf extra (pip install 'incident-timeline-collector[pdf]') and Pango"
    " (Debian: libpango-1.0-0 libpangoft2-1.0-0), or set report.pdf: false"
)


# What `pdf_unavailable` found, once per process (or what a forked PDF writer found).
_FOUND: list[str | None] = []


def pdf_unavailable() -> str | None:
    """Why no PDF can be written on this machine, in one line; None when WeasyPrint works."""
    if not _FOUND:
        _FOUND.append(_why_unavailable())
    return _FOUND[0]


def learn_pdf_unavailable(reason: str | None) -> None:
    """Take what a forked PDF writer found, so that this process need not import WeasyPrint."""
    if not _FOUND:
        _FOUND.append(reason)


def _why_unavailable() -> str | None:
    try:
        with warnings.catch_warnings():
            # Its import warns about optional libraries (HarfBuzz subsetting); the PDF is fine.
            warnings.simplefilter("ignore")
            import weasyprint  # noqa: F401
    except ImportError:
        return f"report.pdf not written: the weasyprint package is missing; {INSTALL_HINT}"
    except OSError as exc:
        # cffi raises OSError when a shared library (Pango, GObject) cannot be loaded.
        reason = " ".join(str(exc).split())[:160]
        return (
            "report.pdf not written: the weasyprint package cannot load its system libraries"
            f" ({reason}); {INSTALL_HINT}"
        )
    return None


def render_pdf(
    html: str, folder: Path | None = None, pending: Collection[Path] = ()
) -> bytes | None:
    """The PDF of an HTML page, or None where WeasyPrint is unavailable.

    Relative links (the charts) are read from `folder`: files, rather than data URIs that
    WeasyPrint would first have to parse out of the page and decode. Files in `pending` are
    still being drawn by other processes: the layout waits for each when it reaches it.
    """
    if pdf_unavailable() is not None:
        return None
    import weasyprint

    _pass_png_through()
    base = str(folder) if folder is not None else None
    fetch = _waiting_fetcher(pending) if pending else None
    pdf: bytes = weasyprint.HTML(string=html, base_url=base, url_fetcher=fetch).write_pdf()
    return pdf


def _waiting_fetcher(pending: Collection[Path]) -> Any:
    """WeasyPrint's own fetcher, which first waits (up to `WAIT_SECONDS`) for a pending file.

    The charts are written whole (renamed into place), so a file that exists is complete.
    WeasyPrint 70 takes a `URLFetcher` object; earlier versions a function.
    """
    import weasyprint

    waiting = {str(path.resolve()) for path in pending}

    def wait(url: str) -> None:
        parts = urlsplit(url)
        path = url2pathname(parts.path) if parts.scheme == "file" else ""
        if path in waiting:
            deadline = time.monotonic() + WAIT_SECONDS
            while not os.path.exists(path) and time.monotonic() < deadline:
                time.sleep(0.005)

    fetcher_class = getattr(weasyprint, "URLFetcher", None)
    if fetcher_class is not None:

        class WaitingFetcher(fetcher_class):  # type: ignore[misc, valid-type]
            def fetch(self, url: str, headers: Any = None) -> Any:
                wait(url)
                return super().fetch(url, headers)

        return WaitingFetcher()
    default: Callable[..., Any] = weasyprint.default_url_fetcher

    def fetch(url: str, *args: Any, **kwargs: Any) -> Any:
        wait(url)
        return default(url, *args, **kwargs)

    return fetch


@functools.cache
def _pass_png_through() -> None:
    """Let WeasyPrint embed a chart's compressed PNG data as it is.

    A PDF image can carry PNG data unchanged (FlateDecode with a PNG predictor), and WeasyPrint
    does embed the IDAT data of a PNG, but of one it first decodes and encodes again
    (`RasterImage._get_png_data`): 30 % of the PDF's time for the demo's charts. Plain 8-bit
    RGB PNGs, which the charts are, are passed through as they are: the PDF is byte for byte
    the same. Anything else, or another WeasyPrint without that method, takes its own path.
    """
    from weasyprint.images import RasterImage

    original = getattr(RasterImage, "_get_png_data", None)
    if original is None:
        return

    def png_data(pillow_image: Any) -> bytes:
        source = getattr(pillow_image, "fp", None)
        data = source.getvalue() if isinstance(source, io.BytesIO) else b""
        chunks = _plain_rgb_idat(data) if pillow_image.format == "PNG" else None
        return original(pillow_image) if chunks is None else chunks

    RasterImage._get_png_data = staticmethod(png_data)


def _plain_rgb_idat(png: bytes) -> bytes | None:
    """The joined IDAT data of an 8-bit RGB, non-interlaced PNG; None for any other PNG."""
    if png[:8] != PNG_SIGNATURE or png[12:16] != b"IHDR":
        return None
    depth, colour, _, _, interlace = png[24:29]
    if (depth, colour, interlace) != (8, 2, 0):
        return None
    chunks, position = [], 8
    while position + 8 <= len(png):
        (length,) = struct.unpack_from("!I", png, position)
        kind = png[position + 4 : position + 8]
        if kind == b"IDAT":
            chunks.append(png[position + 8 : position + 8 + length])
        position += 12 + length
    return b"".join(chunks)
