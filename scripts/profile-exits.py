#!/usr/bin/env python3
"""Where the hypervisor's instructions go on each exit of the test guest's
exit benchmarks (aarch64, under `-icount`).

Runs the test guest under QEMU with translation logging (`-d in_asm`)
limited to the hypervisor's text and the guest's benchmark function, and
turns per-block execution logging (`exec`) on through QEMU's monitor only
while the benchmark of interest runs (the log of a whole run would be tens
of gigabytes). Each CPU's stream of executed blocks is cut into guest runs
and hypervisor runs; a hypervisor run that follows a guest block ending in
the benchmark's trapping instruction (`hvc`, or the `ldr` of the MMIO read)
is one exit (for vtimer and sgi, every run in the window counts, and the
figures are per iteration; a block that faults on a load ends there, so a block
that holds one counts). Prints the median and mean instructions per exit and the mean
by hypervisor function (the symbol each block starts in; inlined code
counts for its caller).

    scripts/profile-exits.py hvc|mmio|vtimer|sgi [VM,VM...]  (builds what scripts/bench-exits.sh
                                        measures; the log is kept in
                                        target/profile/)

With a VM list (the hypervisor's `VM=`, the test guest first: it must
run on CPUs 0 and 1), the other VMs run beside the benchmark; the
instructions each CPU executed in the window (hypervisor and guest) are
printed per iteration, so that what a neighbour on other CPUs costs the
test guest's CPUs shows apart from QEMU's turn-taking (under -icount the
CPUs share one virtual clock, so the guest's own figure counts the
neighbour's instructions too). A neighbour that makes many exits (the
flooding VM) makes the execution log tens of gigabytes:
scripts/bench-noisy-icount.py counts per CPU without a log.
"""
import bisect, collections, os, re, socket, statistics, subprocess, sys, time

from elf_symbols import functions as symbols

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HV = os.path.join(ROOT, "target/aarch64-unknown-none-softfloat/release/hv")
GUEST = os.path.join(ROOT, "guests/testguest/target/aarch64-unknown-none-softfloat/release/testguest")
OUT = os.path.join(ROOT, "target/profile")
# benchmark: (trapping instruction, guest line that comes just before it
# starts, guest line that ends it)
BENCHES = {
    "hvc": ("hvc", "testguest: console input:", "bench: hvc round trip total"),
    "mmio": ("ldr", "bench: hvc round trip total", "bench: mmio read round trip total"),
    # The guest spins until its handler ran: every hypervisor run in the
    # window is one interrupt exit (the guest's whole text is logged).
    "vtimer": (None, "bench: mmio read round trip total", "bench: vtimer irq latency total"),
    # Both vCPUs' CPUs: the sums are per round trip (1,000 of them).
    "sgi": (None, "bench: vtimer irq latency total", "bench: sgi round trip total"),
}
# Iterations of the benchmarks whose exits are not told apart.
ITERATIONS = {"vtimer": 1000, "sgi": 1000}


def monitor(sock_path, cmd):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sock_path)
    s.sendall(cmd.encode() + b"\n")
    time.sleep(0.2)
    s.close()


