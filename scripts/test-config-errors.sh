#!/usr/bin/env bash
# Builds the hypervisor with each broken VM config under tests/configs/broken
# and checks that the build stops with a message naming the file, the field
# and the problem (the `# expect:` regex in each file).
set -uo pipefail
cd "$(dirname "$0")/.."
pass=0; fail=0
for f in tests/configs/broken/*.toml; do
  want=$(sed -n 's/^# expect: //p' "$f")
  out=$(make -s ARCH=aarch64 A=apps/hv SMP=4 VM="$f" build 2>&1)
  rc=$?
  if [ $rc -ne 0 ] && grep -Eq "$want" <<<"$out"; then
    echo "PASS config error: $(basename "$f")"
    pass=$((pass + 1))
  else
    echo "FAIL config error: $(basename "$f") (build exit $rc, wanted a message matching /$want/)"
    grep -E "VM config|error" <<<"$out" | head -10 | sed 's/^/  | /'
    fail=$((fail + 1))
  fi
done
# A config of one architecture in a build for the other names the keys
# that do not exist there.
for case in "x86_64 configs/vms/testguest-aarch64.toml pl011. does not exist on x86_64" \
            "aarch64 configs/vms/testguest-x86.toml uart16550. does not exist on aarch64"; do
  read -r arch f want <<<"$case"
  out=$(make -s ARCH="$arch" A=apps/hv SMP=4 VM="$f" build 2>&1)
  rc=$?
  if [ $rc -ne 0 ] && grep -Eq "$f: devices.emu_devices\[0\].type: .$want" <<<"$out"; then
    echo "PASS config error: $(basename "$f") on $arch"
    pass=$((pass + 1))
  else
    echo "FAIL config error: $(basename "$f") on $arch (build exit $rc)"
    grep -E "VM config|error" <<<"$out" | head -10 | sed 's/^/  | /'
    fail=$((fail + 1))
  fi
done
# Two configs whose identity-mapped RAM overlaps (both AxVisor QEMU
# configs take host RAM at 0x8000_0000): each is valid alone, the build of
# both is refused, naming both files.
pair="tests/configs/axvisor/linux-aarch64-qemu-smp1.toml,tests/configs/axvisor/arceos-aarch64-qemu-smp1.toml"
want="arceos-aarch64-qemu-smp1\.toml: kernel\.memory_regions\[0\]: identical host memory \[0x80000000, 0xc0000000\) overlaps .*linux-aarch64-qemu-smp1\.toml's kernel\.memory_regions\[0\] \[0x80000000, 0x90000000\): two VMs cannot have the same host memory"
out=$(make -s ARCH=aarch64 A=apps/hv SMP=4 VM="$pair" build 2>&1)
rc=$?
if [ $rc -ne 0 ] && grep -Eq "$want" <<<"$out"; then
  echo "PASS config error: overlapping identity RAM of two configs"
  pass=$((pass + 1))
else
  echo "FAIL config error: overlapping identity RAM of two configs (build exit $rc)"
  grep -E "VM config|error" <<<"$out" | head -10 | sed 's/^/  | /'
  fail=$((fail + 1))
fi
echo "config errors: $pass rejected as expected, $fail not"
[ $fail -eq 0 ]
