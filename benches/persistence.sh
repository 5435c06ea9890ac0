#!/usr/bin/env bash
# Durability benchmark: moon against redis-server 7 (Debian) with persistence on, in the same run.
#
# Parts (PARTS, default all three, in this order):
#   aof       SET throughput with the WAL/AOF on (appendonly yes, appendfsync everysec and always,
#             no save rules) at -P 1 and -P 64: redis-benchmark -t set -c 50 -r 1000000 -d 32,
#             servers alternated per round. Issue target: moon >= 1.5x redis at -P 64.
#   snapshot  BGSAVE of KEYS (5,000,000) keys under an open-loop GET/SET load: RSS sampled every
#             10 ms (redis: parent + its fork child; PSS too, which counts shared pages once),
#             latency of every request in a baseline window (no snapshot, as long as the
#             snapshot, right before it) and during the snapshot (BGSAVE until INFO persistence
#             shows it done). Issue targets: moon RSS peak <= 1.1x pre-snapshot RSS, p99 during
#             the snapshot <= 2x the no-snapshot p99.
#   restart   Recovery time of KEYS keys after SIGKILL: moon from its snapshot plus a WAL tail
#             (appendonly yes: fill, BGSAVE, overwrite TAIL_KEYS keys, kill), redis from its RDB
#             (appendonly no: fill, overwrite, SAVE, kill); time from exec until PING answers PONG,
#             and the load time each server logs. Checks every key and the tail writes survived.
# Moon runs with --shards SHARDS (2), unpinned; redis-server unpinned; data directories under
# BENCH_TMP (one filesystem). Raw rows and the markdown tables go to target/bench-results/.
#
# Settings (environment): see benches/README.md. A quick end-to-end check:
#   KEYS=200000 ROUNDS=1 REQUESTS=100000 PRE_SECS=3 SKIP_BUILD=1 benches/persistence.sh
# shellcheck source-path=SCRIPTDIR
set -euo pipefail

# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ROUNDS="${ROUNDS:-3}"
PARTS="${PARTS:-aof snapshot restart}"
SHARDS="${SHARDS:-2}"
CLIENTS="${CLIENTS:-50}"
DATASIZE="${DATASIZE:-32}"
# aof
FSYNC_MODES="${FSYNC_MODES:-everysec always}"
PIPELINES="${PIPELINES:-1 64}"
REQUESTS_P1="${REQUESTS_P1:-100000}"
REQUESTS_P64="${REQUESTS_P64:-1000000}"
REQUESTS_OTHER="${REQUESTS_OTHER:-1000000}"
KEYSPACE="${KEYSPACE:-1000000}"
WARMUP_REQUESTS="${WARMUP_REQUESTS:-200000}"
# snapshot, restart
KEYS="${KEYS:-5000000}"
TAIL_KEYS="${TAIL_KEYS:-$((KEYS / 10))}"
LOAD_RATE="${LOAD_RATE:-10000}"
LOAD_CONNS="${LOAD_CONNS:-50}"
LOAD_WRITE_PCT="${LOAD_WRITE_PCT:-50}"
PRE_SECS="${PRE_SECS:-15}"
POST_SECS="${POST_SECS:-2}"
SETTLE_SECS="${SETTLE_SECS:-2}"
RSS_MS="${RSS_MS:-10}"
PSS_MS="${PSS_MS:-500}"
SNAP_APPENDONLY="${SNAP_APPENDONLY:-no}"
KEEP_RAW="${KEEP_RAW:-0}"
RESTART_FSYNC="${RESTART_FSYNC:-everysec}"
# Bounds on every client call: a hung server fails the run instead of stalling it.
RUN_TIMEOUT="${RUN_TIMEOUT:-300}"
FILL_TIMEOUT="${FILL_TIMEOUT:-1800}"
SNAP_TIMEOUT="${SNAP_TIMEOUT:-1800}"
READY_TIMEOUT="${READY_TIMEOUT:-1800}"
OUT_DIR="${OUT_DIR:-$REPO_ROOT/target/bench-results}"

