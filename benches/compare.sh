#!/usr/bin/env bash
# Throughput and CPU-per-request comparison of moon against redis-server 7 and Valkey 9.1.
#
# For each mode (pinned, unpinned), each round, pipeline depth and test, runs redis-benchmark
# against every server in turn (A B C A B C ..., the starting server rotated each round), and
# records ops/s, p50/p99 and the server's CPU time (utime+stime from /proc/<pid>/stat) spent on
# the run. Prints markdown tables of medians, paired ratios and their geometric means.
# Raw results and the tables are kept under target/bench-results/.
#
# Settings (environment): see benches/README.md. Example quick check without moon:
#   SERVERS="redis valkey" ROUNDS=1 REQUESTS=50000 benches/compare.sh
# shellcheck source-path=SCRIPTDIR
set -euo pipefail

# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ROUNDS="${ROUNDS:-3}"
SERVERS="${SERVERS:-moon redis valkey}"
MODES="${MODES:-pinned unpinned}"
TESTS="${TESTS:-set get incr mset}"
PIPELINES="${PIPELINES:-1 16 64}"
CLIENTS="${CLIENTS:-50}"
DATASIZE="${DATASIZE:-32}"
KEYSPACE="${KEYSPACE:-1000000}"
# Requests per run by pipeline depth (REQUESTS overrides all); MSET writes 10 keys per
# request, so it gets 1/MSET_DIVISOR of them to keep run times alike.
REQUESTS_P1="${REQUESTS_P1:-80000}"
REQUESTS_P16="${REQUESTS_P16:-500000}"
REQUESTS_P64="${REQUESTS_P64:-1000000}"
REQUESTS_OTHER="${REQUESTS_OTHER:-1000000}"
MSET_DIVISOR="${MSET_DIVISOR:-4}"
WARMUP_REQUESTS="${WARMUP_REQUESTS:-1000000}"
# Seconds before a redis-benchmark run that makes no progress is declared hung.
RUN_TIMEOUT="${RUN_TIMEOUT:-300}"
OUT_DIR="${OUT_DIR:-$REPO_ROOT/target/bench-results}"

declare -A PID_OF PORT_OF

requests_for() {
    local test="$1" pipeline="$2" n
    if [[ -n "${REQUESTS:-}" ]]; then
        n="$REQUESTS"
    else
        case "$pipeline" in
            1) n="$REQUESTS_P1" ;;
            16) n="$REQUESTS_P16" ;;
            64) n="$REQUESTS_P64" ;;
            *) n="$REQUESTS_OTHER" ;;
        esac
    fi
    if [[ "$test" == mset ]]; then
        n=$((n / MSET_DIVISOR))
    fi
    echo "$n"
}

# Prefix for redis-benchmark: on CPU 1 in pinned mode, free otherwise.
bench_prefix() {
    if [[ "$1" == pinned ]]; then
        echo "taskset -c 1"
    fi
}

start_mode_servers() {
    local mode="$1" server cpus shards
    for server in $SERVERS; do
        if [[ "$mode" == pinned ]]; then
            cpus=0 shards=1
        else
            cpus="" shards=2
        fi
        start_server "$server" "$cpus" "$shards"
        PID_OF[$server]="$SERVER_PID"
        PORT_OF[$server]="$SERVER_PORT"
        # Uncounted SET load so every server starts the counted runs with a populated keyspace.
        timeout "$RUN_TIMEOUT" redis-benchmark -h 127.0.0.1 -p "$SERVER_PORT" -q \
            -c "$CLIENTS" -d "$DATASIZE" -r "$KEYSPACE" -P 16 -n "$WARMUP_REQUESTS" -t set >/dev/null \
            || die "warm-up load failed on $server"
    done
    warn_busy_idle
}

# A server that burns CPU while idle would slow the others sharing CPU 0: say so.
warn_busy_idle() {
    local server before after hz
    declare -A before_of
    for server in $SERVERS; do
        before_of[$server]="$(cpu_ticks "${PID_OF[$server]}")"
    done
    sleep 1
    hz="$(getconf CLK_TCK)"
    for server in $SERVERS; do
        after="$(cpu_ticks "${PID_OF[$server]}")"
        before="${before_of[$server]}"
        if (((after - before) * 20 > hz)); then
            log "warning: idle $server used $((after - before)) of $hz CPU ticks in 1 s"
        fi
    done
}

