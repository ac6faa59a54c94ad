#!/bin/sh
# Integration: the multi-stage --cache-from trap, on the real engine and a
# real registry. A two-stage build pushed with inline cache (which holds
# only the final stage's layers), then built on an empty builder cache with
# --cache-from: unchanged, it is all cached; after a source change that
# only the builder stage's last steps use, the builder's dependency install
# runs again although its inputs did not change. buildprof must name that
# as the stage's cache breaker, the step before the changed one; with the
# builder's layers in the local cache only the changed COPY and what follows run.
# Usage: tests/integration/cache-from.sh BINARY
set -u
bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
docker=${DOCKER:-/usr/bin/docker}
. "$(dirname "$0")/lib/common.sh"
need_docker cache-from
command -v docker-registry >/dev/null 2>&1 || {
    if [ "${CI:-}" = true ]; then echo "cache-from: 0 passed, 1 failed (no docker-registry)"; exit 1; fi
    echo "cache-from: 0 passed, 0 failed, 1 skipped (no docker-registry)"; exit 0; }
tmp=$(mktemp -d); pid=
trap '[ -n "$pid" ] && kill $pid 2>/dev/null; rm -rf "$tmp"' EXIT INT TERM
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
printf 'version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: %s/data\nhttp:\n  addr: 127.0.0.1:%s\n' \
    "$tmp" "$port" >"$tmp/reg.yml"
docker-registry serve "$tmp/reg.yml" >"$tmp/reg.log" 2>&1 &
pid=$!
i=0; until curl -s -o /dev/null "http://127.0.0.1:$port/v2/" || [ $i -gt 50 ]; do i=$((i + 1)); sleep 0.1; done
mkdir -p "$tmp/ctx"
cp /bin/busybox "$tmp/ctx/"
echo "deps $$" >"$tmp/ctx/deps.txt"; echo "src 1" >"$tmp/ctx/src.txt"
cat >"$tmp/ctx/Dockerfile" <<'DOCKERFILE'
FROM scratch AS builder
COPY busybox /bin/busybox
COPY deps.txt /deps.txt
RUN ["/bin/busybox", "sh", "-c", "/bin/busybox sleep 1; /bin/busybox cp /deps.txt /installed.txt"]
COPY src.txt /src.txt
RUN ["/bin/busybox", "sh", "-c", "/bin/busybox cat /installed.txt /src.txt > /out.txt"]

FROM scratch
COPY busybox /bin/busybox
COPY --from=builder /out.txt /app/out.txt
DOCKERFILE
img=127.0.0.1:$port/bpcf$$
fresh() { "$docker" rmi -f "$img:1" "$img:2" "$img:3" "$img:4" >/dev/null 2>&1; "$docker" builder prune -af >/dev/null 2>&1; }
build() { # build TAG [ARGS...]: one build through buildprof run
    tag=$1; shift
    DOCKER_BUILDKIT=1 "$bin" --db "$tmp/t.db" run --name app -- "$docker" build --progress=plain "$@" \
        -t "$img:$tag" "$tmp/ctx" >"$tmp/build-$tag.log" 2>&1
}
fresh
build 1 --build-arg BUILDKIT_INLINE_CACHE=1; check "cold build" $? 0
"$docker" push "$img:1" >/dev/null 2>&1; check "pushed with inline cache" $? 0
fresh
build 2 --cache-from "$img:1"; check "fresh runner, --cache-from, nothing changed" $? 0
got=$("$bin" --db "$tmp/t.db" report 2 --format json | jq -r '.builds[0] | "\(.steps_cached)/\(.steps_total)"')
check "all cached from the registry" "$got" "6/6"
fresh
echo "src 2" >"$tmp/ctx/src.txt"
build 3 --cache-from "$img:1"; check "fresh runner, --cache-from, a source change" $? 0
"$bin" --db "$tmp/t.db" report 3 --format json >"$tmp/r3.json"
got=$(jq -r '.builds[0].cache_breakers[] | select(.step | contains("deps.txt")) | .step' "$tmp/r3.json")
check "the trap: the builder stage broke at COPY deps.txt, before the change" "$got" "[builder 2/5] COPY deps.txt /deps.txt"
got=$(jq -r '.builds[0].steps[] | select(.text | contains("sleep 1")) | .cached' "$tmp/r3.json")
check "the unchanged dependency install ran again" "$got" false
echo "src 3" >"$tmp/ctx/src.txt"
build 4; check "the same runner, its local cache kept, another source change" $? 0
got=$("$bin" --db "$tmp/t.db" report 4 --format json |
      jq -r '[.builds[0].steps[] | select(.kind == "step") | .cached] | map(tostring) | join(",")')
check "with the builder's layers local, only the changed COPY and what follows ran" "$got" "true,true,true,false,false,false"
"$docker" rmi -f "$img:1" "$img:2" "$img:3" "$img:4" >/dev/null 2>&1
echo "cache-from: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
