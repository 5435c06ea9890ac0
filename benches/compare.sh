#!/usr/bin/env bash
# Throughput and CPU-per-request comparison of moon against redis-server 7 and Valkey 9.1.
#
# For each mode (pinned, unpinned), each round, pipeline depth and test, runs redis-benchmark
# against every server in turn (A B C A B C ..., the starting server rotated each round), and
# records ops/s, p50/p99 and the server's CPU time (utime+stime from /proc/<pid>/stat) spent on
# the run. Prints markdown tables of medians, paired ratios and their geometric means.
# Raw results and the tables are kept under target/bench-results/.
#
# Tests are redis-benchmark `-t` tests or the custom commands of CUSTOM_TESTS (hget, zrange,
# xadd, evalsha); TESTS may name the presets `strings` (SET GET INCR MSET), `types` (the list,
# hash, set, sorted-set and stream rows; PIPELINES defaults to 16 with it alone) and `scripting`
# (EVALSHA of a rate-limiter script, SCRIPT LOADed into each server first). Tests always run in
# TEST_ORDER, so pops and reads follow the test that fills their key.
#
# Settings (environment): see benches/README.md. Example quick check without moon:
#   SERVERS="redis valkey" ROUNDS=1 REQUESTS=50000 benches/compare.sh
#   SERVERS="redis valkey" ROUNDS=1 MODES=pinned REQUESTS=20000 TESTS=types benches/compare.sh
# shellcheck source-path=SCRIPTDIR
set -euo pipefail

# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ROUNDS="${ROUNDS:-3}"
SERVERS="${SERVERS:-moon redis valkey}"
MODES="${MODES:-pinned unpinned}"
TESTS="${TESTS:-strings}"
PRESET_STRINGS="set get incr mset"
PRESET_TYPES="lpush lpop lrange_100 hset hget sadd spop zadd zrange xadd"
PRESET_SCRIPTING="evalsha"
# The data-type and scripting rows are compared at -P 16 unless PIPELINES says otherwise.
if [[ "$TESTS" == types || "$TESTS" == scripting || "$TESTS" == evalsha ]]; then
    PIPELINES="${PIPELINES:-16}"
fi
PIPELINES="${PIPELINES:-1 16 64}"
CLIENTS="${CLIENTS:-50}"
DATASIZE="${DATASIZE:-32}"
KEYSPACE="${KEYSPACE:-1000000}"
# -r of hset and hget: HGET reads the fields HSET wrote, so it hits only when HSET covered the
# range; KEYSPACE-wide it would mostly measure misses (HSET of n requests fills 1 - e^(-n/r)).
HASH_KEYSPACE="${HASH_KEYSPACE:-100000}"
# Requests per run by pipeline depth (REQUESTS overrides all); MSET writes 10 keys per
# request, so it gets 1/MSET_DIVISOR of them to keep run times alike. LRANGE_100 replies with
# 100 elements, so it gets 1/LRANGE_DIVISOR. LPOP and SPOP get 1/POP_DIVISOR: SADD of n random
# members leaves fewer than n in the set, and pops must not run it (or the list) dry.
REQUESTS_P1="${REQUESTS_P1:-80000}"
REQUESTS_P16="${REQUESTS_P16:-500000}"
REQUESTS_P64="${REQUESTS_P64:-1000000}"
REQUESTS_OTHER="${REQUESTS_OTHER:-1000000}"
MSET_DIVISOR="${MSET_DIVISOR:-4}"
LRANGE_DIVISOR="${LRANGE_DIVISOR:-4}"
POP_DIVISOR="${POP_DIVISOR:-2}"
WARMUP_REQUESTS="${WARMUP_REQUESTS:-1000000}"
# Seconds before a redis-benchmark run that makes no progress is declared hung.
RUN_TIMEOUT="${RUN_TIMEOUT:-300}"
OUT_DIR="${OUT_DIR:-$REPO_ROOT/target/bench-results}"

