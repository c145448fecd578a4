"""Fuzzing the snapshot and config loaders: a clear error or a report, never a crash or a loss.

Each CLI example runs `collect` in-process with a published report already in --out and a
sibling folder beside it, then checks: exit code 0, 1 or 2; on failure one line on stderr and no
traceback; nothing written outside --out; on failure, the published report unchanged. Example
counts are bounded so the whole file takes about twenty seconds (FUZZ_SCALE multiplies them).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
import yaml
from analysis_support import analyse_snapshot
from click.testing import CliRunner
from conftest import DEMO_CONFIG, DEMO_SNAPSHOT
from hardening_support import demo_data, fingerprint
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from collector.cli import main
from collector.config import ConfigError, config_schema, load_config
from collector.config.loading import MOVED_KEYS
from collector.errors import SnapshotError
from collector.snapshot.store import load_snapshot

# Slow throughout: Hypothesis runs each loader and the command line many times.
pytestmark = pytest.mark.slow

NOW = datetime(2025, 10, 26, 9, 0, tzinfo=timezone.utc)
# FUZZ_SCALE=10 runs ten times as many examples, for a longer hunt.
SCALE = int(os.environ.get("FUZZ_SCALE", "1"))
FAST = settings(
    max_examples=60 * SCALE,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
SLOW = settings(FAST, max_examples=8 * SCALE)

TRICKY_TEXT = [
    "",
    "../x",
    "../../victim",
    "NaN",
    "1e400",
    "P7DBOOM",
    "2025-10-25T14:32:00Z",
    "9999-12-31T23:59:59-05:00",
    "0001-01-01T00:00:00+14:00",
    "99999999999w",
    "<script>x</script>",
    "a\nb",
]
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats()
    | st.text(max_size=20)
    | st.sampled_from(TRICKY_TEXT)
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)

# Where damage is most telling: the fields the readers and the analysis use.
SNAPSHOT_PATHS: list[tuple[Any, ...]] = [
    (),
    ("incident_id",),
    ("collected_at",),
    ("schema_version",),
    ("gaps",),
    ("pagerduty",),
    ("pagerduty", "incident"),
    ("pagerduty", "incident", "id"),
    ("pagerduty", "incident", "created_at"),
    ("pagerduty", "incident", "resolved_at"),
    ("pagerduty", "incident", "incident_number"),
    ("pagerduty", "incident", "title"),
    ("pagerduty", "incident", "priority"),
    ("pagerduty", "incident", "service"),
    ("pagerduty", "incident", "teams"),
    ("pagerduty", "incident", "conference_bridge"),
    ("pagerduty", "log_entries"),
    ("pagerduty", "log_entries", 0),
    ("pagerduty", "log_entries", 0, "created_at"),
    ("pagerduty", "log_entries", 0, "type"),
    ("pagerduty", "log_entries", 1, "agent"),
    ("pagerduty", "log_entries", 2, "channel"),
    ("pagerduty", "log_entries", 3, "assignees"),
    ("pagerduty", "alerts"),
    ("prometheus",),
    ("prometheus", "range"),
    ("prometheus", "range", "start"),
    ("prometheus", "padding_before_s"),
    ("prometheus", "results"),
    ("prometheus", "results", 0),
    ("prometheus", "results", 0, "name"),
    ("prometheus", "results", 0, "kind"),
    ("prometheus", "results", 0, "unit"),
    ("prometheus", "results", 0, "thresholds"),
    ("prometheus", "results", 0, "error"),
    ("prometheus", "results", 0, "result"),
    ("prometheus", "results", 0, "result", 0, "metric"),
    ("prometheus", "results", 0, "result", 0, "values"),
    ("prometheus", "results", 0, "result", 0, "values", 3),
    ("prometheus", "results", 0, "result", 0, "values", 3, 0),
    ("prometheus", "results", 0, "result", 0, "values", 3, 1),
]
MUTATIONS = st.lists(
    st.tuples(st.sampled_from(SNAPSHOT_PATHS), st.booleans(), VALUES), min_size=1, max_size=3
)


def mutate(data: Any, mutations: list[tuple[tuple[Any, ...], bool, Any]]) -> Any:
    """Apply (path, delete?, new value) changes; a path that no longer exists is skipped."""
    for path, delete, value in mutations:
        if not path:
            data = value
            continue
        try:
            target = data
            for key in path[:-1]:
                target = target[key]
            if delete:
                del target[path[-1]]
            else:
                target[path[-1]] = value
        except (KeyError, IndexError, TypeError):
            continue
    return data


@pytest.fixture(scope="module")
def published() -> Iterator[Path]:
    """An --out folder holding the demo's published report, to copy for each example."""
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "out"
        result = CliRunner().invoke(main, ["--demo", "--out", str(out)])
        assert result.exit_code == 0, result.output
        yield out


