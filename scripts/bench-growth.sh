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
#
# Without SIZES, each axis runs at sizes that suit it: the fast axes
# (expectations, NAT rules, ACL rules, groups) need thousands to show their
# exponent, the prefixes axis (NP103/NP105's overlap design) runs up to a
# million, and each axis reaches the size issue 12 sets a target for
# (10,000 groups, 400 VPCs on a transit gateway, 4,000 Direct Connect
# sites, 8,000 ACL rules).
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-3}
TIMEOUT=${TIMEOUT:-120}
SHAPES=${SHAPES:-"sg-per-instance sg-references vpcs-on-tgw nacl-rules nacl-blocked-reply nacl-scattered dx-sites nat-rules expectations peering-chain prefixes"}
SIZES=${SIZES:-}
# The sizes of one axis: SIZES when given, else the axis's own.
sizes_of() {
  if [ -n "$SIZES" ]; then echo "$SIZES"; return; fi
  case "$1" in
    nat-rules | expectations) echo "2000 4000 8000 16000" ;;
    nacl-rules | nacl-blocked-reply | nacl-scattered) echo "1000 2000 4000 8000" ;;
    sg-per-instance) echo "1250 2500 5000 10000" ;;
    vpcs-on-tgw) echo "50 100 200 400" ;;
    dx-sites) echo "500 1000 2000 4000" ;;
    prefixes) echo "125000 250000 500000 1000000" ;;
    *) echo "125 250 500 1000" ;;
  esac
}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cargo build --release --quiet --example gen
cargo build --release --quiet
bin=target/release/netproof

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
# Axes have their own sizes, so each row says them.
echo '| axis | sizes | times | exponent |'
echo '|---|---|---|---:|'
for shape in $SHAPES; do
  printf '| %s | %s |' "$shape" "$(sizes_of "$shape" | sed 's/ /, /g')"
  points=""
  cells=()
  for n in $(sizes_of "$shape"); do
    file="$dir/$shape-$n.np"
    target/release/examples/gen "$shape" "$n" > "$file"
    times=()
    for _ in $(seq "$RUNS"); do
      out=$( { /usr/bin/time -f "%e" timeout "$TIMEOUT" "$bin" check --fail-on error "$file" > /dev/null || { [ $? = 124 ] && echo "timeout"; } || true; } 2>&1 | tail -1)
      times+=("$out")
    done
    if printf '%s\n' "${times[@]}" | grep -q timeout; then
      cells+=("timeout")
    else
      t=$(printf '%s\n' "${times[@]}" | median)
      cells+=("$t s")
      points="$points $n:$t"
    fi
  done
  printf ' %s |' "$(IFS=,; echo "${cells[*]}" | sed 's/,/, /g')"
  # Least squares of log(t) on log(n); times under 10 ms are too coarse
  # for /usr/bin/time to fit and are left out.
  k=$(echo "$points" | tr ' ' '\n' | awk -F: 'NF == 2 && $2 >= 0.01 {x = log($1); y = log($2); n++; sx += x; sy += y; sxx += x * x; sxy += x * y}
    END { d = n * sxx - sx * sx; if (n >= 2 && d != 0) printf "%.2f", (n * sxy - sx * sy) / d; else printf "-" }')
  echo " $k |"
done
echo
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
