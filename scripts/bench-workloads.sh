#!/usr/bin/env bash
# Benchmarks issue 3's workloads W0-W3: wall time and peak memory of the
# whole `netproof check` command (or, with MATRIX=1, `netproof reach
# --matrix`), median of RUNS runs, with 1 and 2 rayon threads. Prints a
# markdown table for docs/performance.md. TIMEOUT (seconds) bounds each run.
#
#   scripts/bench-workloads.sh            # W0-W2
#   WORKLOADS="w0 w1 w2 w3" RUNS=3 scripts/bench-workloads.sh
#   MATRIX=1 WORKLOADS="w1 w2" RUNS=1 scripts/bench-workloads.sh
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-5}
WORKLOADS=${WORKLOADS:-"w0 w1 w2"}
TIMEOUT=${TIMEOUT:-900}
if [ "${MATRIX:-0}" = 1 ]; then job=(reach --matrix); else job=(check --fail-on error); fi
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cargo build --release --quiet --example gen
cargo build --release --quiet
bin=target/release/netproof

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

echo "| workload | lines | threads | median time | median peak memory |"
echo "|---|---:|---:|---:|---:|"
for w in $WORKLOADS; do
  file="$dir/$w.np"
  if [ "$w" = w0 ]; then : > "$file"; else target/release/examples/gen "$w" > "$file"; fi
  lines=$(wc -l < "$file")
  for threads in 1 2; do
    times=(); mems=()
    for _ in $(seq "$RUNS"); do
      # A run cut off by the timeout reports "timeout" instead of a time.
      out=$( { RAYON_NUM_THREADS=$threads /usr/bin/time -f "%e %M" timeout "$TIMEOUT" "$bin" "${job[@]}" "$file" > /dev/null || { [ $? = 124 ] && echo "timeout 0"; } || true; } 2>&1 | tail -1)
      times+=("${out% *}"); mems+=("${out#* }")
    done
    t=$(printf '%s\n' "${times[@]}" | median)
    m=$(printf '%s\n' "${mems[@]}" | median)
    printf '| %s | %s | %s | %s s | %s MB |\n' "$w" "$lines" "$threads" "$t" "$((m / 1024))"
  done
done
