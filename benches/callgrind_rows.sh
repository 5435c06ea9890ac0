#!/usr/bin/env bash
# Instructions per request of moon and redis-server on compare.sh's rows, counted by callgrind.
#
# CPU time per request (compare.sh) moves ±30 % with whatever else the machine does; the
# instruction count does not. Each server runs under `valgrind --tool=callgrind` (moon with
# `--shards 1`, persistence off, as compare.sh's pinned mode); for each row the script fills
# what the row reads (uncounted), zeroes the counters (`callgrind_control -z`), runs
# redis-benchmark with compare.sh's arguments for the row, and dumps the counters
# (`callgrind_control -d`). Ir / requests is the row's cost: the server's whole work for the
# run (accepting the clients, parsing, executing, replying, its idle ticks meanwhile).
# Each row's dump is kept, for `callgrind_annotate`.
#
#   benches/callgrind_rows.sh                              # default rows, moon and redis
#   ROWS="incr hget" N=50000 benches/callgrind_rows.sh
#   SERVERS=moon SKIP_BUILD=1 benches/callgrind_rows.sh
#
# Settings: see benches/README.md.
# shellcheck source-path=SCRIPTDIR
set -euo pipefail

# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SERVERS="${SERVERS:-moon redis}"
ROWS="${ROWS:-incr mset lpush lpop lrange_100 hset hget sadd spop zadd zrange xadd evalsha}"
N="${N:-100000}"
CLIENTS="${CLIENTS:-50}"
DATASIZE="${DATASIZE:-32}"
KEYSPACE="${KEYSPACE:-1000000}"
HASH_KEYSPACE="${HASH_KEYSPACE:-100000}"
PIPELINE="${PIPELINE:-16}"
OUT_DIR="${OUT_DIR:-$REPO_ROOT/target/bench-results}"

# Rows in compare.sh's order, so each read or pop follows what fills its key.
ROW_ORDER="set get incr mset lpush lpop lrange_100 hset hget sadd spop zadd zrange xadd evalsha"
declare -A FILLED_BY=([lpop]=lpush [lrange_100]=lpush [hget]=hset [spop]=sadd [zrange]=zadd)

# requests ROW: as compare.sh's divisors (pops must not run their key dry).
requests() {
    case "$1" in
        mset | lrange_100) echo $((N / 4)) ;;
        lpop | spop) echo $((N / 2)) ;;
        *) echo "$N" ;;
    esac
}

# bench_args ROW: redis-benchmark's arguments after the common ones. LRANGE_100 runs as the
# command `-t lrange_100` sends, without the LPUSH run that test adds in front.
bench_args() {
    local r
    case "$1" in
        hset | hget) r="$HASH_KEYSPACE" ;;
        *) r="$KEYSPACE" ;;
    esac
    printf '%s\n' -r "$r"
    case "$1" in
        lrange_100) printf '%s\n' LRANGE mylist 0 99 ;;
        *) if is_custom "$1"; then custom_command "$1"; else printf '%s\n' -t "$1"; fi ;;
    esac
}

# run_bench PORT ROW N: one redis-benchmark run of ROW.
run_bench() {
    local port="$1" row="$2" n="$3"
    local -a cmd=(redis-benchmark -h 127.0.0.1 -p "$port" -q -c "$CLIENTS" -d "$DATASIZE"
        -P "$PIPELINE" -n "$n")
    mapfile -t -O "${#cmd[@]}" cmd < <(bench_args "$row")
    "${cmd[@]}" >/dev/null
}

# Under valgrind a server starts in seconds, not milliseconds.
wait_ready_slow() {
    wait_ready "$1" "$2" 120 5 0.5
}

# start_callgrind NAME DIR: the server under callgrind; sets SERVER_PID and SERVER_PORT. The
# slow log is off: under valgrind a command runs some 50 times slower, and logging the ones that
# cross the 10 ms default would count work the servers do not do at full speed.
start_callgrind() {
    local name="$1" dir="$2" port
    port="$(free_port)"
    mkdir -p "$dir/data"
    local -a cmd=(valgrind --tool=callgrind "--callgrind-out-file=$dir/callgrind.out")
    case "$name" in
        moon) cmd+=("$MOON_BIN" --port "$port" --bind 127.0.0.1 --shards "${MOON_SHARDS:-1}"
            --io "${MOON_IO:-uring}" --dir "$dir/data" --save '' --appendonly no
            --slowlog-log-slower-than -1)
            # Word splitting is wanted: MOON_EXTRA_ARGS is a flag list.
            # shellcheck disable=SC2206
            cmd+=(${MOON_EXTRA_ARGS:-}) ;;
        redis) cmd+=(redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no
            --slowlog-log-slower-than -1 --dir "$dir/data" --daemonize no
            --logfile "$dir/server.log") ;;
        *) die "unknown server $name (expected moon, redis)" ;;
    esac
    launch_server "$name (under valgrind)" "$port" "$dir/valgrind.log" wait_ready_slow "${cmd[@]}"
    log "$name up under callgrind: pid $SERVER_PID port $port"
}

