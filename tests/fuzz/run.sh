#!/usr/bin/env bash
# Coverage-guided fuzzing of the parsers that take outside input (libFuzzer through
# libfuzzer-sys, on the stable toolchain: see tests/fuzz/README.md).
#
#   tests/fuzz/run.sh [--seconds N | --runs N] [--jobs-log DIR] [target...]
#
# Builds the fuzz crate (fuzz/, outside the workspace) with SanitizerCoverage, seeds
# every target from tests/fixtures, ad-templates, demo/media and $SPLICEPOINT_CORPUS
# (tests/fuzz/seed.py), then runs the targets one after the other, each for N seconds
# (default 30) or N executions, with a 1 s per-input timeout and a 512 MB RSS limit.
# Exits non-zero when any target crashes, hangs or runs out of memory; the input
# that did it is kept under fuzz/target/artifacts/TARGET/. The corpus each target
# grows is kept under fuzz/target/corpus/TARGET/ for the next run.
# Installs what it needs (a C++ compiler for libFuzzer, python3 for the seeds) when
# missing; idempotent.
set -euo pipefail
cd "$(dirname "$0")/../.."
root="$PWD"

seconds=30
runs=""
targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds="$2"; shift 2 ;;
    --runs) runs="$2"; shift 2 ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    -*) echo "run.sh: unknown option $1" >&2; exit 2 ;;
    *) targets+=("$1"); shift ;;
  esac
done
all=(scte35_binary scte35_text scte35_xml hls_playlist hls_cue dash_mpd vast vast_resolve
  config_toml admin_json ads_template)
[ ${#targets[@]} -gt 0 ] || targets=("${all[@]}")
for t in "${targets[@]}"; do
  [[ " ${all[*]} " == *" $t "* ]] || { echo "run.sh: unknown target $t (one of: ${all[*]})" >&2; exit 2; }
done

# --- what the build and the seeds need
need=()
command -v c++ >/dev/null 2>&1 || need+=(g++)
command -v python3 >/dev/null 2>&1 || need+=(python3)
if [ ${#need[@]} -gt 0 ]; then
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  echo "run.sh: installing ${need[*]}" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# --- build: libFuzzer's coverage instrumentation with stable rustc flags (what
# cargo-fuzz passes, minus the sanitizer, which needs nightly). `--target` keeps
# the flags off build scripts and proc macros, which would not link with them.
host="$(rustc -vV | sed -n 's/^host: //p')"
export CARGO_TARGET_DIR="$root/fuzz/target"
export RUSTFLAGS="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares --cfg fuzzing -Cdebug-assertions -Coverflow-checks"
echo "== fuzz: build (release, instrumented) for ${host}"
start=$SECONDS
cargo build --release --locked --quiet --manifest-path fuzz/Cargo.toml --target "$host" \
  $(printf -- '--bin %s ' "${targets[@]}")
echo "== fuzz: built in $((SECONDS - start)) s"
bin="$CARGO_TARGET_DIR/$host/release"

# --- seeds, fresh each run (the grown corpus is kept separately)
seeds="$CARGO_TARGET_DIR/seeds"
rm -rf "$seeds"
python3 tests/fuzz/seed.py "$seeds" "${SPLICEPOINT_CORPUS:-}" >/dev/null
[ -n "${SPLICEPOINT_CORPUS:-}" ] || echo "== fuzz: SPLICEPOINT_CORPUS not set: seeds from the repository only"

# Largest input per target (longer seeds are cut): a section is at most 4 KiB; the
# rest get room for their largest seeds, and no more, since short inputs run faster.
max_len() {
  case "$1" in
    scte35_binary) echo 4096 ;;
    dash_mpd | vast_resolve) echo 32768 ;;
    vast) echo 16384 ;;
    *) echo 8192 ;;
  esac
}

failed=()
printf '%-14s %12s %8s %10s  %s\n' target executions seconds exec/s result
for t in "${targets[@]}"; do
  corpus="$CARGO_TARGET_DIR/corpus/$t"
  artifacts="$CARGO_TARGET_DIR/artifacts/$t"
  log="$CARGO_TARGET_DIR/logs/$t.log"
  mkdir -p "$corpus" "$artifacts" "$(dirname "$log")" "$seeds/$t"
  limit=(-max_total_time="$seconds")
  [ -z "$runs" ] || limit=(-runs="$runs")
  t0=$SECONDS
  set +e
  "$bin/$t" -timeout=1 -rss_limit_mb=512 -malloc_limit_mb=512 -max_len="$(max_len "$t")" \
    "${limit[@]}" -print_final_stats=1 -artifact_prefix="$artifacts/" \
    "$corpus" "$seeds/$t" >"$log" 2>&1
  rc=$?
  set -e
  secs=$((SECONDS - t0))
  execs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)"
  rate="$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)"
  if [ "$rc" -eq 0 ]; then
    result=ok
  else
    result="FAILED (exit $rc)"
    failed+=("$t")
  fi
  printf '%-14s %12s %8s %10s  %s\n' "$t" "${execs:-?}" "$secs" "${rate:-?}" "$result"
  if [ "$rc" -ne 0 ]; then
    grep -E 'panicked|ERROR: libFuzzer|SUMMARY|Test unit written|deadly signal|out-of-memory|timeout' "$log" | head -20 >&2 || true
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "== fuzz: FAILED: ${failed[*]} (logs in $CARGO_TARGET_DIR/logs, inputs in $CARGO_TARGET_DIR/artifacts)" >&2
  exit 1
fi
echo "== fuzz: every target ran clean"
