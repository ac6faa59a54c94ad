#!/bin/sh
# Integration: compare over sides large enough that AFTER loads on a second
# thread beside BEFORE (from 2,000 builds on, cli/compare.c): 2,600 v 2,600
# generated BuildKit builds (tests/bench/gen.py, from the real samples).
# Each side's build count and median, and every step row's medians, must be
# what Python computes from the same rows in SQLite, with the analyzer's
# definitions (a build's time is the sum of its timed steps when it has no
# wall clock; quantiles interpolate between order statistics).
# Usage: tests/integration/compare-many.sh BINARY
set -u
bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
root=$(cd "$(dirname "$0")/../.." && pwd)
. "$(dirname "$0")/lib/common.sh"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT INT TERM

ingest_generated 5200 "$tmp/t.db"
"$bin" --db "$tmp/t.db" compare --format json 1..2600 2601..5200 >"$tmp/c.json" 2>"$tmp/c.err"
check "compare exit" "$?:$(cat "$tmp/c.err")" "0:"
"$bin" --db "$tmp/t.db" compare 1..2600 2601..5200 >"$tmp/c.txt" 2>&1
check "compare as text exit" $? 0

python3 - "$tmp/t.db" "$tmp/c.json" >"$tmp/oracle" <<'PY'
import json, math, sqlite3, sys

db = sqlite3.connect(sys.argv[1])
got = json.load(open(sys.argv[2]))

def quantile(v, p=0.5):
    v = sorted(v)
    pos = p * (len(v) - 1)
    i = math.floor(pos)
    return v[i] + (pos - i) * (v[i + 1] - v[i]) if i + 1 < len(v) else v[i]

def side(lo, hi):
    steps, builds = {}, {}
    for b, stage, text, d in db.execute(
            "SELECT build_id, stage, text, duration_s FROM step WHERE kind = 'step'"
            " AND build_id BETWEEN ? AND ? ORDER BY build_id, seq", (lo, hi)):
        durations = steps.setdefault((stage, text), [])
        if d is not None:
            durations.append(d)
            builds[b] = builds.get(b, 0.0) + d
    return steps, list(builds.values())

sides = [side(1, 2600), side(2601, 5200)]
bad = 0
for name, (steps, times) in zip(('before', 'after'), sides):
    if got[name]['n'] != len(times) or abs(got[name]['median_s'] - quantile(times)) > 1e-6:
        bad += 1
        print('%s: n %s median %s, want %d %.6f' % (name, got[name]['n'], got[name]['median_s'],
                                                   len(times), quantile(times)))
rows = {(r['stage'], r['text']): r for r in got['steps']}
keys = set(sides[0][0]) | set(sides[1][0])
if set(rows) != keys:
    bad += 1
    print('rows: %d, want %d keys' % (len(rows), len(keys)))
for key in keys & set(rows):
    for k, field in enumerate(('before_median_s', 'after_median_s')):
        v = sides[k][0].get(key)
        want = quantile(v) if v else None
        have = rows[key][field]
        if (want is None) != (have is None) or (want is not None and abs(have - want) > 1e-6):
            bad += 1
            if bad < 10:
                print('%s %s: %s, want %s' % (key, field, have, want))
print('rows %d, paired %d, mismatches %d' % (len(rows), sum(r['change'] == 'paired' for r in got['steps']), bad))
PY
check "the oracle ran" $? 0
cat "$tmp/oracle" | grep -v '^rows ' | head -12
check "sides and every step row as computed from SQLite" "$(sed -n 's/.*mismatches //p' "$tmp/oracle")" 0
check "thousands of step rows compared" "$(sed -n 's/^rows \([0-9]*\),.*/\1/p' "$tmp/oracle" | awk '{ print ($1 > 10000) }')" 1
check "the text output counts the same builds" \
    "$(awk 'NR <= 2 { printf "%s ", $3 }' "$tmp/c.txt")" \
    "$(jq -r '"\(.before.n) \(.after.n) "' "$tmp/c.json")"
echo "compare-many: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