PB="$BENCH_DIR/persist_bench.py"
SERVERS="moon redis"
declare -A PID_OF PORT_OF DIR_OF SNAP_SECS_OF
PFLAGS=()

# cli PORT CMD...: one command, bounded in time; its reply, or nothing.
cli() {
    local port="$1"
    shift
    timeout 30 redis-cli -h 127.0.0.1 -p "$port" "$@" 2>/dev/null || true
}

# order ROUND: the servers of this round, the first alternating (moon redis / redis moon).
order() {
    if (($1 % 2)); then echo moon redis; else echo redis moon; fi
}

# launch NAME DIR PORT LOGF FLAGS...: starts NAME in the background on DIR with the persistence
# FLAGS (the same syntax for both servers); sets SERVER_PID. Does not wait.
launch() {
    local name="$1" dir="$2" port="$3" logf="$4"
    shift 4
    local -a cmd
    case "$name" in
        moon)
            # Word splitting is wanted: MOON_EXTRA_ARGS is a flag list.
            # shellcheck disable=SC2206
            local -a extra=(${MOON_EXTRA_ARGS:-})
            cmd=("$MOON_BIN" --port "$port" --bind 127.0.0.1 --shards "$SHARDS"
                --io "${MOON_IO:-uring}" --dir "$dir" "$@" "${extra[@]}")
            ;;
        redis)
            cmd=(redis-server --port "$port" --bind 127.0.0.1 --dir "$dir" --daemonize no
                --logfile "$logf" "$@")
            ;;
        *) die "unknown server $name" ;;
    esac
    "${cmd[@]}" >>"$logf" 2>&1 &
    SERVER_PID=$!
    BENCH_PIDS+=("$SERVER_PID")
}

# await_ready NAME PID PORT LOGF SINCE: prints the ms from SINCE ($EPOCHREALTIME) to PONG.
await_ready() {
    local name="$1" pid="$2" port="$3" logf="$4" since="$5" ms
    if ! ms="$(timeout $((READY_TIMEOUT + 30)) python3 "$PB" ready --port "$port" --pid "$pid" \
        --since "$since" --timeout "$READY_TIMEOUT")"; then
        tail -n 20 "$logf" >&2 || true
        die "$name did not answer PING on port $port"
    fi
    echo "$ms"
}

now_epoch() {
    # $EPOCHREALTIME follows LC_NUMERIC; Python wants a dot.
    echo "${EPOCHREALTIME/,/.}"
}

# start_persistent NAME DIR PORT LOGF FLAGS...: launch, then wait for PONG.
start_persistent() {
    local name="$1" dir="$2" port="$3" logf="$4" since
    since="$(now_epoch)"
    launch "$@"
    await_ready "$name" "$SERVER_PID" "$port" "$logf" "$since" >/dev/null
    log "$name up: pid $SERVER_PID port $port dir $dir"
}

# SIGKILL: a crash, and no shutdown snapshot of millions of keys to wait for.
kill_now() {
    local pid="$1"
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    forget_pid "$pid"
}

# forget_pid PID: PID has exited; the EXIT trap no longer needs to stop it.
forget_pid() {
    local pid="$1" i
    local -a kept=()
    for i in "${BENCH_PIDS[@]}"; do
        [[ "$i" == "$pid" ]] || kept+=("$i")
    done
    BENCH_PIDS=("${kept[@]}")
}

# fill PORT START COUNT TAG: SET key:%010d for START..START+COUNT-1, values TAG + the index.
fill() {
    local port="$1" start="$2" count="$3" tag="$4" out t0
    t0="$SECONDS"
    if ! out="$(python3 "$PB" gen --start "$start" --count "$count" --tag "$tag" \
        --size "$DATASIZE" \
        | timeout "$FILL_TIMEOUT" redis-cli -h 127.0.0.1 -p "$port" --pipe 2>&1)" \
        || ! grep -q "^errors: 0, replies: $count\$" <<<"$out"; then
        printf '%s\n' "$out" | tail -n 5 >&2
        die "loading $count keys into port $port failed"
    fi
    log "port $port: $count keys written in $((SECONDS - t0)) s"
}

