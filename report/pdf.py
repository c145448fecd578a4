"""The report as a PDF for the archive: the same HTML laid out on A4 pages by WeasyPrint.

WeasyPrint (the `pdf` extra) needs Pango from the system. It is imported here only, and only
when a PDF is asked for, so everything else works on a machine that lacks it.
"""

from __future__ import annotations

import functools
import warnings

INSTALL_HINT = (
    "install the pdf extra (pip install 'incident-timeline-collector[pdf]') and Pango"
    " (Debian: libpango-1.0-0 libpangoft2-1.0-0), or set report.pdf: false"
)


@functools.cache
def pdf_unavailable() -> str | None:
    """Why no PDF can be written on this machine, in one line; None when WeasyPrint works."""
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


def render_pdf(html: str) -> bytes | None:
    """The PDF of a self-contained HTML page, or None where WeasyPrint is unavailable."""
    if pdf_unavailable() is not None:
        return None
    import weasyprint

    pdf: bytes = weasyprint.HTML(string=html).write_pdf()
    return pdf
