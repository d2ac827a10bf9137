#!/usr/bin/env python3
"""Noisy neighbours, deterministically: the hypervisor instructions the
well-behaved VM's CPUs execute per virtual timer interrupt, alone and
beside a flooding VM.

The shipped test guest (VM 1, CPUs 0 and 1) runs its benchmarks under
QEMU `-icount shift=0,sleep=off`, once alone and once beside the flooding
VM (VM 44, tests/configs/flood.toml, CPUs 2 and 3: SGIs to its other
vCPU, console lines, trapping exits). A QEMU plugin
(scripts/qemu-plugin/cpu_insns.c, built here with the C compiler) counts
each emulated CPU's instructions inside the hypervisor's text and outside
it between the 1st and the 1000th run of the guest's timer handler
(`testguest::bench::on_vtimer`): the window of its timer latency
benchmark.

The figure is the hypervisor's instructions on CPU 0 (where the timer
interrupt is taken and the vCPU resumed) per interrupt. What the guest
itself executes meanwhile is not compared: it spins until its handler
runs, and under -icount all CPUs share one virtual clock, so the spin
grows with the neighbour's instructions (QEMU's turn-taking, not the
hypervisor). Prints both runs' per-CPU counts, the figure alone and
beside the flood, and their ratio; records them (scripts/bench-record.py).

    scripts/bench-noisy-icount.py   (env: NEIGHBOUR=tests/configs/flood.toml;
        PROFILE_CPU=N: also where CPU N's hypervisor instructions go in
        each run, by function: the top 15 per interrupt)
"""
import os, re, shutil, signal, subprocess, sys, tempfile, time

import elf_symbols

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "target/bench-noisy-icount")
HV_ELF = os.path.join(ROOT, "target/aarch64-unknown-none-softfloat/release/hv")
GUEST_ELF = os.path.join(ROOT, "guests/testguest/target/aarch64-unknown-none-softfloat/release/testguest")
COMMON = ["ARCH=aarch64", "A=apps/hv", "POWEROFF_WHEN_IDLE=y", "SMP=4"]
MARKS = 1000
TIMEOUT_S = 600


def build_plugin():
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        sys.exit("bench-noisy-icount: no C compiler (cc) to build the QEMU plugin")
    os.makedirs(OUT, exist_ok=True)
    so = os.path.join(OUT, "cpu_insns.so")
    src = os.path.join(ROOT, "scripts/qemu-plugin/cpu_insns.c")
    subprocess.run([cc, "-O2", "-shared", "-fPIC", "-fvisibility=hidden", "-o", so, src], check=True)
    return so


def build(vms, tag):
    subprocess.run(["make", "-s", *COMMON, f"VM={vms}", "build"], cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    binary = subprocess.run(["make", "-s", *COMMON, f"VM={vms}", "--no-print-directory", "print-bin"], cwd=ROOT,
                            check=True, capture_output=True, text=True).stdout.strip()
    kept = os.path.join(OUT, f"hv-{tag}.bin")
    shutil.copy(os.path.join(ROOT, binary), kept)
    lo, hi = elf_symbols.address(HV_ELF, "_stext"), elf_symbols.address(HV_ELF, "_etext")
    return kept, lo, hi


def counts(binary, lo, hi, plugin, mark, profile):
    """Boots `binary` until the plugin printed its window; per CPU, the
    (guest, hypervisor) instructions in it, and the profile's instructions
    per block start address."""
    log = tempfile.NamedTemporaryFile(prefix="cpu_insns-", suffix=".log", delete=False).name
    args = [
        "qemu-system-aarch64", "-M", "virt,virtualization=on,gic-version=3", "-cpu", "cortex-a72", "-smp", "4",
        "-m", "2G", "-nodefaults", "-nographic", "-serial", "null", "-monitor", "none", "-nic", "none",
        "-semihosting", "-icount", "shift=0,sleep=off",
        "-plugin", f"{plugin},lo={lo:#x},hi={hi:#x},mark={mark:#x},marks={MARKS}" + ("" if profile is None else f",profile={profile}"),
        "-d", "plugin", "-D", log, "-kernel", binary,
    ]
    proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            start_new_session=True)
    found, blocks = {}, {}
    deadline = time.time() + TIMEOUT_S
    try:
        while time.time() < deadline:
            time.sleep(0.5)
            with open(log, errors="replace") as f:
                text = f.read()
            if "cpu_insns: window of" in text:
                time.sleep(0.5)
                with open(log, errors="replace") as f:
                    text = f.read()
                for m in re.finditer(r"cpu_insns: window cpu (\d+) guest (\d+) hv (\d+)", text):
                    found[int(m.group(1))] = (int(m.group(2)), int(m.group(3)))
                for m in re.finditer(r"cpu_insns: pc (0x[0-9a-f]+) (\d+)", text):
                    blocks[int(m.group(1), 16)] = int(m.group(2))
                break
            if proc.poll() is not None:
                break
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        err = proc.stderr.read().decode(errors="replace")
        os.unlink(log)
    if not found:
        sys.exit(f"bench-noisy-icount: no window counted from {binary} (QEMU said: {err.strip()[-500:]})")
    return found, blocks


