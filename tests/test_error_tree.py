"""One exception tree: every exception class of collector/ and report/ is a CollectorError,
private to its module (`_Name`), or listed below with the reason it stays outside."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import collector
import report
from collector.errors import CollectorError

# Public exceptions that stay outside the tree, and why. Add one only with its reason.
OUTSIDE = {
    # requests raises it from its redirect loop; it never leaves collector/sources/.
    "collector.sources.http_guard.RedirectRefused",
    # click's usage error (exit 2, with the usage line): the command line's own boundary.
    "collector.cli.BadInput",
    # Raised by collector.parallel to its one user, the runner (collector/jobs/runner.py),
    # which catches it and does the work itself; it never reaches a user.
    "collector.parallel.BackgroundEnded",
}


def exception_classes() -> dict[str, type[BaseException]]:
    found: dict[str, type[BaseException]] = {}
    for package in (collector, report):
        prefix = f"{package.__name__}."
        for info in pkgutil.walk_packages(package.__path__, prefix):
            module = importlib.import_module(info.name)
            for name, value in inspect.getmembers(module, inspect.isclass):
                if issubclass(value, BaseException) and value.__module__ == module.__name__:
                    found[f"{module.__name__}.{name}"] = value
    return found


def test_every_public_exception_is_a_collector_error() -> None:
    classes = exception_classes()
    assert "collector.sources.notify.NotifyError" in classes  # the walk finds them
    outside = sorted(
        name
        for name, cls in classes.items()
        if not issubclass(cls, CollectorError)
        and not cls.__name__.startswith("_")
        and name not in OUTSIDE
    )
    assert outside == [], "subclass CollectorError (collector/errors.py), or say why not"
