"""The `collect` executable: a Ctrl-C even while the libraries load ends in one line, exit 130."""

from __future__ import annotations

import gc
import logging
import os
import signal
import sys
from typing import Any


def run() -> None:
    """Load the command line (pandas, matplotlib... take a while), then run it."""
    from collector.errors import EXIT_INTERRUPTED, INTERRUPTED

    # The clients log their retries (and, when a run is cut short, their broken reads); the
    # command says what matters in its own one line, so library logs never reach stderr.
    logging.getLogger().addHandler(logging.NullHandler())
    sys.unraisablehook = _exit_on_swallowed_interrupt
    # Loading the libraries creates objects by the hundred thousand, all kept for good: no
    # collection can free any of them. `Runner.settle` freezes them and turns the collector on.
    gc.disable()
    try:
        import click

        from collector.cli import main

        try:
            code = main.main(standalone_mode=False)
        except click.exceptions.Abort:  # click's word for a Ctrl-C while it parses
            raise KeyboardInterrupt from None
        except click.ClickException as exc:
            exc.show()
            sys.exit(exc.exit_code)
        # Done and said: a Ctrl-C now would only land in the interpreter's shutdown, and end
        # the process by the signal, without a word, after the result was printed.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        sys.exit(code if isinstance(code, int) else 0)
    except KeyboardInterrupt:
        # Before `main` catches it (start-up) or after: the same one line as in `main`.
        sys.stderr.write(INTERRUPTED + "\n")
        sys.exit(EXIT_INTERRUPTED)


def _exit_on_swallowed_interrupt(unraisable: Any) -> None:
    # A Ctrl-C that lands in a callback Python cannot raise from (importlib's module-lock
    # weakref, a finaliser) would be printed and then ignored, and the run would go on: stop
    # here instead, with the same one line. Nothing is half-written: publishing is atomic and
    # a staging folder left behind is cleaned by the next run.
    if isinstance(unraisable.exc_value, KeyboardInterrupt):
        from collector.errors import EXIT_INTERRUPTED, INTERRUPTED

        sys.stderr.write(INTERRUPTED + "\n")
        sys.stderr.flush()
        os._exit(EXIT_INTERRUPTED)
    sys.__unraisablehook__(unraisable)
