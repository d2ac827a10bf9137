#!/usr/bin/env python3
"""Linux boot time under the hypervisor against the same kernel and
initramfs booted directly by the same QEMU (no hypervisor, kernel at EL1),
on the same machine: wall time from starting QEMU to `Run /init as init
process` and to the initramfs shell prompt. The two are run alternately
(direct, hypervisor, direct, ...) so that a change of machine load hits
both; each pair gives a ratio (hypervisor / direct) and the medians are
printed. Also the time the hypervisor took to build the 512 MiB Linux VM,
from reading its config to its vCPUs being ready for their first
instruction (its info line `VM 1 (linux): built in X ms`; the image is
built with LOG=info, which adds a handful of boot lines). Wall clock:
compare figures from the same machine only.

usage: scripts/bench-linux.py [RUNS]   (default 3 pairs)
"""
import os
import re
import select
import statistics
import subprocess
import sys
import time
import tomllib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONFIG = "configs/vms/linux-aarch64.toml"
KERNEL = "target/guests/linux/Image"
INITRD = "target/guests/linux/initramfs.cpio.gz"
RUN_INIT = re.compile(rb"Run /init as init process")
PROMPT = re.compile(rb"hv-linux# ")
BUILT = re.compile(rb"VM 1 \(linux\): built in ([0-9.]+) ms")
TIMEOUT_S = 300


def vm_config():
    """The Linux VM config (for the same vCPU count and kernel command line)."""
    with open(os.path.join(ROOT, CONFIG), "rb") as f:
        return tomllib.load(f)


def boot(cmd):
    """Runs QEMU, returns (seconds to Run /init, seconds to the prompt, the
    VM build time in ms the hypervisor logged or None)."""
    start = time.monotonic()
    p = subprocess.Popen(cmd, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, start_new_session=True)
    seen, t_init, t_prompt = b"", None, None
    try:
        while t_prompt is None:
            if time.monotonic() - start > TIMEOUT_S:
                raise RuntimeError("timed out; last output: " + seen[-500:].decode(errors="replace"))
            r, _, _ = select.select([p.stdout], [], [], 1.0)
            if not r:
                continue
            chunk = os.read(p.stdout.fileno(), 65536)
            if not chunk:
                raise RuntimeError("QEMU exited early; last output: " + seen[-500:].decode(errors="replace"))
            seen += chunk
            now = time.monotonic() - start
            if t_init is None and RUN_INIT.search(seen):
                t_init = now
            if t_init is not None and PROMPT.search(seen):
                t_prompt = now
        p.stdin.write(b"poweroff\n")
        p.stdin.flush()
        p.wait(timeout=60)
    finally:
        if p.poll() is None:
            os.killpg(p.pid, 9)
            p.wait()
    built = BUILT.search(seen)
    return t_init, t_prompt, float(built.group(1)) if built else None


def commands(hv_bin):
    """The QEMU command lines of the direct boot and of the boot under the
    hypervisor image `hv_bin` (the same kernel, initramfs and command line),
    on machines with the same number of CPUs: the VM's vCPU count. (QEMU
    emulating 4 CPUs for the hypervisor against 2 for the direct boot made
    the ratio about 0.25 worse on this 2-core machine: its broadcast TLB
    maintenance waits for every emulated CPU.)"""
    config = vm_config()
    cpus = str(config["base"]["cpu_num"])
    machine = ["-cpu", "cortex-a72", "-nodefaults", "-nographic", "-serial", "mon:stdio", "-smp", cpus]
    direct = ["qemu-system-aarch64", "-M", "virt,gic-version=3", *machine,
              "-m", "512M", "-kernel", KERNEL, "-initrd", INITRD, "-append", config["kernel"]["cmdline"]]
    hv = ["qemu-system-aarch64", "-M", "virt,virtualization=on,gic-version=3", *machine, "-m", "2G",
          "-semihosting", "-kernel", hv_bin]
    return direct, hv


def record(name, value, unit, note):
    """Adds a wall-clock figure to target/bench/aarch64.json."""
    subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "bench-record.py"), "aarch64", name,
                    str(value), unit, "wall", note], check=True)


def main():
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    env = dict(os.environ)
    subprocess.run(["make", "-s", "A=apps/hv", f"VM={CONFIG}", "LOG=info", "POWEROFF_WHEN_IDLE=y", "build"], cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    hv_bin = subprocess.run(["make", "-s", "--no-print-directory", "A=apps/hv", f"VM={CONFIG}", "LOG=info", "POWEROFF_WHEN_IDLE=y", "print-bin"],
                            cwd=ROOT, check=True, capture_output=True, text=True).stdout.strip()
    direct, hv = commands(hv_bin)
    rows = []
    for i in range(runs):
        d = boot(direct)
        h = boot(hv)
        rows.append((d, h))
        print(f"run {i + 1}: direct /init {d[0]:.2f} s prompt {d[1]:.2f} s; "
              f"hypervisor /init {h[0]:.2f} s prompt {h[1]:.2f} s; "
              f"ratio /init {h[0] / d[0]:.2f} prompt {h[1] / d[1]:.2f}", flush=True)
    med = statistics.median
    for k, what in ((0, "Run /init"), (1, "shell prompt")):
        dm = med(r[0][k] for r in rows)
        hm = med(r[1][k] for r in rows)
        ratio = med(r[1][k] / r[0][k] for r in rows)
        record(f"linux boot to {what}, hypervisor / direct", ratio, "ratio", f"median of {runs} alternating pairs")
        record(f"linux boot to {what} under the hypervisor", hm, "s", f"median of {runs}")
        print(f"linux boot to {what}: direct median {dm:.2f} s, under the hypervisor median {hm:.2f} s, "
              f"ratio (hypervisor / direct, median of {runs} alternating pairs) {ratio:.2f}")
    built = [r[1][2] for r in rows if r[1][2] is not None]
    if built:
        record("linux VM creation (config to vCPUs ready)", med(built), "ms", f"median of {len(built)}")
        print(f"linux VM creation (512 MiB, config to vCPUs ready): median {med(built):.1f} ms of {len(built)}")


if __name__ == "__main__":
    main()
