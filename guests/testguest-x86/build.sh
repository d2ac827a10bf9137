#!/usr/bin/env bash
# Builds the x86 test guest and writes its flat image (load and entry
# address 0x100000, see linker.ld and src/boot.rs).
#
#   guests/testguest-x86/build.sh [OUT] [CARGO_ARGS...]
#
# OUT defaults to target/guests/testguest-x86.bin at the repository root; a
# relative OUT is taken from the caller's directory. Further arguments go to
# cargo (e.g. `--features bare`). Works from any directory. The compiler is
# the project's (target/toolchain.mk, written by scripts/setup.sh; else
# Debian's rustc with the library source, build-std); override with
# TESTGUEST_CARGO / TESTGUEST_RUSTC.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
out=${1:-$root/target/guests/testguest-x86.bin}
shift || true
case $out in /*) ;; *) out=$PWD/$out ;; esac

CARGO=/usr/bin/cargo
RUSTC=/usr/bin/rustc
# shellcheck disable=SC1091
[ -f "$root/target/toolchain.mk" ] && eval "$(sed -n 's/^\([A-Z]*\) := \(.*\)$/\1=\2/p' "$root/target/toolchain.mk")"
cargo=${TESTGUEST_CARGO:-$CARGO}
rustc=${TESTGUEST_RUSTC:-$RUSTC}
target=x86_64-unknown-none
target_dir=$here/target
elf=$target_dir/$target/release/testguest-x86

# A caller that is itself a cargo build (a build script, `cargo test`) may
# pass flags meant for the host; they take precedence over RUSTFLAGS.
unset CARGO_ENCODED_RUSTFLAGS CARGO_BUILD_RUSTFLAGS CARGO_BUILD_TARGET

cd "$here"
RUSTC=$rustc RUSTC_BOOTSTRAP=1 \
  RUSTFLAGS="-C linker=ld.lld-19 -C link-arg=-T$here/linker.ld -C relocation-model=static -C code-model=small" \
  "$cargo" build --release --locked --target "$target" --target-dir "$target_dir" \
  -Zbuild-std=core,compiler_builtins -Zbuild-std-features=compiler-builtins-mem "$@"

mkdir -p "$(dirname "$out")"
out=$(cd "$(dirname "$out")" && pwd)/$(basename "$out")
objcopy -O binary "$elf" "$out"
echo "testguest-x86: $out ($(wc -c <"$out") bytes), ELF $elf"
