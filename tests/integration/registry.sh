#!/bin/sh
# Integration: `buildprof fetch registry` against real registries (Debian's
# docker-registry) on 127.0.0.1: one anonymous, one with htpasswd basic auth
# serving the same storage, and a bearer-token front (token-registry.py) that
# also injects a 503 with Retry-After and an HTML answer. An image built and
# pushed with the real Docker engine must come back with the registry's
# digest, docker's image id and the manifest's compressed layer sizes; the
# password must appear nowhere. Usage: tests/integration/registry.sh BINARY
set -u
bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
here=$(cd "$(dirname "$0")" && pwd)
docker=${DOCKER:-/usr/bin/docker}
. "$(dirname "$0")/lib/common.sh"
missing=
for c in docker-registry htpasswd python3 curl jq; do command -v $c >/dev/null 2>&1 || missing="$missing $c"; done
"$docker" info >/dev/null 2>&1 || missing="$missing dockerd"
if [ -n "$missing" ]; then
    if [ "${CI:-}" = true ]; then echo "registry: 0 passed, 1 failed (missing:$missing)"; exit 1; fi
    echo "registry: 0 passed, 0 failed, 1 skipped (missing:$missing)"; exit 0
fi
tmp=$(mktemp -d)
pids=
cleanup() { for p in $pids; do kill "$p" 2>/dev/null; done; rm -rf "$tmp"; }
trap cleanup EXIT INT TERM
# free ports on loopback
ports=$(python3 -c 'import socket
s=[socket.socket() for _ in range(3)]
[x.bind(("127.0.0.1",0)) for x in s]
print(" ".join(str(x.getsockname()[1]) for x in s))')
set -- $ports; anon=$1 auth=$2 tok=$3
user=ci-bot secret="S3cr3t-$$-pw"
htpasswd -Bbn "$user" "$secret" >"$tmp/htpasswd" 2>/dev/null
for kind in anon auth; do
    port=$anon; [ $kind = auth ] && port=$auth
    {
        printf 'version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: %s/data\n' "$tmp"
        printf 'http:\n  addr: 127.0.0.1:%s\n' "$port"
        [ $kind = auth ] && printf 'auth:\n  htpasswd:\n    realm: buildprof-test\n    path: %s/htpasswd\n' "$tmp"
    } >"$tmp/$kind.yml"
    docker-registry serve "$tmp/$kind.yml" >"$tmp/$kind.log" 2>&1 &
    pids="$pids $!"
done
python3 "$here/token-registry.py" "$tok" "http://127.0.0.1:$anon" "$user" "$secret" >"$tmp/tok.log" 2>&1 &
pids="$pids $!"
for port in $anon $auth $tok; do
    i=0; until curl -s -o /dev/null "http://127.0.0.1:$port/v2/" || [ $i -gt 50 ]; do i=$((i + 1)); sleep 0.2; done
done

# an image of our own, pushed with the real engine
mkdir -p "$tmp/ctx"; cp /bin/busybox "$tmp/ctx/"
printf 'FROM scratch\nCOPY busybox /bin/busybox\nRUN ["/bin/busybox", "--install", "-s", "/bin"]\nRUN echo %s > /stamp\n' "$$" >"$tmp/ctx/Dockerfile"
ref=127.0.0.1:$anon/sample:it
DOCKER_BUILDKIT=1 "$docker" build -q -t "$ref" "$tmp/ctx" >/dev/null 2>&1
"$docker" push "$ref" >/dev/null 2>&1
check "docker push" $? 0
want_id=$("$docker" image inspect "$ref" | jq -r '.[0].Id')
manifest=$(curl -s -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' "http://127.0.0.1:$anon/v2/sample/manifests/it")
want_digest=$(curl -s -o /dev/null -D - -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
    "http://127.0.0.1:$anon/v2/sample/manifests/it" | tr -d '\r' | sed -n 's/^Docker-Content-Digest: //Ip')
want_sizes=$(echo "$manifest" | jq -c '[.layers[].size]')

bp() { "$bin" --db "$tmp/t.db" "$@"; }
# 1. anonymous
bp fetch registry "$ref" >"$tmp/out" 2>&1; check "anonymous fetch" $? 0
got=$(bp images --format json "$ref" | jq -c '.images[0] | [.image_id, .digest, [.layers[].compressed_bytes], .platform, (.layers[0].created_by != null)]')
check "anonymous: docker's id, the registry's digest and layer sizes" "$got" \
    "[\"$want_id\",\"$want_digest\",$want_sizes,\"linux/amd64\",true]"
bp fetch registry "$ref" >"$tmp/out" 2>&1
check "fetching again stores nothing new" "$(grep -c 'already ingested as image' "$tmp/out")" 1
bp fetch registry "127.0.0.1:$anon/sample:missing" >"$tmp/out" 2>&1; check "a missing tag fails" $? 1
grep -q "HTTP 404 (MANIFEST_UNKNOWN" "$tmp/out"; check "404 names the URL's status and the registry's words" $? 0

# 2. basic auth (htpasswd)
aref=127.0.0.1:$auth/sample:it
bp fetch registry "$aref" >"$tmp/out" 2>&1; check "basic auth without credentials fails" $? 1
grep -q "HTTP 401.*set BUILDPROF_REGISTRY_USER and BUILDPROF_REGISTRY_PASSWORD" "$tmp/out"
check "401 says which variables to set" $? 0
BUILDPROF_REGISTRY_USER=$user BUILDPROF_REGISTRY_PASSWORD=wrong-pw bp fetch registry "$aref" >"$tmp/out2" 2>&1
check "wrong password fails" $? 1
BUILDPROF_REGISTRY_USER=$user BUILDPROF_REGISTRY_PASSWORD=$secret bp fetch registry "$aref" >"$tmp/out3" 2>&1
check "basic auth with credentials" $? 0
got=$(bp images --format json "$aref" | jq -r '.images[0].digest')
check "basic auth: same digest" "$got" "$want_digest"

# 3. bearer token, Retry-After, HTML
tref=127.0.0.1:$tok/sample:it
BUILDPROF_REGISTRY_USER=$user BUILDPROF_REGISTRY_PASSWORD=$secret bp fetch registry "$tref" >"$tmp/out4" 2>&1
check "bearer token flow" $? 0
got=$(bp images --format json "$tref" | jq -r '.images[0] | [.digest, .image_id] | @tsv')
check "bearer: same digest and id" "$got" "$want_digest	$want_id"
got=$(curl -s "http://127.0.0.1:$tok/stats" | jq -r '.token_scopes[0]')
check "the token was asked for the challenge's scope" "$got" "repository:sample:pull"
BUILDPROF_REGISTRY_USER=$user BUILDPROF_REGISTRY_PASSWORD=$secret bp fetch registry "127.0.0.1:$tok/flaky/sample:it" >"$tmp/out5" 2>&1
check "a 503 with Retry-After is retried" $? 0
got=$(curl -s "http://127.0.0.1:$tok/stats" | jq '(.flaky_retry_at - .flaky_503_at) >= 0.9')
check "the retry waited as Retry-After said" "$got" true
BUILDPROF_REGISTRY_USER=$user BUILDPROF_REGISTRY_PASSWORD=$secret bp fetch registry "127.0.0.1:$tok/html/sample:it" >"$tmp/out6" 2>&1
check "an HTML answer fails" $? 1
grep -q "answered an HTML page" "$tmp/out6"; check "and says so" $? 0
bp fetch registry "$tref" >"$tmp/out7" 2>&1; check "bearer without credentials fails" $? 1
BUILDPROF_HTTP_TIMEOUT=1 BUILDPROF_REGISTRY_USER=$user BUILDPROF_REGISTRY_PASSWORD=$secret \
    bp fetch registry "127.0.0.1:$tok/hang/sample:it" >"$tmp/out8" 2>&1
check "a registry that never answers fails" $? 1
grep -q "hang/sample/manifests/it: Operation timed out" "$tmp/out8"; check "with a timeout message naming the URL" $? 0
got=$(curl -s "http://127.0.0.1:$tok/stats" | jq '.hung')
check "after retrying (4 attempts)" "$got" 4

# 4. the password is nowhere: not in any output, not in the database
cat "$tmp"/out* >"$tmp/all"
sqlite3 "$tmp/t.db" .dump >>"$tmp/all"
grep -c "$secret" "$tmp/all" >/dev/null; check "the password appears nowhere" $? 1

"$docker" image rm -f "$ref" >/dev/null 2>&1
echo "registry: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