stop_mode_servers() {
    local server
    for server in $SERVERS; do
        stop_server "${PID_OF[$server]}"
    done
}

# run_one MODE ROUND SERVER TEST PIPELINE: one redis-benchmark run, one line in $RESULTS.
run_one() {
    local mode="$1" round="$2" server="$3" test="$4" pipeline="$5"
    local pid="${PID_OF[$server]}" port="${PORT_OF[$server]}"
    local n before after out parsed prefix
    n="$(requests_for "$test" "$pipeline")"
    prefix="$(bench_prefix "$mode")"
    before="$(cpu_ticks "$pid")"
    # shellcheck disable=SC2086
    if ! out="$($prefix timeout "$RUN_TIMEOUT" redis-benchmark -h 127.0.0.1 -p "$port" -q --csv \
        -c "$CLIENTS" -d "$DATASIZE" -r "$KEYSPACE" -P "$pipeline" -n "$n" -t "$test" 2>"$BENCH_TMP/bench.err")"; then
        cat "$BENCH_TMP/bench.err" >&2
        die "redis-benchmark failed or timed out: $server $test -P $pipeline"
    fi
    kill -0 "$pid" 2>/dev/null || die "$server (pid $pid) died during $test -P $pipeline"
    after="$(cpu_ticks "$pid")"
    if ! parsed="$(printf '%s\n' "$out" | python3 "$STATS_PY" parse-csv "$test")"; then
        printf '%s\n' "$out" >&2
        cat "$BENCH_TMP/bench.err" >&2
        die "could not parse redis-benchmark output: $server $test -P $pipeline"
    fi
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$mode" "$round" "$server" "$test" "$pipeline" \
        "$n" "$parsed" "$((after - before))" >>"$RESULTS"
    log "$mode r$round $server $test P$pipeline: $(cut -f1 <<<"$parsed") ops/s"
}

run_mode() {
    local mode="$1" round pipeline test i k
    local -a servers order
    read -ra servers <<<"$SERVERS"
    k=${#servers[@]}
    start_mode_servers "$mode"
    for ((round = 1; round <= ROUNDS; round++)); do
        order=()
        for ((i = 0; i < k; i++)); do
            order+=("${servers[$(((i + round - 1) % k))]}")
        done
        for pipeline in $PIPELINES; do
            for test in $TESTS; do
                for server in "${order[@]}"; do
                    run_one "$mode" "$round" "$server" "$test" "$pipeline"
                done
            done
        done
    done
    stop_mode_servers
}

# Other work on a 2-core machine (a build, say) distorts every number: say so up front.
warn_busy_machine() {
    local load
    read -r load _ </proc/loadavg
    if awk -v l="$load" 'BEGIN { exit !(l > 1.0) }'; then
        log "warning: load average is $load before starting; results will be noisy"
    fi
}

main() {
    bench_init
    warn_busy_machine
    prepare_servers "$SERVERS"
    mkdir -p "$OUT_DIR"
    local stamp
    stamp="$(date +%Y%m%d-%H%M%S)"
    RESULTS="$OUT_DIR/compare-$stamp.tsv"
    python3 "$STATS_PY" header >"$RESULTS"
    local runs
    runs=$(($(wc -w <<<"$MODES") * ROUNDS * $(wc -w <<<"$PIPELINES") * $(wc -w <<<"$TESTS") \
        * $(wc -w <<<"$SERVERS")))
    log "$runs runs; servers: $SERVERS; modes: $MODES; rounds: $ROUNDS; results: $RESULTS"
    local mode
    for mode in $MODES; do
        case "$mode" in
            pinned | unpinned) run_mode "$mode" ;;
            *) die "unknown mode '$mode' (expected pinned, unpinned)" ;;
        esac
    done
    python3 "$STATS_PY" report "$RESULTS" | tee "$OUT_DIR/compare-$stamp.md"
    log "tables saved to $OUT_DIR/compare-$stamp.md"
}

main "$@"
