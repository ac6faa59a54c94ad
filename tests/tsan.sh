#!/bin/sh
# ThreadSanitizer over the places buildprof runs a second thread: ingest
# of many inputs parses them on one (collector/ahead.c), report reads its
# builds on one with its own connection (cli_each_build_ahead; both through
# common/handoff.c) and, over few names, their histories in two halves at
# once (cli/report.c), and compare loads its two sides at once when they
# are large (cli/compare.c). Runs the unit tests (the
# queue's own cover order, failures, a full queue and an early stop), an
# ingest of every bundled sample and corpus file, and the reports (and
# the one-thread commands beside them) over what it stored,
# built with -fsanitize=thread; a race report fails the check (exit 66).
# Each must print what the plain build does.
# Usage: tests/tsan.sh TSAN_BUILD_DIR PLAIN_BINARY
set -u
tsan=$1
plain=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
export TSAN_OPTIONS="halt_on_error=1:exitcode=66:second_deadlock_stack=1"
pass=0 fail=0
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT INT TERM

check() { # check WHAT GOT WANT
    if [ "$2" = "$3" ]; then pass=$((pass + 1)); else
        fail=$((fail + 1)); echo "FAIL: $1: got '$2', want '$3'"; fi
}

"$tsan/unit-tests" >"$tmp/unit" 2>&1
check "unit tests under TSan (exit)" $? 0
grep -q "ThreadSanitizer" "$tmp/unit" && { echo "FAIL: TSan report in unit tests"; sed -n 1,40p "$tmp/unit"; fail=$((fail + 1)); }

# every input twice, so the second half meets "already ingested" and the
# parser runs well ahead of the store; some corpus files are refused
set -- samples/logs/*.log samples/images/* $(find tests/data/corpus -type f ! -name PROVENANCE.md | sort)
check "inputs found" "$(test $# -gt 40 && echo yes)" yes
"$tsan/buildprof" --db "$tmp/t.db" ingest "$@" "$@" >"$tmp/t.out" 2>&1
tsan_rc=$?
"$plain" --db "$tmp/p.db" ingest "$@" "$@" >"$tmp/p.out" 2>&1
plain_rc=$?
check "ingest exit under TSan matches the plain build's" $tsan_rc $plain_rc
grep -q "ThreadSanitizer" "$tmp/t.out" && { echo "FAIL: TSan report in ingest"; sed -n 1,60p "$tmp/t.out"; fail=$((fail + 1)); }
cmp -s "$tmp/t.out" "$tmp/p.out"
check "ingest output the same" $? 0
check "builds stored" "$(grep -c '^build ' "$tmp/t.out")" "$(grep -c '^build ' "$tmp/p.out")"
"$plain" --db "$tmp/t.db" builds --format json >"$tmp/t.json" 2>&1
"$plain" --db "$tmp/p.db" builds --format json >"$tmp/p.json" 2>&1
cmp -s "$tmp/t.json" "$tmp/p.json"
check "stored builds the same" $? 0
"$plain" --db "$tmp/t.db" pipelines --format json >"$tmp/t.json" 2>&1
"$plain" --db "$tmp/p.db" pipelines --format json >"$tmp/p.json" 2>&1
cmp -s "$tmp/t.json" "$tmp/p.json"
check "stored pipelines the same" $? 0
# the reading commands, over the database the TSan ingest wrote
for c in "report" "report --format json --by base" "report --format markdown last:5" \
	 "compare format:legacy format:buildkit" "builds" "plot steps -o $tmp/OUT.svg" "plot cache -o $tmp/OUT.svg"; do
	# shellcheck disable=SC2086 # the words of $c are the command's
	"$tsan/buildprof" --db "$tmp/t.db" $(echo "$c" | sed "s|OUT|t|") >"$tmp/t.out" 2>&1
	tsan_rc=$?
	# shellcheck disable=SC2086
	"$plain" --db "$tmp/t.db" $(echo "$c" | sed "s|OUT|p|") >"$tmp/p.out" 2>&1
	check "$c: exit under TSan matches the plain build's" $tsan_rc $?
	grep -q "ThreadSanitizer" "$tmp/t.out" && { echo "FAIL: TSan report in $c"; sed -n 1,60p "$tmp/t.out"; fail=$((fail + 1)); }
	sed -i "s|$tmp/t\.svg|OUT|" "$tmp/t.out"
	sed -i "s|$tmp/p\.svg|OUT|" "$tmp/p.out"
	cmp -s "$tmp/t.out" "$tmp/p.out"
	check "$c: output the same" $? 0
	case $c in plot*) cmp -s "$tmp/t.svg" "$tmp/p.svg"; check "$c: the same chart" $? 0 ;; esac
done
# compare loads AFTER on a second thread once BEFORE passes 2,000 builds
python3 tests/bench/gen.py builds "$tmp/many" 4400 >/dev/null
(cd "$tmp/many" && ls | xargs "$plain" --db "$tmp/many.db" ingest >/dev/null 2>&1)
check "4,400 generated builds ingested" "$(sqlite3 "$tmp/many.db" 'SELECT count(*) FROM build')" 4400
"$tsan/buildprof" --db "$tmp/many.db" compare --format json 1..2200 2201..4400 >"$tmp/t.out" 2>&1
tsan_rc=$?
"$plain" --db "$tmp/many.db" compare --format json 1..2200 2201..4400 >"$tmp/p.out" 2>&1
check "compare of 2,200 v 2,200: exit under TSan matches the plain build's" "$tsan_rc" $?
grep -q "ThreadSanitizer" "$tmp/t.out" && { echo "FAIL: TSan report in compare"; sed -n 1,60p "$tmp/t.out"; fail=$((fail + 1)); }
cmp -s "$tmp/t.out" "$tmp/p.out"
check "compare of 2,200 v 2,200: output the same" $? 0
# a report of every build under few names reads their histories in two
# halves at once, from 2,000 builds on (preload_histories, cli/report.c)
sqlite3 "$tmp/many.db" "UPDATE build SET name = 'app' || (id % 11)"
"$tsan/buildprof" --db "$tmp/many.db" report >"$tmp/t.out" 2>&1
tsan_rc=$?
"$plain" --db "$tmp/many.db" report >"$tmp/p.out" 2>&1
check "report of 4,400 builds under 11 names: exit under TSan matches the plain build's" "$tsan_rc" $?
grep -q "ThreadSanitizer" "$tmp/t.out" && { echo "FAIL: TSan report in report"; sed -n 1,60p "$tmp/t.out"; fail=$((fail + 1)); }
cmp -s "$tmp/t.out" "$tmp/p.out"
check "report of 4,400 builds under 11 names: output the same" $? 0
echo "tsan: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