declare -A PID_OF PORT_OF
# Runs a server answered with an error reply (a command it does not support yet): skipped,
# listed at the end, shown as "–" in the tables.
SKIPPED=()

# Canonical order: every pop or read comes after the test that fills its key (LPOP after LPUSH,
# HGET after HSET, SPOP after SADD, ZRANGE after ZADD). Unknown tests go last, in given order.
TEST_ORDER="set get incr mset lpush lpop lrange_100 hset hget sadd spop zadd zrange xadd evalsha"

# The reader/popper -> the test that fills its key; a warning if TESTS has one without the other.
declare -A FILLED_BY=([lpop]=lpush [hget]=hset [spop]=sadd [zrange]=zadd)

# expand_tests "TESTS": presets replaced, duplicates dropped, sorted into TEST_ORDER.
expand_tests() {
    local word t
    local -a given=() out=() words
    declare -A seen=()
    for word in $1; do
        case "$word" in
            strings) read -ra words <<<"$PRESET_STRINGS" ;;
            types) read -ra words <<<"$PRESET_TYPES" ;;
            scripting) read -ra words <<<"$PRESET_SCRIPTING" ;;
            *) words=("${word,,}") ;;
        esac
        given+=("${words[@]}")
    done
    for t in $TEST_ORDER; do
        for word in "${given[@]}"; do
            if [[ "$word" == "$t" && -z "${seen[$t]:-}" ]]; then
                out+=("$t")
                seen[$t]=1
            fi
        done
    done
    for word in "${given[@]}"; do
        if [[ -z "${seen[$word]:-}" ]]; then
            out+=("$word")
            seen[$word]=1
        fi
    done
    echo "${out[*]}"
}

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
    case "$test" in
        mset) n=$((n / MSET_DIVISOR)) ;;
        lrange_100) n=$((n / LRANGE_DIVISOR)) ;;
        lpop | spop) n=$((n / POP_DIVISOR)) ;;
    esac
    echo "$n"
}

keyspace_for() {
    case "$1" in
        hset | hget) echo "$HASH_KEYSPACE" ;;
        *) echo "$KEYSPACE" ;;
    esac
}

# server_int SERVER CMD...: the integer reply of one command, or nothing (error, not a number).
server_int() {
    local server="$1" out
    shift
    out="$(timeout 10 redis-cli -h 127.0.0.1 -p "${PORT_OF[$server]}" "$@" 2>/dev/null || true)"
    if [[ "$out" =~ ^[0-9]+$ ]]; then
        echo "$out"
    fi
}

# Before a read: how much of the key its test reads exists; before EVALSHA: load its script
# (idempotent, outside the CPU measurement). After a pop: whether it ran dry.
check_before() {
    local server="$1" test="$2" len sha
    case "$test" in
        evalsha)
            sha="$(timeout 10 redis-cli -h 127.0.0.1 -p "${PORT_OF[$server]}" \
                SCRIPT LOAD "$EVALSHA_SCRIPT" 2>&1 || true)"
            # A server without scripting answers an error here and NOSCRIPT to the run, which
            # is then skipped like any unsupported command.
            if [[ "$sha" != "$EVALSHA_SHA" ]]; then
                log "warning: $server: SCRIPT LOAD replied '$sha', expected $EVALSHA_SHA"
            fi
            ;;
        hget)
            len="$(server_int "$server" HLEN myhash)"
            if [[ -n "$len" ]]; then
                log "$server: myhash has $len fields: HGET hits about $((len * 100 / HASH_KEYSPACE))%"
            fi
            ;;
        zrange)
            len="$(server_int "$server" ZCARD myzset)"
            if [[ -n "$len" ]] && ((len < 10)); then
                log "warning: $server: myzset has $len members; ZRANGE 0 9 returns fewer than 10"
            fi
            ;;
    esac
}

