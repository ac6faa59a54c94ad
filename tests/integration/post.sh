#!/bin/sh
# Integration: `buildprof post` over real HTTP to a local forge (forge.py):
# the first post creates one comment, the second updates the same one (found
# on the second page of comments), on GitLab and on GitHub; 401 names the
# variable, never the token; a webhook gets {"text": ...}; github-summary
# appends to its file; a dry run sends nothing and shows no token.
# Usage: tests/integration/post.sh BINARY
set -u
bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
root=$(cd "$(dirname "$0")/../.." && pwd)
here=$(cd "$(dirname "$0")" && pwd)
. "$(dirname "$0")/lib/common.sh"
for c in python3 curl jq; do
    command -v $c >/dev/null 2>&1 || { echo "post: 0 passed, 1 failed (missing $c)"; exit 1; }
done
tmp=$(mktemp -d); pid=
trap '[ -n "$pid" ] && kill $pid 2>/dev/null; rm -rf "$tmp"' EXIT INT TERM
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
gl=glpat-TESTTOKEN-$$ gh=ghp_TESTTOKEN_$$
python3 "$here/forge.py" "$port" "$gl" "$gh" >"$tmp/forge.log" 2>&1 &
pid=$!
i=0; until curl -s -o /dev/null "http://127.0.0.1:$port/state" || [ $i -gt 50 ]; do i=$((i + 1)); sleep 0.1; done
base=http://127.0.0.1:$port
bp() { "$bin" --db "$tmp/t.db" "$@"; }
bp ingest --name app "$root/samples/logs/buildkit-cold.log" "$root/samples/logs/buildkit-src-change.log" >/dev/null

# GitLab, from the CI variables a merge-request pipeline has
CI_API_V4_URL=$base/api/v4 CI_PROJECT_ID=group/app CI_MERGE_REQUEST_IID=7 GITLAB_TOKEN=$gl bp post --to gitlab-mr >"$tmp/o1" 2>&1
check "gitlab: first post" "$?$(grep -c 'gitlab-mr created comment 151' "$tmp/o1")" 01
bp ingest --name app "$root/samples/logs/buildkit-deps-change.log" >/dev/null
CI_API_V4_URL=$base/api/v4 CI_PROJECT_ID=group/app CI_MERGE_REQUEST_IID=7 GITLAB_TOKEN=$gl bp post --to gitlab-mr >"$tmp/o2" 2>&1
check "gitlab: second post updates the same note" "$?$(grep -c 'gitlab-mr updated comment 151' "$tmp/o2")" 01
got=$(curl -s "$base/state" | jq -r '[(.gitlab | length), ([.gitlab[] | select(.body | startswith("<!-- buildprof -->"))] | length),
      (.gitlab[] | select(.id == 151) | .body | contains("| 3 | app |"))] | @tsv')
check "gitlab: 151 notes, one ours, holding the third build" "$got" "151	1	true"
# the comparison with the target branch's builds, and the charts uploaded and embedded
CI_API_V4_URL=$base/api/v4 CI_PROJECT_ID=group/app CI_MERGE_REQUEST_IID=7 GITLAB_TOKEN=$gl \
    bp post --to gitlab-mr --baseline 1 --charts 2 3 >"$tmp/o9" 2>&1
