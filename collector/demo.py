"""Where the bundled demo incident lives: inside the installed package, or in the checkout."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

SNAPSHOT = "snapshot.json"
CONFIG = "collector.yaml"


def demo_dir() -> Path:
    """The folder holding the demo snapshot and its config."""
    packaged = Path(str(resources.files("collector"))) / "_demo"
    if (packaged / SNAPSHOT).exists():
        return packaged
    # Running from a checkout (or an editable install): the one copy under fixtures/.
    return Path(__file__).resolve().parent.parent / "fixtures" / "demo"
