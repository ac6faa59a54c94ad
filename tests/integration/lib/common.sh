# Shared by the integration suites (sourced; not a suite itself, so it lives
# outside the tests/integration/*.sh glob that run-all.sh runs): the
# pass/fail counters, the check helper, and the guard for suites that need a
# Docker engine.
pass=0 fail=0
# check NAME GOT WANT
check() { if [ "$2" = "$3" ]; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL $1: got '$2', want '$3'"; fi; }
# need_docker SUITE: without dockerd or busybox-static a suite fails in CI
# (CI=true) and is reported as skipped, never as passed, elsewhere.
need_docker() {
    if ! "$docker" info >/dev/null 2>&1 || [ ! -x /bin/busybox ]; then
        if [ "${CI:-}" = true ]; then echo "$1: 0 passed, 1 failed (no Docker engine)"; exit 1; fi
        echo "$1: 0 passed, 0 failed, 1 skipped (no Docker engine or busybox-static)"; exit 0
    fi
}
# ingest_generated N DB: N BuildKit builds generated from the real samples
# (tests/bench/gen.py) ingested into DB, and checked by count. Needs the
# suite's $bin, $root and $tmp.
ingest_generated() {
    python3 "$root/tests/bench/gen.py" builds "$tmp/gen$1" "$1" >/dev/null
    (cd "$tmp/gen$1" && ls | xargs "$bin" --db "$2" ingest >/dev/null 2>"$tmp/ingest.err")
    check "$1 generated builds ingested" "$(sqlite3 "$2" 'SELECT count(*) FROM build')" "$1"
}