expect_dbsize() {
    local port="$1" want="$2" got
    got="$(cli "$port" dbsize)"
    [[ "$got" == "$want" ]] || die "port $port holds $got keys, expected $want"
}

wait_idle() {
    timeout $((SNAP_TIMEOUT + 30)) python3 "$PB" wait-idle --port "$1" --timeout "$SNAP_TIMEOUT" \
        || die "a snapshot or rewrite on port $1 did not finish"
}

# bgsave PORT: BGSAVE and wait for its end; prints `t_start_ns t_end_ns cow_bytes attempts`.
bgsave() {
    timeout $((SNAP_TIMEOUT + 30)) python3 "$PB" bgsave --port "$1" --timeout "$SNAP_TIMEOUT" \
        || die "BGSAVE on port $1 failed or did not finish"
}

# keep_log FILE NAME: a server's log into the results' raw directory.
keep_log() {
    cp "$1" "$RAW_DIR/$2" 2>/dev/null || true
}

# Background helper processes (load, sampler) are tracked like servers, so the EXIT trap stops
# them.
spawn_helper() {
    python3 "$PB" "$@" &
    HELPER_PID=$!
    BENCH_PIDS+=("$HELPER_PID")
}

# stop_helper PID: SIGTERM, on which a load or sampler writes its records (a long run's take
# seconds: up to 300 s of grace), then wait for it.
stop_helper() {
    local pid="$1" i
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 3000; i++)); do
        is_running "$pid" || break
        sleep 0.1
    done
    if is_running "$pid"; then
        log "helper $pid did not stop within 300 s; killing it"
    fi
    kill_now "$pid"
}

# persist_flags APPENDONLY FSYNC: sets PFLAGS, the persistence flags (the same for both servers).
persist_flags() {
    PFLAGS=(--appendonly "$1" --appendfsync "$2" --save '')
}

# ------------------------------------------------------------------------------ part 1: aof

requests_for() {
    if [[ -n "${REQUESTS:-}" ]]; then
        echo "$REQUESTS"
        return
    fi
    case "$1" in
        1) echo "$REQUESTS_P1" ;;
        64) echo "$REQUESTS_P64" ;;
        *) echo "$REQUESTS_OTHER" ;;
    esac
}

# aof_run MODE ROUND SERVER PIPELINE: one redis-benchmark run, one row of $AOF_TSV.
aof_run() {
    local mode="$1" round="$2" server="$3" pipeline="$4"
    local pid="${PID_OF[$server]}" port="${PORT_OF[$server]}" n before after out parsed
    n="$(requests_for "$pipeline")"
    before="$(cpu_ticks "$pid")"
    if ! out="$(timeout "$RUN_TIMEOUT" redis-benchmark -h 127.0.0.1 -p "$port" -q --csv \
        -c "$CLIENTS" -d "$DATASIZE" -r "$KEYSPACE" -P "$pipeline" -n "$n" -t set \
        2>"$BENCH_TMP/bench.err")"; then
        cat "$BENCH_TMP/bench.err" >&2
        is_running "$pid" || die "$server (pid $pid) died during SET -P $pipeline ($mode)"
        die "redis-benchmark failed or timed out: $server SET -P $pipeline ($mode)"
    fi
    is_running "$pid" || die "$server (pid $pid) died during SET -P $pipeline ($mode)"
    after="$(cpu_ticks "$pid")"
    parsed="$(printf '%s\n' "$out" | python3 "$STATS_PY" parse-csv set)" \
        || die "could not parse redis-benchmark output: $out"
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$mode" "$round" "$server" set "$pipeline" "$n" \
        "$parsed" "$((after - before))" >>"$AOF_TSV"
    log "$mode r$round $server SET -P $pipeline: $(cut -f1 <<<"$parsed") ops/s"
}

