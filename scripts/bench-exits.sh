#!/usr/bin/env bash
# Per-exit costs of the hypervisor, deterministic: the test guest measures
# 10,000 HVC round trips and 10,000 MMIO reads of the test device in
# CNTVCT ticks under QEMU `-icount shift=0` (one instruction = 1 ns of
# virtual time, so the figures do not depend on the machine or its load).
# Prints the guest's figures and the same in ns and instructions.
set -euo pipefail
cd "$(dirname "$0")/.."
make -s A=apps/hv SMP=4 VM=configs/vms/testguest-aarch64.toml build >/dev/null 2>&1
out=$(timeout 300 make -s A=apps/hv SMP=4 justrun QEMU_ARGS="-icount shift=0" 2>&1 | tr -d '\r')
freq=$(sed -n 's/.*bench: counter frequency \([0-9]*\) Hz.*/\1/p' <<<"$out")
[ -n "$freq" ] || { echo "bench: the test guest printed no figures" >&2; echo "$out" | tail -20 >&2; exit 1; }
for what in "hvc round trip" "mmio read round trip"; do
  total=$(sed -n "s/.*bench: $what total \([0-9]*\) ticks.*/\1/p" <<<"$out")
  ns=$(( total * 1000000000 / freq / 10000 ))
  printf 'exit cost: %-22s %6d ns = %6d instructions per round trip (icount; %d ticks per 10000 at %d Hz)\n' \
    "$what" "$ns" "$ns" "$total" "$freq"
done
