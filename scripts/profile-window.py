#!/usr/bin/env python3
"""Where each CPU's instructions go between two executions of a guest
address, under QEMU `-icount` (aarch64): the profile of one of the test
guest's benchmarks, exit by exit, without an execution log.

The QEMU plugin of the noisy-neighbour bench (scripts/qemu-plugin/cpu_insns.c)
counts each emulated CPU's instructions inside the hypervisor's text and
outside it, between the (SKIP+1)th and the (SKIP+MARKS)th execution of a
block starting at MARK (a guest address: a benchmark's loop head or a
handler it runs once per iteration). Printed per iteration (MARKS - 1 of
them): each CPU's hypervisor and guest instructions, then CPU N's
hypervisor instructions by function and, with --lines, by source line
(inlined frames resolved with addr2line), the most first.

    scripts/profile-window.py BIN MARK [--skip K] [--marks N] [--cpu C] [--lines N] [--blocks]

BIN is a built hv.bin (its ELF is target/aarch64-unknown-none-softfloat/
release/hv: copy both aside when building others meanwhile, and name the
ELF with --elf); MARK an address (0x...) or a symbol of the test guest's
ELF. The test guest's loops are inlined: find a loop head with
`aarch64-linux-gnu-objdump -d` of its ELF (the block the loop's backward
branch goes to). Examples, with this tree's guest:

    on_reply of the SGI round trip (the check runs it once before):
        scripts/profile-window.py target/.../hv.bin testguest::checks::sgi::on_reply --skip 10 --marks 901
"""
import argparse, collections, importlib.util, os, subprocess, sys

import elf_symbols

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GUEST_ELF = os.path.join(ROOT, "guests/testguest/target/aarch64-unknown-none-softfloat/release/testguest")


def noisy_module():
    spec = importlib.util.spec_from_file_location("bench_noisy_icount", os.path.join(ROOT, "scripts/bench-noisy-icount.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def by_line(elf, blocks, per, top):
    """CPU instructions per iteration by innermost project source line."""
    addrs = sorted(blocks)
    out = subprocess.run(["addr2line", "-e", elf, "-f", "-i", "-C", "-a"] + [hex(a) for a in addrs],
                         capture_output=True, text=True, check=True).stdout
    frames, cur = {}, None
    for line in out.splitlines():
        if line.startswith("0x"):
            cur = int(line, 16)
            frames[cur] = []
        elif cur is not None:
            frames[cur].append(line)
    count = collections.Counter()
    for a in addrs:
        f = frames.get(a, [])
        # (function, file:line) pairs, innermost first; the first one in
        # this tree's code names the line (library frames are skipped).
        pairs = [(f[i], f[i + 1]) for i in range(0, len(f) - 1, 2)]
        where = next((fl for _, fl in pairs if "/rustlib/" not in fl and "/.cargo/" not in fl),
                     pairs[0][1] if pairs else hex(a))
        count[where.replace(ROOT + "/", "")] += blocks[a]
    for where, n in count.most_common(top):
        print(f"  {n / per:10.1f}  {where}")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("bin")
    p.add_argument("mark")
    p.add_argument("--skip", type=int, default=0)
    p.add_argument("--marks", type=int, default=1000)
    p.add_argument("--cpu", type=int, default=0)
    p.add_argument("--lines", type=int, default=0)
    p.add_argument("--elf", default=None)
    p.add_argument("--blocks", action="store_true",
                   help="also print every block's address and instructions per iteration, in address order")
    a = p.parse_args()
    noisy = noisy_module()
    elf = a.elf or noisy.HV_ELF
    mark = int(a.mark, 16) if a.mark.startswith("0x") else elf_symbols.address(GUEST_ELF, a.mark)
    lo, hi = elf_symbols.address(elf, "_stext"), elf_symbols.address(elf, "_etext")
    plugin = noisy.build_plugin() + f",skip={a.skip}"
    noisy.MARKS = a.marks
    found, blocks = noisy.counts(os.path.abspath(a.bin), lo, hi, plugin, mark, a.cpu)
    per = a.marks - 1
    for cpu, (guest, hv) in sorted(found.items()):
        print(f"CPU {cpu}: {hv / per:10.1f} hypervisor + {guest / per:10.1f} guest instructions per iteration")
    by = elf_symbols.by_function(elf, blocks)
    print(f"CPU {a.cpu}'s hypervisor instructions per iteration, by function:")
    for name, n in by.most_common(15):
        print(f"  {n / per:10.1f}  {name}")
    if a.lines:
        print(f"... by source line (innermost line of this tree):")
        by_line(elf, blocks, per, a.lines)
    if a.blocks:
        print(f"... by block (start address: instructions per iteration):")
        for addr in sorted(blocks):
            print(f"  {addr:#x}  {blocks[addr] / per:8.1f}")


if __name__ == "__main__":
    sys.exit(main())
