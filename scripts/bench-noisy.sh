#!/usr/bin/env bash
# Noisy neighbours: the shipped test guest's virtual timer interrupt
# latency (`bench: vtimer irq latency N ticks`, VM 1 on CPUs 0 and 1)
# measured alone and beside the flooding VM (VM 44, the test guest's flood
# mode on CPUs 2 and 3: SGIs to its other vCPU, console lines, trapping
# exits), RUNS times each, alternately; prints every figure, the medians
# and their ratio. Counter ticks under QEMU's software emulation (wall
# clock): compare runs on the same machine only, and expect noise on a
# loaded one.
#
# usage: scripts/bench-noisy.sh   (env: RUNS=3, TIMEOUT_S=300,
#   NEIGHBOUR=tests/configs/flood.toml: the neighbour's config(s), e.g. a
#   VM that only spins, to tell the emulator's own cost of a busy
#   neighbour from the hypervisor's)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${RUNS:-3}
limit=${TIMEOUT_S:-300}
common=(ARCH=aarch64 A=apps/hv POWEROFF_WHEN_IDLE=y SMP=4)
alone=(VM=configs/vms/testguest-aarch64.toml)
noisy=(VM=configs/vms/testguest-aarch64.toml,${NEIGHBOUR:-tests/configs/flood.toml})
marker='\[testguest\] bench: vtimer irq latency ([0-9]+) ticks'
median() { printf '%s\n' "$@" | sort -n | sed -n "$(( ($# + 1) / 2 ))p"; }

# Builds with the given VM list and copies the image aside.
build() {
  make -s "${common[@]}" "$1" build >/dev/null 2>&1
  cp "$(make -s "${common[@]}" "$1" --no-print-directory print-bin)" "target/bench-noisy-$2.bin"
}

# Boots image $1 until the latency line (the flood never stops by itself)
# and prints the figure.
latency() {
  local log pid figure=
  log=$(mktemp)
  setsid qemu-system-aarch64 -M virt,virtualization=on,gic-version=3 -cpu cortex-a72 -smp 4 -m 2G \
    -nodefaults -nographic -serial file:"$log" -monitor none -nic none -semihosting -kernel "$1" \
    </dev/null >/dev/null 2>&1 &
  pid=$!
  for _ in $(seq $((limit * 10))); do
    figure=$(grep -aoE "$marker" "$log" | head -1 | grep -oE '[0-9]+' | head -1 || true)
    [ -n "$figure" ] && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -- -"$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  rm -f "$log"
  [ -n "$figure" ] || { echo "bench-noisy: no latency line from $1" >&2; exit 1; }
  echo "$figure"
}

build "${alone[0]}" alone
build "${noisy[0]}" noisy
a=() n=()
for i in $(seq "$runs"); do
  a+=("$(latency target/bench-noisy-alone.bin)")
  n+=("$(latency target/bench-noisy-noisy.bin)")
done
ma=$(median "${a[@]}") mn=$(median "${n[@]}")
echo "vtimer irq latency alone: median $ma ticks over $runs runs (${a[*]})"
echo "vtimer irq latency beside ${NEIGHBOUR:-the flooding VM}: median $mn ticks over $runs runs (${n[*]})"
ratio=$(awk -v n="$mn" -v a="$ma" 'BEGIN { printf "%.2f", (a > 0 ? n / a : 0) }')
python3 scripts/bench-record.py aarch64 "vtimer irq latency alone (wall)" "$ma" ticks wall "median of $runs"
python3 scripts/bench-record.py aarch64 "vtimer irq latency beside a flooding VM, ratio" "$ratio" ratio wall "median of $runs"
echo "ratio (beside / alone): $(awk -v n="$mn" -v a="$ma" 'BEGIN { printf "%.2f", (a > 0 ? n / a : 0) }')"