run_aof() {
    local fsync mode server round pipeline dir port
    for fsync in $FSYNC_MODES; do
        mode="appendfsync $fsync"
        for server in $SERVERS; do
            port="$(free_port)"
            dir="$BENCH_TMP/aof-$fsync-$server"
            mkdir -p "$dir"
            persist_flags yes "$fsync"
            start_persistent "$server" "$dir" "$port" "$dir.log" "${PFLAGS[@]}"
            PID_OF[$server]="$SERVER_PID"
            PORT_OF[$server]="$port"
            DIR_OF[$server]="$dir"
            timeout "$RUN_TIMEOUT" redis-benchmark -h 127.0.0.1 -p "$port" -q -c "$CLIENTS" \
                -d "$DATASIZE" -r "$KEYSPACE" -P 64 -n "$WARMUP_REQUESTS" -t set >/dev/null \
                || die "warm-up load failed on $server"
        done
        for ((round = 1; round <= ROUNDS; round++)); do
            for pipeline in $PIPELINES; do
                for server in $(order "$round"); do
                    # An automatic AOF rewrite left running by the previous run would steal CPU
                    # from this one (on either server): wait for it.
                    wait_idle "${PORT_OF[moon]}"
                    wait_idle "${PORT_OF[redis]}"
                    aof_run "$mode" "$round" "$server" "$pipeline"
                done
            done
        done
        for server in $SERVERS; do
            kill_now "${PID_OF[$server]}"
            keep_log "${DIR_OF[$server]}.log" "aof-$fsync-$server.log"
            rm -rf "${DIR_OF[$server]}"
        done
    done
}

# ------------------------------------------------------------------------- part 2: snapshot

# Pre-snapshot load time: PRE_SECS, or longer when an earlier round's snapshot of this server
# took longer, so the baseline window can be as long as the snapshot window.
pre_secs_for() {
    local prev="${SNAP_SECS_OF[$1]:-0}"
    awk -v p="$PRE_SECS" -v s="$prev" -v settle="$SETTLE_SECS" \
        'BEGIN { want = s * 1.2 + settle + 1; printf "%d\n", (want > p ? want + 0.999 : p) }'
}

snapshot_one() {
    local round="$1" server="$2" port dir pid pre out t1 t2 cow attempts
    port="$(free_port)"
    dir="$BENCH_TMP/snap-$server-r$round"
    mkdir -p "$dir"
    persist_flags "$SNAP_APPENDONLY" everysec
    start_persistent "$server" "$dir" "$port" "$dir.log" "${PFLAGS[@]}"
    pid="$SERVER_PID"
    fill "$port" 0 "$KEYS" v
    expect_dbsize "$port" "$KEYS"
    wait_idle "$port"
    local rss_file="$dir.rss" load_file="$dir.load" rss_pid load_pid
    spawn_helper rss --pid "$pid" --out "$rss_file" --interval-ms "$RSS_MS" --pss-ms "$PSS_MS"
    rss_pid="$HELPER_PID"
    pre="$(pre_secs_for "$server")"
    spawn_helper load --port "$port" --keys "$KEYS" --rate "$LOAD_RATE" --conns "$LOAD_CONNS" \
        --write-pct "$LOAD_WRITE_PCT" --size "$DATASIZE" --out "$load_file" \
        --max-secs $((pre + SNAP_TIMEOUT + POST_SECS + 60))
    load_pid="$HELPER_PID"
    log "snapshot r$round $server: load of $LOAD_RATE req/s for $pre s, then BGSAVE"
    sleep "$pre"
    is_running "$load_pid" || die "the load client against $server exited early"
    out="$(bgsave "$port")"
    read -r t1 t2 cow attempts <<<"$out"
    sleep "$POST_SECS"
    is_running "$load_pid" || die "the load client against $server exited early"
    stop_helper "$load_pid"
    stop_helper "$rss_pid"
    is_running "$pid" || die "$server died during the snapshot"
    [[ -s "$load_file" && -s "$rss_file" ]] || die "no load or RSS records for $server"
    python3 "$PB" snap-row --round "$round" --server "$server" --keys "$KEYS" \
        --load "$load_file" --rss "$rss_file" --t1 "$t1" --t2 "$t2" --cow "$cow" \
        --settle "$SETTLE_SECS" --tsv "$SNAP_TSV" || die "could not summarise the $server run"
    python3 "$PB" timeline --load "$load_file" --t1 "$t1" --t2 "$t2" \
        >"$RAW_DIR/snapshot-r$round-$server-timeline.tsv" || true
    if [[ "$KEEP_RAW" == 1 ]]; then
        cp "$load_file" "$RAW_DIR/snapshot-r$round-$server-load.txt"
        cp "$rss_file" "$RAW_DIR/snapshot-r$round-$server-rss.txt"
        printf '%s %s\n' "$t1" "$t2" >"$RAW_DIR/snapshot-r$round-$server-window.txt"
    fi
    SNAP_SECS_OF[$server]="$(awk -v a="$t1" -v b="$t2" 'BEGIN { printf "%.3f", (b - a) / 1e9 }')"
    log "snapshot r$round $server: ${SNAP_SECS_OF[$server]} s (BGSAVE attempts: $attempts);" \
        "$(tail -n1 "$SNAP_TSV" | cut -f6,7,13,16 | tr '\t' ' ')" \
        "(RSS pre/peak KiB, p99 base/snap ms)"
    kill_now "$pid"
    keep_log "$dir.log" "snapshot-r$round-$server.log"
    rm -rf "$dir" "$rss_file" "$load_file"
}

