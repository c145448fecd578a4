"""The report as a PDF for the archive: the same HTML laid out on A4 pages by WeasyPrint.

WeasyPrint (the `pdf` extra) needs Pango from the system. It is imported here only, and only
when a PDF is asked for, so everything else works on a machine that lacks it.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import io
import os
import re
import time
import warnings
from collections.abc import Callable, Collection, Iterator, Mapping
from pathlib import Path
from typing import Any

from report.pdf_bullets import with_text_bullets
from report.png import placeholder_png, placeholder_target, plain_rgb_idat, png_header

WAIT_SECONDS = 300  # a chart drawn by another process; a chart takes well under a second
PDF_STYLESHEET = Path(__file__).parent / "templates" / "pdf.css"
# A C array type of a given length, as WeasyPrint's font subsetting asks cffi for one.
_SIZED_ARRAY = re.compile(r"(hb_codepoint_t)\[(\d+)\]")
# The WeasyPrint versions (from, and below) whose internals `_pass_png_through` and
# `_open_arrays_for_subsetting` patch: pyproject.toml pins WeasyPrint to them, a test fails on
# any other, and on any other they are left alone (the PDF is the same, made more slowly).
WEASYPRINT_VERSIONS = (62, 71)
INSTALL_HINT = (
    "install the pdf extra (from a checkout: pip install '.[pdf]'; else pip install"
    " 'incident-timeline-collector[pdf]') and Pango"
    " (Debian: libpango-1.0-0 libpangoft2-1.0-0), or set report.pdf: never"
)

# Why no PDF can be written here (None: it can), and the PDF.
PdfOutcome = tuple[str | None, bytes | None]
# What the PDF writer is sent: the page, its folder, and each chart still drawn, with its size.
PdfPage = tuple[str, Path, Mapping[Path, tuple[int, int]]]

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
            with _libraries_from_loader_cache():
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


@contextlib.contextmanager
def _libraries_from_loader_cache() -> Iterator[None]:
    """While WeasyPrint loads, find a shared library by name in the dynamic loader's cache
    only (`ldconfig -p`), as `ctypes.util.find_library` does first.

    WeasyPrint tries several names for each library (Windows and macOS ones first). cffi looks
    up each name that does not load with `find_library`, whose later attempts on Linux compile
    and link a program (gcc, then ld) for it, for each name: a large share of every PDF process.
    Those attempts search the linker's paths, not the loader's; WeasyPrint's last name for
    each library is its file name (`libpango-1.0.so.0`), which the loader finds itself.
    """
    import ctypes.util

    in_cache = getattr(ctypes.util, "_findSoname_ldconfig", None)
    if in_cache is None:  # not glibc's Linux: find_library as it is
        yield
        return
    find_library = ctypes.util.find_library
    ctypes.util.find_library = in_cache
    try:
        yield
    finally:
        ctypes.util.find_library = find_library


class _ChartChanged(Exception):
    """A chart was drawn at another size than planned (or not at all): lay the pages out again."""


def pdf_when_given(receive: Callable[[], PdfPage]) -> PdfOutcome:
    """report.pdf's process (`collector.jobs.runner`): load WeasyPrint first, then lay out
    the page it is given."""
    # While the parent loads its libraries, analyses and renders the page.
    if pdf_unavailable() is None:
        _pass_png_through()
        _open_arrays_for_subsetting()
        _pdf_stylesheet()
        _font_config()
    return pdf_outcome(*receive())


def pdf_outcome(
    html: str, folder: Path, pending: Mapping[Path, tuple[int, int]] | None = None
) -> PdfOutcome:
    """Why no PDF can be written here (None: it can), and the PDF."""
    reason = pdf_unavailable()
    return reason, None if reason else render_pdf(html, folder, pending)


def render_pdf(
    html: str, folder: Path | None = None, pending: Mapping[Path, tuple[int, int]] | None = None
) -> bytes | None:
    """The PDF of an HTML page, or None where WeasyPrint is unavailable.

    Relative links (the charts) are read from `folder`: files, rather than data URIs that
    WeasyPrint would first have to parse out of the page and decode. Files in `pending` are
    still being drawn by other processes, at the size in pixels given: the pages are laid out
    around a placeholder of that size, and each chart takes its place when the PDF is written.
    """
    if pdf_unavailable() is not None:
        return None
    passes_png = _pass_png_through()
    _open_arrays_for_subsetting()
    base = str(folder) if folder is not None else None
    with _cycle_collection_paused():
        if pending and passes_png:
            try:
                return _write_pdf(html, base, _placeholder_fetcher(pending))
            except _ChartChanged:
                pass  # a chart unlike its plan (a bug, or a failed job): wait for the files
        return _write_pdf(html, base, _waiting_fetcher(pending) if pending else None)


def _write_pdf(html: str, base: str | None, fetch: Any) -> bytes:
    import weasyprint

    page = weasyprint.HTML(string=with_text_bullets(html), base_url=base, url_fetcher=fetch)
    pdf: bytes = page.write_pdf(stylesheets=[_pdf_stylesheet()], font_config=_font_config())
    return pdf


def _placeholder_fetcher(pending: Mapping[Path, tuple[int, int]]) -> Any:
    """WeasyPrint's own fetcher, except that a pending chart is a placeholder of its size.

    The placeholder names the chart's file; `_pass_png_through` writes the chart in its place.
    """
    sizes = {str(path.resolve()): size for path, size in pending.items()}

    def placeholder(url: str) -> bytes | None:
        path = _file_path(url)
        return placeholder_png(sizes[path], os.fsencode(path)) if path in sizes else None

    return _fetcher(placeholder)


def _file_path(url: str) -> str:
    """The local path of a file URL; "" for any other URL."""
    from urllib.parse import urlsplit
    from urllib.request import url2pathname  # here: `collect --help` imports this module

    parts = urlsplit(url)
    return url2pathname(parts.path) if parts.scheme == "file" else ""


def _fetcher(answer: Callable[[str], bytes | None]) -> Any:
    """WeasyPrint's own fetcher, except for the URLs `answer` gives a PNG for.

    WeasyPrint 70 takes a `URLFetcher` object; earlier versions a function.
    """
    import weasyprint

    fetcher_class = getattr(weasyprint, "URLFetcher", None)
    if fetcher_class is not None:
        from weasyprint.urls import URLFetcherResponse

        class AnsweringFetcher(fetcher_class):  # type: ignore[misc, valid-type]
            def fetch(self, url: str, headers: Any = None) -> Any:
                png = answer(url)
                if png is None:
                    return super().fetch(url, headers)
                # Not a file URL: WeasyPrint keeps these bytes rather than reading the file.
                return URLFetcherResponse("about:blank", png, {"Content-Type": "image/png"})

        return AnsweringFetcher()
    default: Callable[..., Any] = weasyprint.default_url_fetcher

    def fetch(url: str, *args: Any, **kwargs: Any) -> Any:
        png = answer(url)
        if png is None:
            return default(url, *args, **kwargs)
        return {"string": png, "mime_type": "image/png"}

    return fetch


def _waiting_fetcher(pending: Collection[Path]) -> Any:
    """WeasyPrint's own fetcher, which first waits (up to `WAIT_SECONDS`) for a pending file.

    The charts are written whole (renamed into place), so a file that exists is complete.
    """
    waiting = {str(path.resolve()) for path in pending}

    def wait(url: str) -> None:
        path = _file_path(url)
        if path in waiting:
            _wait_for(path)

    return _fetcher(wait)


def _wait_for(path: str) -> bool:
    """Whether the file exists, once it does or `WAIT_SECONDS` have passed."""
    deadline = time.monotonic() + WAIT_SECONDS
    while not os.path.exists(path):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.005)
    return True


@contextlib.contextmanager
def _cycle_collection_paused() -> Iterator[None]:
    """No cyclic garbage collection while WeasyPrint lays the pages out and writes them.

    WeasyPrint allocates objects by the hundred thousand, and every full collection that
    triggers walks the whole heap of a draft (pandas, matplotlib, the analysis): a sizeable
    share of the PDF's CPU. What it leaves is collected as usual afterwards.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@functools.cache
