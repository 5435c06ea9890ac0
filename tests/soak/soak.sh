#!/usr/bin/env bash
# Runs soak.py with redis-py: reuses the test suite's venv (target/test-venv, made by
# tests/scripting_clients.rs) when it holds redis-py 5.2.1, else creates target/soak-venv
# (python3 -m venv + pip install redis==5.2.1). Arguments go to soak.py (--help).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
want="5.2.1"
has() { "$1" -c "import redis, sys; sys.exit(redis.__version__ != '$want')" 2>/dev/null; }
py="$root/target/test-venv/bin/python"
if ! has "$py"; then
    py="$root/target/soak-venv/bin/python"
    if ! has "$py"; then
        echo "creating $root/target/soak-venv with redis==$want" >&2
        python3 -m venv "$root/target/soak-venv"
        "$py" -m pip install --quiet --disable-pip-version-check "redis==$want"
    fi
fi
exec "$py" "$root/tests/soak/soak.py" "$@"
