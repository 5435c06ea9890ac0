#!/usr/bin/env bash
# Memory per key, hash or sorted-set member: RSS growth of moon, redis-server and Valkey after
# loading one dataset.
#
# Datasets (DATASET, one or several, space-separated; default strings):
#   strings  KEYS (1,000,000) × SET key:%010d <32-byte value>            -> bytes per key
#   hashes   HASHES (100,000) × HSET hash:%08d f0 v0 ... f9 v9           -> bytes per hash
#            (HASH_FIELDS fields of 2-byte names and values each)
#   zset     one sorted set bigzset of MEMBERS (1,000,000) members      -> bytes per member
#            member:%010d, ZADD_BATCH (100) members per ZADD, scores scattered (not in order)
# For each dataset and server: start empty, read VmRSS from /proc/<pid>/status, load through
# `redis-cli --pipe`, check the pipe reported no errors and the expected DBSIZE (and HLEN or
# ZCARD), read VmRSS again, and print (after - before) / count in bytes. A server whose load
# does not check out (e.g. it lacks the command) gets a row of dashes and the reason.
# One server runs at a time, so they do not compete for memory or CPU.
#
# Settings (environment): SERVERS (default "moon redis valkey"), DATASET, KEYS, HASHES,
# HASH_FIELDS, MEMBERS, ZADD_BATCH, MEM_SHARDS (moon --shards, default 1), SKIP_BUILD=1,
# MOON_IO, MOON_EXTRA_ARGS.
# shellcheck source-path=SCRIPTDIR
set -euo pipefail

# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SERVERS="${SERVERS:-moon redis valkey}"
DATASET="${DATASET:-strings}"
KEYS="${KEYS:-1000000}"
HASHES="${HASHES:-100000}"
HASH_FIELDS="${HASH_FIELDS:-10}"
MEMBERS="${MEMBERS:-1000000}"
ZADD_BATCH="${ZADD_BATCH:-100}"
MEM_SHARDS="${MEM_SHARDS:-1}"
ZSET_KEY=bigzset

# Set by dataset_params: how many units the dataset loads (the divisor), their name, and the
# table title.
COUNT=""
UNIT=""
TITLE=""

dataset_params() {
    case "$1" in
        strings)
            COUNT="$KEYS" UNIT=key
            TITLE="RSS per key: $KEYS × SET key:%010d <32-byte value>"
            ;;
        hashes)
            COUNT="$HASHES" UNIT=hash
            TITLE="RSS per hash: $HASHES × HSET hash:%08d f0 v0 … f$((HASH_FIELDS - 1)) v$((HASH_FIELDS - 1))"
            ;;
        zset)
            COUNT="$MEMBERS" UNIT=member
            TITLE="RSS per member: one sorted set, $MEMBERS × member:%010d, ZADD of $ZADD_BATCH members"
            ;;
        *) die "unknown DATASET '$1' (expected strings, hashes, zset)" ;;
    esac
}

# cli PORT CMD...: one command, bounded in time; its reply, or nothing.
cli() {
    local port="$1"
    shift
    timeout 10 redis-cli -h 127.0.0.1 -p "$port" "$@" 2>/dev/null || true
}

# Set by expect / verify_load / load_and_verify: why a server's load did not check out.
FAIL_REASON=""

# expect WHAT GOT WANT: false (and FAIL_REASON set) unless the check holds.
expect() {
    if [[ "$2" != "$3" ]]; then
        FAIL_REASON="$1 is '$2', expected $3"
        return 1
    fi
}

# verify_load PORT DATASET: the keyspace holds exactly what the load wrote.
verify_load() {
    local port="$1" dataset="$2" i key
    case "$dataset" in
        strings)
            expect DBSIZE "$(cli "$port" dbsize)" "$KEYS"
            ;;
        hashes)
            expect DBSIZE "$(cli "$port" dbsize)" "$HASHES" || return 1
            # First, middle and last hash: every one got all its fields.
            for i in 0 $((HASHES / 2)) $((HASHES - 1)); do
                key="$(printf hash:%08d "$i")"
                expect "HLEN $key" "$(cli "$port" hlen "$key")" "$HASH_FIELDS" || return 1
            done
            expect "HGET hash:00000000 f0" "$(cli "$port" hget hash:00000000 f0)" v0
            ;;
        zset)
            expect DBSIZE "$(cli "$port" dbsize)" 1 || return 1
            expect "ZCARD $ZSET_KEY" "$(cli "$port" zcard "$ZSET_KEY")" "$MEMBERS"
            ;;
    esac
}

