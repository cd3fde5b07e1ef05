#!/bin/sh
# Runs promparse.py (the reference Prometheus text parser, PyPI prometheus-client)
# on stdin. Makes a venv under the cargo target directory on first run.
#   PROMETHEUS_CLIENT_VERSION  the version to install (default 0.26.0)
# Exit 3: python3 or its venv module is missing, or the package cannot be
# installed (offline): the calling test decides whether that skips or fails.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
target=${CARGO_TARGET_DIR:-$root/target}
venv="$target/metrics-venv"
version=${PROMETHEUS_CLIENT_VERSION:-0.26.0}
command -v python3 >/dev/null 2>&1 || { echo "python3 not found" >&2; exit 3; }
if ! "$venv/bin/python" -c "import sys, importlib.metadata as m; sys.exit(m.version('prometheus-client') != '$version')" 2>/dev/null; then
    python3 -m venv "$venv" >&2 || { echo "python3 -m venv failed" >&2; exit 3; }
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "prometheus-client==$version" >&2 \
        || { echo "pip install prometheus-client==$version failed" >&2; exit 3; }
fi
exec "$venv/bin/python" "$here/promparse.py"
