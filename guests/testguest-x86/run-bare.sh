#!/usr/bin/env bash
# Boots the x86 test guest on bare QEMU (no hypervisor) and checks what it
# prints: the hypercall, test device and hypervisor CPUID checks SKIP (as
# does the outside-memory check, QEMU reading nothing as zeros), every other
# check must PASS, and the guest must power off.
#
#   guests/testguest-x86/run-bare.sh [IMAGE]
#
# IMAGE defaults to a fresh build.sh of target/guests/testguest-x86.bin.
# QEMU's multiboot loader enters the flat image at 0x100000 in 32-bit
# protected mode, paging off, as the contract does. The firmware is qboot,
# as for the host kernel (BIOS= runs SeaBIOS instead); both put the ICH9 PM
# block at 0x600, so the guest's power-off write (0x2000 to port 0x604)
# stops QEMU with status 0. Should it not, the guest falls back to
# isa-debug-exit and QEMU exits with status 33. Exits 0 when the run passed.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
img=${1:-}
if [ -z "$img" ]; then
    img=$root/target/guests/testguest-x86.bin
    bash "$here/build.sh" "$img"
fi
bios=${BIOS-qboot.rom}
log=$(mktemp)
trap 'rm -f "$log"' EXIT

set +e
timeout 60 qemu-system-x86_64 -M q35 -cpu max ${bios:+-bios "$bios"} -smp 2 -m 128M \
    -nodefaults -nographic -serial stdio -nic none \
    -device isa-debug-exit,iobase=0xf4,iosize=0x04 \
    -kernel "$img" | tr -d '\r' | tee "$log"
rc=${PIPESTATUS[0]}
set -e

fail=0
grep -q '^FAIL' "$log" && { echo "run-bare: a check failed"; fail=1; }
grep -qx 'testguest-x86: all checks passed' "$log" || { echo "run-bare: no 'all checks passed'"; fail=1; }
grep -qx 'testguest-x86: powering off' "$log" || { echo "run-bare: the guest did not power off"; fail=1; }
# 0: the power-off port; 33: isa-debug-exit ((0x10 << 1) | 1).
case $rc in 0 | 33) ;; *) echo "run-bare: QEMU exited with status $rc"; fail=1 ;; esac
if [ $fail -eq 0 ]; then
    echo "run-bare: passed (QEMU exit status $rc)"
fi
exit $fail
