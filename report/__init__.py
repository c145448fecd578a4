"""Report rendering: Jinja2 templates to Markdown and self-contained HTML."""
