#!/usr/bin/env python3
"""Runs the guest fuzzer (VM 99, guests/testguest/src/fuzz) for one or more
seeds and reports each run. `make fuzz` builds the hypervisor with the
fuzz VM and the test guest and calls this script with the QEMU command.

    scripts/fuzz.py --seeds 1-4,9 --ops 100000 [--classes default]
                    --hv-elf ELF --guest-elf ELF [--log-dir DIR]
                    [--stall-s 120] -- QEMU ARGS...

Per seed it starts QEMU (adding a monitor socket), answers the fuzzer's
prompt with `SEED OPS CLASSES`, and follows the console: the fuzzer's
progress and final lines, the hypervisor's `VM ... stopped: REASON` lines,
the test guest's checks, warnings and panics. No new console line for
--stall-s seconds is a hang: the script asks the monitor for every CPU's
registers (`info registers -a`), prints each CPU's PC and exception level
with the function and line it is in (the hypervisor's ELF for EL2, the
guest's for EL1/EL0, through aarch64-linux-gnu-addr2line), and stops QEMU.
Each run's console goes to DIR/seed-N.log. Exit status 0 when every run
ended cleanly (fuzzer finished, no VM stopped by the hypervisor, test
guest passed, QEMU exited 0), 1 otherwise.
"""

import argparse
import os
import re
import selectors
import shutil
import socket
import subprocess
import sys
import tempfile
import time

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
PROMPT = "fuzz: parameters?"
# Console input goes to the first VM by id (the test guest, VM 1): Ctrl-A n
# (Ctrl-A twice: QEMU's console takes the first) moves it to the next VM,
# the fuzzer, which the hypervisor confirms with this line.
FOCUS_KEYS = b"\x01\x01n"
FOCUSED = re.compile(r"console input goes to VM 99 ")
FINISHED = re.compile(r"\[[^]]*\] fuzz: finished seed (\d+): (\d+) ops on (\d+) vCPUs, (\d+) exceptions taken")
PROGRESS = re.compile(r"fuzz: vCPU 0 at op (\d+), vCPU 1 at op (\d+)")
STOPPED = re.compile(r"hv: VM (\d+) \(([^)]*)\) stopped: (.*)$")
STOP_REASON = re.compile(r"(VM \d+: .*stopping the VM.*)$")
STUCK = re.compile(r"fuzz: vCPU \d+ made no progress .*")
PANIC = re.compile(r"panicked at|PANIC|Unhandled exception")
TESTGUEST_OK = "[testguest] testguest: all checks passed"
TESTGUEST_FAIL = re.compile(r"\[testguest\] (FAIL .*|testguest: \d+ checks failed)")
CLASS_LINE = re.compile(r"\[[^]]*\] fuzz: (class|exception class|data abort status) ")
QEMU_EXIT = re.compile(r"QEMU exited with status (\d+)")
PC_LINE = re.compile(r"PC=([0-9a-fA-F]+)")
PSTATE_EL = re.compile(r"\bEL([0-3])[th]\b")


def parse_seeds(text):
    """'1-4,9' -> [1, 2, 3, 4, 9]."""
    seeds = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        if "-" in part:
            lo, hi = part.split("-", 1)
            seeds.extend(range(int(lo, 0), int(hi, 0) + 1))
        else:
            seeds.append(int(part, 0))
    return seeds


def symbolise(elf, pc):
    """'function at file:line' for pc in elf, or '?'."""
    tool = shutil.which("aarch64-linux-gnu-addr2line") or shutil.which("llvm-addr2line-19")
    if not tool or not elf or not os.path.exists(elf):
        return "?"
    try:
        out = subprocess.run([tool, "-f", "-C", "-e", elf, hex(pc)], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.SubprocessError):
        return "?"
    lines = out.stdout.split("\n")
    if len(lines) >= 2:
        return f"{lines[0]} at {os.path.relpath(lines[1]) if lines[1].startswith('/') else lines[1]}"
    return "?"


def monitor_registers(path):
    """The text of `info registers -a` from the monitor socket at path: what
    arrives within 30 s, until the output has gone quiet for 3 s."""
    try:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(1)
        s.connect(path)
        s.sendall(b"info registers -a\n")
        data = b""
        deadline = time.time() + 30
        quiet_since = time.time()
        while time.time() < deadline:
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                if b"PC=" in data and time.time() - quiet_since > 3:
                    break
                continue
            if not chunk:
                break
            data += chunk
            quiet_since = time.time()
        s.close()
        return ANSI.sub("", data.decode(errors="replace"))
    except OSError as e:
        return f"(monitor: {e})"


def where_cpus(text, hv_elf, guest_elf):
    """One line per CPU in an `info registers -a` dump: PC, EL, symbol."""
    out = []
    blocks = re.split(r"\bCPU#(\d+)", text)
    # re.split gives [before, n, block, n, block, ...]
    for i in range(1, len(blocks) - 1, 2):
        cpu, block = blocks[i], blocks[i + 1]
        pc = PC_LINE.search(block)
        el = PSTATE_EL.search(block)
        if not pc:
            continue
        pcv = int(pc.group(1), 16)
        level = int(el.group(1)) if el else -1
        elf = hv_elf if level == 2 else guest_elf
        who = "hypervisor" if level == 2 else "guest"
        out.append(f"CPU {cpu}: PC {pcv:#x} EL{level} ({who}) {symbolise(elf, pcv)}")
    return out


