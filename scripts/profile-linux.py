#!/usr/bin/env python3
"""Where a Linux boot's instructions go, under QEMU `-icount shift=0,sleep=off`
(deterministic), with the hypervisor and directly: Linux boots to its shell
prompt and powers off; the QEMU plugin of the noisy-neighbour bench
(scripts/qemu-plugin/cpu_insns.c) prints each CPU's instructions over the
whole run, inside the hypervisor's text and outside it (the guest). Prints
both runs' counts, the hypervisor's share under the hypervisor, and the
guest's instructions against the direct boot's (the same kernel and
initramfs; scripts/bench-linux.py's command lines), and where the
hypervisor's instructions on CPU N (default 0) go, by function. Records
the instruction ratio (hypervisor / direct) and the hypervisor's
instructions (scripts/bench-record.py).

    scripts/profile-linux.py [N]
"""
import importlib.util
import os
import re
import subprocess
import sys
import tempfile

import elf_symbols

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def module(name, path):
    spec = importlib.util.spec_from_file_location(name, os.path.join(ROOT, path))
    m = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(m)
    return m


def totals(cmd, plugin, prompt):
    """Runs `cmd` with the plugin to the prompt, powers the guest off, and
    returns {cpu: (guest, hypervisor)} over the whole run and the profile
    (block address -> instructions)."""
    log = tempfile.NamedTemporaryFile(prefix="cpu_insns-", suffix=".log", delete=False).name
    full = cmd + ["-icount", "shift=0,sleep=off", "-plugin", plugin, "-d", "plugin", "-D", log]
    p = subprocess.Popen(full, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         start_new_session=True)
    seen = b""
    try:
        while not prompt.search(seen):
            chunk = os.read(p.stdout.fileno(), 1 << 16)
            if not chunk:
                raise RuntimeError("QEMU exited early: " + seen[-500:].decode(errors="replace"))
            seen += chunk
        p.stdin.write(b"poweroff\n")
        p.stdin.flush()
        p.communicate(timeout=600)
        with open(log) as f:
            text = f.read()
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        os.unlink(log)
    found = {int(m.group(1)): (int(m.group(2)), int(m.group(3)))
             for m in re.finditer(r"cpu_insns: total cpu (\d+) guest (\d+) hv (\d+)", text)}
    if not found:
        sys.exit("profile-linux: the plugin printed no totals (did QEMU exit normally?)")
    blocks = {int(m.group(1), 16): int(m.group(2)) for m in re.finditer(r"cpu_insns: pc (0x[0-9a-f]+) (\d+)", text)}
    return found, blocks


def main():
    bl = module("bench_linux", "scripts/bench-linux.py")
    noisy = module("bench_noisy_icount", "scripts/bench-noisy-icount.py")
    subprocess.run(["make", "-s", "A=apps/hv", f"VM={bl.CONFIG}", "POWEROFF_WHEN_IDLE=y", "build"], cwd=ROOT,
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    hv_bin = subprocess.run(["make", "-s", "--no-print-directory", "A=apps/hv", f"VM={bl.CONFIG}",
                             "POWEROFF_WHEN_IDLE=y", "print-bin"],
                            cwd=ROOT, check=True, capture_output=True, text=True).stdout.strip()
    lo, hi = elf_symbols.address(noisy.HV_ELF, "_stext"), elf_symbols.address(noisy.HV_ELF, "_etext")
    profiled = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    plugin = noisy.build_plugin() + f",lo={lo:#x},hi={hi:#x},whole=1,profile={profiled}"
    direct, hv = bl.commands(hv_bin)
    runs = {"direct": totals(direct, plugin, bl.PROMPT)[0]}
    runs["hypervisor"], blocks = totals(hv, plugin, bl.PROMPT)
    for tag, found in runs.items():
        for cpu, (guest, hvi) in sorted(found.items()):
            print(f"{tag}: CPU {cpu}: {guest:>14,} outside the hypervisor, {hvi:>12,} in it")
    g_direct = sum(g + h for g, h in runs["direct"].values())
    g_hv = sum(g for g, _ in runs["hypervisor"].values())
    h_hv = sum(h for _, h in runs["hypervisor"].values())
    print(f"boot to the prompt and power-off: direct {g_direct:,} instructions; under the hypervisor "
          f"{g_hv:,} guest + {h_hv:,} hypervisor ({100 * h_hv / (g_hv + h_hv):.1f} % hypervisor); "
          f"guest instructions hypervisor / direct {g_hv / g_direct:.2f}")
    ratio = (g_hv + h_hv) / g_direct
    print(f"instructions under the hypervisor / direct: {ratio:.3f}")
    record = [sys.executable, os.path.join(ROOT, "scripts/bench-record.py"), "aarch64"]
    subprocess.run(record + ["linux boot to the prompt and power-off, instructions hypervisor / direct", f"{ratio:.3f}",
                             "ratio", "icount", "guest and hypervisor instructions, all CPUs"], check=True)
    subprocess.run(record + ["linux boot to the prompt and power-off, hypervisor instructions", str(h_hv),
                             "instructions", "icount", "all CPUs"], check=True)
    print(f"CPU {profiled}'s hypervisor instructions under the hypervisor, by function:")
    for name, n in elf_symbols.by_function(noisy.HV_ELF, blocks).most_common(20):
        print(f"  {n:>14,}  {name}")


if __name__ == "__main__":
    main()
