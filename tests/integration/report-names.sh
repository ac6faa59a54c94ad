#!/bin/sh
# Integration: the report's pricing of cache hits when builds share names,
# as a CI history's do. A report of every build over few names reads all
# their uncached histories in one pass (preload_histories in cli/report.c),
# from 2,000 builds on in two halves, the later one on a second thread; a
# report with selectors reads each name's on first need. 2,400 generated
# BuildKit builds (tests/bench/gen.py, from the real samples) under 12
# names, one of them built once: each build's seconds saved must be what
# Python computes from the same rows in SQLite (the median uncached time of
# each cached step in builds of its name), and both ways must print the same
# report, byte for byte. Over 301 names (past the 256 kept) only the second
# way runs, and must agree with itself selected both ways too. (gen.py
# takes each build's template from its number modulo 4: 11 and 301 names,
# both odd, give each name builds of every template, cached steps among
# them with uncached runs to price them by.)
# Usage: tests/integration/report-names.sh BINARY
set -u
bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
root=$(cd "$(dirname "$0")/../.." && pwd)
. "$(dirname "$0")/lib/common.sh"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT INT TERM

ingest_generated 2400 "$tmp/t.db"
cp "$tmp/t.db" "$tmp/many.db"
sqlite3 "$tmp/many.db" "UPDATE build SET name = 'app' || (id % 301)"
sqlite3 "$tmp/t.db" "UPDATE build SET name = CASE WHEN id = 1300 THEN 'once' ELSE 'app' || (id % 11) END"
check "12 names" "$(sqlite3 "$tmp/t.db" 'SELECT count(DISTINCT name) FROM build')" 12

"$bin" --db "$tmp/t.db" report --format json >"$tmp/all.json" 2>"$tmp/all.err"
check "report exit" "$?:$(cat "$tmp/all.err")" "0:"
python3 - "$tmp/t.db" "$tmp/all.json" >"$tmp/oracle" <<'PY'
import json, math, sqlite3, sys

db = sqlite3.connect(sys.argv[1])
got = {b['id']: b for b in json.load(open(sys.argv[2]))['builds']}

def median(v):
    v = sorted(v)
    pos = 0.5 * (len(v) - 1)
    i = math.floor(pos)
    return v[i] + (pos - i) * (v[i + 1] - v[i]) if i + 1 < len(v) else v[i]

history = {}
for name, stage, text, d in db.execute(
        "SELECT b.name, s.stage, s.text, s.duration_s FROM step s JOIN build b ON b.id = s.build_id"
        " WHERE s.kind = 'step' AND s.cached = 0 AND s.status = 'done' AND s.duration_s IS NOT NULL"):
    history.setdefault((name, stage, text), []).append(d)
want = {}
for bid, name, stage, text in db.execute(
        "SELECT b.id, b.name, s.stage, s.text FROM step s JOIN build b ON b.id = s.build_id"
        " WHERE s.kind = 'step' AND s.cached = 1 ORDER BY b.id, s.seq"):
    runs = history.get((name, stage, text))
    if runs:
        want[bid] = want.get(bid, 0.0) + median(runs)
bad = priced = 0
for bid, b in got.items():
    have, w = b['seconds_saved'], want.get(bid)
    priced += w is not None
    if (have is None) != (w is None) or (w is not None and abs(have - w) > 1e-6):
        bad += 1
        if bad < 10:
            print('build %d: %s, want %s' % (bid, have, w))
print('builds %d, priced %d, mismatches %d' % (len(got), priced, bad))
PY
check "the oracle ran" $? 0
grep -v '^builds ' "$tmp/oracle" | head -10
check "each build's seconds saved as computed from SQLite" "$(sed -n 's/.*mismatches //p' "$tmp/oracle")" 0
check "most builds priced" "$(sed -n 's/.*priced \([0-9]*\),.*/\1/p' "$tmp/oracle" | awk '{ print ($1 > 1600) }')" 1

# the same builds selected, so each name's history is read on first need
"$bin" --db "$tmp/t.db" report >"$tmp/all.txt" 2>&1
"$bin" --db "$tmp/t.db" report 1..2400 >"$tmp/sel.txt" 2>&1
check "text report, every build and a selection of all: the same" \
    "$(cmp -s "$tmp/all.txt" "$tmp/sel.txt" && echo same)" same
check "it prices cache hits" "$(grep -c '  cache       saved ~' "$tmp/all.txt" | awk '{ print ($1 > 1600) }')" 1
"$bin" --db "$tmp/t.db" report --format json 1..2400 >"$tmp/sel.json" 2>&1
check "JSON report, both ways: the same" "$(cmp -s "$tmp/all.json" "$tmp/sel.json" && echo same)" same

"$bin" --db "$tmp/many.db" report >"$tmp/many-all.txt" 2>&1
"$bin" --db "$tmp/many.db" report 1..2400 >"$tmp/many-sel.txt" 2>&1
check "301 names: both ways the same" "$(cmp -s "$tmp/many-all.txt" "$tmp/many-sel.txt" && echo same)" same
check "301 names: it prices cache hits" \
    "$(grep -c '  cache       saved ~' "$tmp/many-all.txt" | awk '{ print ($1 > 1600) }')" 1
echo "report-names: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
