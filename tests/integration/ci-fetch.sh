#!/bin/sh
# Integration: `buildprof fetch gitlab` and `fetch github` over real HTTP
# against recorded API responses (ci-api.py): pagination followed, a 429
# retried after its Retry-After, a 500 retried, fetching again changes
# nothing, a bad token or project fails clearly without showing the token,
# and what fetch stores equals what ingest of the same JSON stores.
# Usage: tests/integration/ci-fetch.sh BINARY
set -u
bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
root=$(cd "$(dirname "$0")/../.." && pwd)
here=$(cd "$(dirname "$0")" && pwd)
. "$(dirname "$0")/lib/common.sh"
tmp=$(mktemp -d); pid=
trap '[ -n "$pid" ] && kill $pid 2>/dev/null; rm -rf "$tmp"' EXIT INT TERM
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
gl=glpat-CI-$$ gh=ghp_CI_$$
python3 "$here/ci-api.py" "$port" "$root/tests/data/corpus" "$gl" "$gh" >"$tmp/api.log" 2>&1 &
pid=$!
i=0; until curl -s -o /dev/null "http://127.0.0.1:$port/stats" || [ $i -gt 50 ]; do i=$((i + 1)); sleep 0.1; done
api=http://127.0.0.1:$port
bp() { "$bin" --db "$tmp/t.db" "$@"; }

GITLAB_TOKEN=$gl bp fetch gitlab --url "$api/api/v4" --project 1 --last 5 >"$tmp/o1" 2>&1
check "gitlab --last: exit (after a 500, retried)" $? 0
got=$(bp pipelines 46 --format json | jq -r '.pipelines[0] | [.status, (.jobs | length), .duration_s] | @tsv')
check "gitlab: pipeline 46, 3 jobs over 3 pages" "$got" "success	3	123"
got=$(curl -s "$api/stats" | jq '[.fault_500, ((.retry_after_429_at - .fault_429_at) >= 0.9)]' -c)
check "the 500 and the 429 (honouring Retry-After) were retried" "$got" "[1,true]"
got=$(curl -s "$api/stats" | jq '.gl_after_quota_at >= .gl_quota_reset' -c)
check "a used-up RateLimit-Remaining waits for RateLimit-Reset before the next request" "$got" true
n46() { curl -s "$api/stats" | jq '[.requests[] | select(startswith("/api/v4/projects/1/pipelines/46"))] | length'; }
before=$(n46)
GITLAB_TOKEN=$gl bp fetch gitlab --url "$api/api/v4" --project 1 --last 5 >"$tmp/o1b" 2>&1
check "gitlab --last again: the finished, stored pipeline is not fetched again" \
    "$?$(tail -1 "$tmp/o1b")" "0fetch gitlab: 0 fetched, 1 unchanged since the last fetch, 0 failed"
check "no request for it" "$(n46)" "$before"
GITLAB_TOKEN=$gl bp fetch gitlab --url "$api/api/v4" --project 1 --pipeline 46 >"$tmp/o2" 2>&1
check "fetching again stores nothing new" "$?$(grep -c 'already ingested' "$tmp/o2")" 01
check "still one pipeline, 3 jobs" "$(sqlite3 "$tmp/t.db" 'SELECT count(*) FROM pipeline; SELECT count(*) FROM job' | tr '\n' ' ')" "1 3 "
GITLAB_TOKEN=wrong-$$ bp fetch gitlab --url "$api/api/v4" --project 1 --pipeline 46 >"$tmp/o3" 2>&1
check "a bad token fails" $? 1
grep -q "HTTP 401; the token in GITLAB_TOKEN was not accepted" "$tmp/o3"; check "naming the variable" $? 0
grep -q "wrong-$$" "$tmp/o3"; check "not the token" $? 1
GITLAB_TOKEN=$gl bp fetch gitlab --url "$api/api/v4" --project 999 --pipeline 1 >"$tmp/o4" 2>&1
check "an unknown project fails" "$?$(grep -c 'HTTP 404' "$tmp/o4")" 11

GITLAB_TOKEN=$gl bp fetch gitlab --url "$api/api/v4" --project 2 --pipeline 1 >"$tmp/o4b" 2>&1
check "an HTML page instead of JSON fails clearly" "$?$(grep -c 'answered an HTML page' "$tmp/o4b")" 11
GITLAB_TOKEN=$gl bp fetch gitlab --url "$api/api/v4" --project 3 --pipeline 1 >"$tmp/o4c" 2>&1
check "a truncated JSON body fails naming the URL" "$?$(grep -c 'projects/3/pipelines/1.*malformed GitLab JSON' "$tmp/o4c")" 11
check "and nothing of it is stored" "$(sqlite3 "$tmp/t.db" 'SELECT count(*) FROM pipeline')" 1
GITHUB_TOKEN=$gh bp fetch github --url "$api" --repo PyGithub/PyGithub --last 1 --branch feat/workflow-run >"$tmp/o5" 2>&1
check "github --last" $? 0
got=$(curl -s "$api/stats" | jq '.gh_after_403_at >= .gh_403_reset' -c)
check "github: a 403 with X-RateLimit-Remaining 0 is retried after X-RateLimit-Reset" "$got" true
got=$(bp pipelines 3881497935 --format json | jq -r '.pipelines[0] | [(.jobs | length), ([.jobs[].steps | length] | add)] | @tsv')
check "github: 5 jobs over 3 pages, with their steps" "$got" "5	$(jq '[.jobs[].steps | length] | add' "$root/tests/data/corpus/github-jobs/pygithub-list-jobs-run-3881497935.json")"
# what fetch stored is what ingest of the same responses stores
"$bin" --db "$tmp/i.db" ingest "$root/tests/data/corpus/github-jobs/pygithub-get-run-3881497935.json" \
    "$root/tests/data/corpus/github-jobs/pygithub-list-jobs-run-3881497935.json" >/dev/null
a=$(bp pipelines 3881497935 --format json | jq -c '.pipelines[0] | del(.jobs[].builds)')
b=$("$bin" --db "$tmp/i.db" pipelines 3881497935 --format json | jq -c '.pipelines[0] | del(.jobs[].builds)')
check "fetch and ingest store the same" "$a" "$b"
start=$(date +%s)
GITHUB_TOKEN=$gh bp fetch github --url "$api" --repo Limited/Repo --run 1 >"$tmp/o6" 2>&1
check "a quota used up for an hour fails at once" "$?$(( $(date +%s) - start < 5 ))" 11
grep -q "API rate limit used up until .* UTC (3[56][0-9][0-9] s from now" "$tmp/o6"
check "saying until when" $? 0
echo "ci-fetch: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
