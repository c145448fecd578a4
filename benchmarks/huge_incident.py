"""A huge incident: the demo snapshot with its log entries multiplied, drafted offline.

    python benchmarks/huge_incident.py                    # 100,000 then 1,000,000 entries
    python benchmarks/huge_incident.py --entries 20000    # one size
    python benchmarks/huge_incident.py --keep /tmp/huge   # keep the snapshots and drafts

Each size writes a snapshot whose `pagerduty.log_entries` repeat the demo's 15 entries with
unique ids and times spread over the incident (`tests/hardening_support.huge_incident`: every
note and status update has its own text, the worst case for the report's lists), then runs
`collect --snapshot X --out Y` under GNU time. It prints wall seconds, peak RSS, the size of
report.md, the PDF's pages and timeline.csv's rows. Not a test: pytest never runs it.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

TESTS = Path(__file__).resolve().parent.parent / "tests"
if str(TESTS) not in sys.path:
    sys.path.insert(0, str(TESTS))

from hardening_support import demo_data, huge_log_entries  # noqa: E402

COLLECT = str(Path(sys.executable).parent / "collect")
GNU_TIME = "/usr/bin/time"


def write_snapshot(path: Path, count: int) -> None:
    """The demo snapshot with `count` log entries, written one entry at a time."""
    data = demo_data()
    data["pagerduty"]["log_entries"] = ["ENTRIES"]
    head, tail = json.dumps(data).split('["ENTRIES"]')
    with path.open("w", encoding="utf-8") as out:
        out.write(head + "[")
        for number, entry in enumerate(huge_log_entries(demo_data(), count)):
            out.write(("," if number else "") + json.dumps(entry))
        out.write("]" + tail)


def measure(snapshot: Path, out: Path) -> dict[str, Any]:
    """Draft `snapshot` into `out` under GNU time; what it cost and what it made."""
    argv = [GNU_TIME, "-v", COLLECT, "--snapshot", str(snapshot), "--out", str(out)]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=3600, check=False)
    label = r"^\s*(Elapsed \(wall clock\) time|Maximum resident set size)\b.*: (\S+)$"
    stats = dict(re.findall(label, done.stderr, re.M))
    folder = next((p.parent for p in out.rglob("report.md")), None)
    result: dict[str, Any] = {
        "exit": done.returncode,
        "wall": stats.get("Elapsed (wall clock) time", "?"),
        "peak_rss_mib": int(stats.get("Maximum resident set size", "0")) // 1024,
    }
    if done.returncode:
        result["stderr"] = done.stderr.strip().splitlines()[:3]
    if folder:
        report = (folder / "report.md").read_text(encoding="utf-8")
        result["report_md_lines"] = report.count("\n")
        result["report_md_kib"] = len(report.encode()) // 1024
        csv = folder / "timeline.csv"
        if csv.exists():
            with csv.open("rb") as f:
                result["timeline_csv_lines"] = sum(1 for _ in f)
        result["pdf_pages"] = _pdf_pages(folder / "report.pdf")
    return result


def _pdf_pages(path: Path) -> int | None:
    """The PDF's page count, from poppler's `pdfinfo` (None: no PDF, or no pdfinfo)."""
    if not path.exists() or not shutil.which("pdfinfo"):
        return None
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=False)
    pages = re.search(r"^Pages:\s+(\d+)", info.stdout, re.M)
    return int(pages.group(1)) if pages else None


def main() -> None:
    """Measure each size in turn and print one JSON line per size."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--entries", type=int, action="append", help="sizes (repeatable)")
    parser.add_argument("--keep", type=Path, help="folder to keep snapshots and drafts in")
    args = parser.parse_args()
    sizes = args.entries or [100_000, 1_000_000]
    work = args.keep or Path(tempfile.mkdtemp(prefix="huge-incident-"))
    work.mkdir(parents=True, exist_ok=True)
    for count in sizes:
        snapshot = work / f"snapshot-{count}.json"
        write_snapshot(snapshot, count)
        result = {"entries": count, **measure(snapshot, work / f"out-{count}")}
        print(json.dumps(result), flush=True)
        if not args.keep:
            snapshot.unlink()
    if not args.keep:
        subprocess.run(["rm", "-rf", str(work)], check=False)


if __name__ == "__main__":
    main()
