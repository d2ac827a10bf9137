#!/usr/bin/env bash
# Runs the host fuzz targets (fuzz/, cargo-fuzz + libFuzzer) for a given
# time each and prints one line per target; exits 1 if any target crashed
# (the input that did is kept under fuzz/artifacts/<target>/).
#
#   scripts/fuzz-host.sh [SECONDS] [TARGET...]
#
# SECONDS per target (default 10); TARGETs default to all of them. Each run
# starts from the committed corpus fuzz/corpus/<target>/ and writes what it
# finds to a scratch folder, so a short run (make test) leaves the tree as
# it was. UPDATE_CORPUS=1 (make fuzz-host) adds the new inputs to the
# committed corpus and minimises it (cargo fuzz cmin).
#
# cargo-fuzz is installed when missing (cargo install, about a minute). The
# sanitizer flags it passes are unstable ones; RUSTC_BOOTSTRAP=1 lets the
# machine's stable toolchain accept them (no nightly toolchain is needed).
# The toolchain must ship AddressSanitizer's runtime: rustup's does, the
# Debian rustc the Makefile may have chosen for cross builds does not, so
# the Makefile's RUSTC and PATH choice is undone here in favour of rustup's.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root/fuzz"
secs=${1:-10}
shift || true
export RUSTC_BOOTSTRAP=1
unset RUSTC RUSTDOC CARGO
[ -d "$HOME/.cargo/bin" ] && export PATH="$HOME/.cargo/bin:$PATH"
host=$(rustc -vV | sed -n 's/^host: //p')
if ! ls "$(rustc --print sysroot)/lib/rustlib/$host/lib/"librustc-*_rt.asan.a >/dev/null 2>&1; then
  echo "fuzz-host: $(command -v rustc) has no AddressSanitizer runtime; host fuzzing needs rustup's toolchain" >&2
  exit 1
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "fuzz-host: installing cargo-fuzz"
  cargo install -q --locked cargo-fuzz
fi
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(cargo fuzz list)
fi
cargo fuzz build -O
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
failed=()
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t" "artifacts/$t" "$scratch/$t"
  log="$scratch/$t.log"
  if [ "${UPDATE_CORPUS:-0}" = 1 ]; then dirs=("corpus/$t"); else dirs=("$scratch/$t" "corpus/$t"); fi
  status=ok
  cargo fuzz run -O "$t" "${dirs[@]}" -- -max_total_time="$secs" -print_final_stats=1 \
      >"$log" 2>&1 || status=CRASH
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo '?')
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*' || echo '?')
  if [ "$status" = ok ]; then
    echo "fuzz-host: $t: $runs runs in ${secs} s, coverage $cov: ok"
  else
    echo "fuzz-host: $t: CRASH after $runs runs; the input is in fuzz/artifacts/$t/; log:"
    grep -E 'panicked at|ERROR|SUMMARY|Test unit written' "$log" | head -8 | sed 's/^/    /'
    failed+=("$t")
  fi
  if [ "${UPDATE_CORPUS:-0}" = 1 ] && [ "$status" = ok ]; then
    cargo fuzz cmin -O "$t" "corpus/$t" >/dev/null 2>&1 || true
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz-host: crashed: ${failed[*]}"
  exit 1
fi
echo "fuzz-host: ${#targets[@]} targets, no crash"