def _pdf_stylesheet() -> Any:
    """pdf.css, parsed once per process."""
    import weasyprint

    return weasyprint.CSS(string=PDF_STYLESHEET.read_text(encoding="utf-8"))


@functools.cache
def _font_config() -> Any:
    """One font configuration per process: a batch's PDFs share the fonts already looked up."""
    from weasyprint.text.fonts import FontConfiguration

    return FontConfiguration()


def patchable_weasyprint() -> bool:
    """Whether the installed WeasyPrint is one whose internals this module patches."""
    import weasyprint

    major = str(getattr(weasyprint, "__version__", "")).split(".")[0]
    low, below = WEASYPRINT_VERSIONS
    return major.isdigit() and low <= int(major) < below


@functools.cache
def _pass_png_through() -> bool:
    """Let WeasyPrint embed a chart's compressed PNG data as it is, and let a placeholder's
    chart be read only when the PDF is written; True where it can (both internals are there).

    A PDF image can carry PNG data unchanged (FlateDecode with a PNG predictor), and WeasyPrint
    does embed the IDAT data of a PNG, but of one it first decodes and encodes again
    (`RasterImage._get_png_data`): much of the PDF's time for a report's charts. Plain 8-bit
    RGB PNGs, which the charts are, are passed through as they are: the PDF is byte for byte
    the same. Anything else takes WeasyPrint's own path.

    A placeholder (`_placeholder_fetcher`) gets, in its image's PDF stream, its chart's data:
    read when the file is written, so that the pages are drawn while the charts still are.
    """
    from weasyprint import images

    if not patchable_weasyprint():
        return False
    raster = images.RasterImage
    original: Callable[[Any], bytes] | None = getattr(raster, "_get_png_data", None)
    original_x_object: Callable[..., Any] | None = getattr(raster, "get_x_object", None)
    in_memory = getattr(images, "LazyImage", None)
    if original is None or original_x_object is None or in_memory is None:
        return False

    def png_data(pillow_image: Any) -> bytes:
        source = getattr(pillow_image, "fp", None)
        data = source.getvalue() if isinstance(source, io.BytesIO) else b""
        chunks = plain_rgb_idat(data) if pillow_image.format == "PNG" else None
        return original(pillow_image) if chunks is None else chunks

    def x_object(image: Any, *args: Any, **kwargs: Any) -> Any:
        made = original_x_object(image, *args, **kwargs)
        fetched = image.image_data.data if isinstance(image.image_data, in_memory) else None
        if isinstance(fetched, bytes) and (stands_for := placeholder_target(fetched)):
            _defer_chart(made, fetched, os.fsdecode(stands_for))
        return made

    raster._get_png_data = staticmethod(png_data)
    raster.get_x_object = x_object
    return True


