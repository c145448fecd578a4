"""Rendering: untrusted text stays text in Markdown and HTML; broken templates are located."""

from __future__ import annotations

from pathlib import Path

import pytest

from report.render import (
    TEMPLATE_DIR,
    TemplateError,
    escape_cell,
    escape_markdown,
    escape_url,
    render_html,
    render_markdown,
)

HOSTILE = "<script>alert(1)</script> | {{ 7*7 }} [x](javascript:alert(1)) **bold**\nnew line"


def test_table_cell_cannot_break_the_row() -> None:
    cell = escape_cell("a | b\nc")
    assert "\n" not in cell
    assert "|" not in cell.replace("\\|", "")


def test_markdown_escape_then_html_keeps_hostile_text_inert() -> None:
    markdown = (
        f"| a | b |\n|---|---|\n| {escape_cell(HOSTILE)} | x |\n\n{escape_markdown(HOSTILE)}\n"
    )
    html = render_html(markdown, "t<i>", {}, "en")
    assert "<script>" not in html
    assert "&lt;script&gt;" in html
    assert 'href="javascript' not in html
    assert "<strong>" not in html
    assert "{{ 7*7 }}" in html  # Jinja syntax in data is never evaluated
    assert "<title>t&lt;i&gt;</title>" in html
    assert html.count("<tr>") == 2  # header row and one body row: the pipe did not split it


def test_escape_url_only_allows_http() -> None:
    assert escape_url("javascript:alert(1)") == "#"
    assert escape_url("https://x.example/a b)") == "https://x.example/a%20b%29"


def test_broken_template_names_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "report.md.j2").write_text("line one\n{% if %}\n", encoding="utf-8")
    with pytest.raises(TemplateError, match=r"report\.md\.j2:2: template syntax error"):
        render_markdown({}, "fr", tmp_path)


def test_template_using_an_unknown_field_names_it(tmp_path: Path) -> None:
    (tmp_path / "report.md.j2").write_text("ok\n{{ nothing_here }}\n", encoding="utf-8")
    with pytest.raises(TemplateError, match="nothing_here"):
        render_markdown({}, "fr", tmp_path)


def test_template_dir_overrides_the_bundled_template(tmp_path: Path) -> None:
    (tmp_path / "report.md.j2").write_text("# {{ L.general }} custom\n", encoding="utf-8")
    assert render_markdown({}, "fr", tmp_path) == "# Informations Générales custom\n"
    assert render_markdown({}, "en", tmp_path) == "# General Information custom\n"


def test_no_template_line_of_logic_is_longer_than_a_screen_line() -> None:
    # Nested logic on one line hides a branch; such lines are split, one branch a line.
    long_lines = [
        f"{path.name}:{number}"
        for path in sorted(TEMPLATE_DIR.glob("*.j2"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if "{%" in line and len(line) > 120
    ]
    assert long_lines == []


def test_an_edited_template_is_compiled_again_not_taken_from_the_cache(tmp_path: Path) -> None:
    """Jinja2's bytecode cache (kept between runs) is keyed by the template's source."""
    template = tmp_path / "report.md.j2"
    template.write_text("first {{ L.general }}\n", encoding="utf-8")
    assert render_markdown({}, "en", tmp_path) == "first General Information\n"
    template.write_text("second {{ L.general }}\n", encoding="utf-8")
    assert render_markdown({}, "en", tmp_path) == "second General Information\n"


def test_a_cache_that_fails_is_no_cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import jinja2

    from report import render

    def refuse(*args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(jinja2.FileSystemBytecodeCache, "dump_bytecode", refuse)
    monkeypatch.setattr(jinja2.FileSystemBytecodeCache, "load_bytecode", refuse)
    (tmp_path / "report.md.j2").write_text("ok {{ L.general }}\n", encoding="utf-8")
    assert render_markdown({}, "en", tmp_path) == "ok General Information\n"

    def no_folder(self: object) -> str:
        raise RuntimeError("Cannot determine safe temp directory.")

    render._bytecode_cache.cache_clear()
    monkeypatch.setattr(jinja2.FileSystemBytecodeCache, "_get_default_cache_dir", no_folder)
    try:
        assert render._bytecode_cache() is None
        assert render_markdown({}, "en", tmp_path) == "ok General Information\n"
    finally:
        render._bytecode_cache.cache_clear()
