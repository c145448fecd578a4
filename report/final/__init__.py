"""The final report: what a person left in report.md, checked, then rendered for the archive."""