check_after() {
    local server="$1" test="$2" len=""
    case "$test" in
        lpop) len="$(server_int "$server" LLEN mylist)" ;;
        spop) len="$(server_int "$server" SCARD myset)" ;;
        *) return 0 ;;
    esac
    if [[ "$len" == 0 ]]; then
        log "warning: $server: $test ran its key dry; some pops replied nil (raise POP_DIVISOR)"
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
    local n before after out parsed
    local -a cmd=()
    n="$(requests_for "$test" "$pipeline")"
    # redis-benchmark on CPU 1 in pinned mode, free otherwise.
    if [[ "$mode" == pinned ]]; then
        cmd=(taskset -c 1)
    fi
    cmd+=(timeout "$RUN_TIMEOUT" redis-benchmark -h 127.0.0.1 -p "$port" -q --csv
        -c "$CLIENTS" -d "$DATASIZE" -r "$(keyspace_for "$test")" -P "$pipeline" -n "$n")
    if is_custom "$test"; then
        mapfile -t -O "${#cmd[@]}" cmd < <(custom_command "$test")
    else
        cmd+=(-t "$test")
    fi
    check_before "$server" "$test"
    before="$(cpu_ticks "$pid")"
    if ! out="$("${cmd[@]}" 2>"$BENCH_TMP/bench.err")"; then
        kill -0 "$pid" 2>/dev/null || die "$server (pid $pid) died during $test -P $pipeline"
        # An error reply (redis-benchmark stops at the first): the server lacks the command.
        if grep -q '^Error from server' "$BENCH_TMP/bench.err"; then
            log "warning: $server $test -P $pipeline skipped: $(head -n1 "$BENCH_TMP/bench.err")"
            SKIPPED+=("$mode r$round $server $test P$pipeline: $(head -n1 "$BENCH_TMP/bench.err")")
            return 0
        fi
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
    check_after "$server" "$test"
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

# Warn about a pop or read whose filling test is not selected: it would measure an empty key.
warn_unfilled_reads() {
    local t
    for t in $TESTS; do
        if [[ -n "${FILLED_BY[$t]:-}" && " $TESTS " != *" ${FILLED_BY[$t]} "* ]]; then
            log "warning: $t without ${FILLED_BY[$t]}: it reads a key nothing filled"
        fi
    done
}

main() {
    TESTS="$(expand_tests "$TESTS")"
    [[ -n "$TESTS" ]] || die "TESTS is empty"
    bench_init
    warn_busy_machine
    warn_unfilled_reads
    prepare_servers "$SERVERS"
    mkdir -p "$OUT_DIR"
    local stamp
    stamp="$(date +%Y%m%d-%H%M%S)"
    RESULTS="$OUT_DIR/compare-$stamp.tsv"
    python3 "$STATS_PY" header >"$RESULTS"
    local runs
    runs=$(($(wc -w <<<"$MODES") * ROUNDS * $(wc -w <<<"$PIPELINES") * $(wc -w <<<"$TESTS") \
        * $(wc -w <<<"$SERVERS")))
    log "$runs runs; servers: $SERVERS; modes: $MODES; rounds: $ROUNDS; tests: $TESTS;" \
        "pipelines: $PIPELINES; results: $RESULTS"
    local mode
    for mode in $MODES; do
        case "$mode" in
            pinned | unpinned) run_mode "$mode" ;;
            *) die "unknown mode '$mode' (expected pinned, unpinned)" ;;
        esac
    done
    python3 "$STATS_PY" report --servers "$SERVERS" "$RESULTS" | tee "$OUT_DIR/compare-$stamp.md"
    if ((${#SKIPPED[@]})); then
        {
            echo
            echo "Skipped runs (the server replied with an error):"
            echo
            printf -- '- %s\n' "${SKIPPED[@]}"
        } | tee -a "$OUT_DIR/compare-$stamp.md"
    fi
    log "tables saved to $OUT_DIR/compare-$stamp.md"
}

main "$@"
