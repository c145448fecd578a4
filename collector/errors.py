"""The collector's one error tree: every failure a user can cause or meet is one of these.

The command line catches `CollectorError` and prints its message on one line (exit 1). Each
subclass names the stage that failed; the message names the file, key or source and the fix.
"""

from __future__ import annotations

# Ctrl-C: publishing is atomic, so an interrupted run leaves the old report or the new one.
INTERRUPTED = "collect: interrupted; nothing half-written was kept"
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report a Ctrl-C


class CollectorError(Exception):
    """A failure the user can act on; the message is one line that says why and what to do."""


class ConfigError(CollectorError):
    """The configuration file or environment is invalid; the message names file, key, fix."""


class SourceError(CollectorError):
    """An outside system (PagerDuty, Prometheus) could not give what the run needs."""


class SnapshotError(CollectorError):
    """A snapshot file cannot be read or is not valid; the message names the field."""


class TemplateError(CollectorError):
    """A report template is broken; the message names the file and line."""


class OutputError(CollectorError):
    """The report cannot be written where asked (--out), or a name would escape it."""


def clause(message: object) -> str:
    """Another's message (a library's exception) to go inside ours: one line, no closing stop.

    Libraries end theirs with a full stop ("... to connect to the API."): ours goes on after it.
    """
    return " ".join(str(message).split()).rstrip(".")


def sentence(message: str) -> str:
    """An error as the command prints it: one line that ends with exactly one full stop."""
    line = " ".join(message.split()).rstrip(". ")
    return line if line.endswith(("?", "!")) else f"{line}."
