#!/bin/sh
# Integration: make bench's own parts, so they cannot rot between the runs
# someone makes by hand. tests/bench/table.py on figures whose ratios are
# known: each kind's ratio and target, the JSON it writes, the last run kept
# and set beside the next, and the errors it gives for input it cannot use.
# Then the whole of tests/bench/run.sh at a tiny scale (a few seconds), with
# the BINARY and the bench's references built beside it: every figure it
# promises is there, with a number for buildprof and for the baseline. Time
# is never asserted: the figures of so small a run mean nothing.
# Usage: tests/integration/bench.sh BINARY
set -u
bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
root=$(cd "$(dirname "$0")/../.." && pwd)
. "$(dirname "$0")/lib/common.sh"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT INT TERM
table="python3 $root/tests/bench/table.py"
tab=$(printf '\t')

# figure unit buildprof min max baseline baseline_name kind target
fig() { printf '%s\n' "$*" | sed "s/|/$tab/g"; }
{
    fig "ingest 10 builds (steps/s)|steps/s|300|250|350|600|sqlite3 .import|rate|0.5"
    fig "ingest 10 builds (steps/s)|steps/s|300|250|350|50|peer_ingest.py|rate|3"
    fig "ingest 10 pipelines (s)|s|0.5|0.4|0.6|1|peer_gitlab.sh|speedup|3"
    fig "report over 10 builds (s)|s|2|1|3|0.5|full scan|cost|3"
    fig "peak RSS (MB)|MB|8|||32|limit|ceiling|1"
    fig "fetch every step row (s)|s|1|||0.5|full scan|cost|"
    fig "ingest 10 builds (MB/s)|MB/s|4.5|||||info|"
    fig "plot steps (s)|s|0.1|||0|gnuplot png|cost|1"
    fig "plot trend (s)|s|1|0.5|3|2|gnuplot png|cost|1|0.5 2 0.25"
} >"$tmp/first.tsv"
$table "$tmp/first.tsv" "$tmp/out/b.json" commit=abc1234 sizes=10 >"$tmp/first.out" 2>"$tmp/err"
check "table exit" $? 0
check "table made its directory and the JSON" "$(jq -r .schema "$tmp/out/b.json")" buildprof.bench/1
check "what ran is kept" "$(jq -r '.run.commit + " " + .run.sizes' "$tmp/out/b.json")" "abc1234 10"
check "every figure is kept, in order" "$(jq -r '[.figures[].baseline_name] | join(",")' "$tmp/out/b.json")" \
    "sqlite3 .import,peer_ingest.py,peer_gitlab.sh,full scan,limit,full scan,,gnuplot png,gnuplot png"
# rate: buildprof / baseline, met at or above; speedup: baseline / buildprof
check "rate ratio and met" "$(jq -c '[.figures[0,1] | [.ratio, .met]]' "$tmp/out/b.json")" '[[0.5,true],[6,true]]'
check "speedup ratio and met" "$(jq -c '.figures[2] | [.ratio, .met]' "$tmp/out/b.json")" '[2,false]'
# cost and ceiling: buildprof / baseline, met at or below
check "cost ratio and met" "$(jq -c '.figures[3] | [.ratio, .met]' "$tmp/out/b.json")" '[4,false]'
check "ceiling ratio and met" "$(jq -c '.figures[4] | [.ratio, .met]' "$tmp/out/b.json")" '[0.25,true]'
check "no target: a ratio, nothing to meet" "$(jq -c '.figures[5] | [.ratio, has("met")]' "$tmp/out/b.json")" '[2,false]'
check "info: no ratio" "$(jq -c '.figures[6] | [has("ratio"), .buildprof]' "$tmp/out/b.json")" '[false,4.5]'
check "a baseline of 0: no ratio, not met either" "$(jq -c '.figures[7] | [has("ratio"), has("met")]' "$tmp/out/b.json")" \
    '[false,false]'
# with each turn's ratio: their median, not the ratio of the medians (0.5)
check "turns: the median of their ratios" "$(jq -c '.figures[8] | [.ratio, .met, .turn_ratios]' "$tmp/out/b.json")" \
    '[0.5,true,[0.5,2,0.25]]'
check "table: the speedup row" "$(grep '^ingest 10 pipelines' "$tmp/first.out" | tr -s ' ')" \
    "ingest 10 pipelines (s) 0.5 1 peer_gitlab.sh 2 >= 3 NO"
check "table: the summary" "$(grep '^targets met' "$tmp/first.out")" "targets met: 4 of 6"
check "table: what a ratio of turns is" "$(grep -c '^ratio: the median of its turns' "$tmp/first.out")" 1
check "no last run, no column for it" "$(grep -c 'last run' "$tmp/first.out")" 0
check "nothing kept before a first run" "$(ls "$tmp/out")" b.json