def check_cli_run(published: Path, args: list[str], inputs: dict[str, bytes]) -> None:
    """Run `collect` with a copy of the published report; check the promises of the module."""
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        out = root / "out"
        shutil.copytree(published, out)
        (root / "victim").mkdir()
        (root / "victim" / "keep.txt").write_text("precious", encoding="utf-8")
        for name, content in inputs.items():
            (root / name).write_bytes(content)
        before = fingerprint(out / "P7DBOOM")
        outside = sorted(p.name for p in root.iterdir())
        full = [arg.replace("{root}", str(root)) for arg in args] + ["--out", str(out)]
        result = CliRunner().invoke(main, full)
        assert result.exit_code in (0, 1, 2), (result.exit_code, result.output)
        assert "Traceback" not in result.output
        if result.exit_code != 0:
            assert len(result.stderr.strip().splitlines()) == 1, result.stderr
            assert fingerprint(out / "P7DBOOM") == before
        assert sorted(p.name for p in root.iterdir()) == outside
        assert fingerprint(root / "victim") == {
            "keep.txt": fingerprint(root / "victim")["keep.txt"]
        }
        assert (root / "victim" / "keep.txt").read_text(encoding="utf-8") == "precious"


@FAST
@given(mutations=MUTATIONS)
def test_snapshot_loader_fuzz(mutations: list[tuple[tuple[Any, ...], bool, Any]]) -> None:
    data = mutate(demo_data(), mutations)
    config = load_config(DEMO_CONFIG, {})
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "snapshot.json"
        path.write_text(json.dumps(data), encoding="utf-8")
        try:
            snapshot = load_snapshot(path)
        except SnapshotError as exc:
            assert "\n" not in str(exc)
            return
    # What the schema lets through, the analysis must take.
    analyse_snapshot(snapshot.pagerduty, snapshot.prometheus, config, NOW)


@SLOW
@given(mutations=MUTATIONS)
def test_snapshot_cli_fuzz(
    published: Path, mutations: list[tuple[tuple[Any, ...], bool, Any]]
) -> None:
    data = json.dumps(mutate(demo_data(), mutations)).encode()
    check_cli_run(published, ["--snapshot", "{root}/s.json"], {"s.json": data})


# Every key the file may hold, from the schema generated by the typed settings.
SCHEMA = config_schema()


def _section(name: str) -> st.SearchStrategy[dict[str, Any]]:
    moved = [key for old, key in MOVED_KEYS if old == name]  # still read where it was
    keys = sorted(SCHEMA["properties"][name]["properties"]) + moved + ["bogus"]
    return st.dictionaries(st.sampled_from(keys), VALUES, max_size=3)


CONFIGS = st.dictionaries(
    st.sampled_from(sorted(SCHEMA["properties"]) + ["bogus"]),
    st.deferred(lambda: VALUES),
    max_size=2,
).flatmap(
    lambda raw: st.fixed_dictionaries(
        {name: _section(name) for name in raw if name in SCHEMA["properties"]}
    )
)
DEMO_TEXT = DEMO_CONFIG.read_text(encoding="utf-8")
EDITS = st.lists(
    st.tuples(st.integers(0, len(DEMO_TEXT)), st.integers(0, 5), st.text(max_size=6)),
    min_size=1,
    max_size=4,
)


