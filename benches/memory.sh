#!/usr/bin/env bash
# Memory per key: RSS growth of moon, redis-server and Valkey after loading 1,000,000 string keys.
#
# For each server: start empty, read VmRSS from /proc/<pid>/status, load SET key:%010d with a
# 32-byte value for i in 0..KEYS through `redis-cli --pipe`, check the pipe reported no errors
# and DBSIZE = KEYS, read VmRSS again, and print (after - before) / KEYS in bytes per key.
# One server runs at a time, so they do not compete for memory or CPU.
#
# Settings (environment): SERVERS (default "moon redis valkey"), KEYS (default 1000000),
# MEM_SHARDS (moon --shards, default 1), SKIP_BUILD=1, MOON_IO, MOON_EXTRA_ARGS.
# shellcheck source-path=SCRIPTDIR
set -euo pipefail

# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SERVERS="${SERVERS:-moon redis valkey}"
KEYS="${KEYS:-1000000}"
MEM_SHARDS="${MEM_SHARDS:-1}"

# measure SERVER RESP_FILE: appends one markdown table row to $ROWS. Runs in the main shell (not
# a command substitution) so the EXIT trap still sees the server it starts.
measure() {
    local server="$1" input="$2" before after out dbsize
    start_server "$server" "" "$MEM_SHARDS"
    local pid="$SERVER_PID" port="$SERVER_PORT"
    before="$(rss_kib "$pid")"
    out="$(timeout 600 redis-cli -h 127.0.0.1 -p "$port" --pipe <"$input" 2>&1)" \
        || die "$server: redis-cli --pipe failed or timed out: $out"
    grep -q "errors: 0, replies: $KEYS" <<<"$out" \
        || die "$server: unexpected --pipe result: $(tail -n1 <<<"$out")"
    dbsize="$(timeout 10 redis-cli -h 127.0.0.1 -p "$port" dbsize || true)"
    [[ "$dbsize" == "$KEYS" ]] || die "$server: DBSIZE is $dbsize, expected $KEYS"
    after="$(rss_kib "$pid")"
    stop_server "$pid"
    local row per_key
    row="$(awk -v s="$server" -v b="$before" -v a="$after" -v k="$KEYS" \
        'BEGIN { printf "| %s | %.1f | %.1f | %.1f |", s, b / 1024, a / 1024, (a - b) * 1024 / k }')"
    per_key="$(awk -F'|' '{ gsub(/ /, "", $5); print $5 }' <<<"$row")"
    printf '%s\n' "$row" >>"$ROWS"
    log "$server: $per_key bytes/key"
}

main() {
    bench_init
    prepare_servers "$SERVERS"
    local input="$BENCH_TMP/load.resp"
    log "writing $KEYS SET commands to $input"
    python3 "$STATS_PY" gen-resp "$KEYS" "$input"
    ROWS="$BENCH_TMP/rows.md"
    : >"$ROWS"
    for server in $SERVERS; do
        measure "$server" "$input"
    done
    echo "### RSS per key: $KEYS × SET key:%010d <32-byte value>"
    echo
    echo "| server | RSS before MiB | RSS after MiB | bytes/key |"
    echo "|---|---:|---:|---:|"
    cat "$ROWS"
}

main "$@"