# the next run: the first kept beside it, its ratios shown beside the new
t=$tab
sed -e "s/${t}300${t}250${t}350${t}/${t}200${t}150${t}250${t}/" -e "s/${t}0.5${t}0.4${t}0.6${t}/${t}0.25${t}0.2${t}0.3${t}/" \
    "$tmp/first.tsv" >"$tmp/second.tsv"
cp "$tmp/out/b.json" "$tmp/first.json"
$table "$tmp/second.tsv" "$tmp/out/b.json" commit=def5678 >"$tmp/second.out" 2>"$tmp/err"
check "second table exit" $? 0
check "the last run kept, as it was" "$(cmp "$tmp/first.json" "$tmp/out/b.last.json" && echo same)" same
check "this run written" "$(jq -r .run.commit "$tmp/out/b.json")" def5678
check "the last run's ratio beside this one's" \
    "$(grep '^ingest 10 builds (steps/s).*sqlite3 .import' "$tmp/second.out" | tr -s ' ' | sed 's/.* >= 0.5 //')" \
    "NO 0.5 yes"
check "a figure against its other baseline keeps its own" \
    "$(grep '^ingest 10 builds (steps/s).*peer_ingest' "$tmp/second.out" | tr -s ' ' | sed 's/.* >= 3 //')" "yes 6 yes"
check "targets lost and won are named" "$(sed -n '/^targets met/,$p' "$tmp/second.out" | sed '$d')" \
    "targets met: 4 of 6; last run (abc1234): 4 of these 6
  met now, not in the last run: ingest 10 pipelines (s) against peer_gitlab.sh
  met in the last run, not now: ingest 10 builds (steps/s) against sqlite3 .import"
check "where the last run went" "$(tail -1 "$tmp/second.out")" \
    "written to $tmp/out/b.json (the last run kept as $tmp/out/b.last.json)"
$table --compare "$tmp/first.json" "$tmp/out/b.json" >"$tmp/compare.out" 2>"$tmp/err"
check "--compare exit" $? 0
check "--compare: the same table as the run printed" "$(sed 1d "$tmp/compare.out")" "$(sed '$d' "$tmp/second.out")"

# input it cannot use: a message naming the file (and line), a non-zero exit
printf 'garbage\n' >"$tmp/out/b.json"
$table "$tmp/first.tsv" "$tmp/out/b.json" >/dev/null 2>"$tmp/err"
check "an unreadable last run: still written" "$?:$(jq -c '[.run, (.figures | length)]' "$tmp/out/b.json")" \
    "0:[{},9]"
check "...and it says why the last run is not shown" \
    "$(grep -c "the last run is not shown: .*Expecting value" "$tmp/err")" 1
fig "x|s|1|||2|y|sideways|" >"$tmp/bad.tsv"
$table "$tmp/bad.tsv" "$tmp/bad.json" >/dev/null 2>"$tmp/err"
check "unknown kind exit" $? 1
check "unknown kind message" "$(cat "$tmp/err")" "table.py: $tmp/bad.tsv:1: unknown kind 'sideways'"
check "nothing written for bad figures" "$(test -e "$tmp/bad.json" && echo written)" ""
{ fig "x|s|1|||2|y|cost|"; fig "z|s|1|||2|y|cost"; } >"$tmp/bad.tsv"
$table "$tmp/bad.tsv" "$tmp/bad.json" >/dev/null 2>"$tmp/err"
check "short line" "$?:$(cat "$tmp/err")" "1:table.py: $tmp/bad.tsv:2: 8 fields, not 9 or 10"
fig "x|s|1|||2|y|cost||0.5 fast" >"$tmp/bad.tsv"
$table "$tmp/bad.tsv" "$tmp/bad.json" >/dev/null 2>"$tmp/err"
check "a turn that is not a number" "$?:$(cat "$tmp/err")" "1:table.py: $tmp/bad.tsv:1: not a number: 'fast'"
fig "x|s|fast|||2|y|cost|" >"$tmp/bad.tsv"
$table "$tmp/bad.tsv" "$tmp/bad.json" >/dev/null 2>"$tmp/err"
check "not a number" "$?:$(cat "$tmp/err")" "1:table.py: $tmp/bad.tsv:1: not a number: 'fast'"
{ fig "x|s|1|||2|y|cost|"; fig "x|s|3|||2|y|cost|"; } >"$tmp/bad.tsv"
$table "$tmp/bad.tsv" "$tmp/bad.json" >/dev/null 2>"$tmp/err"
check "the same figure twice" "$?:$(cat "$tmp/err")" \
    "1:table.py: $tmp/bad.tsv:2: 'x' against 'y' again (line 1): a run could not be set beside another"
