#!/bin/sh
# valgrind memcheck over the CLI paths on the bundled samples: every command
# and output format, charts of every kind, the run wrapper and a dry-run post.
# Each must exit as it does natively with no memory errors and no leak in
# buildprof's own code (tests/valgrind.supp names the third-party ones).
# Usage: tests/valgrind.sh BINARY
set -u
bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
root=$(cd "$(dirname "$0")/.." && pwd)
pass=0 fail=0
command -v valgrind >/dev/null 2>&1 || { echo "valgrind: 0 passed, 1 failed (valgrind missing: make test-deps)"; exit 1; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT INT TERM
cd "$root" || exit 2
vg() { # vg NAME WANT_EXIT ARGS...: one CLI path under memcheck
    name=$1 want=$2; shift 2
    valgrind -q --error-exitcode=99 --leak-check=full --show-leak-kinds=definite,indirect \
        --errors-for-leak-kinds=definite,indirect --suppressions="$root/tests/valgrind.supp" \
        "$bin" --db "$tmp/t.db" "$@" >"$tmp/out" 2>"$tmp/err"
    got=$?
    if [ "$got" = "$want" ]; then pass=$((pass + 1)); else
        fail=$((fail + 1)); echo "FAIL $name: exit $got, want $want"; head -30 "$tmp/err"; fi
}
vg "ingest logs" 0 ingest --label kind=sample samples/logs/buildkit-cold.log samples/logs/buildkit-warm.log \
    samples/logs/legacy-cold.log samples/logs/buildah-cold.log samples/logs/buildkit-src-change.log
vg "ingest images" 0 ingest samples/images/legacy-cold-inspect.json samples/images/legacy-cold-history.jsonl \
    samples/images/legacy-cold-manifest.json
vg "ingest rawjson and CI JSON" 0 ingest tests/data/rawjson/buildkit-cold.jsonl \
    tests/data/corpus/gitlab-jobs/go-gitlab-webhook-pipeline-event.json
vg "ingest a failed and a bad input" 1 ingest samples/logs/buildkit-failed.log tests/valgrind.supp
vg "builds" 0 builds --format json
for f in text json markdown html; do vg "report $f" 0 report --format $f -o "$tmp/r.$f"; done
vg "report --by base" 0 report --by base
vg "compare" 0 compare 1 5
for k in steps cache trend sizes; do vg "plot $k" 0 plot $k -o "$tmp/$k.png"; done
vg "plot timeline" 0 plot timeline name:buildkit-cold -o "$tmp/timeline.svg"
vg "plot compare" 0 plot compare 1 5 -o "$tmp/compare.svg"
vg "plot pipeline" 0 plot pipeline 31 -o "$tmp/pipeline.svg"
vg "pipelines" 0 pipelines --format json
vg "images" 0 images
vg "post --dry-run" 0 post --to webhook http://127.0.0.1:9/hook --dry-run
vg "fetch registry, refused (libcurl loaded, retried)" 1 fetch registry --plain-http 127.0.0.1:9/app:1
vg "run" 0 run --name wrapped -- cat samples/logs/buildkit-src-change.log
echo "valgrind: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
