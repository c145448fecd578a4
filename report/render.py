"""Render the report: one Jinja2 environment, its filters, Markdown and self-contained HTML."""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping
from functools import cache, partial
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jinja2
import jinja2.bccache
import jinja2.sandbox
from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml

from collector.analysis.facts import FigureStatus
from collector.analysis.memory import TrendLevel
from collector.analysis.outage import OutageBasis
from collector.analysis.rules import RuleBasis
from collector.errors import TemplateError
from collector.records import QueryKind
from collector.redact import redact_url
from report.words import formats
from report.words.labels import LABELS

TEMPLATE_DIR = Path(__file__).parent / "templates"
MARKDOWN_TEMPLATE = "report.md.j2"
HTML_TEMPLATE = "report.html.j2"
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|~#])")
_H2 = re.compile(r"<h2>(.*?)</h2>")
# A link `escape_url` made harmless ("#"): its text alone. report.pdf would resolve "#" against
# the staging folder, a dead file:// link that shows a server path.
_DEAD_LINK = re.compile(r'<a href="#">(.*?)</a>', re.S)


def make_environment(template_dir: Path | None = None, language: str = "en") -> jinja2.Environment:
    """The one Jinja2 environment: user templates first, then the bundled ones; its filters
    format in `language` (`report.words.formats`).

    Sandboxed: a customised template reads the report's values, never Python's internals
    (`cycler.__init__.__globals__.os` ran commands). The bundled ones too: the sandbox's cost
    is lost in a draft's noise (benchmarks/README.md)."""
    loaders: list[jinja2.BaseLoader] = []
    if template_dir is not None:
        loaders.append(jinja2.FileSystemLoader(str(template_dir)))
    loaders.append(jinja2.FileSystemLoader(str(TEMPLATE_DIR)))
    env = jinja2.sandbox.SandboxedEnvironment(
        loader=jinja2.ChoiceLoader(loaders),
        bytecode_cache=_bytecode_cache(),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html", "html.j2")),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        md=escape_markdown,
        code=escape_code,
        source=escape_source,
        cell=escape_cell,
        utc=formats.utc,
        hhmm=formats.hhmm,
        date=formats.date,
        local=formats.local,
        clock=formats.clock,
        # `minutes` is the older name of `duration`, kept for customised templates.
        minutes=partial(formats.duration, language=language),
        duration=partial(formats.duration, language=language),
        number=partial(formats.number, language=language),
        url=escape_url,
    )
    # The enums templates branch on, compared as members (`s.basis is sameas OutageBasis.NONE`).
    enums = (FigureStatus, OutageBasis, QueryKind, RuleBasis, TrendLevel)
    env.globals.update({enum.__name__: enum for enum in enums})
    return env


def escape_markdown(value: Any) -> str:
    """Untrusted text as inline Markdown: one line, no markup, links or HTML of its own."""
    text = " ".join(str(value).split())
    return _MD_SPECIAL.sub(r"\\\1", text)


def escape_code(value: Any) -> str:
    """Untrusted text inside an inline code span: one line, no backtick to close it early."""
    return " ".join(str(value).split()).replace("`", "'")


def escape_url(value: Any) -> str:
    """An untrusted URL as a Markdown link target: only http(s), no password, nothing that ends
    the link."""
    text = redact_url(str(value).strip())
    if not text.lower().startswith(("https://", "http://")):
        return "#"
    return quote(text, safe=":/?#&=%.-_~+@!$,;*'")


def escape_source(value: Any) -> str:
    """A figure's source in words (`Words.source`): inline Markdown whose only code spans are
    the catalogue's own `…` (a query); the values in it carry no backtick (`Words.source`)."""
    parts = str(value).split("`")
    if len(parts) % 2 == 0:  # an unpaired backtick: no code span at all
        return escape_markdown(value)
    return "".join(
        f"`{escape_code(part)}`" if i % 2 else _spaced(part, escape_markdown(part))
        for i, part in enumerate(parts)
    )


def _spaced(raw: str, escaped: str) -> str:
    """`escaped` with the one space that stood at either end of `raw` (around a code span)."""
    before = " " if raw[:1].isspace() and escaped else ""
    after = " " if raw[-1:].isspace() and escaped else ""
    return before + escaped + after


def escape_cell(value: Any) -> str:
    """Untrusted text inside a Markdown table cell (pipes and newlines cannot break the row)."""
    return escape_markdown(value)


def render_markdown(
    context: Mapping[str, Any],
    language: str,
    template_dir: Path | None = None,
    *,
    template: str = MARKDOWN_TEMPLATE,
) -> str:
    """Render a Markdown report (the incident's unless told) in the given language."""
    env = make_environment(template_dir, language)
    return _render(env, template, {**context, "L": LABELS[language], "lang": language})


