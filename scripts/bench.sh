#!/usr/bin/env bash
# Boot-time figures of the host kernel: boots the app RUNS times and prints
# the wall time from starting QEMU to the kernel's first line and to the
# app's first line (median and all runs), and the image size. Wall clock,
# so it depends on the machine (most of it is QEMU starting): compare runs
# on the same machine only.
#
# usage: scripts/bench.sh MAKE_ARGS...   (env: RUNS=5, APP_MARKER=regex)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${RUNS:-5}
kernel_marker='^host kernel:'
app_marker=${APP_MARKER:-^helloworld: }
make -s "$@" build >/dev/null 2>&1
bin=$(make -s "$@" --no-print-directory print-bin)
kernel_times=() app_times=()
median() { printf '%s\n' "$@" | sort -n | sed -n "$(( ($# + 1) / 2 ))p"; }
ms() { printf '%d.%03d ms' $(( $1 / 1000 )) $(( $1 % 1000 )); }
for i in $(seq "$runs"); do
  start=$(date +%s%N)
  k= a=
  # Read QEMU's output directly (a filter such as `tr` would hold the lines
  # back until QEMU exits) and drop the console's carriage returns here.
  while IFS= read -r line; do
    now=$(( ($(date +%s%N) - start) / 1000 ))
    line=${line%$'\r'}
    [[ -z $k && $line =~ $kernel_marker ]] && k=$now
    [[ -z $a && $line =~ $app_marker ]] && a=$now
  done < <(timeout 60 make -s "$@" justrun 2>&1)
  [ -n "$k" ] && [ -n "$a" ] || { echo "bench: run $i did not print both markers" >&2; exit 1; }
  kernel_times+=("$k") app_times+=("$a")
done
arch=aarch64
for a in "$@"; do [[ $a == ARCH=?* ]] && arch=${a#ARCH=}; done
rec() { python3 scripts/bench-record.py "$arch" "$@"; }
rec "host boot to the kernel's first line" "$(median "${kernel_times[@]}")" us wall "median of $runs"
rec "host boot to the app's first line" "$(median "${app_times[@]}")" us wall "median of $runs"
rec "helloworld image" "$(stat -c %s "$bin")" bytes size "$bin"
echo "boot to the kernel's first line: median $(ms "$(median "${kernel_times[@]}")") over $runs runs (us: ${kernel_times[*]})"
echo "boot to the app's first line /$app_marker/: median $(ms "$(median "${app_times[@]}")") over $runs runs (us: ${app_times[*]})"
echo "image $bin: $(( $(stat -c %s "$bin") / 1024 )) KiB ($(stat -c %s "$bin") bytes)"
