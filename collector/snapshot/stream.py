"""Read a snapshot's JSON a piece at a time: a million log entries in a bounded memory.

`json.loads` needs the file's whole text and then holds every entry's objects apart: the
same agent, service, team and incident references once per entry. Here the text is read in
chunks; the top levels of the document are walked by hand and each value below them decoded by
the standard decoder, so only one value's text is held at a time. The flat objects of the log
entries (references: all values text) are shared between entries that repeat them, and their
short texts interned. Nothing in a loaded snapshot is changed in place, so sharing is safe.

A list too long to hold (a million log entries, as objects) can be left in the file
(`load_json(left_on_disk=...)`): its items are checked as they are read and counted, and read
again from the file, one at a time, whenever they are iterated (`OnDisk`).
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, TextIO

from collector.errors import SnapshotError

CHUNK = 1 << 20
# The levels walked by hand: the document, its parts, their lists (log entries, results).
DEPTH = 3
# Below these paths each value is decoded with its flat objects shared ("[]": an item).
SHARED = frozenset({("pagerduty", "log_entries", "[]")})
INTERNED_UP_TO = 64  # characters: a type, a name, a time; not a note
_SPACE = re.compile(r"[ \t\n\r]*")

# A list left on disk (`left_on_disk`) longer than this is not kept: read again when iterated.
# Below it (the demo's 15 log entries, 20,000) a snapshot is held whole, as it always was.
LEFT_ON_DISK_FROM = 50_000

ObjectHook = Callable[[dict[str, Any]], Any]
# Checks one item of a list left on disk (its index, its value): a problem that sorts before
# later ones (the first is kept), or None.
ItemCheck = Callable[[int, Any], tuple[Any, ...] | None]


def load_json(
    handle: TextIO,
    object_hook: ObjectHook | None = None,
    left_on_disk: Mapping[tuple[str, ...], ItemCheck] | None = None,
) -> Any:
    """The JSON document in `handle`, as `json.load` gives it (JSONDecodeError, ValueError
    and RecursionError as it raises them, line numbers of the whole file). A list at a path of
    `left_on_disk` (`("pagerduty", "log_entries")`) longer than `LEFT_ON_DISK_FROM` comes back
    as an `OnDisk`, its items checked by the path's check; only from a file opened by name."""
    return _Reader(handle, object_hook, left_on_disk or {}).document()


class OnDisk:
    """The items of one list of a JSON file, left there: how many there are, the first problem
    the check found, and each item read again from the file (references shared) when iterated.

    The file must not change meanwhile: one that did (another inode, size or time) raises
    SnapshotError instead of giving other items than were checked and counted.
    """

    def __init__(self, path: Path, at: tuple[str, ...], count: int, problem: Any) -> None:
        self.path, self.at, self.count, self.problem = path, at, count, problem
        self._identity = _identity(path.stat())

    def __len__(self) -> int:
        return self.count

    def __iter__(self) -> Iterator[Any]:
        with self.path.open(encoding="utf-8") as handle:
            if _identity(os.fstat(handle.fileno())) != self._identity:
                raise SnapshotError(f"{self.path}: changed while being read; run again")
            yield from _Reader(handle, None, {}).items_at(self.at)

    def __eq__(self, other: object) -> bool:
        return list(self) == (list(other) if isinstance(other, OnDisk) else other)

    __hash__ = None  # type: ignore[assignment]


def _identity(status: os.stat_result) -> tuple[int, ...]:
    return (status.st_dev, status.st_ino, status.st_size, status.st_mtime_ns)