def render_page(
    template: str, context: Mapping[str, Any], language: str, template_dir: Path | None = None
) -> str:
    """Render one of the other pages (an HTML template is escaped), with the catalogue as L."""
    env = make_environment(template_dir, language)
    return _render(env, template, {**context, "L": LABELS[language], "lang": language})


def render_html(
    markdown_text: str,
    title: str,
    images: Mapping[str, bytes],
    language: str,
    template_dir: Path | None = None,
) -> str:
    """Turn the Markdown into one self-contained HTML page, charts inlined as data URIs.

    With no images, the charts stay links relative to the report's folder (for report.pdf).
    """
    parser = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")
    parser.enable("strikethrough")
    body = wrap_sections(_DEAD_LINK.sub(r"\1", parser.render(markdown_text)), language)
    env = make_environment(template_dir, language)
    page = _render(env, HTML_TEMPLATE, {"title": title, "body": body, "lang": language})
    return inline_images(page, images)


def inline_images(html: str, images: Mapping[str, bytes]) -> str:
    """The page with each chart's relative link replaced by its PNG as a data URI."""
    for name, data in images.items():
        uri = "data:image/png;base64," + base64.b64encode(data).decode("ascii")
        html = html.replace(f'src="{name}"', f'src="{uri}"')
    return html


def wrap_sections(body: str, language: str) -> str:
    """Each level-2 heading and what follows it as one <section>, its id the label's key
    (id="signatures"), so print styles can keep a section on one page."""
    keys = {escapeHtml(text): key for key, text in LABELS[language].items()}
    parts = re.split(r"(?=<h2>)", body)
    seen: set[str] = set()
    for i, part in enumerate(parts):
        heading = _H2.match(part)
        if heading is None:
            continue
        key = keys.get(heading.group(1), "")
        ident = f' id="{key}"' if key and key not in seen else ""
        seen.add(key)
        if key == "appendix":  # sources and definitions: there for who checks, folded away
            rest = part[heading.end() :]
            part = f"<details>\n<summary>{heading.group(0)}</summary>\n{rest}</details>\n"
        parts[i] = f"<section{ident}>\n{part}</section>\n"
    return "".join(parts)


class _QuietBytecodeCache(jinja2.FileSystemBytecodeCache):
    """Jinja2's compiled templates, kept between runs; a cache that fails is no cache.

    Compiling the report's templates is a visible part of every draft. Jinja2 keys each entry by
    the template's name and a checksum of its source, so an edited template is compiled again.
    """

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        try:
            super().load_bytecode(bucket)
        except (OSError, ValueError, EOFError):  # unreadable or truncated: compile instead
            bucket.reset()

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        try:
            super().dump_bytecode(bucket)
        except OSError:  # full or read-only disk: the draft does not need the cache
            pass


@cache
def _bytecode_cache() -> jinja2.BytecodeCache | None:
    """Jinja2's own per-user folder in the temporary directory (mode 0700, checked), or none."""
    try:
        return _QuietBytecodeCache()
    except (OSError, RuntimeError):  # no usable temporary directory, or one another user owns
        return None


def _render(env: jinja2.Environment, name: str, context: Mapping[str, Any]) -> str:
    try:
        return env.get_template(name).render(**context)
    except jinja2.TemplateSyntaxError as exc:
        where = exc.filename or exc.name or name
        raise TemplateError(f"{where}:{exc.lineno}: template syntax error: {exc.message}") from exc
    except jinja2.UndefinedError as exc:
        raise TemplateError(f"{_template_position(exc, name)}: {exc.message}") from exc
    except jinja2.TemplateNotFound as exc:
        raise TemplateError(f"template {exc.name} not found") from exc
    except jinja2.TemplateError as exc:
        raise TemplateError(f"{_template_position(exc, name)}: {exc.message or exc}") from exc
    except (ArithmeticError, LookupError, TypeError, ValueError, AttributeError) as exc:
        # `{{ 1/0 }}`, `{{ x[99] }}`...: runtime errors of a customised template. In a bundled
        # template the fault is ours, not the user's: it is reported as a bug, not a template.
        if _is_bundled(_template_position(exc, name)):
            raise
        raise TemplateError(
            f"{_template_position(exc, name)}: template error: {type(exc).__name__}: {exc}"
        ) from exc
    except RecursionError as exc:
        raise TemplateError(f"{_template_position(exc, name)}: template recurses forever") from exc


def _is_bundled(position: str) -> bool:
    """Whether a template position ('…/report.md.j2:27') is in the bundled templates."""
    return Path(position.rsplit(":", 1)[0]).parent == TEMPLATE_DIR


def _template_position(exc: BaseException, name: str) -> str:
    # Runtime errors carry the template line only in the traceback.
    tb = exc.__traceback__
    position = name
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if filename.endswith(".j2") or filename.startswith("<template>"):
            position = f"{filename}:{tb.tb_lineno}"
        tb = tb.tb_next
    return position