: >"$tmp/empty.tsv"
$table "$tmp/empty.tsv" "$tmp/bad.json" >/dev/null 2>"$tmp/err"
check "no figures" "$?:$(cat "$tmp/err")" "1:table.py: $tmp/empty.tsv: no figures"
echo '{"figures": [{"figure": "x"}]}' >"$tmp/other.json"
$table --compare "$tmp/other.json" "$tmp/first.json" >/dev/null 2>"$tmp/err"
check "--compare with a file make bench did not write" "$?:$(cat "$tmp/err")" \
    "1:table.py: $tmp/other.json: figure 1 is not one make bench writes"
$table --compare "$tmp/first.json" >/dev/null 2>"$tmp/err"
check "usage" "$?:$(head -1 "$tmp/err")" "2:usage: table.py RESULTS.tsv OUT.json [KEY=VALUE]..."

# the whole bench, tiny: 20 and 40 builds, a 1 MB log, 20 pipelines, one run each
refs=$(dirname "$bin")
BENCH_SIZES="20 40" BENCH_BIG_MB=1 BENCH_PIPELINES=20 BENCH_RUNS=1 BENCH_OUT="$tmp/bench/b.json" \
    bash "$root/tests/bench/run.sh" "$bin" "$refs/bench-read-steps" "$refs/bench-parse-json" \
    "$refs/bench-store-floor" "$refs/bench-parse-logs" >"$tmp/bench.out" 2>"$tmp/bench.err"
check "bench exit" $? 0
[ -s "$tmp/bench/b.json" ] || { echo "bench wrote nothing:"; tail -20 "$tmp/bench.err"; }
for f in "ingest 20 builds (steps/s)|sqlite3 .import, 10 cols" "ingest 40 builds (steps/s)|peer_ingest.py" \
    "ingest 40 builds (step rows/s)|sqlite3 .import, its table" "  store floor, 40 (steps/s)|peer_ingest.py" \
    "ingest 20 GitLab pipelines (s)|peer_gitlab.sh (jq)" "peak RSS, 1 MB log (MB)|limit" \
    "report over 40 builds (s)|sqlite3 full scan of step" "compare 20 v 20 builds (s)|sqlite3 full scan of step" \
    "fetch every step row, 40 builds (s)|sqlite3 full scan of step" \
    "fetch the step fields JSON prints, 40 builds (s)|sqlite3 full scan of step" \
    "fetch the step fields text prints, 40 builds (s)|sqlite3 full scan of step" \
    "report, 40 builds of 20 names (s)|sqlite3 full scan of step" "plot trend, 20 builds (s)|gnuplot png" \
    "plot compare, 20 builds (s)|gnuplot png"; do
    name=${f%|*} base=${f#*|}
    got=$(jq -r --arg f "$name" --arg b "$base" \
        '[.figures[] | select(.figure == $f and .baseline_name == $b)
          | (.buildprof > 0 and .baseline > 0 and .ratio > 0)] | map(tostring) | join(",")' "$tmp/bench/b.json")
    check "bench figure: $name against $base" "$got" true
done
check "every figure with a baseline has its ratio" \
    "$(jq '[.figures[] | select(.kind != "info" and (has("ratio") | not))] | length' "$tmp/bench/b.json")" 0
# one turn each (BENCH_RUNS=1): a ratio per turn, of the jobs beside each other
check "every timed figure has its turn" \
    "$(jq '[.figures[] | select(.kind != "info" and .kind != "ceiling" and (.turn_ratios | length) != 1)] | length' \
    "$tmp/bench/b.json")" 0
check "a rate's turn is its rate against the baseline's" \
    "$(jq '[.figures[] | select(.kind == "rate" and .turn_ratios)
           | (.turn_ratios[0] / (.buildprof / .baseline) - 1) | fabs < 0.001] | all' "$tmp/bench/b.json")" true
check "a cost's turn is its time against the baseline's" \
    "$(jq '[.figures[] | select(.kind == "cost" and .turn_ratios)
           | (.turn_ratios[0] / (.buildprof / .baseline) - 1) | fabs < 0.001] | all' "$tmp/bench/b.json")" true
check "a speedup's turn is the baseline's time against buildprof's" \
    "$(jq '[.figures[] | select(.kind == "speedup" and .turn_ratios)
           | (.turn_ratios[0] / (.baseline / .buildprof) - 1) | fabs < 0.001] | all' "$tmp/bench/b.json")" true
check "the sizes it ran at are kept" "$(jq -r '.run.sizes + "/" + .run.big_mb + "/" + .run.runs' "$tmp/bench/b.json")" \
    "20 40/1/1"
check "bench prints its table" "$(tail -1 "$tmp/bench.out")" "written to $tmp/bench/b.json"
work=$(sed -n 's/^bench: generating inputs in //p' "$tmp/bench.err")
check "the work directory is removed" "$(test -n "$work" && test ! -e "$work" && echo gone)" gone
echo "bench: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
