#!/usr/bin/env bash
# The growth benchmark (issue 12): for each axis of `netproof::gen`'s growth
# shapes, `netproof check` on four sizes, the median wall time of RUNS runs
# with the default thread count, and the exponent k of time ~ n^k fitted by
# least squares on log-log over the sizes that finished. Prints a markdown
# table for docs/performance.md, headed by the load average before and
# after. TIMEOUT (seconds) bounds each run; a run cut off shows "timeout"
# and is left out of the fit.
#
#   scripts/bench-growth.sh
#   SHAPES="vpcs-on-tgw nacl-rules" SIZES="100 200 400 800" RUNS=3 scripts/bench-growth.sh
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-3}
TIMEOUT=${TIMEOUT:-120}
SHAPES=${SHAPES:-"sg-per-instance sg-references vpcs-on-tgw nacl-rules nacl-blocked-reply dx-sites nat-rules expectations peering-chain"}
SIZES=${SIZES:-"125 250 500 1000"}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cargo build --release --quiet --example gen
cargo build --release --quiet
bin=target/release/netproof

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
printf '| axis |'; for n in $SIZES; do printf ' n=%s |' "$n"; done; echo ' exponent |'
printf '|---|'; for _ in $SIZES; do printf -- '---:|'; done; printf -- '---:|\n'
for shape in $SHAPES; do
  printf '| %s |' "$shape"
  points=""
  for n in $SIZES; do
    file="$dir/$shape-$n.np"
    target/release/examples/gen "$shape" "$n" > "$file"
    times=()
    for _ in $(seq "$RUNS"); do
      out=$( { /usr/bin/time -f "%e" timeout "$TIMEOUT" "$bin" check --fail-on error "$file" > /dev/null || { [ $? = 124 ] && echo "timeout"; } || true; } 2>&1 | tail -1)
      times+=("$out")
    done
    if printf '%s\n' "${times[@]}" | grep -q timeout; then
      printf ' timeout |'
    else
      t=$(printf '%s\n' "${times[@]}" | median)
      printf ' %s s |' "$t"
      points="$points $n:$t"
    fi
  done
  # Least squares of log(t) on log(n); times under 10 ms are too coarse
  # for /usr/bin/time to fit and are left out.
  k=$(echo "$points" | tr ' ' '\n' | awk -F: 'NF == 2 && $2 >= 0.01 {x = log($1); y = log($2); n++; sx += x; sy += y; sxx += x * x; sxy += x * y}
    END { d = n * sxx - sx * sx; if (n >= 2 && d != 0) printf "%.2f", (n * sxy - sx * sy) / d; else printf "-" }')
  echo " $k |"
done
echo
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
