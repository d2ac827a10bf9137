#!/usr/bin/env bash
# Writes a VM config outside the repository for the hv-outside-config QEMU
# test: the shipped test guest config as VM 7 "outside", its kernel path
# made absolute (the test guest image the build makes).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dir=/tmp/hv-outside-config
mkdir -p "$dir"
sed -e 's/^id = 1$/id = 7/' -e 's/^name = "testguest"$/name = "outside"/' \
    -e "s|^kernel_path = \"[^\"]*\"|kernel_path = \"$root/target/guests/testguest.bin\"|" \
    "$root/configs/vms/testguest-aarch64.toml" >"$dir/guest.toml"
grep -q '^id = 7$' "$dir/guest.toml"
