#!/usr/bin/env bash
# Installs what the build and the tests need, when it is missing, and writes
# the chosen toolchain to target/toolchain.mk for the Makefile.
# Idempotent: a second run installs nothing and prints one line.
#
# Toolchain choice: a cross build needs the standard library's source
# (build-std). The first of these that has it is used:
#   1. the rustc on PATH (e.g. rustup nightly with the rust-src component);
#   2. Debian's rustc-web 1.96 (/usr/bin/rustc) with rust-web-src.
# If neither has it, rustc-web, cargo-web and rust-web-src are installed.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
out="$root/target/toolchain.mk"
mkdir -p "$root/target"

missing=()
need_cmd() { command -v "$1" >/dev/null 2>&1 || missing+=("$2"); }
need_pkg() { [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = "install ok installed" ] || missing+=("$1"); }

has_src() { # $1 = rustc binary
  local sysroot
  sysroot=$("$1" --print sysroot 2>/dev/null) || return 1
  [ -f "$sysroot/lib/rustlib/src/rust/library/core/src/lib.rs" ]
}

choose_toolchain() {
  if command -v rustc >/dev/null 2>&1 && has_src "$(command -v rustc)"; then
    local bin; bin=$(dirname "$(command -v rustc)")
    echo "$bin/cargo $bin/rustc $bin/rustdoc"
  elif [ -x /usr/bin/rustc ] && [ -x /usr/bin/cargo ] && has_src /usr/bin/rustc; then
    echo "/usr/bin/cargo /usr/bin/rustc /usr/bin/rustdoc"
  fi
}

tc=$(choose_toolchain || true)
[ -n "$tc" ] || missing+=(rustc-web cargo-web rust-web-src)
[ -x /usr/bin/cargo-clippy ] || [ -n "$(command -v cargo-clippy || true)" ] || missing+=(rust-web-clippy)
need_cmd rustfmt rustfmt-web
need_cmd ld.lld-19 lld-19
need_cmd qemu-system-aarch64 qemu-system-arm
need_cmd aarch64-linux-gnu-objcopy binutils-aarch64-linux-gnu
# x86_64: QEMU q35 (the firmware the Makefile picks, qboot.rom, comes with
# qemu-system-data, a dependency) and the host's objcopy to strip the ELF.
need_cmd qemu-system-x86_64 qemu-system-x86
need_cmd objcopy binutils
# The Linux guest (guests/linux/build.sh): Debian's arm64 kernel and the
# installer initrd its initramfs is built from (scripts/mkinitramfs.py).
need_cmd python3 python3
need_pkg debian-installer-12-netboot-arm64

installed=nothing
if [ ${#missing[@]} -gt 0 ]; then
  installed="${missing[*]}"
  echo "setup: installing ${missing[*]}"
  if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
  tc=$(choose_toolchain || true)
  if [ -z "$tc" ]; then
    echo "setup: no Rust toolchain with the standard library source was found after installing" >&2
    exit 1
  fi
fi

read -r cargo rustc rustdoc <<<"$tc"
{
  echo "# written by scripts/setup.sh"
  echo "CARGO := $cargo"
  echo "RUSTC := $rustc"
  echo "RUSTDOC := $rustdoc"
} >"$out.tmp"
if ! cmp -s "$out.tmp" "$out" 2>/dev/null; then
  mv "$out.tmp" "$out"
else
  rm -f "$out.tmp"
fi
echo "setup: toolchain $("$rustc" --version) ($rustc); installed: $installed"
