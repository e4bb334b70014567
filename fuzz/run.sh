#!/usr/bin/env bash
# Runs every fuzz target for N seconds each (default 30) on the stable toolchain.
#
#   fuzz/run.sh [seconds] [target...]
#
# Builds once (cargo-fuzz, AddressSanitizer, release with debug assertions), then fuzzes each
# target starting from its committed seed corpus (fuzz/corpus/<target>, read only); inputs
# found during the run go to a scratch directory. A crash stops the script with a non-zero
# status and leaves the input in fuzz/artifacts/<target>/ (reproduce it with
# `RUSTC_BOOTSTRAP=1 cargo fuzz run -O <target> <file>`).
set -euo pipefail

seconds="${1:-30}"
shift || true
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here"

if ! command -v cargo-fuzz >/dev/null 2>&1; then
    echo "cargo-fuzz is missing: cargo install cargo-fuzz --locked" >&2
    exit 2
fi
# cargo-fuzz passes -Z flags (sanitizer, coverage): allowed on stable with RUSTC_BOOTSTRAP.
export RUSTC_BOOTSTRAP=1

targets=("$@")
if [ "${#targets[@]}" -eq 0 ]; then
    mapfile -t targets < <(cargo fuzz list)
fi

started=$(date +%s)
cargo fuzz build -O

scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
for target in "${targets[@]}"; do
    mkdir -p "$scratch/$target" "artifacts/$target"
    echo "== $target: ${seconds}s"
    status=0
    cargo fuzz run -O "$target" "$scratch/$target" "corpus/$target" -- \
        -max_total_time="$seconds" -rss_limit_mb=1024 -malloc_limit_mb=512 \
        -timeout=10 -print_final_stats=1 >"$scratch/$target.log" 2>&1 || status=$?
    grep -E "^(stat::number_of_executed_units|stat::peak_rss_mb|Done )" "$scratch/$target.log" || true
    if [ "$status" -ne 0 ]; then
        grep -E "panicked|ERROR|SUMMARY|Test unit written" -A3 "$scratch/$target.log" >&2 || true
        echo "fuzz target $target failed: see fuzz/artifacts/$target/" >&2
        exit 1
    fi
done
echo "fuzzed ${#targets[@]} targets for ${seconds}s each in $(( $(date +%s) - started ))s"
