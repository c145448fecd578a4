"""Print the benchmark's results as Markdown tables, with each target met or missed."""

from __future__ import annotations

import math
from typing import Any

STAGE_COLUMNS = (
    ("imports", "imports"),
    ("fetch_pagerduty", "fetch PD"),
    ("fetch_prometheus", "fetch Prom"),
    ("analysis", "analysis"),
    ("charts", "charts"),
    ("rendering", "rendering"),
    ("pdf", "PDF"),
    ("write", "write"),
)


def print_report(results: dict[str, Any], targets: dict[str, float]) -> None:
    """Machine, CLI table, stage table, fetch table, targets."""
    info = results["machine"]
    print(
        f"\nMachine: {info['nproc']} CPUs ({info['cpu']}), {info['memory']} RAM, Python "
        f"{info['python']}, {info['prometheus']}; commit {info['commit']}"
        f" ({info['dirty']} files changed in collector/ and report/)"
    )
    print(
        f"Data: generated in {results.get('generate_seconds', 0):.1f} s, backfilled in "
        f"{results.get('backfill_seconds', 0):.1f} s; medians of {results['plan']['runs']} runs"
    )
    rows = results["results"]
    print(
        "\n| case | delay | wall (CLI) | CPU s | floor wall / CPU | x floor (wall, CPU) | peak RSS"
        " | PD requests | Prom requests | load avg | runs (s) |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for r in rows:
        cli = r["cli"]
        if not cli:
            print(f"| {r['title']} | {r['delay_ms']:g} ms | failed: see errors |" + " |" * 8)
            continue
        extra = ""
        if cli.get("pd_rate_limited"):
            extra = f" ({cli['pd_rate_limited']:.0f} answered 429)"
        walls = ", ".join(f"{w:.1f}" for w in r.get("cli_walls", []))
        summary = cli.get("summary") or {}
        if summary:
            walls += f"; drafted {summary.get('drafted', 0):g}, failed {summary.get('failed', 0):g}"
        floor = r.get("floor") or {"wall": float("nan"), "cpu": float("nan")}
        ratios = f"{cli['wall'] / floor['wall']:.2f}, {cli.get('cpu', 0) / floor['cpu']:.2f}"
        load = r.get("load_average") or [float("nan")]
        print(
            f"| {r['title']} | {r['delay_ms']:g} ms | {cli['wall']:.2f} s | "
            f"{cli.get('cpu', float('nan')):.2f} | {floor['wall']:.2f} / {floor['cpu']:.2f} | "
            f"{ratios} | {cli['rss_mib']:.0f} MiB | {cli['pd_requests']:.0f}{extra} | "
            f"{cli['prom_requests']:.0f} | {load[0]:.1f} | {walls} |"
        )
    staged = [r for r in rows if r["stages"]]
    if staged:
        print("\nStages (in process, seconds):\n")
        print("| case | PD delay | " + " | ".join(t for _, t in STAGE_COLUMNS) + " |")
        print("|---|---:|" + "---:|" * len(STAGE_COLUMNS))
        for r in staged:
            s = dict(r["stages"])
            s["write"] = s.get("write_snapshot", 0.0) + s.get("write_other", 0.0)
            cells = " | ".join(f"{s.get(k, float('nan')):.2f}" for k, _ in STAGE_COLUMNS)
            print(f"| {r['title']} | {r['delay_ms']:g} ms | {cells} |")
        print_fetch(staged)
    print_targets([r for r in rows if r["cli"]], targets)
    for r in rows:
        for error in r.get("errors", []):
            print(f"\n{r['title']}, {r['delay_ms']:g} ms: {error[-400:]}")


def print_fetch(staged: list[dict[str, Any]]) -> None:
    """Requests, round trips on the critical path, and the sequential baselines."""
    print("\nFetch: concurrency against one request at a time (same run, same requests):\n")
    print(
        "| case | PD delay | requests PD + Prom | round trips PD / Prom | fetch | sequential |"
        " speed-up | PD alone: fetch, sequential, speed-up | caps at 1 |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in staged:
        s = r["stages"]
        req, trips, seq = s["requests"], s["round_trips"], s.get("sequential", {})
        seq_fetch = seq.get("fetch", float("nan"))
        seq_pd = seq.get("pagerduty", float("nan"))
        caps = s.get("caps_of_one_fetch")
        caps_text = f"{caps:.2f} s" if caps is not None else "no knob"
        # Overlap says little when answers are instant; with a delay it is the critical path.
        pd_trips = f"{trips['pagerduty']:.0f}" if r["delay_ms"] else "–"
        print(
            f"| {r['title']} | {r['delay_ms']:g} ms | {req['pagerduty']:.0f} + "
            f"{req['prometheus']:.0f} | {pd_trips} / {trips['prometheus_scheduled']:.0f} | "
            f"{s['fetch']:.2f} s | {seq_fetch:.2f} s | {seq_fetch / s['fetch']:.1f}x | "
            f"{s['fetch_pagerduty']:.2f} s, {seq_pd:.2f} s, "
            f"{seq_pd / s['fetch_pagerduty']:.1f}x | {caps_text} |"
        )
    by_case: dict[str, dict[float, float]] = {}
    for r in staged:
        by_case.setdefault(r["title"], {})[r["delay_ms"]] = r["stages"]["fetch_pagerduty"]
    for title, fetches in by_case.items():
        if 0 in fetches and len(fetches) > 1:
            delay = max(fetches)
            trips = (fetches[delay] - fetches[0]) / (delay / 1000)
            print(
                f"\n{title}: PagerDuty fetch grows by {fetches[delay] - fetches[0]:.2f} s "
                f"at {delay:g} ms per request = {trips:.1f} round trips on the critical path"
            )


def print_targets(rows: list[dict[str, Any]], targets: dict[str, float]) -> None:
    """Each target of the issue, the measured value and whether it is met."""
    wall = {(r["case"], r["delay_ms"]): r["cli"]["wall"] for r in rows}
    rss = {(r["case"], r["delay_ms"]): r["cli"]["rss_mib"] for r in rows}
    checks: list[tuple[str, str, bool]] = []
    if ("a", 0) in wall:
        demo = wall["a", 0]
        checks.append(("(a) demo < 3 s wall at 0 ms", f"{demo:.2f} s", demo < targets["demo_wall"]))
        for delay in (d for c, d in wall if c == "a" and d > 0):
            slow = wall["a", delay]
            text = f"{slow:.2f} s = {slow / demo:.2f}x"
            checks.append((f"(a) at {delay:g} ms <= 2x its 0 ms time", text, slow <= 2 * demo))
    if ("b1", 0) in wall:
        big, memory = wall["b1", 0], rss["b1", 0]
        checks.append(("(b) big incident < 15 s wall", f"{big:.2f} s", big < targets["big_wall"]))
        checks.append(
            ("(b) big incident < 1 GiB peak", f"{memory:.0f} MiB", memory < targets["big_rss_mib"])
        )
        checks += growth_checks({r["case"]: r for r in rows if r["delay_ms"] == 0})
    if ("c", 0) in wall:
        batch = wall["c", 0]
        checks.append(("(c) batch < 60 s at 0 ms", f"{batch:.1f} s", batch < targets["batch_wall"]))
    checks += issue_16_checks(rows)
    print("\n| target | measured | met |")
    print("|---|---:|---|")
    for name, value, met in checks:
        print(f"| {name} | {value} | {'yes' if met else '**no**'} |")


# A cost growing in proportion to the data has exponent 1 (less with a fixed part); 0.1 more
# is allowed for noise. Quadratic work shows as an exponent near 2.
MAX_EXPONENT = 1.10
GROWTH_MEASURES = ("wall", "fetch_prometheus", "analysis", "charts", "write", "peak RSS")


def growth_checks(rows: dict[str, dict[str, Any]]) -> list[tuple[str, str, bool]]:
    """Fit cost = a * series^k over the curve's points (log-log least squares); k <= 1.1."""
    points = [rows[key] for key in ("b1", "b2", "b4") if key in rows]
    if len(points) < 2:
        return []
    sizes = [math.log(int(row["case"][1:])) for row in points]
    exponents = {
        m: _slope(sizes, [math.log(_measure(row, m)) for row in points]) for m in GROWTH_MEASURES
    }
    text = ", ".join(f"{m} {k:.2f}" for m, k in exponents.items())
    met = all(k <= MAX_EXPONENT for k in exponents.values())
    return [
        ("(b) cost grows no faster than the data (exponent k <= 1.1 over 1x, 2x, 4x)", text, met)
    ]


def _slope(x: list[float], y: list[float]) -> float:
    mean_x, mean_y = sum(x) / len(x), sum(y) / len(y)
    num = sum((a - mean_x) * (b - mean_y) for a, b in zip(x, y, strict=True))
    return num / sum((a - mean_x) ** 2 for a in x)


def _measure(row: dict[str, Any], measure: str) -> float:
    if measure == "wall":
        return float(row["cli"]["wall"])
    if measure == "peak RSS":
        return float(row["cli"]["rss_mib"])
    stages = row["stages"]
    if measure == "write":
        return float(stages.get("write_snapshot", 0.0) + stages.get("write_other", 0.0))
    return float(stages.get(measure, float("nan")))


def issue_16_checks(rows: list[dict[str, Any]]) -> list[tuple[str, str, bool]]:
    """Issue 16's targets: ratios to the floor and to the 0 ms run, the big incident at 2,000
    series, the batch with the rate limit on."""
    by_key = {(r["case"], r["delay_ms"]): r for r in rows}
    checks: list[tuple[str, str, bool]] = []
    for (case, delay), row in by_key.items():
        floor = (row.get("floor") or {}).get("wall")
        if case == "a" and delay == 0 and floor:
            ratio = row["cli"]["wall"] / floor
            checks.append(("demo <= 2.0x the import floor", f"{ratio:.2f}x", ratio <= 2.0))
        if delay > 0 and (case, 0) in by_key:
            slow, fast = row["cli"]["wall"], by_key[case, 0]["cli"]["wall"]
            checks.append(
                (
                    f"{row['title']} at {delay:g} ms <= 1.3x its 0 ms time",
                    f"{slow / fast:.2f}x",
                    slow <= 1.3 * fast,
                )
            )
    if ("b4", 0) in by_key:
        cli = by_key["b4", 0]["cli"]
        checks.append(
            ("big incident, 2,000 series <= 6 s", f"{cli['wall']:.1f} s", cli["wall"] <= 6)
        )
        checks.append(
            (
                "big incident, 2,000 series <= 600 MiB",
                f"{cli['rss_mib']:.0f} MiB",
                cli["rss_mib"] <= 600,
            )
        )
    if ("c", 0) in by_key:
        cli = by_key["c", 0]["cli"]
        limited = cli.get("pd_rate_limited", 0)
        text = f"{cli['wall']:.1f} s ({limited:.0f} answers 429)"
        checks.append(("batch of 200 with the rate limit on <= 30 s", text, cli["wall"] <= 30))
    return checks
