#!/usr/bin/env bash
# The hypervisor's own size: apps/hv built (release) with no VM config, so
# that no guest image is embedded. Prints it and records it for
# scripts/bench-report.py.
#
# usage: scripts/bench-size.sh ARCH
set -euo pipefail
cd "$(dirname "$0")/.."
arch=${1:-aarch64}
args=(ARCH="$arch" A=apps/hv MODE=release "VM=,")
make -s "${args[@]}" build >/dev/null 2>&1 || { echo "bench: the hypervisor without VMs did not build" >&2; make -s "${args[@]}" build 2>&1 | tail -20 >&2; exit 1; }
bin=$(make -s --no-print-directory "${args[@]}" print-bin)
size=$(stat -c %s "$bin")
python3 scripts/bench-record.py "$arch" "hypervisor image without guests" "$size" bytes size "$bin, release"
echo "hypervisor image without guests ($arch, release): $(( size / 1024 )) KiB ($size bytes)"
