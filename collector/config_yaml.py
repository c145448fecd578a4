"""Read the YAML config file strictly: a key or a query name given twice names its line.

PyYAML's safe loader keeps the last of two equal keys, silently; a typo'd copy of a section
would then replace the first. This loader refuses duplicates and remembers where each mapping
starts, so that duplicate query names are reported with their line too. It also refuses a
document whose aliases expand past MAX_EXPANDED_NODES values (a "billion laughs" bomb took a
minute and gigabytes to be refused by the schema: benchmarks/README.md), counted on the parsed
nodes, before any value is built.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from collector.errors import ConfigError


# _DuplicateKey and _AliasBomb are YAMLErrors raised inside the YAML loader; `read_yaml` turns
# them into a ConfigError that names the file, so they never leave this module.
class _DuplicateKey(yaml.YAMLError):
    def __init__(self, key: Any, line: int, first: int) -> None:
        super().__init__(
            f"line {line}: key {str(key)[:60]!r} appears twice (first at line {first})"
        )


# Values a config may hold once its aliases are expanded: a big config has a few thousand.
MAX_EXPANDED_NODES = 100_000


class _AliasBomb(yaml.YAMLError):
    def __init__(self, line: int, looped: bool = False) -> None:
        what = (
            "an alias (*name) refers to the value that holds it"
            if looped
            else f"its aliases (*name) expand to more than {MAX_EXPANDED_NODES:,} values"
        )
        super().__init__(f"line {line}: {what}; write the values out, or use fewer aliases")


def _check_expansion(root: yaml.Node) -> None:
    """Refuse a document whose aliases expand past MAX_EXPANDED_NODES values (or refer to
    themselves), counting each node's expanded size once: the bomb is never expanded."""
    sizes: dict[int, int] = {}

    def size(node: yaml.Node) -> int:
        known = sizes.get(id(node))
        if known is not None:
            if known < 0:  # still being counted: an alias inside its own anchor
                raise _AliasBomb(node.start_mark.line + 1, looped=True)
            return known
        sizes[id(node)] = -1
        children: list[yaml.Node] = []
        if isinstance(node, yaml.SequenceNode):
            children = list(node.value)
        elif isinstance(node, yaml.MappingNode):
            children = [part for pair in node.value for part in pair]
        total = 1 + sum(size(child) for child in children)
        if total > MAX_EXPANDED_NODES:
            raise _AliasBomb(node.start_mark.line + 1)
        sizes[id(node)] = total
        return total

    size(root)


class _StrictLoader(yaml.SafeLoader):
    """YAML's safe loader, refusing duplicate keys and remembering where each mapping starts."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.lines: dict[int, int] = {}

    def get_single_data(self) -> Any:
        """The document's value, after proving its aliases do not expand past the bound."""
        node = self.get_single_node()
        if node is None:
            return None
        _check_expansion(node)
        return self.construct_document(node)

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
    except (_DuplicateKey, _AliasBomb) as exc:
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
