#!/bin/bash
# Builds the tiny x86 guest (guest.S) into a flat binary loaded at 1 MiB.
#   bash tests/x86-miniguest/build.sh OUT.bin
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:?usage: build.sh OUT.bin}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
as --32 -o "$tmp/guest.o" "$here/guest.S"
ld -m elf_i386 -Ttext=0x100000 -e _start -o "$tmp/guest.elf" "$tmp/guest.o"
mkdir -p "$(dirname "$out")"
objcopy -O binary "$tmp/guest.elf" "$out"
