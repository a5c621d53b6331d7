#!/usr/bin/env python3
"""Helper of scripts/footprint.sh.

footprint_timings.py TIMING_HTML N
    The N slowest units of a `cargo build --timings` report, and the number of
    units (build scripts, their runs and libraries count separately).
footprint_timings.py --summary RESULTS_TSV SKIPPED
    The results table (Markdown) with the ratios the targets are stated in.
    SKIPPED is `variant=reason;...` for the variants that were not measured.
"""

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
        next(f)
        for line in f:
            r, v, secs, crates, size, l0, l1 = line.rstrip("\n").split("\t")
            rows.setdefault(v, []).append((int(r), int(secs), int(crates), int(size), l0, l1))
    skip = dict(s.split("=", 1) for s in skipped.split(";") if "=" in s)
    order = ["ours-default", "ours-slim", "peer", "sqlx-bare", "sqlx-otel"]
    print("| build | time per round (s) | mean (s) | crates compiled | stripped binary | load avg before each round |")
    print("|---|---|---|---|---|---|")
    mean = {}
    crates = {}
    for v in order:
        if v in skip:
            print(f"| {v} | not measured: {skip[v]} | | | | |")
            continue
        if v not in rows:
            continue
        rs = sorted(rows[v])
        mean[v] = statistics.mean(r[1] for r in rs)
        crates[v] = rs[0][2]
        sizes = sorted({r[3] for r in rs})
        size = " / ".join(f"{s / 1e6:.1f} MB" for s in sizes)
        times = " / ".join(str(r[1]) for r in rs)
        ncrates = " / ".join(sorted({str(r[2]) for r in rs}))
        loads = " / ".join(r[4] for r in rs)
        print(f"| {v} | {times} | {mean[v]:.0f} | {ncrates} | {size} | {loads} |")
    print()

    def ratio(a, b, what, limit):
        if a in mean and b in mean:
            t = mean[a] / mean[b]
            c = crates[a] / crates[b]
            verdict_t = "met" if t <= limit else "missed"
            print(f"{a} / {b}: build time {t:.2f} ({verdict_t}, target <= {limit}), crates {c:.2f} ({what})")
            return c
        return None

    c = ratio("ours-default", "peer", "target: at or below the peer", 1.0)
    if c is not None:
        print(f"  crates {'met' if c <= 1.0 else 'missed'}")
    c = ratio("ours-slim", "peer", "target <= 0.7", 0.7)
    if c is not None:
        print(f"  crates {'met' if c <= 0.7 else 'missed'}")
    ratio("sqlx-otel", "sqlx-bare", "no crate target", 1.25)


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
