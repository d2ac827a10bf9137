#!/usr/bin/env bash
# Per-exit costs of the x86 hypervisor (SVM under QEMU's emulation): the x86
# test guest measures 10,000 VMMCALL round trips, port I/O round trips and
# MMIO reads of the test device in TSC ticks, under QEMU `-icount
# shift=0,sleep=off` (the guest's clock follows instructions, so the
# figures do not depend on the machine or its load). Prints the guest's
# averages.
set -euo pipefail
cd "$(dirname "$0")/.."
make -s ARCH=x86_64 A=apps/hv SMP=2 POWEROFF_WHEN_IDLE=y VM=configs/vms/testguest-x86.toml build >/dev/null 2>&1
out=$(timeout 300 make -s ARCH=x86_64 A=apps/hv SMP=2 justrun QEMU_ARGS="-icount shift=0,sleep=off" 2>&1 | tr -d '\r')
found=0
for what in "hypercall round trip" "port io round trip" "mmio read round trip"; do
  avg=$(sed -n "s/.*bench: $what \([0-9]*\) tsc ticks (avg of \([0-9]*\)).*/\1 \2/p" <<<"$out")
  [ -n "$avg" ] || continue
  read -r ticks count <<<"$avg"
  python3 scripts/bench-record.py x86_64 "exit (svm): $what" "$ticks" "TSC ticks" icount "average of $count"
  printf 'exit cost (x86, svm): %-22s %8d TSC ticks per round trip (icount; average of %d)\n' "$what" "$ticks" "$count"
  found=$((found + 1))
done
[ "$found" -gt 0 ] || { echo "bench: the x86 test guest printed no figures" >&2; echo "$out" | tail -20 >&2; exit 1; }
