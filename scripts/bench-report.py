#!/usr/bin/env python3
"""Prints the figures of the last `make bench` (target/bench/<ARCH>.json) as
a table, against the saved baseline (bench/baseline-<ARCH>.json) when there
is one: each row shows the baseline, the change in percent, and marks a
deterministic figure (icount, size) that got worse by more than 2 % with
`WORSE` (wall-clock figures are shown, never marked: they move with the
machine's load).

usage: scripts/bench-report.py ARCH [--save]
  --save   make the current figures the baseline (commit the file).
"""
import json
import os
import shutil
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
THRESHOLD = 0.02


def load(path):
    if not os.path.exists(path):
        return {}
    with open(path) as f:
        return json.load(f)


def fmt(v):
    return f"{v:,.0f}" if v >= 100 else f"{v:,.2f}"


def main():
    if len(sys.argv) < 2 or sys.argv[1].startswith("-"):
        sys.exit(__doc__)
    arch = sys.argv[1]
    current_path = os.path.join(ROOT, "target", "bench", f"{arch}.json")
    base_path = os.path.join(ROOT, "bench", f"baseline-{arch}.json")
    current = load(current_path)
    if not current:
        sys.exit(f"bench-report: no figures in {current_path}; run make bench first")
    if "--save" in sys.argv[2:]:
        os.makedirs(os.path.dirname(base_path), exist_ok=True)
        shutil.copyfile(current_path, base_path)
        print(f"bench-report: saved {len(current)} figures as {os.path.relpath(base_path, ROOT)}")
        return
    base = load(base_path)
    rows = [("figure", "value", "unit", "kind", "baseline", "change", "")]
    worse = 0
    for name in sorted(current):
        c = current[name]
        b = base.get(name)
        change, mark, bv = "", "", "-"
        if b is not None and b["value"]:
            delta = (c["value"] - b["value"]) / b["value"]
            change, bv = f"{delta:+.1%}", fmt(b["value"])
            if c["kind"] != "wall" and delta > THRESHOLD:
                mark = "WORSE"
                worse += 1
        rows.append((name, fmt(c["value"]), c["unit"], c["kind"], bv, change, mark))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        print("  ".join(cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in enumerate(zip(r, widths))).rstrip())
    where = os.path.relpath(base_path, ROOT) if base else "none saved (scripts/bench-report.py ARCH --save)"
    print(f"bench: {len(current)} figures in {os.path.relpath(current_path, ROOT)}; baseline: {where}"
          + (f"; {worse} deterministic figure(s) worse by more than {THRESHOLD:.0%}" if worse else ""))


if __name__ == "__main__":
    main()
