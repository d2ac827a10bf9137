"""An ELF's symbols, read with the cross binutils' `nm` (demangled): for
the scripts that map addresses to functions (profile-exits.py,
bench-noisy-icount.py, profile-window.py)."""
import bisect
import collections
import subprocess
import sys

NM = "aarch64-linux-gnu-nm"


def functions(elf):
    """The functions that have a size, as (address, size, name), by address."""
    out = subprocess.run([NM, "-n", "-S", "-C", elf], capture_output=True, text=True, check=True).stdout
    syms = []
    for line in out.splitlines():
        parts = line.split(" ", 3)
        if len(parts) == 4 and parts[2] in "tTwW":
            syms.append((int(parts[0], 16), int(parts[1], 16), parts[3]))
    return syms


def address(elf, name):
    """The address of symbol `name` (any kind, sized or not); exits with a
    message naming the ELF when it has none."""
    out = subprocess.run([NM, "-C", elf], capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        parts = line.split(" ", 2)
        if len(parts) == 3 and parts[2] == name:
            return int(parts[0], 16)
    sys.exit(f"{elf}: no symbol {name}")


def by_function(elf, counts):
    """`counts` (address -> count) summed by the function each address is
    in (an address in no function by itself, in hex)."""
    syms = functions(elf)
    starts = [a for a, _, _ in syms]
    by = collections.Counter()
    for pc, n in counts.items():
        i = bisect.bisect_right(starts, pc) - 1
        by[syms[i][2] if i >= 0 else hex(pc)] += n
    return by