# Instructions in the newest dump of DIR (its `totals:` line).
last_dump_ir() {
    local f
    f="$(find "$1" -maxdepth 1 -name 'callgrind.out.*' -printf '%T@ %p\n' | sort -n \
        | tail -n1 | cut -d' ' -f2-)"
    [[ -n "$f" ]] || die "no callgrind dump in $1"
    awk '/^(totals|summary):/ { print $2; exit }' "$f"
}

# measure SERVER DIR: fills and measures every row; appends "server row n ir" lines to $TSV.
measure() {
    local server="$1" dir="$2" row n ir filler
    declare -A done_rows=()
    start_callgrind "$server" "$dir"
    local pid="$SERVER_PID" port="$SERVER_PORT"
    # The keys key:* hold strings, as after compare.sh's warm-up (uncounted, smaller).
    run_bench "$port" set "$N"
    for row in $ROWS; do
        filler="${FILLED_BY[$row]:-}"
        if [[ -n "$filler" && -z "${done_rows[$filler]:-}" ]]; then
            run_bench "$port" "$filler" "$N"
            done_rows[$filler]=1
        fi
        if [[ "$row" == evalsha ]]; then
            [[ "$(redis-cli -h 127.0.0.1 -p "$port" SCRIPT LOAD "$EVALSHA_SCRIPT")" == \
                "$EVALSHA_SHA" ]] || die "$server: SCRIPT LOAD did not answer $EVALSHA_SHA"
        fi
        n="$(requests "$row")"
        callgrind_control -z "$pid" >/dev/null 2>&1 || die "callgrind_control -z failed"
        run_bench "$port" "$row" "$n"
        callgrind_control --dump="$row" "$pid" >/dev/null 2>&1 \
            || die "callgrind_control --dump failed"
        done_rows[$row]=1
        ir="$(last_dump_ir "$dir")"
        mv "$(find "$dir" -maxdepth 1 -name 'callgrind.out.*' -printf '%T@ %p\n' | sort -n \
            | tail -n1 | cut -d' ' -f2-)" "$dir/$row.callgrind"
        printf '%s\t%s\t%s\t%s\n' "$server" "$row" "$n" "$ir" >>"$TSV"
        log "$server $row: $((ir / n)) Ir/request ($ir Ir, $n requests)"
    done
    stop_server "$pid"
}

main() {
    command -v valgrind >/dev/null || die "valgrind is not installed (apt-get install valgrind)"
    bench_init
    local -a rows=()
    local t
    for t in $ROW_ORDER; do
        [[ " $ROWS " == *" $t "* ]] && rows+=("$t")
    done
    for t in $ROWS; do
        [[ " $ROW_ORDER " == *" $t "* ]] || die "unknown row $t (expected one of: $ROW_ORDER)"
    done
    ROWS="${rows[*]}"
    prepare_servers "$SERVERS"
    local stamp out server
    stamp="$(date +%Y%m%d-%H%M%S)"
    out="$OUT_DIR/callgrind-$stamp"
    mkdir -p "$out"
    TSV="$out/rows.tsv"
    : >"$TSV"
    for server in $SERVERS; do
        measure "$server" "$out/$server"
    done
    python3 - "$TSV" "$SERVERS" <<'EOF' | tee "$out/rows.md"
import sys
rows, servers = {}, sys.argv[2].split()
order = []
for line in open(sys.argv[1]):
    server, row, n, ir = line.split("\t")
    if row not in order:
        order.append(row)
    rows[(server, row)] = int(ir) / int(n)
head = ["row"] + [f"{s} Ir/req" for s in servers]
if len(servers) > 1:
    head += [f"{servers[0]}/{s}" for s in servers[1:]]
print("| " + " | ".join(head) + " |")
print("|" + "---|" * len(head))
for row in order:
    cells = [row] + [f"{rows[(s, row)]:.0f}" if (s, row) in rows else "–" for s in servers]
    for s in servers[1:]:
        a, b = rows.get((servers[0], row)), rows.get((s, row))
        cells.append(f"{a / b:.2f}" if a and b else "–")
    print("| " + " | ".join(cells) + " |")
EOF
    log "dumps (callgrind_annotate <file>) and tables under $out"
}

main "$@"