run_snapshot() {
    local round server
    for ((round = 1; round <= ROUNDS; round++)); do
        for server in $(order "$round"); do
            snapshot_one "$round" "$server"
        done
    done
}

# -------------------------------------------------------------------------- part 3: restart

# size_mib DIR PATTERN: total size of the matching files under DIR, in MiB.
size_mib() {
    find "$1" -type f -name "$2" -printf '%s\n' \
        | awk '{ s += $1 } END { printf "%.1f\n", s / 1048576 }'
}

restart_one() {
    local round="$1" server="$2" port dir pid since ready snap wal before after dbsize tail_ok
    local -a flags
    port="$(free_port)"
    dir="$BENCH_TMP/restart-$server-r$round"
    mkdir -p "$dir"
    if [[ "$server" == moon ]]; then
        persist_flags yes "$RESTART_FSYNC"
    else
        persist_flags no everysec
    fi
    flags=("${PFLAGS[@]}")
    start_persistent "$server" "$dir" "$port" "$dir-1.log" "${flags[@]}"
    pid="$SERVER_PID"
    fill "$port" 0 "$KEYS" v
    if [[ "$server" == moon ]]; then
        # The snapshot, then a tail in the WAL only (the fill's automatic rewrites, if any,
        # finish first).
        wait_idle "$port"
        bgsave "$port" >/dev/null
        fill "$port" 0 "$TAIL_KEYS" t
        # everysec: let the last batch reach the file before the kill.
        sleep 2
    else
        fill "$port" 0 "$TAIL_KEYS" t
        [[ "$(timeout "$SNAP_TIMEOUT" redis-cli -h 127.0.0.1 -p "$port" save)" == OK ]] \
            || die "SAVE on redis failed"
    fi
    expect_dbsize "$port" "$KEYS"
    before="$(rss_kib "$pid")"
    if [[ "$server" == moon ]]; then
        snap="$(size_mib "$dir" '*.snap')"
        wal="$(size_mib "$dir" '*.wal')"
    else
        snap="$(size_mib "$dir" '*.rdb')"
        wal=0
    fi
    kill_now "$pid"
    # The PING poller starts first, so its interpreter's start-up is not timed.
    local watch="$dir.pong" watcher i
    spawn_helper watch --port "$port" --pid-file "$dir.pid" --out "$watch" \
        --timeout "$READY_TIMEOUT"
    watcher="$HELPER_PID"
    for ((i = 0; i < 200; i++)); do
        [[ -e "$watch.polling" ]] && break
        sleep 0.05
    done
    [[ -e "$watch.polling" ]] || die "the PING poller did not start"
    since="$(now_epoch)"
    launch "$server" "$dir" "$port" "$dir-2.log" "${flags[@]}"
    pid="$SERVER_PID"
    echo "$pid" >"$dir.pid"
    if ! wait "$watcher"; then
        tail -n 20 "$dir-2.log" >&2 || true
        die "$server did not answer PING after restarting on port $port"
    fi
    forget_pid "$watcher"
    ready="$(awk -v a="$since" -v b="$(cat "$watch")" 'BEGIN { printf "%.1f", (b - a) * 1000 }')"
    after="$(rss_kib "$pid")"
    dbsize="$(cli "$port" dbsize)"
    # The first and last overwritten keys carry the tail's value, the next one the fill's.
    tail_ok=yes
    [[ "$(cli "$port" get key:0000000000)" == "$(printf 't%0*d' $((DATASIZE - 1)) 0)" ]] \
        || tail_ok=no
    [[ "$(cli "$port" get "$(printf 'key:%010d' $((TAIL_KEYS - 1)))")" == t* ]] || tail_ok=no
    if ((TAIL_KEYS < KEYS)); then
        [[ "$(cli "$port" get "$(printf 'key:%010d' "$TAIL_KEYS")")" == v* ]] || tail_ok=no
    fi
    python3 "$PB" restart-row --round "$round" --server "$server" --keys "$KEYS" \
        --log "$dir-2.log" --tsv "$RESTART_TSV" --ready-ms "$ready" --snap-mib "$snap" \
        --wal-mib "$wal" --rss-before "$before" --rss-after "$after" --dbsize "$dbsize" \
        --tail-ok "$tail_ok" || die "could not summarise the $server restart"
    log "restart r$round $server: PONG after $ready ms; $dbsize keys; tail writes present: $tail_ok"
    kill_now "$pid"
    keep_log "$dir-1.log" "restart-r$round-$server-before.log"
    keep_log "$dir-2.log" "restart-r$round-$server-after.log"
    rm -rf "$dir" "$dir.pid" "$watch" "$watch.polling"
}

