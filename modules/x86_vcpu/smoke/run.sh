#!/bin/bash
# Boots a tiny kernel under QEMU (TCG, -cpu max: SVM with nested paging)
# that runs two guests with SvmPerCpuState/SvmVcpu and checks every exit:
# port I/O, MMIO loads, stores and a read-modify-write decoded from guest
# memory, CPUID filtering, VMMCALL, HLT with an injected interrupt, the
# EFER view, an unknown MSR refused with #GP, a real-mode start, two vCPUs
# taking turns on one CPU. Prints "smoke: all passed" and exits 0.
#
#   bash modules/x86_vcpu/smoke/run.sh     (from the repository root)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
out=$root/target/x86_vcpu-smoke
mkdir -p "$out"
# shellcheck disable=SC1091
[ -f "$root/target/toolchain.mk" ] && eval "$(sed -n 's/^\([A-Z]*\) := \(.*\)$/\1=\2/p' "$root/target/toolchain.mk")"
CARGO=${CARGO:-cargo}
RUSTC=${RUSTC:-rustc}

as --32 -o "$out/guest32.o" "$here/guest32.s"
ld -m elf_i386 -Ttext=0x1000 -e 0x1000 -o "$out/guest32.elf" "$out/guest32.o"
objcopy -O binary -j .text "$out/guest32.elf" "$out/guest32.bin"
as --32 -o "$out/guest16.o" "$here/guest16.s"
ld -m elf_i386 -Ttext=0x7c00 -e 0x7c00 -o "$out/guest16.elf" "$out/guest16.o"
objcopy -O binary -j .text "$out/guest16.elf" "$out/guest16.bin"

cd "$here"
SMOKE_OUT=$out RUSTC=$RUSTC RUSTC_BOOTSTRAP=1 CARGO_TARGET_DIR=$out/target \
    RUSTFLAGS="-C link-arg=-T$here/linker.ld -C linker=ld.lld-19 -C relocation-model=static" \
    "$CARGO" build --release --target x86_64-unknown-none \
    -Zbuild-std=core,alloc,compiler_builtins -Zbuild-std-features=compiler-builtins-mem

set +e
timeout 60 qemu-system-x86_64 -M q35 -cpu max -m 256M -nodefaults -nographic -serial stdio -nic none \
    -device isa-debug-exit,iobase=0xf4,iosize=0x04 \
    -kernel "$out/target/x86_64-unknown-none/release/x86_vcpu-smoke" | tr -d '\r' | grep '^smoke:'
rc=${PIPESTATUS[0]}
set -e
# isa-debug-exit: QEMU exits with (value << 1) | 1; the kernel writes 0x10.
if [ "$rc" -eq 33 ]; then
    echo "x86_vcpu smoke test passed"
else
    echo "x86_vcpu smoke test FAILED (QEMU exit status $rc)"
    exit 1
fi