def run_seed(args, seed, qemu):
    """Runs one seed; returns a dict describing the run."""
    sock = os.path.join(tempfile.mkdtemp(prefix="fuzz-mon-"), "mon.sock")
    cmd = qemu + ["-monitor", f"unix:{sock},server,nowait"]
    log_path = os.path.join(args.log_dir, f"seed-{seed}.log")
    log = open(log_path, "w")
    start = time.time()
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            start_new_session=True)
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    r = {"seed": seed, "ops": 0, "exceptions": None, "stopped": [], "testguest": "did not finish",
         "warnings": 0, "stuck": None, "panic": None, "hang": None, "qemu": None, "report": []}
    buf = b""
    last_line = time.time()
    sent = False
    focused = False
    while True:
        if time.time() - last_line > args.stall_s:
            regs = monitor_registers(sock)
            r["hang"] = where_cpus(regs, args.hv_elf, args.guest_elf) or [regs[-2000:]]
            log.write("\n--- hang: info registers -a ---\n" + regs + "\n")
            break
        events = sel.select(timeout=1.0)
        if not events:
            if proc.poll() is not None:
                break
            continue
        chunk = os.read(proc.stdout.fileno(), 65536)
        if not chunk:
            break
        buf += chunk
        log.write(chunk.decode(errors="replace"))
        *lines, buf = buf.split(b"\n")
        # A prompt may wait without its newline.
        tail = ANSI.sub("", buf.decode(errors="replace"))
        if not focused and PROMPT in tail:
            lines.append(buf)
            buf = b""
        for raw in lines:
            last_line = time.time()
            line = ANSI.sub("", raw.decode(errors="replace")).rstrip("\r").split("\r")[-1]
            if not focused and PROMPT in line:
                proc.stdin.write(FOCUS_KEYS)
                proc.stdin.flush()
                focused = True
            if focused and not sent and FOCUSED.search(line):
                proc.stdin.write(f"{seed} {args.ops} {args.classes}\n".encode())
                proc.stdin.flush()
                sent = True
            m = PROGRESS.search(line)
            if m:
                r["ops"] = int(m.group(1)) + int(m.group(2))
            m = FINISHED.search(line)
            if m:
                r["ops"], r["exceptions"] = int(m.group(2)), int(m.group(4))
            if CLASS_LINE.search(line):
                r["report"].append(line.split("fuzz: ", 1)[1])
            m = STOPPED.search(line)
            if m and "powered off by the guest" not in m.group(3):
                r["stopped"].append(f"VM {m.group(1)} ({m.group(2)}): {m.group(3)}")
            if TESTGUEST_OK in line:
                r["testguest"] = "all checks passed"
            m = TESTGUEST_FAIL.search(line)
            if m:
                r["testguest"] = m.group(1)
            if " WARN " in line or "WARN" in line[:40]:
                r["warnings"] += 1
            m = STOP_REASON.search(line)
            if m:
                r["stopped"].append(f"hypervisor log: {m.group(1)}")
            m = STUCK.search(line)
            if m:
                r["stuck"] = m.group(0)
            if PANIC.search(line) and r["panic"] is None:
                r["panic"] = line
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, 9)
        except OSError:
            pass
    try:
        r["qemu"] = proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        r["qemu"] = "killed"
    log.close()
    r["wall"] = time.time() - start
    r["log"] = log_path
    shutil.rmtree(os.path.dirname(sock), ignore_errors=True)
    r["ok"] = (r["exceptions"] is not None and not r["stopped"] and r["testguest"] == "all checks passed"
               and r["hang"] is None and r["panic"] is None and r["qemu"] == 0 and r["stuck"] is None)
    return r


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seeds", default="1")
    p.add_argument("--ops", type=int, default=100000)
    p.add_argument("--classes", default="default")
    p.add_argument("--hv-elf", default="")
    p.add_argument("--guest-elf", default="")
    p.add_argument("--log-dir", default="target/fuzz")
    p.add_argument("--stall-s", type=float, default=120.0)
    p.add_argument("qemu", nargs=argparse.REMAINDER)
    args = p.parse_args()
    qemu = [a for a in args.qemu if a != "--"]
    if not qemu:
        p.error("no QEMU command after --")
    os.makedirs(args.log_dir, exist_ok=True)
    seeds = parse_seeds(args.seeds)
    total_ops = 0
    failed = 0
    t0 = time.time()
    for seed in seeds:
        print(f"fuzz: seed {seed}: {args.ops} ops per vCPU, classes {args.classes} ...", flush=True)
        r = run_seed(args, seed, qemu)
        total_ops += r["ops"]
        verdict = "ok" if r["ok"] else "PROBLEM"
        exc = "?" if r["exceptions"] is None else r["exceptions"]
        print(f"  {verdict}: {r['ops']} ops, {exc} exceptions taken, {r['wall']:.1f} s, "
              f"hypervisor warnings {r['warnings']}, QEMU status {r['qemu']}; log {r['log']}")
        for line in r["report"]:
            print(f"    {line}")
        if r["exceptions"] is None:
            print("  the fuzzer did not finish (ops: up to its last progress line)")
        for s in r["stopped"]:
            print(f"  VM stopped by the hypervisor: {s}")
        if r["stuck"]:
            print(f"  {r['stuck']}")
        print(f"  other VM (test guest): {r['testguest']}")
        if r["panic"]:
            print(f"  hypervisor panic: {r['panic']}")
        if r["hang"]:
            print(f"  HANG (no console line for {args.stall_s:.0f} s); where each CPU was:")
            for line in r["hang"]:
                print(f"    {line}")
        if not r["ok"]:
            failed += 1
        sys.stdout.flush()
    print(f"fuzz: {len(seeds)} seeds, {total_ops} ops in all, {time.time() - t0:.0f} s, "
          f"{failed} with problems")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
