#!/bin/sh
# Integration: a 2 GB line (streamed through stdin, never on disk) inside a
# real build log. The build is still stored whole, the cut is reported, and
# memory stays bounded: peak RSS under 32 MB (under 256 MB for the sanitizer
# build, whose shadow memory alone is larger). Usage: tests/integration/huge-line.sh BINARY
set -u
bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
root=$(cd "$(dirname "$0")/../.." && pwd)
. "$(dirname "$0")/lib/common.sh"
[ -x /usr/bin/time ] || { echo "huge-line: 0 passed, 1 failed (GNU time missing)"; exit 1; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT INT TERM
limit=32768; case $bin in *asan*) limit=262144 ;; esac
log=$root/samples/logs/buildkit-cold.log
{ head -n 20 "$log"; printf '#12 0.1 '; head -c 2147483648 /dev/zero | tr '\0' x; printf '\n'; tail -n +21 "$log"; } |
    /usr/bin/time -v "$bin" --db "$tmp/t.db" ingest --name huge - >"$tmp/out" 2>"$tmp/err"
check "ingest exit" $? 0
check "the build stored whole" "$(grep -c '^build 1: stdin  buildkit  success  10 steps' "$tmp/out")" 1
check "the cut is said" "$(grep -c 'over-long lines were cut to 64 KiB (2147418120 bytes dropped)' "$tmp/err")" 1
rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$tmp/err")
check "peak RSS ${rss} kB under ${limit} kB" "$([ "${rss:-999999999}" -lt $limit ] && echo yes)" yes
echo "huge-line: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
