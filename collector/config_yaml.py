"""Read the YAML config file strictly: a key or a query name given twice names its line.

PyYAML's safe loader keeps the last of two equal keys, silently; a typo'd copy of a section
would then replace the first. This loader refuses duplicates and remembers where each mapping
starts, so that duplicate query names are reported with their line too.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from collector.errors import ConfigError


class _DuplicateKey(yaml.YAMLError):
    def __init__(self, key: Any, line: int, first: int) -> None:
        super().__init__(
            f"line {line}: key {str(key)[:60]!r} appears twice (first at line {first})"
        )


class _StrictLoader(yaml.SafeLoader):
    """YAML's safe loader, refusing duplicate keys and remembering where each mapping starts."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.lines: dict[int, int] = {}

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=deep)
            line = key_node.start_mark.line + 1
            try:
                first = seen.setdefault(key, line)
            except TypeError:
                continue  # an unhashable key: the safe loader reports it
            if first != line:
                raise _DuplicateKey(key, line, first)
        return super().construct_mapping(node, deep=deep)


def _construct_map(loader: _StrictLoader, node: yaml.MappingNode) -> Iterator[dict[Any, Any]]:
    data: dict[Any, Any] = {}
    loader.lines[id(data)] = node.start_mark.line + 1
    yield data
    data.update(loader.construct_mapping(node))


_StrictLoader.add_constructor("tag:yaml.org,2002:map", _construct_map)


def read_yaml(path: Path) -> dict[str, Any]:
    """The YAML file as a mapping; ConfigError naming the file and line when it is not one."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or "not UTF-8 text"
        raise ConfigError(f"{path}: cannot read config file ({reason})") from exc
    loader: _StrictLoader | None = None
    try:
        loader = _StrictLoader(text)
        data = loader.get_single_data()
    except _DuplicateKey as exc:
        raise ConfigError(f"{path}: {exc}") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or getattr(exc, "reason", None) or str(exc)
        raise ConfigError(f"{path}:{where} is not valid YAML: {' '.join(problem.split())}") from exc
    except RecursionError as exc:
        raise ConfigError(f"{path}: not a config file: nested too deeply") from exc
    finally:
        if loader is not None:
            loader.dispose()
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level, got {type(data).__name__}")
    _check_query_names(data, loader.lines if loader else {}, path)
    return data


def _check_query_names(data: dict[str, Any], lines: dict[int, int], path: Path) -> None:
    # Two queries of one name would draw into one chart file: the second would replace the first.
    prometheus = data.get("prometheus")
    queries = prometheus.get("queries") if isinstance(prometheus, dict) else None
    seen: dict[str, int] = {}
    for query in queries if isinstance(queries, list) else ():
        name = query.get("name") if isinstance(query, dict) else None
        if not isinstance(name, str):
            continue  # the schema says what is wrong with it
        line = lines.get(id(query), 0)
        if name in seen:
            raise ConfigError(
                f"{path}: line {line}: key 'prometheus.queries': query name {name[:60]!r}"
                f" appears twice (first at line {seen[name]})"
            )
        seen[name] = line