run_restart() {
    local round server
    for ((round = 1; round <= ROUNDS; round++)); do
        for server in $(order "$round"); do
            restart_one "$round" "$server"
        done
    done
}

# ------------------------------------------------------------------------------------- main

warn_busy_machine() {
    local load
    read -r load _ </proc/loadavg
    if awk -v l="$load" 'BEGIN { exit !(l > 1.0) }'; then
        log "warning: load average is $load before starting; results will be noisy"
    fi
}

check_settings() {
    local part flag
    # shellcheck disable=SC2206
    local -a extra=(${MOON_EXTRA_ARGS:-})
    for flag in --save --appendonly --appendfsync --dir --port --shards; do
        if moon_args_have "$flag" "${extra[@]}"; then
            die "MOON_EXTRA_ARGS must not set $flag: this script sets it"
        fi
    done
    for part in $PARTS; do
        case "$part" in
            aof | snapshot | restart) ;;
            *) die "unknown part '$part' (expected aof, snapshot, restart)" ;;
        esac
    done
    ((DATASIZE >= 11)) || die "DATASIZE must be at least 11 (the fill writes a tag and the index)"
    ((TAIL_KEYS >= 1 && TAIL_KEYS <= KEYS)) || die "TAIL_KEYS must be in 1..KEYS"
}

