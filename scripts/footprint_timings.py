#!/usr/bin/env python3
"""Helper of scripts/footprint.sh.

footprint_timings.py TIMING_HTML N
    The N slowest units of a `cargo build --timings` report, and the number of
    units (build scripts, their runs and libraries count separately).
footprint_timings.py --summary RESULTS_TSV SKIPPED
    The results table (Markdown) with the ratios the targets are stated in.
    SKIPPED is `variant=reason;...` for the variants that were not measured.
"""

import csv
import json
import re
import statistics
import sys


def slowest(path, n):
    with open(path, encoding="utf-8") as f:
        html = f.read()
    m = re.search(r"const UNIT_DATA = (\[.*?\n\]);", html, re.S)
    if not m:
        print("(no unit data in the timing report)")
        return
    units = json.loads(m.group(1))
    total = sum(u["duration"] for u in units)
    print(f"{len(units)} units, {total:.0f} s of compilation summed over units; slowest:")
    for u in sorted(units, key=lambda u: -u["duration"])[:n]:
        target = u["target"].strip() or "lib"
        print(f"{u['duration']:6.1f} s  {u['name']} {u['version']} {target}")


def summary(path, skipped):
    rows = {}
    with open(path, encoding="utf-8") as f:
        for row in csv.DictReader(f, delimiter="\t"):
            rows.setdefault(row["variant"], []).append(row)
    skip = dict(s.split("=", 1) for s in skipped.split(";") if "=" in s)
    order = ["ours-default", "ours-slim", "peer", "sqlx-bare", "sqlx-otel"]
    print("| build | wall-clock per round (s) | CPU per round (s) | crates compiled | stripped binary | load avg before each round |")
    print("|---|---|---|---|---|---|")
    wall, cpu, crates = {}, {}, {}
    for v in order:
        if v in skip:
            print(f"| {v} | not measured: {skip[v]} | | | | |")
            continue
        if v not in rows:
            continue
        rs = sorted(rows[v], key=lambda r: int(r["round"]))
        wall[v] = statistics.mean(int(r["seconds"]) for r in rs)
        if all(r.get("cpu_seconds") for r in rs):
            cpu[v] = statistics.mean(int(r["cpu_seconds"]) for r in rs)
        crates[v] = int(rs[0]["crates"])
        size = " / ".join(sorted({f"{int(r['stripped_bytes']) / 1e6:.1f} MB" for r in rs}))
        walls = " / ".join(r["seconds"] for r in rs)
        cpus = " / ".join(r.get("cpu_seconds") or "?" for r in rs)
        ncrates = " / ".join(sorted({r["crates"] for r in rs}))
        loads = " / ".join(r["load_before"] for r in rs)
        print(f"| {v} | {walls} | {cpus} | {ncrates} | {size} | {loads} |")
    print()

    def ratio(a, b, limit, crate_limit):
        if a not in wall or b not in wall:
            return
        verdict = lambda x, lim: "met" if x <= lim else "missed"
        t = wall[a] / wall[b]
        line = f"{a} / {b} (target <= {limit}): wall-clock {t:.2f} ({verdict(t, limit)})"
        if a in cpu and b in cpu:
            c = cpu[a] / cpu[b]
            line += f", CPU {c:.2f} ({verdict(c, limit)})"
        n = crates[a] / crates[b]
        line += f", crates {n:.2f}"
        if crate_limit is not None:
            line += f" ({verdict(n, crate_limit)})"
        print(line)

    ratio("ours-default", "peer", 1.0, 1.0)
    ratio("ours-slim", "peer", 0.7, 0.7)
    ratio("sqlx-otel", "sqlx-bare", 1.25, None)


def main():
    if len(sys.argv) >= 3 and sys.argv[1] == "--summary":
        summary(sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else "")
    elif len(sys.argv) == 3:
        slowest(sys.argv[1], int(sys.argv[2]))
    else:
        print(__doc__, file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