def run(kind, vms):
    insn, start_line, end_line = BENCHES[kind]
    # The build scripts/bench-exits.sh measures (by default).
    subprocess.run(["make", "-s", "-C", ROOT, "A=apps/hv", "SMP=4", "POWEROFF_WHEN_IDLE=y",
                    f"VM={vms}", "build"], check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    hv = symbols(HV)
    lo = min(a for a, _, _ in hv)
    hi = max(a + s for a, s, _ in hv)
    guest = symbols(GUEST)
    if insn is None:
        main = [(min(a for a, _, _ in guest), max(a + s for a, s, _ in guest) - min(a for a, _, _ in guest))]
    else:
        main = [(a, s) for a, s, n in guest if n.endswith("primary_main")]
    if not main:
        sys.exit("profile: no primary_main in the test guest")
    os.makedirs(OUT, exist_ok=True)
    log, sock = os.path.join(OUT, f"{kind}.log"), os.path.join(OUT, "monitor.sock")
    for f in (log, sock):
        if os.path.exists(f):
            os.remove(f)
    args = (f"-icount shift=0,sleep=off -d in_asm,nochain -dfilter {lo:#x}..{hi:#x},{main[0][0]:#x}+{main[0][1]:#x}"
            f" -D {log} -monitor unix:{sock},server,nowait")
    qemu = subprocess.Popen(["make", "-s", "-C", ROOT, "A=apps/hv", "SMP=4", "justrun", f"QEMU_ARGS={args}"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True)
    on = False
    for line in qemu.stdout:
        if not on and start_line in line:
            monitor(sock, "log in_asm,exec,nochain")
            on = True
        elif on and end_line in line:
            monitor(sock, "quit")
            break
    qemu.wait()
    if not on:
        sys.exit(f"profile: the guest never printed {start_line!r}")
    return log, hv, (lo, hi)


def analyse(log, hv, text, insn, iterations=None):
    addrs = [a for a, _, _ in hv]
    def sym(pc):
        i = bisect.bisect_right(addrs, pc) - 1
        return hv[i][2] if i >= 0 else "?"
    lo, hi = text
    length, last = {}, {}  # block start pc -> instructions, its mnemonics
    cur = None
    trace = re.compile(r"Trace (\d+): 0x[0-9a-f]+ \[[0-9a-f]+/([0-9a-f]+)/")
    asm = re.compile(r"^0x([0-9a-f]+):\s+[0-9a-f]{8}\s+(\S+)")
    state = collections.defaultdict(lambda: {"last": None, "run": None})
    runs = []
    per_cpu = collections.Counter()  # (cpu, "hv"/"guest") -> instructions
    with open(log, errors="replace") as f:
        for line in f:
            if line.startswith("Trace "):
                cur = None
                m = trace.match(line)
                if not m:
                    continue
                cpu, pc = m.group(1), int(m.group(2), 16)
                per_cpu[(cpu, "hv" if lo <= pc < hi else "guest")] += length.get(pc, 0)
                st = state[cpu]
                if lo <= pc < hi:
                    if st["run"] is None:
                        st["run"] = {"after": st["last"], "total": 0, "by": collections.Counter()}
                    n = length.get(pc, 0)
                    st["run"]["total"] += n
                    st["run"]["by"][sym(pc)] += n
                else:
                    if st["run"] is not None:
                        runs.append(st["run"])
                        st["run"] = None
                    st["last"] = last.get(pc)
            elif line.startswith("IN:"):
                cur = "new"
            elif cur is not None:
                m = asm.match(line)
                if m:
                    pc = int(m.group(1), 16)
                    if cur == "new":
                        cur = pc
                        length[cur] = 0
                    length[cur] += 1
                    last.setdefault(cur, set()).add(m.group(2))
    if iterations:
        for cpu in sorted({c for c, _ in per_cpu}):
            print(f"profile: CPU {cpu}: {per_cpu[(cpu, 'hv')] / iterations:.0f} hypervisor and "
                  f"{per_cpu[(cpu, 'guest')] / iterations:.0f} guest instructions per iteration")
    sel = [r for r in runs if insn is None or insn in (r["after"] or ())]
    print(f"profile: {len(runs)} hypervisor runs, {len(sel)} after a guest block with {insn or 'anything'}")
    if not sel:
        return
    tot = [r["total"] for r in sel]
    print(f"profile: hypervisor instructions per exit: median {statistics.median(tot)}, mean {statistics.mean(tot):.0f}")
    per = iterations or len(sel)
    if iterations:
        print(f"profile: per iteration ({iterations}): {sum(tot) / iterations:.0f} hypervisor instructions"
              f" in {len(sel) / iterations:.1f} runs")
    by = collections.Counter()
    for r in sel:
        by.update(r["by"])
    for s, n in by.most_common(30):
        print(f"{n / per:8.1f}  {s}")


if __name__ == "__main__":
    kind = sys.argv[1] if len(sys.argv) > 1 else "hvc"
    vms = sys.argv[2] if len(sys.argv) > 2 else "configs/vms/testguest-aarch64.toml"
    if kind not in BENCHES:
        sys.exit(f"usage: {sys.argv[0]} {'|'.join(BENCHES)} [VM,VM...]")
    log, hv, text = run(kind, vms)
    analyse(log, hv, text, BENCHES[kind][0], ITERATIONS.get(kind))
