#!/bin/sh
# Seeds each fuzz target's corpus in DIR (build-fuzz) from the real inputs:
# build logs and API JSON for the collector, the corpus's JSON documents
# for the JSON reader, recorded response headers and selectors for the
# others, plus the kept regressions of each.
# Usage: tests/fuzz/seed.sh DIR
set -eu
dir=$1
root=$(cd "$(dirname "$0")/../.." && pwd)
for t in collector http selector json; do
    mkdir -p "$dir/corpus-$t"
    cp -n "$root/tests/fuzz/regressions/$t/"* "$dir/corpus-$t/" 2>/dev/null || true
done
cp -n "$root"/samples/logs/*.log "$root"/tests/data/corpus/*/* "$dir/corpus-collector/" 2>/dev/null || true
cp -n "$root"/tests/data/corpus/*/*.json "$dir/corpus-json/" 2>/dev/null || true
