#!/usr/bin/env python3
"""The overlap question of NP103 and NP105, answered with pytricia, for the
comparison issue 12 asks for: `netproof check` on the overlap design against
a short program built on a C radix tree, both timed as whole processes,
reading and parsing included.

A benchmark, not a test: it needs `pip install pytricia` (a virtualenv is
enough), which CI does not install.

    python3 -m venv /tmp/venv && /tmp/venv/bin/pip install pytricia
    target/release/examples/gen prefixes 1000000 > /tmp/p.np
    /usr/bin/time -f "%e s %U user %M KB" /tmp/venv/bin/python scripts/bench-pytricia.py /tmp/p.np
    /usr/bin/time -f "%e s %U user %M KB" target/release/netproof check /tmp/p.np

The script reads what the generated design holds (`gen prefixes N`, from
`netproof::gen::generate_prefixes`): sites (`sddc`, `onprem`, `vpc`) with
`segment` and `subnet` lines, and the links that exchange routes between
them (`direct-connect`, `vpn`, `peering`, `connected-vpc`). It is a regex
per line, not the `.np` grammar: enough for that design, not a checker.

It asks what the two rules ask:
- NP103: within one site, does a prefix overlap another (equal to it,
  inside it, or around it)?
- NP105: within a group of sites that exchange routes, does a prefix of one
  site overlap a prefix of another site?

Each prefix is looked up before it is inserted (is it covered by, or equal
to, one already there?) and, once inserted, asked for children (does it
cover one already there?), so that every overlapping pair is seen once.
It prints the number of overlaps of each kind (0 on the generated design).
"""

import re
import sys

import pytricia

SITE = re.compile(r"^(sddc|onprem|vpc|vm-network)\s+([A-Za-z0-9_-]+)")
PREFIX = re.compile(r"^\s+(?:segment|subnet)\s+\S+\s+([0-9a-fA-F.:]+/\d+)")
LINK = re.compile(
    r"^(?:direct-connect|vpn|peering)\s+\S+\s+([A-Za-z0-9_-]+)\s+<->\s+([A-Za-z0-9_-]+)"
)
CONNECTED = re.compile(r"^\s+connected-vpc\s+([A-Za-z0-9_-]+)")


def read(path):
    """Each site's prefixes, in order, and the pairs of linked sites."""
    sites = {}
    links = []
    current = None
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.startswith(" "):
                if current is None:
                    continue
                m = PREFIX.match(line)
                if m:
                    sites[current].append(m.group(1))
                    continue
                m = CONNECTED.match(line)
                if m:
                    links.append((current, m.group(1)))
                continue
            m = SITE.match(line)
            if m:
                current = m.group(2)
                sites.setdefault(current, [])
                continue
            current = None
            m = LINK.match(line)
            if m:
                links.append((m.group(1), m.group(2)))
    return sites, links


def groups(sites, links):
    """The groups of sites joined by links (union-find)."""
    parent = {s: s for s in sites}

    def find(s):
        while parent[s] != s:
            parent[s] = parent[parent[s]]
            s = parent[s]
        return s

    for a, b in links:
        if a in parent and b in parent:
            parent[find(a)] = find(b)
    out = {}
    for s in sites:
        out.setdefault(find(s), []).append(s)
    return [g for g in out.values() if len(g) > 1]


def within_site(prefixes):
    """NP103's question for one site: how many prefixes overlap an earlier one."""
    tree = pytricia.PyTricia(128)
    overlaps = 0
    for p in prefixes:
        if p in tree:
            overlaps += 1
            continue
        tree[p] = True
        if tree.children(p):
            overlaps += 1
    return overlaps


def across_sites(sites, group):
    """NP105's question for one group: prefixes overlapping another site's."""
    tree = pytricia.PyTricia(128)
    overlaps = 0
    for site in group:
        for p in sites[site]:
            covering = tree.get_key(p)
            other = False
            while covering is not None:
                if tree[covering] != site:
                    other = True
                    break
                covering = tree.parent(covering)
            if not other and not tree.has_key(p):
                tree[p] = site
                other = any(tree[c] != site for c in tree.children(p))
            if other:
                overlaps += 1
    return overlaps


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: bench-pytricia.py DESIGN.np")
    sites, links = read(sys.argv[1])
    np103 = sum(within_site(prefixes) for prefixes in sites.values())
    np105 = sum(across_sites(sites, g) for g in groups(sites, links))
    count = sum(len(p) for p in sites.values())
    print(f"{count} prefixes in {len(sites)} sites: {np103} overlaps within a site, "
          f"{np105} across linked sites")


if __name__ == "__main__":
    main()
