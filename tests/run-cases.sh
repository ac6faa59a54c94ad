#!/bin/sh
# Golden CLI tests: each tests/cases/NAME/cmd is a shell snippet run from the
# repository root in a fresh temporary directory ($T) with `bp` bound to the
# binary under test and its own database; its stdout and stderr (merged) and
# exit status must equal tests/cases/NAME/expected. Logs are kept only for
# failures. Usage: tests/run-cases.sh BINARY [NAME...]   (UPDATE=1 rewrites expected)
set -u
bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1"); shift
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 2
export LC_ALL=C TZ=UTC NO_COLOR=1
unset BUILDPROF_DB
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT INT TERM
pass=0 fail=0
cases=${*:-$(ls tests/cases)}
for name in $cases; do
    dir=tests/cases/$name
    T=$tmp/$name; mkdir -p "$T"
    out=$T/actual
    ( export T BIN="$bin"
      bp() { "$BIN" --db "$T/t.db" "$@"; }
      . "$dir/cmd" ) >"$out" 2>&1
    echo "exit $?" >>"$out"
    if [ "${UPDATE:-}" = 1 ]; then cp "$out" "$dir/expected"; fi
    if cmp -s "$out" "$dir/expected"; then
        pass=$((pass + 1))
    else
        fail=$((fail + 1))
        echo "FAIL case $name:"
        diff -u "$dir/expected" "$out" | head -40
    fi
done
echo "cases: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
