#!/usr/bin/env bash
# Builds every fuzz target and runs each for a bounded time, one after the other, then prints
# a table: seconds, executions, corpus size, crashes (new artifacts). Exits non-zero if a target
# crashed (or the build failed).
#
#   fuzz/run.sh [seconds-per-target] [target ...]     (default 60 s, every target)
#
# Runs on the stable toolchain without a sanitizer (`-s none`), with debug assertions and
# overflow checks on (`-a`). Each run's writable corpus is fuzz/target/corpus-run/<target>,
# seeded read-only from the checked-in fuzz/corpus/<target>, so runs do not bloat the
# repository; `MERGE=1` minimises what a run found back into fuzz/corpus/<target>.
# Logs: fuzz/target/run-logs/<target>.log (and .build.log). Crashing inputs: fuzz/artifacts/<target>/.
set -uo pipefail

cd "$(dirname "$0")"
secs="${1:-60}"
shift || true
if ! [[ "$secs" =~ ^[0-9]+$ ]] || [ "$secs" -lt 1 ]; then
    echo "usage: $0 [seconds-per-target] [target ...]" >&2
    exit 2
fi
if [ "$#" -gt 0 ]; then
    targets=("$@")
else
    targets=()
    for f in fuzz_targets/*.rs; do
        targets+=("$(basename "$f" .rs)")
    done
fi

mkdir -p target/run-logs target/corpus-run
rows=()
crashed=0
for t in "${targets[@]}"; do
    mkdir -p "corpus/$t" "target/corpus-run/$t" "artifacts/$t"
    # One target at a time: a target whose crate does not build (someone's work in progress
    # in a shared tree) does not stop the others.
    # Features the target's [[bin]] requires (config_file: `server`).
    feats=$(awk -v t="$t" '/^\[\[bin\]\]/ { inbin = 0 } $0 == "name = \"" t "\"" { inbin = 1 }
        inbin && /^required-features/ { gsub(/.*\[|\].*|"| /, ""); print }' Cargo.toml)
    fflag=()
    if [ -n "$feats" ]; then
        fflag=(--features "$feats")
    fi
    echo "== $t: building (cargo fuzz build -s none -a ${fflag[*]} $t)" >&2
    if ! cargo fuzz build -s none -a "${fflag[@]}" "$t" >"target/run-logs/$t.build.log" 2>&1; then
        grep -E '^error' -A5 "target/run-logs/$t.build.log" | head -20 >&2
        rows+=("$(printf '%-18s %8s %12s %8s %8s' "$t" - - - "build-failed")")
        crashed=1
        continue
    fi
    before=$(find "artifacts/$t" -type f | wc -l)
    log="target/run-logs/$t.log"
    echo "== $t: ${secs}s" >&2
    start=$(date +%s)
    cargo fuzz run -s none -a "${fflag[@]}" "$t" "target/corpus-run/$t" "corpus/$t" -- \
        -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        >"$log" 2>&1
    rc=$?
    elapsed=$(( $(date +%s) - start ))
    # Scratch files the targets keep per process (cmd_sequence's WAL dir, config_file's file).
    rm -rf /dev/shm/moon-fuzz-* "${TMPDIR:-/tmp}"/moon-fuzz-*
    execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | tail -1 | grep -o '[0-9]*$')
    if [ -z "$execs" ]; then
        execs=$(grep -oE '^#[0-9]+' "$log" | tail -1 | tr -d '#')
    fi
    corpus=$(( $(find "target/corpus-run/$t" -type f | wc -l) + $(find "corpus/$t" -type f | wc -l) ))
    after=$(find "artifacts/$t" -type f | wc -l)
    crashes=$(( after - before ))
    if [ "$rc" -ne 0 ] && [ "$crashes" -eq 0 ]; then
        # libFuzzer failed without writing an artifact (e.g. the target did not start).
        crashes="err(rc=$rc)"
    fi
    if [ "$crashes" != 0 ]; then
        crashed=1
        grep -E '^(thread .* panicked|==[0-9]+== ERROR|SUMMARY|artifact_prefix|Test unit written)' "$log" | head -5 >&2
    fi
    if [ "${MERGE:-0}" = 1 ]; then
        # libFuzzer's merge: adds to the first dir only inputs that bring new coverage.
        "target/x86_64-unknown-linux-gnu/release/$t" -merge=1 "corpus/$t" "target/corpus-run/$t" \
            >>"$log" 2>&1 ||
            echo "warning: merging the corpus of $t failed" >&2
    fi
    rows+=("$(printf '%-18s %8s %12s %8s %8s' "$t" "$elapsed" "${execs:-?}" "$corpus" "$crashes")")
done

printf '\n%-18s %8s %12s %8s %8s\n' target seconds executions corpus crashes
for r in "${rows[@]}"; do
    echo "$r"
done
if [ "$crashed" -ne 0 ]; then
    echo "CRASHES FOUND: see fuzz/artifacts/<target>/ and fuzz/target/run-logs/<target>.log" >&2
    exit 1
fi
