#!/usr/bin/env bash
# Boot-time figures of the host kernel: boots the app RUNS times and prints
# the wall time from starting QEMU to the first line the app prints (the
# median and all runs), and the image size. Wall time, so it depends on the
# machine: compare runs on the same machine only.
#
# usage: scripts/bench.sh MAKE_ARGS...   (env: RUNS=5, MARKER="regex")
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${RUNS:-5}
marker=${MARKER:-^Hello from CPU 0}
make -s "$@" build >/dev/null
bin=$(make -s "$@" --no-print-directory print-bin)
times=()
for i in $(seq "$runs"); do
  start=$(date +%s%N)
  found=
  while IFS= read -r line; do
    if [[ -z $found && $line =~ $marker ]]; then
      found=$(( ($(date +%s%N) - start) / 1000 ))
    fi
  done < <(timeout 60 make -s "$@" justrun 2>&1 | tr -d '\r')
  [ -n "$found" ] || { echo "bench: run $i never printed /$marker/" >&2; exit 1; }
  times+=("$found")
done
sorted=$(printf '%s\n' "${times[@]}" | sort -n)
median=$(echo "$sorted" | sed -n "$(( (runs + 1) / 2 ))p")
echo "boot to /$marker/: median $(( median / 1000 )).$(printf %03d $(( median % 1000 ))) ms over $runs runs (us: ${times[*]})"
echo "image $bin: $(( $(stat -c %s "$bin") / 1024 )) KiB ($(stat -c %s "$bin") bytes)"