class _Sharing:
    """An `object_pairs_hook` that returns one object for equal flat objects of text."""

    def __init__(self) -> None:
        self.seen: dict[tuple[tuple[str, Any], ...], dict[str, Any]] = {}

    def __call__(self, pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        if all(isinstance(v, str) or v is None for _, v in pairs):
            key = tuple(pairs)
            found = self.seen.get(key)
            if found is None:
                found = self.seen[key] = dict(pairs)
            return found
        return {k: _interned(v) for k, v in pairs}


def _interned(value: Any) -> Any:
    return sys.intern(value) if isinstance(value, str) and len(value) <= INTERNED_UP_TO else value


class _Reader:
    def __init__(
        self,
        handle: TextIO,
        object_hook: ObjectHook | None,
        left_on_disk: Mapping[tuple[str, ...], ItemCheck],
    ) -> None:
        self.handle = handle
        self.hook = object_hook
        name = getattr(handle, "name", None)
        self.left_on_disk = left_on_disk if isinstance(name, str) else {}
        self.plain = json.JSONDecoder(object_hook=object_hook)
        self.shared = json.JSONDecoder(object_pairs_hook=_Sharing())
        self.buf = ""
        self.pos = 0
        self.lines = 0  # newlines in the text already dropped from `buf`
        self.ended = False

    def document(self) -> Any:
        value = self._value(())
        if self._peek():
            raise self._error("Extra data")
        return value

    def _value(self, path: tuple[str, ...]) -> Any:
        first = self._peek()
        if len(path) < DEPTH and first in ("{", "["):
            self.pos += 1
            if first == "{":
                value: Any = self._object(path)
            elif path in self.left_on_disk:
                value = self._long_array(path, self.left_on_disk[path])
            else:
                value = self._array(path)
            return self.hook(value) if self.hook and isinstance(value, dict) else value
        return self._decoded(self.shared if path in SHARED else self.plain)

    def _object(self, path: tuple[str, ...]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self._peek() == "}":
            self.pos += 1
            return out
        while True:
            key = self._decoded(self.plain) if self._peek() == '"' else None
            if not isinstance(key, str) or self._peek() != ":":
                raise self._error("Expecting property name and ':'")
            self.pos += 1
            out[key] = self._value((*path, key))
            if self._separator("}"):
                return out

    def _array(self, path: tuple[str, ...]) -> list[Any]:
        out: list[Any] = []
        if self._peek() == "]":
            self.pos += 1
            return out
        while True:
            out.append(self._value((*path, "[]")))
            if self._separator("]"):
                return out

    def _long_array(self, path: tuple[str, ...], check: ItemCheck) -> list[Any] | OnDisk:
        """A list at a path left on disk: its items, or once there are too many to keep, only
        their count and the first problem found in them (`OnDisk`)."""
        kept: list[Any] | None = []
        count, problem = 0, None
        if self._peek() == "]":
            self.pos += 1
            return []
        while True:
            item = self._value((*path, "[]"))
            if kept is None:
                problem = _first(problem, check(count, item))
            else:
                kept.append(item)
            count += 1
            if kept is not None and count > LEFT_ON_DISK_FROM:  # too many: checked, dropped
                for index, held in enumerate(kept):
                    problem = _first(problem, check(index, held))
                kept = None
            if self._separator("]"):
                break
        if kept is not None:
            return kept
        return OnDisk(Path(self.handle.name), path, count, problem)

    def items_at(self, at: tuple[str, ...]) -> Iterator[Any]:
        """The items of the list at path `at` (objects' keys), one at a time."""
        for depth, key in enumerate(at):
            self._expect("{")
            while True:
                found = self._decoded(self.plain) if self._peek() == '"' else None
                self._expect(":")
                if found == key:
                    break
                self._value((*at[:depth], str(found)))  # read past, dropped
                if self._separator("}"):
                    raise self._error(f"Expecting {key!r}")
        self._expect("[")
        if self._peek() == "]":
            return
        while True:
            yield self._value((*at, "[]"))
            if self._separator("]"):
                return

    def _expect(self, mark: str) -> None:
        if self._peek() != mark:
            raise self._error(f"Expecting {mark!r}")
        self.pos += 1

    def _separator(self, closing: str) -> bool:
        """Past a ',' (False) or the closing bracket (True)."""
        mark = self._peek()
        if mark not in (",", closing):
            raise self._error(f"Expecting ',' delimiter or '{closing}'")
        self.pos += 1
        return mark == closing

    def _decoded(self, decoder: json.JSONDecoder) -> Any:
        while True:
            try:
                value, end = decoder.raw_decode(self.buf, self.pos)
            except json.JSONDecodeError as exc:
                if self._more():  # cut by the end of the chunk, or wrong
                    continue
                raise self._error(exc.msg, exc.pos) from None
            if end == len(self.buf) and self._more():  # a number may go on
                continue
            self.pos = end
            return value

    def _peek(self) -> str:
        """The next character that is not white space ('' at the end)."""
        while True:
            self.pos = _SPACE.match(self.buf, self.pos).end()  # type: ignore[union-attr]
            if self.pos < len(self.buf) or not self._more():
                return self.buf[self.pos : self.pos + 1]

    def _more(self) -> bool:
        """Read more text (at least as much as is held: a long value is read in O(n))."""
        if self.ended:
            return False
        more = self.handle.read(max(CHUNK, len(self.buf) - self.pos))
        self.ended = not more
        self.lines += self.buf.count("\n", 0, self.pos)
        self.buf = self.buf[self.pos :] + more
        self.pos = 0
        return bool(more)

    def _error(self, message: str, pos: int | None = None) -> json.JSONDecodeError:
        error = json.JSONDecodeError(message, self.buf, self.pos if pos is None else pos)
        error.lineno += self.lines
        return error


def _first(problem: Any, other: Any) -> Any:
    return other if problem is None or (other is not None and other < problem) else problem
