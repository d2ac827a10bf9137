#!/usr/bin/env python3
"""Records one benchmark figure in target/bench/<ARCH>.json (created on the
first figure of a `make bench` run; scripts/bench-report.py prints them).

usage: scripts/bench-record.py ARCH NAME VALUE UNIT KIND [NOTE]
  KIND: "icount" (deterministic: QEMU -icount, instructions or ticks),
        "size" (bytes, deterministic for one toolchain), or
        "wall" (wall clock: compare on the same machine only).
"""
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main():
    if len(sys.argv) not in (6, 7):
        sys.exit(__doc__)
    arch, name, value, unit, kind = sys.argv[1:6]
    note = sys.argv[6] if len(sys.argv) == 7 else ""
    if kind not in ("icount", "size", "wall"):
        sys.exit(f"bench-record: KIND {kind!r} is not icount, size or wall")
    path = os.path.join(ROOT, "target", "bench", f"{arch}.json")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    figures = {}
    if os.path.exists(path):
        with open(path) as f:
            figures = json.load(f)
    figures[name] = {"value": float(value), "unit": unit, "kind": kind, "note": note}
    with open(path, "w") as f:
        json.dump(figures, f, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