def _defer_chart(stream: Any, placeholder: bytes, path: str) -> None:
    """Give a placeholder's image stream its chart's data, read when the PDF is written."""
    import pydyf

    if not isinstance(stream, pydyf.Stream) or len(stream.stream) != 1:
        raise _ChartChanged(path)  # not the stream this expects: lay the pages out anew

    class ChartData(pydyf.Object):  # type: ignore[misc]
        @functools.cached_property
        def data(self) -> bytes:
            return plain_rgb_idat(_chart_in_place_of(placeholder, path)) or b""

    stream.stream = [ChartData()]


def _chart_in_place_of(placeholder: bytes, path: str) -> bytes:
    """The chart a placeholder stands for, once drawn; `_ChartChanged` unless it is the same
    size and kind (the pages were laid out for the placeholder)."""
    chart = Path(path).read_bytes() if _wait_for(path) else b""
    if png_header(chart) != png_header(placeholder) or plain_rgb_idat(chart) is None:
        raise _ChartChanged(path)
    return chart


@functools.cache
def _open_arrays_for_subsetting() -> None:
    """Let WeasyPrint's font subsetting make its arrays of glyph IDs without parsing C.

    It asks cffi for an `hb_codepoint_t[N]` of N glyph IDs, a C type that cffi parses (with
    pycparser, among every type WeasyPrint declares) for each new N, many times a PDF, anew
    for each PDF of a batch. `hb_codepoint_t[]` with the same values is
    the same array, and cffi parses that type once.
    """
    from weasyprint.pdf import fonts

    if not patchable_weasyprint():
        return
    ffi = getattr(fonts, "ffi", None)
    if ffi is not None and not isinstance(ffi, _OpenArrays):
        fonts.ffi = _OpenArrays(ffi)


class _OpenArrays:
    """cffi's FFI, except that a sized array made from values is made as an open array."""

    def __init__(self, ffi: Any) -> None:
        self._ffi = ffi

    def __getattr__(self, name: str) -> Any:
        return getattr(self._ffi, name)

    def new(self, cdecl: str, init: Any = None) -> Any:
        sized = _SIZED_ARRAY.fullmatch(cdecl)
        if sized is not None and init is not None and len(init) == int(sized.group(2)):
            return self._ffi.new(f"{sized.group(1)}[]", init)
        return self._ffi.new(cdecl, init)
