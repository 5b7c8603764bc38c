#!/usr/bin/env bash
# Benchmarks issue 3's workloads W0-W3: wall time and peak memory of the
# whole `netproof check` command, median of RUNS runs, with 1 and 2 rayon
# threads. Prints a markdown table for docs/performance.md.
#
#   scripts/bench-workloads.sh            # W0-W2
#   WORKLOADS="w0 w1 w2 w3" RUNS=3 scripts/bench-workloads.sh
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-5}
WORKLOADS=${WORKLOADS:-"w0 w1 w2"}
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
      out=$( { RAYON_NUM_THREADS=$threads /usr/bin/time -f "%e %M" "$bin" check --fail-on error "$file" > /dev/null; } 2>&1 | tail -1)
      times+=("${out% *}"); mems+=("${out#* }")
    done
    t=$(printf '%s\n' "${times[@]}" | median)
    m=$(printf '%s\n' "${mems[@]}" | median)
    printf '| %s | %s | %s | %s s | %s MB |\n' "$w" "$lines" "$threads" "$t" "$((m / 1024))"
  done
done
