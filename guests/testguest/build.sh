#!/usr/bin/env bash
# Builds the test guest and writes its flat image.
#
#   guests/testguest/build.sh [OUT]
#
# OUT defaults to target/guests/testguest.bin at the repository root; a
# relative OUT is taken from the caller's directory. Works from any
# directory. The compiler is Debian's rustc with the library source
# (build-std); override with TESTGUEST_CARGO / TESTGUEST_RUSTC.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
out=${1:-$here/../../target/guests/testguest.bin}
case $out in /*) ;; *) out=$PWD/$out ;; esac

cargo=${TESTGUEST_CARGO:-/usr/bin/cargo}
rustc=${TESTGUEST_RUSTC:-/usr/bin/rustc}
target=aarch64-unknown-none-softfloat
target_dir=$here/target
elf=$target_dir/$target/release/testguest

# A caller that is itself a cargo build (a build script, `cargo test`) may
# pass flags meant for the host; they take precedence over RUSTFLAGS.
unset CARGO_ENCODED_RUSTFLAGS CARGO_BUILD_RUSTFLAGS CARGO_BUILD_TARGET

cd "$here"
RUSTC=$rustc RUSTC_BOOTSTRAP=1 \
  RUSTFLAGS="-C linker=ld.lld-19 -C link-arg=-T$here/linker.ld" \
  "$cargo" build --release --locked --target "$target" --target-dir "$target_dir" \
  -Zbuild-std=core,compiler_builtins -Zbuild-std-features=compiler-builtins-mem

mkdir -p "$(dirname "$out")"
out=$(cd "$(dirname "$out")" && pwd)/$(basename "$out")
aarch64-linux-gnu-objcopy -O binary "$elf" "$out"
echo "testguest: $out ($(wc -c <"$out") bytes), ELF $elf"