def config_text(raw: dict[str, Any] | None, edits: list[tuple[int, int, str]]) -> str:
    """A generated config, or the demo config with characters cut and inserted."""
    if raw is not None:
        return yaml.safe_dump(raw, allow_unicode=True)
    text = DEMO_TEXT
    for at, cut, insert in edits:
        text = text[:at] + insert + text[at + cut :]
    return text


@FAST
@given(raw=st.none() | CONFIGS, edits=EDITS)
def test_config_loader_fuzz(raw: dict[str, Any] | None, edits: list[tuple[int, int, str]]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "c.yaml"
        path.write_text(config_text(raw, edits), encoding="utf-8")
        try:
            load_config(path, {})
        except ConfigError as exc:
            assert "\n" not in str(exc)


@SLOW
@given(raw=st.none() | CONFIGS, edits=EDITS)
def test_config_cli_fuzz(
    published: Path, raw: dict[str, Any] | None, edits: list[tuple[int, int, str]]
) -> None:
    text = config_text(raw, edits).encode()
    snapshot = DEMO_SNAPSHOT.read_bytes()
    args = ["--snapshot", "{root}/s.json", "--config", "{root}/c.yaml"]
    check_cli_run(published, args, {"s.json": snapshot, "c.yaml": text})


def test_a_null_among_a_log_entrys_assignees_is_named_by_the_schema(tmp_path: Path) -> None:
    """Found by test_snapshot_loader_fuzz: `assignees: [null]` passed the schema (a list's
    items took the nullable reference's type) and the reader failed on it."""
    data = demo_data()
    data["pagerduty"]["log_entries"][3]["assignees"] = [None]
    path = tmp_path / "snapshot.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(SnapshotError, match=r"pagerduty\.log_entries\[3\]\.assignees\[0\]"):
        load_snapshot(path)


SAMPLE_PARTS = st.one_of(
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=False),
    st.sampled_from([0, 0.0, -0.0, 5, 5.0]),
    st.sampled_from(["1.5", "NaN", "+Inf", "", "12"]),
    st.none(),
    st.booleans(),
    st.lists(st.integers(0, 3), max_size=2),
)
SERIES = st.fixed_dictionaries(
    {
        "metric": st.dictionaries(st.sampled_from(["i", "job"]), st.text(max_size=3)),
        "values": st.lists(
            st.one_of(st.lists(SAMPLE_PARTS, min_size=0, max_size=3), SAMPLE_PARTS), max_size=6
        ),
    }
)


def _read(result: Any) -> Any:
    """What the answer's check makes of a parsed result: its series' numbers, or refused."""
    from collector.sources.prometheus import checked_series

    try:
        series = checked_series(result, {})
    except (ValueError, TypeError):  # MalformedAnswer is a ValueError
        return "refused"
    return [(s["metric"], s["values"].times.tolist(), s["values"].values.tolist()) for s in series]


@FAST
@given(answer=st.lists(SERIES, max_size=4))
def test_prometheus_answers_read_as_parsed_hold_the_same_values(answer: list[Any]) -> None:
    """Samples read while the answer is parsed (`read_answer_samples`) are the numbers the
    check reads from the plain answer, or both refuse it; written back to snapshot.json,
    they read back the same numbers."""
    import json

    from collector.snapshot.samples import Samples, read_samples
    from collector.sources.prometheus_api import read_answer_samples

    text = json.dumps({"data": {"result": answer}})
    early = json.loads(text, object_hook=read_answer_samples)["data"]["result"]
    assert _read(early) == _read(json.loads(text)["data"]["result"])
    for series in early:
        if isinstance(series.get("values"), Samples):
            samples = series["values"]
            again = read_samples(json.loads(samples.json_text()))
            assert again.times.tolist() == samples.times.tolist()
            assert again.values.tolist() == samples.values.tolist()
