#!/usr/bin/env bash
# Runs netproof's cargo-fuzz targets, each for a given time, and prints one
# line per target: how many inputs it ran in how long, and whether it ran
# clean. docs/reliability.md records these figures and what crashes found.
#
#   scripts/fuzz.sh                       every target, 60 s each, one at a time
#   scripts/fuzz.sh -t 1800 -j 2          every target, 30 min each, two at a time
#   scripts/fuzz.sh -t 600 check fmt      only these targets
#
# Needs the nightly toolchain and cargo-fuzz (`cargo install cargo-fuzz`).
# Targets are built without a sanitizer (netproof has no unsafe code, and
# this doubles the speed) but with debug assertions, so arithmetic overflow
# panics. Corpora grow in fuzz/corpus/TARGET, seeded from the repository's
# designs and fuzz/seeds/TARGET; crashes go to fuzz/artifacts/TARGET and
# logs to fuzz/logs/TARGET.log (all three are ignored by git).
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=60
jobs=1
while getopts "t:j:h" opt; do
  case "$opt" in
    t) seconds="$OPTARG" ;;
    j) jobs="$OPTARG" ;;
    h) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) exit 2 ;;
  esac
done
shift $((OPTIND - 1))

all=$(sed -n 's/^name = "\(.*\)"$/\1/p' fuzz/Cargo.toml | grep -v '^netproof-fuzz$')
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  read -r -a targets <<< "$(echo $all)"
fi
for t in "${targets[@]}"; do
  if ! grep -qx "$t" <<< "$all"; then
    echo "unknown target \`$t\`; the targets are: $(echo $all)" >&2
    exit 2
  fi
done

flags=(--sanitizer none --debug-assertions)
cargo +nightly fuzz build "${flags[@]}"
mkdir -p fuzz/logs

# The largest input each target is given: whole designs for the checks (a
# line past column 65,535 once crashed the human output), less for the
# formats whose inputs are small.
max_len() {
  case "$1" in
    check|fix|fmt) echo 131072 ;;
    *) echo 16384 ;;
  esac
}

# The seeds: every design the repository has, and each target's own.
seed() {
  local t="$1" corpus="fuzz/corpus/$1"
  mkdir -p "$corpus"
  case "$t" in
    check|fix|fmt)
      find fixtures grammar/examples -name '*.np' -size -128k | while read -r f; do
        cp "$f" "$corpus/seed-$(echo "$f" | tr '/' '_')"
      done
      # One design with a finding past column 65,535 of its line.
      { printf 'vpc v 10.0.0.0/16 {\n  subnet s'; head -c 70000 /dev/zero | tr '\0' ' ';
        printf '10.0.300.0/24\n}\n'; } > "$corpus/seed-long-line.np"
      ;;
  esac
  if [ -d "fuzz/seeds/$t" ]; then
    cp fuzz/seeds/"$t"/* "$corpus"/
  fi
}

run() {
  local t="$1" log="fuzz/logs/$1.log"
  seed "$t"
  local status=0
  # The language server logs every bad frame to standard error: millions
  # of lines (gigabytes) in a run. libFuzzer keeps its own messages when the
  # target's standard error is closed; replay an artifact to see its panic.
  local quiet=()
  if [ "$t" = lsp_transport ]; then quiet=(-close_fd_mask=2); fi
  cargo +nightly fuzz run "${flags[@]}" "$t" -- \
    -max_total_time="$seconds" -max_len="$(max_len "$t")" -timeout=30 -rss_limit_mb=4096 \
    -print_final_stats=1 "${quiet[@]}" >"$log" 2>&1 || status=$?
  local runs secs
  runs=$(sed -n 's/^Done \([0-9]*\) runs in \([0-9]*\) second.*/\1/p' "$log" | tail -1)
  secs=$(sed -n 's/^Done \([0-9]*\) runs in \([0-9]*\) second.*/\2/p' "$log" | tail -1)
  if [ "$status" -eq 0 ] && [ -n "$runs" ]; then
    echo "$t: clean, ${runs} inputs in ${secs} s"
  else
    local artifact
    artifact=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -1)
    echo "$t: FAILED (status $status) after ${runs:-?} inputs; ${artifact:-see $log}"
    return 1
  fi
}

failed=0
pids=()
for t in "${targets[@]}"; do
  run "$t" &
  pids+=($!)
  if [ ${#pids[@]} -ge "$jobs" ]; then
    wait "${pids[0]}" || failed=1
    pids=("${pids[@]:1}")
  fi
done
for p in "${pids[@]}"; do wait "$p" || failed=1; done
exit $failed
