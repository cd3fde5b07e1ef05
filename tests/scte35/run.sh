#!/bin/sh
# Cross-check splicepoint's SCTE-35 decoder with threefive (PyPI) on every vector of
# the shared corpus. Makes a venv in tests/scte35/.venv (gitignored) on first run.
#   SPLICEPOINT_CORPUS  the shared corpus (default: ../shared/corpus beside the repo)
#   THREEFIVE_VERSION   threefive to install (default: 3.1.5, the corpus's reference)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
corpus=${SPLICEPOINT_CORPUS:-$root/../shared/corpus}
version=${THREEFIVE_VERSION:-3.1.5}
if [ ! -x "$here/.venv/bin/python" ]; then
    python3 -m venv "$here/.venv"
fi
"$here/.venv/bin/python" -m pip install --quiet --disable-pip-version-check "threefive==$version"
(cd "$root" && cargo build --quiet --bin splicepoint)
target=${CARGO_TARGET_DIR:-$root/target}
exec "$here/.venv/bin/python" "$here/crosscheck.py" --corpus "$corpus" --bin "$target/debug/splicepoint" "$@"