# load_and_verify PORT DATASET RESP_FILE REPLIES: false (FAIL_REASON set) if the pipe failed,
# reported errors or a wrong reply count, or the keyspace does not hold the dataset.
load_and_verify() {
    local port="$1" dataset="$2" input="$3" replies="$4" out
    local status=0 summary first_error
    out="$(timeout 600 redis-cli -h 127.0.0.1 -p "$port" --pipe <"$input" 2>&1)" || status=$?
    if ((status != 0)) || ! grep -q "^errors: 0, replies: $replies\$" <<<"$out"; then
        summary="$(grep '^errors:' <<<"$out" || true)"
        # --pipe prints each error reply on its own line among its progress lines.
        first_error="$(grep -v -e '^All data transferred' -e '^Last reply' -e '^errors:' \
            -e '^$' <<<"$out" | head -n1 || true)"
        FAIL_REASON="redis-cli --pipe exit status $status, '${summary:-no summary}'"
        FAIL_REASON+=" (expected errors: 0, replies: $replies)${first_error:+; first error: $first_error}"
        return 1
    fi
    verify_load "$port" "$dataset"
}

# measure SERVER DATASET RESP_FILE REPLIES: appends one markdown table row to $ROWS (or, if the
# load did not check out, a row of dashes and the reason to $FAILS). Runs in the main shell (not
# a command substitution) so the EXIT trap still sees the server it starts.
measure() {
    local server="$1" dataset="$2" input="$3" replies="$4" before after
    start_server "$server" "" "$MEM_SHARDS"
    local pid="$SERVER_PID" port="$SERVER_PORT"
    before="$(rss_kib "$pid")"
    FAIL_REASON=""
    if ! load_and_verify "$port" "$dataset" "$input" "$replies"; then
        is_running "$pid" || FAIL_REASON="died during the load"
        stop_server "$pid"
        log "warning: $server $dataset not measured: $FAIL_REASON"
        printf '| %s | – | – | – |\n' "$server" >>"$ROWS"
        printf -- '- %s: %s\n' "$server" "$FAIL_REASON" >>"$FAILS"
        return 0
    fi
    after="$(rss_kib "$pid")"
    stop_server "$pid"
    local row per_unit
    row="$(awk -v s="$server" -v b="$before" -v a="$after" -v k="$COUNT" \
        'BEGIN { printf "| %s | %.1f | %.1f | %.1f |", s, b / 1024, a / 1024, (a - b) * 1024 / k }')"
    per_unit="$(awk -F'|' '{ gsub(/ /, "", $5); print $5 }' <<<"$row")"
    printf '%s\n' "$row" >>"$ROWS"
    log "$server $dataset: $per_unit bytes/$UNIT"
}

main() {
    local dataset server input replies
    for dataset in $DATASET; do
        dataset_params "$dataset"
    done
    bench_init
    prepare_servers "$SERVERS"
    ROWS="$BENCH_TMP/rows.md"
    FAILS="$BENCH_TMP/fails.md"
    for dataset in $DATASET; do
        dataset_params "$dataset"
        input="$BENCH_TMP/load-$dataset.resp"
        log "writing the $dataset load ($COUNT × $UNIT) to $input"
        replies="$(python3 "$STATS_PY" gen-resp --dataset "$dataset" --fields "$HASH_FIELDS" \
            --batch "$ZADD_BATCH" "$COUNT" "$input")" || die "could not write the $dataset load"
        : >"$ROWS"
        : >"$FAILS"
        for server in $SERVERS; do
            measure "$server" "$dataset" "$input" "$replies"
        done
        rm -f "$input"
        echo "### $TITLE"
        echo
        echo "| server | RSS before MiB | RSS after MiB | bytes/$UNIT |"
        echo "|---|---:|---:|---:|"
        cat "$ROWS"
        echo
        if [[ -s "$FAILS" ]]; then
            echo "Not measured (the load did not check out):"
            echo
            cat "$FAILS"
            echo
        fi
    done
}

main "$@"
