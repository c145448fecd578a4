"""`python -m collector.config --schema`: print the config file's JSON Schema.

`python -m collector.config FILE`: check a config file as `collect --config FILE` would.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from collector.config import ConfigError, config_schema, load_config

USAGE = "usage: python -m collector.config --schema | FILE..."


def main(args: list[str]) -> int:
    """Print the schema, or check each file named; 0 when all is well."""
    if args and args[0] in ("-h", "--help"):
        print(f"{USAGE}\n\n{__doc__.strip() if __doc__ else ''}")
        return 0
    if args == ["--schema"]:
        print(json.dumps(config_schema(), indent=2, ensure_ascii=False))
        return 0
    if not args or any(arg.startswith("-") for arg in args):
        print(USAGE, file=sys.stderr)
        return 2
    failed = 0
    for arg in args:
        try:
            load_config(Path(arg), {})
        except ConfigError as exc:
            print(exc, file=sys.stderr)
            failed += 1
        else:
            print(f"{arg}: valid")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
