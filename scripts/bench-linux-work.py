#!/usr/bin/env python3
"""Linux at work under the hypervisor against the same kernel and initramfs
booted directly by the same QEMU: a CPU-bound job and console output, timed
from the host (wall clock, MTTCG; pairs run alternately, as in
scripts/bench-linux.py, whose builds and QEMU command lines it uses).

At the shell prompt each boot runs, in order:
  cpu      a busybox shell loop of CPU_LOOPS additions (no system calls);
  null     LINES lines of 64 bytes written to /dev/null (the loop alone);
  console  the same LINES lines written to the console (100 KiB): through
           the PL011, one trapped write per byte under the hypervisor.
Each job is timed from sending its command to the line it prints last.
Prints each pair and the medians: the CPU job's ratio (hypervisor /
direct), and what the 100 KiB of console output cost beyond the loop
(console - null), both ways, and their ratio; records them.

usage: scripts/bench-linux-work.py [PAIRS]   (default 3)
"""
import importlib.util
import os
import select
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CPU_LOOPS = 200_000
LINES = 1600
LINE = "0123456789" * 6 + "abc"  # 63 characters and the line end: 64 bytes
TIMEOUT_S = 300


def bench_linux():
    spec = importlib.util.spec_from_file_location("bench_linux", os.path.join(ROOT, "scripts/bench-linux.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Guest:
    """A QEMU running Linux to its shell prompt, driven through its console."""

    def __init__(self, cmd, prompt):
        self.p = subprocess.Popen(cmd, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, start_new_session=True)
        self.seen = b""
        self.wait_for(prompt)

    def wait_for(self, pattern):
        """Reads until `pattern` (a compiled bytes regex) matches what came
        since the last wait; the time it matched."""
        start = len(self.seen)
        deadline = time.monotonic() + TIMEOUT_S
        while True:
            if pattern.search(self.seen, start):
                return time.monotonic()
            if time.monotonic() > deadline:
                raise RuntimeError("timed out; last output: " + self.seen[-500:].decode(errors="replace"))
            r, _, _ = select.select([self.p.stdout], [], [], 1.0)
            if r:
                chunk = os.read(self.p.stdout.fileno(), 1 << 16)
                if not chunk:
                    raise RuntimeError("QEMU exited; last output: " + self.seen[-500:].decode(errors="replace"))
                self.seen += chunk

    def job(self, name, command):
        """Runs `command`, then prints a marker the command line itself
        does not contain; seconds from sending to the marker."""
        import re
        marker = f"{name}-2done"
        self.seen = b""
        t0 = time.monotonic()
        self.p.stdin.write(f"{command}; echo {name}-$((1+1))done\n".encode())
        self.p.stdin.flush()
        return self.wait_for(re.compile(re.escape(marker.encode()))) - t0

    def close(self):
        try:
            self.p.stdin.write(b"poweroff\n")
            self.p.stdin.flush()
            self.p.wait(timeout=60)
        except (OSError, subprocess.TimeoutExpired):
            pass
        finally:
            if self.p.poll() is None:
                os.killpg(self.p.pid, 9)
                self.p.wait()


def run_jobs(cmd, prompt):
    g = Guest(cmd, prompt)
    try:
        loop = f"i=0; while [ $i -lt {LINES} ]; do echo {LINE}; i=$((i+1)); done"
        return {
            "cpu": g.job("cpu", f"i=0; while [ $i -lt {CPU_LOOPS} ]; do i=$((i+1)); done"),
            "null": g.job("null", f"( {loop} ) > /dev/null"),
            "console": g.job("console", loop),
        }
    finally:
        g.close()


def record(name, value, unit, note):
    subprocess.run([sys.executable, os.path.join(ROOT, "scripts/bench-record.py"), "aarch64", name, str(value), unit,
                    "wall", note], check=True)


def main():
    pairs = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    bl = bench_linux()
    subprocess.run(["make", "-s", "A=apps/hv", f"VM={bl.CONFIG}", "POWEROFF_WHEN_IDLE=y", "build"], cwd=ROOT,
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    hv_bin = subprocess.run(["make", "-s", "--no-print-directory", "A=apps/hv", f"VM={bl.CONFIG}",
                             "POWEROFF_WHEN_IDLE=y", "print-bin"],
                            cwd=ROOT, check=True, capture_output=True, text=True).stdout.strip()
    direct, hv = bl.commands(hv_bin)
    rows = []
    for i in range(pairs):
        d = run_jobs(direct, bl.PROMPT)
        h = run_jobs(hv, bl.PROMPT)
        rows.append((d, h))
        print(f"pair {i + 1}: cpu {d['cpu']:.2f} / {h['cpu']:.2f} s; "
              f"100 KiB to the console beyond the loop {d['console'] - d['null']:.2f} / "
              f"{h['console'] - h['null']:.2f} s (direct / hypervisor)", flush=True)
    med = statistics.median
    cpu_ratio = med(h["cpu"] / d["cpu"] for d, h in rows)
    out_d = med(d["console"] - d["null"] for d, _ in rows)
    out_h = med(h["console"] - h["null"] for _, h in rows)
    print(f"linux CPU-bound job ({CPU_LOOPS} shell additions): hypervisor / direct {cpu_ratio:.2f} "
          f"(median of {pairs} alternating pairs)")
    print(f"linux 100 KiB to the console, beyond the loop that writes it: direct {out_d:.2f} s, "
          f"under the hypervisor {out_h:.2f} s (medians of {pairs})")
    record("linux CPU-bound job, hypervisor / direct", cpu_ratio, "ratio", f"median of {pairs} alternating pairs")
    record("linux 100 KiB to the console under the hypervisor, beyond its loop", out_h, "s", f"median of {pairs}")
    record("linux 100 KiB to the console directly, beyond its loop", out_d, "s", f"median of {pairs}")


if __name__ == "__main__":
    main()
