#!/bin/sh
# Integration: the "small base vs fat base" question on the real engine. Two
# base images (FROM scratch + busybox; the same + 5 MB of padding), an app
# built FROM each through `buildprof run`, their `docker image inspect`
# ingested: `report --by base` must group the builds by base image and show
# each app image's size exactly as docker reports it.
# Usage: tests/integration/base-images.sh BINARY
set -u
bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
docker=${DOCKER:-/usr/bin/docker}
. "$(dirname "$0")/lib/common.sh"
need_docker base-images
tmp=$(mktemp -d); trap '[ -n "${KEEP:-}" ] || rm -rf "$tmp"' EXIT INT TERM
t=bpit$$
mkdir -p "$tmp/small" "$tmp/fat" "$tmp/app"
cp /bin/busybox "$tmp/small/"; cp /bin/busybox "$tmp/fat/"
head -c 5000000 /dev/urandom >"$tmp/fat/padding"
printf 'FROM scratch\nCOPY busybox /bin/busybox\n' >"$tmp/small/Dockerfile"
printf 'FROM scratch\nCOPY busybox /bin/busybox\nCOPY padding /opt/padding\n' >"$tmp/fat/Dockerfile"
DOCKER_BUILDKIT=1 "$docker" build -q -t "$t-small" "$tmp/small" >/dev/null 2>&1
DOCKER_BUILDKIT=1 "$docker" build -q -t "$t-fat" "$tmp/fat" >/dev/null 2>&1
printf 'ARG BASE\nFROM ${BASE}\nRUN ["/bin/busybox", "sh", "-c", "echo %s > /app.txt"]\n' "$$" >"$tmp/app/Dockerfile"
for v in small fat; do
    DOCKER_BUILDKIT=1 "$bin" --db "$tmp/t.db" run --name app --label variant=$v -- "$docker" build \
        --progress=plain --build-arg BASE="$t-$v" -t "$t-app-$v" "$tmp/app" >/dev/null 2>&1
    check "$v app build" $? 0
    "$docker" image inspect "$t-app-$v" >"$tmp/$v.json"
    "$docker" history --no-trunc --format '{{json .}}' -H=false "$t-app-$v" >"$tmp/$v-history.jsonl"
    "$bin" --db "$tmp/t.db" ingest "$tmp/$v.json" "$tmp/$v-history.jsonl" >/dev/null 2>&1
    check "$v inspect and history ingested" $? 0
done
want_small=$(jq '.[0].Size' "$tmp/small.json"); want_fat=$(jq '.[0].Size' "$tmp/fat.json")
got=$("$bin" --db "$tmp/t.db" report --by base --format json |
      jq -r '.summary.groups | map("\(.key | split("/") | last)=\(.image_size_bytes) n=\(.builds)") | sort | join(" ")')
check "report --by base: groups with docker's sizes" "$got" "$t-fat=$want_fat n=1 $t-small=$want_small n=1"
got=$(( want_fat - want_small > 4900000 ))
check "the fat base's image is 5 MB bigger" "$got" 1
got=$("$bin" --db "$tmp/t.db" report --by label:variant --top 0 | grep -cE "^  (small|fat) ")
check "report --by label:variant lists both" "$got" 2
"$bin" --db "$tmp/t.db" plot sizes -o "$tmp/sizes.svg" >"$tmp/out"
check "plot sizes: one bar per image" "$?$(cat "$tmp/out")" "0$tmp/sizes.svg: sizes chart of 2 images, from 2 builds"
xmllint --noout "$tmp/sizes.svg"; check "the sizes chart is well-formed SVG" $? 0
# each bar is labelled with its base image and ends with docker's size of the image
labels=$(grep -o '>[^<]*</text>' "$tmp/sizes.svg" | sed 's/^>//; s/<.*//')
for v in small fat; do
    size=$(jq '.[0].Size' "$tmp/$v.json")
    mb=$(awk -v b="$size" 'BEGIN { printf "%.1f MB", b / 1e6 }')
    echo "$labels" | grep -q "(FROM .*$t-$v)"; check "sizes: $v's row names its base" $? 0
    echo "$labels" | grep -qF "$mb (+"; check "sizes: $v's total is docker's $mb" $? 0
done
"$docker" image rm -f "$t-small" "$t-fat" "$t-app-small" "$t-app-fat" >/dev/null 2>&1
echo "base-images: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
