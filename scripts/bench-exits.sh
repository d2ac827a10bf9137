#!/usr/bin/env bash
# Per-exit costs of the hypervisor, deterministic: the test guest measures
# 10,000 HVC round trips, 10,000 MMIO reads of the test device and 10,000
# of the virtual GIC distributor's GICD_IIDR (kvm-unit-tests' mmio_read_vgic), the
# latency of 1,000 virtual timer interrupts (from the timer's compare value
# to the guest's handler), and 1,000 SGI round trips between its two vCPUs
# on two physical CPUs (send, the other's handler, its SGI back, the
# sender's handler; both wait in WFI); then two in the form of
# kvm-unit-tests' arm micro-bench, to compare with its `ipi` and
# `timer_10ms` under KVM: 1,000 one-way SGIs to a vCPU that spins (send to
# the sender seeing the flag the receiver's handler set; both spin with
# YIELD, no WFI), and 50 virtual timer interrupts armed 10 ms ahead, the
# cost beyond the 10 ms (start of the iteration to the flag seen, minus
# 10 ms). All in CNTVCT ticks under QEMU `-icount shift=0,sleep=off` (one
# instruction = 1 ns of virtual time, so the figures do not depend on the
# machine or its load). Prints the guest's figures and the same in ns and
# instructions.
set -euo pipefail
cd "$(dirname "$0")/.."
make -s A=apps/hv SMP=4 POWEROFF_WHEN_IDLE=y VM=configs/vms/testguest-aarch64.toml build >/dev/null 2>&1
out=$(timeout 300 make -s A=apps/hv SMP=4 justrun QEMU_ARGS="-icount shift=0,sleep=off" 2>&1 | tr -d '\r')
freq=$(sed -n 's/.*bench: counter frequency \([0-9]*\) Hz.*/\1/p' <<<"$out")
[ -n "$freq" ] || { echo "bench: the test guest printed no figures" >&2; echo "$out" | tail -20 >&2; exit 1; }
# figure (as the guest names it), how many it measured, what one of them is
for figure in "hvc round trip|10000|round trip" \
              "mmio read round trip|10000|round trip" \
              "gicd read round trip|10000|round trip" \
              "vtimer irq latency|1000|interrupt" \
              "sgi round trip|1000|round trip" \
              "ipi one way|1000|SGI" \
              "timer 10ms beyond|50|interrupt"; do
  IFS='|' read -r what count unit <<<"$figure"
  total=$(sed -n "s/.*bench: $what total \([0-9]*\) ticks.*/\1/p" <<<"$out")
  [ -n "$total" ] || { echo "bench: the test guest printed no figure for $what" >&2; exit 1; }
  # The two in micro-bench's form stop early past 1 s of measured time,
  # which they should not come near here.
  measured=$(sed -n "s/.*bench: $what [0-9]* ticks (avg of \([0-9]*\)).*/\1/p" <<<"$out")
  [ "$measured" = "$count" ] || { echo "bench: the test guest measured $measured of $count for $what" >&2; exit 1; }
  ns=$(( total * 1000000000 / freq / count ))
  python3 scripts/bench-record.py aarch64 "exit: $what" "$ns" instructions icount "per $unit, $count measured"
  printf 'exit cost: %-22s %6d ns = %6d instructions per %s (icount; %d ticks per %d at %d Hz)\n' \
    "$what" "$ns" "$ns" "$unit" "$total" "$count" "$freq"
done
