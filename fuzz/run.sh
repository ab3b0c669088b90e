#!/usr/bin/env bash
# Runs each fuzz target (or those named as arguments) for a bounded time (default 30 s each; FUZZ_SECONDS to change),
# first replaying the inputs kept in fuzz/regressions/<target>/ (crashes found earlier).
# A crash fails the script and leaves its input in fuzz/artifacts/<target>/: copy it to
# fuzz/regressions/<target>/ with the fix, so it is replayed from then on.
# Needs the nightly toolchain (libFuzzer instrumentation) and cargo-fuzz, installed if
# missing.
set -euo pipefail
cd "$(dirname "$0")"
seconds=${FUZZ_SECONDS:-30}

if ! command -v cargo-fuzz >/dev/null 2>&1; then
  echo "installing cargo-fuzz"
  cargo install --locked cargo-fuzz
fi

targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(document_ref filter page_token)
# libFuzzer's instrumentation takes unstable compiler flags: nightly where installed, else
# the stable compiler with its unstable flags unlocked.
toolchain=(+nightly)
if ! rustup run nightly rustc --version >/dev/null 2>&1; then
  toolchain=()
  export RUSTC_BOOTSTRAP=1
fi

for target in "${targets[@]}"; do
  mkdir -p "corpus/$target" "regressions/$target"
  echo "== fuzz $target: regressions, then ${seconds}s"
  # -s none: the targets are safe Rust, so what fuzzing finds is panics and overflows
  # (debug assertions on with -a), and an uninstrumented build is several times faster.
  cargo "${toolchain[@]}" fuzz run -s none -a "$target" "regressions/$target" -- -runs=0
  log="target/fuzz-$target.log"
  mkdir -p target
  if ! cargo "${toolchain[@]}" fuzz run -s none -a "$target" "corpus/$target" -- \
    -max_total_time="$seconds" -max_len=4096 -print_final_stats=1 >"$log" 2>&1; then
    tail -n 40 "$log"
    echo "fuzz $target found a crash: see fuzz/artifacts/$target/"
    exit 1
  fi
  grep -E "^stat::(number_of_executed_units|average_exec_per_sec)" "$log"
done
