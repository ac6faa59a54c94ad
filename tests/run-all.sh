#!/bin/sh
# The whole suite, for the normal build and again for the ASan+UBSan build:
# unit tests, golden CLI cases, corpus conformance, integration tests; then
# ThreadSanitizer over the second threads (tests/tsan.sh). Ends
# with the total "N passed, N failed" line. Run by `make test`.
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 2
export LC_ALL=C TZ=UTC
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=86
export LSAN_OPTIONS=suppressions=$root/tests/lsan.supp:print_suppressions=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
total_pass=0 total_fail=0 total_skip=0
log=$(mktemp); trap 'rm -f "$log"' EXIT

tally() { # tally SUITE: read the suite's "N passed, M failed[, K skipped]" line from $log
    line=$(grep -E '^[a-z-]+: [0-9]+ passed, [0-9]+ failed' "$log" | tail -1)
    if [ -z "$line" ]; then
        echo "$1: no result line (crashed?)"; tail -20 "$log"; total_fail=$((total_fail + 1)); return
    fi
    p=$(echo "$line" | sed -E 's/.*: ([0-9]+) passed.*/\1/')
    f=$(echo "$line" | sed -E 's/.* ([0-9]+) failed.*/\1/')
    s=$(echo "$line" | sed -nE 's/.* ([0-9]+) skipped.*/\1/p')
    total_pass=$((total_pass + p)); total_fail=$((total_fail + f)); total_skip=$((total_skip + ${s:-0}))
    echo "$1 ($2): $p passed, $f failed${s:+, $s skipped}"
    [ "$f" -eq 0 ] || grep -v -E '^[a-z-]+: [0-9]+ passed' "$log" | head -60
}

for build in build build-asan; do
    bin=$build/buildprof
    [ -x "$bin" ] || { echo "missing $bin: run make test"; exit 2; }
    "$build/unit-tests" >"$log" 2>&1; tally unit "$build"
    sh tests/run-cases.sh "$bin" >"$log" 2>&1; tally cases "$build"
    sh tests/conformance.sh "$bin" >"$log" 2>&1; tally conformance "$build"
    for t in collector http selector json; do # kept fuzz findings and hostile seeds
        "$build/fuzz-replay-$t" tests/fuzz/regressions/$t/* >"$log" 2>&1; tally "fuzz-$t" "$build"
    done
    # the JSON reader against jansson on every real document too
    "$build/fuzz-replay-json" tests/data/corpus/*/*.json >"$log" 2>&1; tally "fuzz-json-corpus" "$build"
    # memcheck once, on the plain build (ASan's build has its own checker)
    if [ "$build" = build ]; then
        sh tests/valgrind.sh "$bin" >"$log" 2>&1; tally valgrind "$build"
    fi
    for t in tests/integration/*.sh; do
        [ -f "$t" ] || continue
        sh "$t" "$bin" >"$log" 2>&1; tally "$(basename "$t" .sh)" "$build"
    done
done
# ThreadSanitizer over the second threads (its build: make test)
[ -x build-tsan/buildprof ] || { echo "missing build-tsan/buildprof: run make test"; exit 2; }
sh tests/tsan.sh build-tsan build/buildprof >"$log" 2>&1; tally tsan build-tsan
if [ "$total_skip" -gt 0 ]; then
    echo "$total_pass passed, $total_fail failed, $total_skip skipped"
else
    echo "$total_pass passed, $total_fail failed"
fi
[ "$total_fail" -eq 0 ]
