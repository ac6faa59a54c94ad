#!/bin/sh
# Conformance: every log in tests/data/expectations.tsv ingests without error
# and its JSON report agrees with what the log shows (the table, read by
# eye). For the bundled samples it also compares the report step by step
# with an independent reading of the log by awk (tests/log-oracle.awk).
# Usage: tests/conformance.sh BINARY
set -u
bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 2
export LC_ALL=C TZ=UTC
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT INT TERM
pass=0 fail=0
check() { # check WHAT GOT WANT
    if [ "$2" = "$3" ]; then pass=$((pass + 1)); else
        fail=$((fail + 1)); echo "FAIL $file: $1 is '$2', expected '$3'"; fi
}
tab=$(printf '\t')
grep -v '^#' tests/data/expectations.tsv | while IFS="$tab" read -r file format status steps cached failed error image; do
    db=$tmp/$(basename "$file").db
    if ! "$bin" --db "$db" ingest "$file" >"$tmp/out" 2>&1; then
        echo "FAIL $file: ingest failed: $(cat "$tmp/out")"; echo F >>"$tmp/tally"; continue
    fi
    "$bin" --db "$db" report --format json >"$tmp/r.json"
    got=$(jq -r '.builds | length' "$tmp/r.json"); check builds "$got" 1
    got=$(jq -r '.builds[0] | [.format, .status, .steps_total, .steps_cached,
        (.failed_step.vertex // "-"), (.image.ref // "-")] | @tsv' "$tmp/r.json")
    check "format/status/steps/cached/failed/image" "$got" \
        "$format$tab$status$tab$steps$tab$cached$tab$failed$tab$image"
    if [ "$error" != - ]; then
        got=$(jq -r --arg e "$error" '.builds[0].error // "" | contains($e)' "$tmp/r.json")
        check "error contains '$error'" "$got" true
    else
        got=$(jq -r '.builds[0].error // "-"' "$tmp/r.json"); check error "$got" -
    fi
    case $file in samples/logs/buildkit-*|samples/logs/legacy-*)
        awk -f tests/log-oracle.awk "$file" >"$tmp/want"
        jq -r '.builds[0].steps[] | select(.kind == "step" or .kind == "from")
            | [.index, .count, (.stage // "-"), .text, .status,
               (if .duration_s == null then "-" else (.duration_s * 10 | round | tostring) end)] | @tsv' \
            "$tmp/r.json" | sort >"$tmp/got"
        sort -o "$tmp/want" "$tmp/want"
        if cmp -s "$tmp/got" "$tmp/want"; then pass=$((pass + 1)); else
            fail=$((fail + 1)); echo "FAIL $file: steps differ from the log (oracle < > report):"
            diff "$tmp/want" "$tmp/got" | head -20; fi
    esac
    echo "$pass $fail" >>"$tmp/tally"
    pass=0 fail=0
done
# rawjson streams constructed from the samples (tests/data/rawjson/make-rawjson.py)
# must give the same steps as the real plain log of the same build
for j in tests/data/rawjson/buildkit-*.jsonl; do
    file=$j
    plain=samples/logs/$(basename "$j" .jsonl).log
    for src in "$j" "$plain"; do
        rm -f "$tmp/x.db"
        "$bin" --db "$tmp/x.db" ingest "$src" >/dev/null 2>&1
        "$bin" --db "$tmp/x.db" report --format json | jq -c '[.builds[0].status, .builds[0].steps_total,
            .builds[0].steps_cached, ([.builds[0].steps[] | [.kind, .stage, .index, .text, .cached, .status,
            (if .status != "done" or .duration_s == null then null else (.duration_s * 10 | round) end), .output_lines]] | sort)]'
    done >"$tmp/pair"
    if [ "$(sed -n 1p "$tmp/pair")" = "$(sed -n 2p "$tmp/pair")" ] && [ -s "$tmp/pair" ]; then
        echo "1 0" >>"$tmp/tally"
    else
        echo "FAIL $j: differs from $plain:"; cat "$tmp/pair" | cut -c1-400; echo "0 1" >>"$tmp/tally"
    fi
done
# the loop ran in a subshell: add up its tallies
p=0 f=0
while read -r a b; do
    if [ "$a" = F ]; then f=$((f + 1)); else p=$((p + a)); f=$((f + b)); fi
done <"$tmp/tally"
echo "conformance: $p passed, $f failed"
[ "$f" -eq 0 ]