def print_profile(tag, cpu, blocks, elf):
    by = elf_symbols.by_function(elf, blocks)
    print(f"{tag}: CPU {cpu}'s hypervisor instructions per timer interrupt, by function:")
    for name, n in by.most_common(15):
        print(f"  {n / (MARKS - 1):10.0f}  {name}")


def main():
    neighbour = os.environ.get("NEIGHBOUR", "tests/configs/flood.toml")
    profile = os.environ.get("PROFILE_CPU")
    plugin = build_plugin()
    runs = {}
    for tag, vms in (("alone", "configs/vms/testguest-aarch64.toml"),
                     ("noisy", f"configs/vms/testguest-aarch64.toml,{neighbour}")):
        binary, lo, hi = build(vms, tag)
        mark = elf_symbols.address(GUEST_ELF, "testguest::bench::on_vtimer")
        runs[tag], blocks = counts(binary, lo, hi, plugin, mark, profile)
        per = MARKS - 1
        for cpu, (guest, hv) in sorted(runs[tag].items()):
            print(f"{tag}: CPU {cpu}: {hv / per:10.0f} hypervisor + {guest / per:10.0f} guest instructions per timer interrupt")
        if profile is not None:
            print_profile(tag, profile, blocks, HV_ELF)
    alone = runs["alone"].get(0, (0, 0))[1] / (MARKS - 1)
    noisy = runs["noisy"].get(0, (0, 0))[1] / (MARKS - 1)
    ratio = noisy / alone if alone else 0.0
    print(f"hypervisor instructions on CPU 0 per timer interrupt: alone {alone:.0f}, beside {neighbour} {noisy:.0f}, ratio {ratio:.2f}")
    both = [sum(runs[t].get(c, (0, 0))[1] for c in (0, 1)) / (MARKS - 1) for t in ("alone", "noisy")]
    print(f"the same on CPUs 0 and 1 (the VM's two): alone {both[0]:.0f}, beside {both[1]:.0f}, ratio {both[1] / both[0] if both[0] else 0:.2f}")
    record = [sys.executable, os.path.join(ROOT, "scripts/bench-record.py"), "aarch64"]
    subprocess.run(record + ["victim CPU hypervisor instructions per timer irq, alone", f"{alone:.0f}", "instructions", "icount", "plugin count, 999 interrupts"], check=True)
    subprocess.run(record + ["victim CPU hypervisor instructions per timer irq, beside a flooding VM", f"{noisy:.0f}", "instructions", "icount", "plugin count, 999 interrupts"], check=True)
    subprocess.run(record + ["victim CPU hypervisor instructions per timer irq, ratio", f"{ratio:.2f}", "ratio", "icount", "beside / alone"], check=True)


if __name__ == "__main__":
    main()