check "gitlab: post with a baseline and charts" "$?$(grep -c 'gitlab-mr updated comment 151' "$tmp/o9")" 01
got=$(curl -s "$base/state" | jq -r '[.uploads[] | "\(.filename) \(.signature) \(.bytes > 1000)"] | join(",")')
check "two PNG charts uploaded" "$got" "buildprof-trend.png 89504e470d0a1a0a true,buildprof-compare.png 89504e470d0a1a0a true"
note=$(curl -s "$base/state" | jq -r '.gitlab[] | select(.id == 151) | .body')
echo "$note" | grep -qE '^!\[buildprof-trend.png\]\(/uploads/[0-9a-f]{32}/buildprof-trend.png\)$'
check "the note embeds the uploaded chart by the Markdown GitLab returned" $? 0
echo "$note" | grep -q '^#### Compared with `1`$'; check "the note compares with the baseline" $? 0
echo "$note" | grep -q '^| Build time (sum of steps) | .* | \*\*.*\*\*'; check "with the build time change" $? 0
bp ingest --name app --label ref=main "$root/samples/logs/buildkit-warm.log" >/dev/null
bp post --to gitlab-mr --project group/app --mr 7 --baseline label:ref=main --charts 2 --dry-run >"$tmp/o12" 2>&1
check "a chart the builds cannot fill is left out, saying why" "$?$(grep -c 'the compare chart is left out' "$tmp/o12")" 01
bp post --to gitlab-mr --project group/app --mr 7 --baseline label:ref=none --dry-run >"$tmp/o10" 2>&1
check "a baseline with no builds yet is left out, with a warning" "$?$(grep -c "no builds match the baseline 'label:ref=none' yet" "$tmp/o10")" 01
GITHUB_TOKEN=$gh bp post --to github-pr --repo org/app --pr 5 --charts --dry-run >"$tmp/o11" 2>&1
check "github: --charts warns and posts without" "$?$(grep -c 'uploads to GitLab merge requests only' "$tmp/o11")" 01
CI_API_V4_URL=$base/api/v4 CI_PROJECT_ID=group/app CI_MERGE_REQUEST_IID=7 GITLAB_TOKEN=wrong-$$ bp post --to gitlab-mr >"$tmp/o3" 2>&1
check "gitlab: a bad token fails" $? 1
grep -q "HTTP 401; the token in GITLAB_TOKEN was not accepted" "$tmp/o3"; check "and names the variable" $? 0
grep -q "wrong-$$" "$tmp/o3"; check "never the token" $? 1

# GitHub, from the variables of a pull_request workflow
printf '{"pull_request": {"number": 5}}' >"$tmp/event.json"
GITHUB_API_URL=$base GITHUB_REPOSITORY=org/app GITHUB_EVENT_PATH=$tmp/event.json GITHUB_TOKEN=$gh bp post --to github-pr >"$tmp/o4" 2>&1
check "github: first post" "$?$(grep -c 'github-pr created comment 1151' "$tmp/o4")" 01
GITHUB_API_URL=$base GITHUB_REPOSITORY=org/app GITHUB_REF=refs/pull/5/merge GITHUB_TOKEN=$gh bp post --to github-pr >"$tmp/o5" 2>&1
check "github: second post updates (PR from GITHUB_REF)" "$?$(grep -c 'github-pr updated comment 1151' "$tmp/o5")" 01
got=$(curl -s "$base/state" | jq -r '[(.github | length), ([.github[] | select(.body | startswith("<!-- buildprof -->"))] | length)] | @tsv')
check "github: 151 comments, one ours" "$got" "151	1"

# webhook, summary, dry run
bp post --to webhook "$base/hook" >"$tmp/o6" 2>&1
check "webhook" $? 0
got=$(curl -s "$base/state" | jq -r '.webhook[0].text | startswith("<!-- buildprof -->")')
check "webhook got {\"text\": markdown}" "$got" true
bp post --to webhook "$base/hook" --json >/dev/null 2>&1
got=$(curl -s "$base/state" | jq -r '.webhook[1].schema')
check "webhook --json got the JSON report" "$got" "buildprof.report/1"
: >"$tmp/summary.md"
GITHUB_STEP_SUMMARY=$tmp/summary.md bp post --to github-summary >/dev/null 2>&1
check "github-summary appended" "$(head -1 "$tmp/summary.md")" "<!-- buildprof -->"
before=$(curl -s "$base/state" | jq '.requests | length')
GITHUB_API_URL=$base GITHUB_REPOSITORY=org/app GITHUB_REF=refs/pull/5/merge GITHUB_TOKEN=$gh bp post --to github-pr --dry-run >"$tmp/o7" 2>&1
check "dry run" $? 0
check "dry run sent nothing" "$(curl -s "$base/state" | jq '.requests | length')" "$((before + 1))"
grep -q "$gh" "$tmp/o7"; check "dry run shows no token" $? 1
bp post --to gitlab-mr >"$tmp/o8" 2>&1
check "gitlab without CI variables is a usage error" $? 2
grep -q "CI_PROJECT_ID and CI_MERGE_REQUEST_IID" "$tmp/o8"; check "naming what to set" $? 0
echo "post: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
