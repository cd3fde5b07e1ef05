#!/usr/bin/env bash
# Real-player conformance suite for splicepoint: see README.md.
# Usage: tests/players/run.sh [--only ID,..] [--fault strip-ad-discontinuity] [--self-test] ...
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$HERE"

apt_updated=0
apt_install() {
  if [ "$(id -u)" != 0 ]; then
    echo "missing $* and not root: install it (apt-get install -y $*)" >&2
    exit 1
  fi
  if [ "$apt_updated" = 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    apt_updated=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

command -v node >/dev/null 2>&1 || apt_install nodejs npm
command -v npm >/dev/null 2>&1 || apt_install npm
[ -x "${CHROMIUM_BIN:-/usr/bin/chromium}" ] || apt_install chromium
command -v ffmpeg >/dev/null 2>&1 || apt_install ffmpeg
python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || apt_install python3-venv

# Python venv with the independent HLS and DASH parsers (pinned)
M3U8_VERSION=6.0.0
MPEGDASH_VERSION=0.4.1
venv_ok() {
  .venv/bin/python - "$M3U8_VERSION" "$MPEGDASH_VERSION" <<'PY' >/dev/null 2>&1
import sys, importlib.metadata as m
sys.exit(0 if (m.version('m3u8'), m.version('mpegdash')) == (sys.argv[1], sys.argv[2]) else 1)
PY
}
if ! venv_ok; then
  rm -rf .venv
  python3 -m venv .venv
  .venv/bin/pip install -q "m3u8==$M3U8_VERSION" "mpegdash==$MPEGDASH_VERSION"
fi

# hls.js, dash.js, Shaka Player and playwright-core, exactly as locked: npm ci
# when node_modules is missing, older than the lock file, or lacks a package
# the lock file names (npm writes node_modules/.package-lock.json on install)
deps_ok() {
  [ -f node_modules/.package-lock.json ] && [ ! package-lock.json -nt node_modules/.package-lock.json ] || return 1
  node -e '
    const lock = require("./package-lock.json").packages || {};
    const fs = require("fs");
    for (const p of Object.keys(lock)) if (p && !lock[p].optional && !fs.existsSync(p + "/package.json")) process.exit(1);
  ' 2>/dev/null
}
if ! deps_ok; then
  npm ci --no-audit --no-fund --loglevel=error
fi

export PLAYERS_PYTHON="$HERE/.venv/bin/python"
exec node run.mjs "$@"
