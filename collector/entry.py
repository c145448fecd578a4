"""The `collect` executable: a Ctrl-C even while the libraries load ends in one line, exit 130."""

from __future__ import annotations

import logging
import sys


def run() -> None:
    """Load the command line (pandas, matplotlib... take a while), then run it."""
    from collector.errors import EXIT_INTERRUPTED, INTERRUPTED

    # The clients log their retries (and, when a run is cut short, their broken reads); the
    # command says what matters in its own one line, so library logs never reach stderr.
    logging.getLogger().addHandler(logging.NullHandler())
    try:
        from collector.cli import main

        main()
    except KeyboardInterrupt:
        # Before `main` catches it (start-up) or after: the same one line as in `main`.
        sys.stderr.write(INTERRUPTED + "\n")
        sys.exit(EXIT_INTERRUPTED)
