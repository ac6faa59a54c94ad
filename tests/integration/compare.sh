#!/bin/sh
# Integration: `buildprof compare` on real builds. Six cold builds (each with
# a busybox unique to it, so nothing is cached) against six warm rebuilds of
# the last one, all through `buildprof run` on the real engine: the warm side
# must be significantly faster (Mann-Whitney U, exact p = 0.0022 when every
# cold build is slower than every warm one), with finite 95% intervals; the
# reverse comparison with --fail-on-regression must exit 3.
# Usage: tests/integration/compare.sh BINARY
set -u
bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
docker=${DOCKER:-/usr/bin/docker}
. "$(dirname "$0")/lib/common.sh"
need_docker compare
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT INT TERM
mkdir -p "$tmp/ctx"
printf 'FROM scratch\nCOPY busybox /bin/busybox\nRUN ["/bin/busybox", "sleep", "1"]\nRUN ["/bin/busybox", "true"]\n' >"$tmp/ctx/Dockerfile"
tag=buildprof-cmp-$$
for i in 1 2 3 4 5 6; do
    cp /bin/busybox "$tmp/ctx/busybox"; echo "cold $$ $i $(date +%s%N)" >>"$tmp/ctx/busybox"
    DOCKER_BUILDKIT=1 "$bin" --db "$tmp/t.db" run --label kind=cold -- \
        "$docker" build --progress=plain -t "$tag" "$tmp/ctx" >/dev/null 2>&1
done
for i in 1 2 3 4 5 6; do
    DOCKER_BUILDKIT=1 "$bin" --db "$tmp/t.db" run --label kind=warm -- \
        "$docker" build --progress=plain -t "$tag" "$tmp/ctx" >/dev/null 2>&1
done
got=$("$bin" --db "$tmp/t.db" builds --format json | jq -r '[.builds[] | select(.labels.kind == "warm") | .steps_cached == .steps_total] | all')
check "the warm builds are fully cached" "$got" true
"$bin" --db "$tmp/t.db" compare --format json label:kind=cold label:kind=warm >"$tmp/c.json"
check "compare exit" $? 0
got=$(jq -r '[.metric, .before.n, .after.n, .significant, (.p_value < 0.01), (.speedup > 1.5),
              (.before.ci | length), (.after.ci | length)] | @tsv' "$tmp/c.json")
check "6 vs 6: significant speedup with intervals" "$got" "wall_s	6	6	true	true	true	2	2"
got=$(jq -r '.steps[] | select(.text | contains("sleep")) | [.change, (.before_median_s >= 0.9)] | @tsv' "$tmp/c.json")
check "the sleeping step paired, ~1 s before" "$got" "paired	true"
got=$(jq -c '.steps[] | select(.text | contains("sleep")) | [(.before_ci_s | length), .after_ci_s[0], .significant]' "$tmp/c.json")
check "per step: an interval before (6 runs), none after (cached), no test" "$got" "[2,null,null]"
"$bin" --db "$tmp/t.db" plot compare label:kind=cold label:kind=warm -o "$tmp/c.svg" >/dev/null
check "plot compare exit" $? 0
xmllint --noout "$tmp/c.svg"; check "the compare chart is well-formed SVG" $? 0
got=$(grep -o '>[^<]*</text>' "$tmp/c.svg" | sed 's/^>//; s/<.*//' | grep -E '^(whole build|[0-9.]+x faster|not timed after)' | sort -u | sed 's/^[0-9.]*x/Nx/' | tr '\n' '|')
check "the chart: the whole build significantly faster, the cached step not timed after" "$got" "Nx faster|not timed after (cached?)|whole build (wall clock)|"
"$bin" --db "$tmp/t.db" compare --fail-on-regression 20 label:kind=warm label:kind=cold >"$tmp/out" 2>&1
check "a significant regression beyond 20% exits 3" $? 3
grep -q "AFTER is .*% slower than BEFORE" "$tmp/out"; check "and says by how much" $? 0
"$bin" --db "$tmp/t.db" compare --fail-on-regression 20 label:kind=cold label:kind=warm >/dev/null 2>&1
check "an improvement exits 0" $? 0
"$docker" image rm -f "$tag" >/dev/null 2>&1
echo "compare: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
