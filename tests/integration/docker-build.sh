#!/bin/sh
# Integration: real builds of samples/project on a real Docker engine, with
# BuildKit and with the legacy builder, cold then warm, each wrapped in
# `buildprof run`: the changed steps run cold and everything is cached warm,
# every step of the real log is accounted for, the passed-through output
# ingested on its own gives the same steps, and the legacy builder's steps
# (no durations in its log) are timed by the wrapper.
# Needs dockerd (.ci/run starts it) and busybox-static.
# Outside CI a missing engine is reported as skipped; in CI it fails.
# Usage: tests/integration/docker-build.sh BINARY
set -u
bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
root=$(cd "$(dirname "$0")/../.." && pwd)
docker=${DOCKER:-/usr/bin/docker}
. "$(dirname "$0")/lib/common.sh"
need_docker docker-build
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT INT TERM
cp -R "$root/samples/project/." "$tmp/ctx/" 2>/dev/null || { mkdir -p "$tmp/ctx"; cp -R "$root/samples/project/." "$tmp/ctx/"; }
# a busybox unique to this run (an ELF binary runs with bytes appended), so
# every step depends on it and nothing from an earlier run can be reused
cp /bin/busybox "$tmp/ctx/busybox"
echo "run $$ $(date +%s%N)" >> "$tmp/ctx/busybox"
tag=buildprof-it-$$
for builder in buildkit legacy; do
    bk=1; [ $builder = legacy ] && bk=0
    for round in cold warm; do
        DOCKER_BUILDKIT=$bk "$bin" --db "$tmp/t.db" run --name "$builder-$round" -- \
            "$docker" build --progress=plain -t "$tag:$builder-$round" "$tmp/ctx" >"$tmp/$builder-$round.log" 2>&1
        check "$builder $round buildprof run exit" $? 0
        # what the user saw, ingested on its own (minus our one summary line)
        grep -v '^build [0-9]*: ' "$tmp/$builder-$round.log" >"$tmp/$builder-$round.seen"
        "$bin" --db "$tmp/seen.db" ingest --name "$builder-$round" "$tmp/$builder-$round.seen" >/dev/null 2>"$tmp/err"
        check "$builder $round ingest of the passed-through output" "$?$(cat "$tmp/err")" 0
        a=$("$bin" --db "$tmp/t.db" report "name:$builder-$round" --format json | jq -c '[.builds[0].steps[] | [.text, .cached, .status]]')
        b=$("$bin" --db "$tmp/seen.db" report "name:$builder-$round" --format json | jq -c '[.builds[0].steps[] | [.text, .cached, .status]]')
        check "$builder $round: run and ingest agree step by step" "$a" "$b"
    done
    want=10; [ $builder = legacy ] && want=11
    got=$("$bin" --db "$tmp/t.db" report "name:$builder-cold" --format json |
          jq -r '.builds[0] | [.status, .steps_total, .steps_cached, .cache_hit_rate] | @tsv')
    check "$builder cold: nothing cached" "$got" "success	$want	0	0"
    got=$("$bin" --db "$tmp/t.db" report "name:$builder-warm" --format json |
          jq -r '.builds[0] | [.status, .steps_total, .steps_cached, .cache_hit_rate] | @tsv')
    check "$builder warm: all steps cached" "$got" "success	$want	$want	1"
    # the wrapper's clock: a wall time, and every step that ran timed (with
    # the legacy builder, whose log has no durations, every step at all)
    got=$("$bin" --db "$tmp/t.db" report "name:$builder-cold" --format json |
          jq -r '.builds[0] | .format as $f | [(.wall_s > 1),
                               ([.steps[] | select(.kind == "step" and ((.cached | not) or $f == "legacy"))
                                 | .duration_s != null] | all),
                               (.steps[] | select(.text | startswith("RUN sleep 2")) | .duration_s >= 1.9)] | @tsv')
    check "$builder cold: wall time, every step timed, RUN sleep 2 took >= 1.9 s" "$got" "true	true	true"
    # the deps and assets stages run in parallel under BuildKit: the line times show it
    if [ $builder = buildkit ]; then
        got=$("$bin" --db "$tmp/t.db" report "name:$builder-cold" --format json |
              jq -r '.builds[0] | [.timeline, (.parallelism > 1), (.critical_path_s < ([.steps[] | .duration_s // 0] | add))] | @tsv')
        check "buildkit cold: parallelism > 1, critical path shorter than the time spent" "$got" "line times	true	true"
    fi
    # every step line of the real log is in the report
    n=$(grep -cE '^(Step [0-9]+/|#[0-9]+ \[[a-z0-9-]+ [0-9]+/[0-9]+\])' "$tmp/$builder-cold.log")
    [ $builder = buildkit ] && n=$(grep -oE '^#[0-9]+ \[[a-z0-9-]+ [0-9]+/[0-9]+\]' "$tmp/$builder-cold.log" | sort -u | wc -l)
    got=$("$bin" --db "$tmp/t.db" report "name:$builder-cold" --format json |
          jq '[.builds[0].steps[] | select(.kind == "step" or .kind == "from")] | length')
    check "$builder cold: every step line reported" "$got" "$n"
done
# image metadata from the engine: linked to the build that made it, sizes as docker says
"$docker" image inspect "$tag:buildkit-cold" >"$tmp/inspect.json"
"$docker" history --no-trunc --format '{{json .}}' -H=false "$tag:buildkit-cold" >"$tmp/history.jsonl"
"$bin" --db "$tmp/t.db" ingest "$tmp/inspect.json" "$tmp/history.jsonl" >"$tmp/out" 2>&1
check "ingest of inspect and history" "$?" 0
want_size=$(jq '.[0].Size' "$tmp/inspect.json")
want_id=$(jq -r '.[0].Id' "$tmp/inspect.json")
got=$("$bin" --db "$tmp/t.db" images --format json "$want_id" |
      jq -r '[.images[] | [.size_bytes, (.build != null)]] | map(@tsv) | join(",")')
check "both images: docker's size, linked to the build" "$got" "$want_size	true,$want_size	true"
got=$("$bin" --db "$tmp/t.db" report name:buildkit-cold --format json | jq -r '.builds[0].image.size_bytes')
check "the report shows the image size" "$got" "$want_size"
got=$("$bin" --db "$tmp/t.db" report name:buildkit-cold --format json |
      jq -r '.builds[0].image | [(.added_bytes == .size_bytes), ([.layers[] | select(.size_bytes > 0) | .step != null] | all)] | @tsv')
check "every layer with bytes traced to its step; all bytes added by the build" "$got" "true	true"
want_layers=$("$docker" history -q --no-trunc "$tag:buildkit-cold" | wc -l)
got=$("$bin" --db "$tmp/t.db" images --format json "$want_id" | jq '[.images[] | .layers | length] | max')
check "history: every layer" "$got" "$want_layers"

"$docker" image rm -f $("$docker" image ls -q "$tag") >/dev/null 2>&1
echo "docker-build: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