notes() {
    local rev
    rev="$(git -C "$REPO_ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
    if [[ -n "$(git -C "$REPO_ROOT" status --porcelain 2>/dev/null | head -n1)" ]]; then
        rev+=" (with uncommitted changes)"
    fi
    echo "## Persistence: moon vs redis-server"
    echo
    echo "- $(date -u +'%Y-%m-%d %H:%M UTC'), $(nproc) CPUs," \
        "load average $(cut -d' ' -f1-3 /proc/loadavg)"
    local extra_note="${MOON_EXTRA_ARGS:+, extra flags: $MOON_EXTRA_ARGS}"
    echo "- moon: $MOON_BIN (tree $rev), --shards $SHARDS, --io ${MOON_IO:-uring}, unpinned$extra_note"
    echo "- redis: $(redis-server --version | cut -d' ' -f3), unpinned"
    echo "- data directories on $(stat -f -c %T "$BENCH_TMP") ($BENCH_TMP), both servers alike"
    echo "- rounds: $ROUNDS, servers alternated per round (moon first in odd rounds)"
    echo
}

main() {
    check_settings
    bench_init
    warn_busy_machine
    prepare_servers "$SERVERS"
    mkdir -p "$OUT_DIR"
    local stamp part md
    stamp="$(date +%Y%m%d-%H%M%S)"
    md="$OUT_DIR/persistence-$stamp.md"
    AOF_TSV="$OUT_DIR/persistence-$stamp-aof.tsv"
    SNAP_TSV="$OUT_DIR/persistence-$stamp-snapshot.tsv"
    RESTART_TSV="$OUT_DIR/persistence-$stamp-restart.tsv"
    RAW_DIR="$OUT_DIR/persistence-$stamp-raw"
    mkdir -p "$RAW_DIR"
    notes >"$md"
    log "parts: $PARTS; rounds: $ROUNDS; keys: $KEYS; results: $OUT_DIR/persistence-$stamp*"
    for part in $PARTS; do
        case "$part" in
            aof)
                python3 "$STATS_PY" header >"$AOF_TSV"
                run_aof
                {
                    python3 "$STATS_PY" report --servers "$SERVERS" "$AOF_TSV"
                    echo
                    echo "Both servers: appendonly yes, the same appendfsync, no save rules;" \
                        "moon --shards $SHARDS, both unpinned; redis-benchmark -t set" \
                        "-c $CLIENTS -d $DATASIZE -r $KEYSPACE."
                    echo
                    python3 "$PB" aof-targets "$AOF_TSV"
                    echo
                } >>"$md"
                ;;
            snapshot)
                run_snapshot
                {
                    python3 "$PB" snap-report --servers "$SERVERS" "$SNAP_TSV"
                    echo
                    echo "Load: $LOAD_RATE req/s open loop over $LOAD_CONNS connections," \
                        "$LOAD_WRITE_PCT% SET / GET of random keys of the $KEYS; latency from" \
                        "each request's scheduled time. appendonly $SNAP_APPENDONLY, no save" \
                        "rules. RSS: VmRSS every $RSS_MS ms, redis parent + fork child (which" \
                        "counts pages they share twice); PSS (every $PSS_MS ms) counts them once." \
                        "COW MiB: INFO rdb_last_cow_size after the snapshot (0 if the server" \
                        "does not report it). Load lag: how late the load generator sent" \
                        "(should stay near 0). Latency per 0.5 s of each run:" \
                        "$RAW_DIR/snapshot-*-timeline.tsv."
                    echo
                } >>"$md"
                ;;
            restart)
                run_restart
                {
                    python3 "$PB" restart-report --servers "$SERVERS" "$RESTART_TSV"
                    echo
                    echo "moon: appendonly yes (appendfsync $RESTART_FSYNC), fill, BGSAVE, then" \
                        "$TAIL_KEYS keys overwritten (the WAL tail), SIGKILL. redis: appendonly" \
                        "no, fill, the same overwrites, SAVE, SIGKILL, start loading dump.rdb." \
                        "Time from exec until PING answers PONG; the log column is moon's slowest" \
                        "shard's \"recovery done\" and redis's \"DB loaded from disk\"."
                    echo
                } >>"$md"
                ;;
        esac
    done
    cat "$md"
    log "tables saved to $md"
}

main "$@"
