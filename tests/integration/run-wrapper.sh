#!/bin/sh
# Integration: `buildprof run` as a CI job sees it, without Docker: output
# passed through byte for byte on the right stream, the command's exit status
# kept, SIGTERM passed on (the build stored as incomplete), step durations
# from line arrival times, CI variables as labels, and a command that is no
# build stored as a timed command. Usage: tests/integration/run-wrapper.sh BINARY
set -u
bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
. "$(dirname "$0")/lib/common.sh"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT INT TERM
bp() { "$bin" --db "$tmp/t.db" "$@"; }

# 1. transparency: the same bytes on the same streams as running it directly
cat > "$tmp/noisy.sh" <<'SH'
printf 'no newline at the end'
printf 'progress 10%%\rprogress 50%%\rprogress 100%%\n' >&2
printf '\033[31mred\033[0m \001\002 \303\251 tab\there\n'
head -c 200000 /dev/zero | tr '\0' 'x'
printf '\n#1 [1/1] RUN x\n' >&2
exit 0
SH
sh "$tmp/noisy.sh" >"$tmp/direct.out" 2>"$tmp/direct.err"
bp run -- sh "$tmp/noisy.sh" >"$tmp/run.out" 2>"$tmp/run.err"
check "exit status passed through" $? 0
cmp -s "$tmp/direct.out" "$tmp/run.out"; check "stdout byte for byte" $? 0
grep -v '^build [0-9]*: ' "$tmp/run.err" >"$tmp/run.err.cmd"
cmp -s "$tmp/direct.err" "$tmp/run.err.cmd"; check "stderr byte for byte (plus our one line)" $? 0

# 2. the command's exit status is ours; a command that is no build is a timed command
bp run --name failing -- sh -c 'echo compiling; sleep 0.3; exit 7' >/dev/null 2>&1
check "exit status 7" $? 7
got=$(bp report name:failing --format json | jq -r '.builds[0] | [.format, .status, (.wall_s >= 0.3), .error] | @tsv')
check "stored as a failed, timed command" "$got" "command	failed	true	command exited with status 7"
bp run -- /no/such/command >/dev/null 2>&1
check "a command that cannot start exits 127" $? 127

# 3. legacy-builder output gets durations from arrival times; CI variables become labels
cat > "$tmp/legacy.sh" <<'SH'
echo "Step 1/3 : FROM scratch"; echo " ---> "
echo "Step 2/3 : RUN compile"; echo " ---> Running in 0123456789ab"; sleep 1; echo " ---> 112e8c337146"
echo "Step 3/3 : RUN link"; echo " ---> Using cache"; echo " ---> 223e8c337146"
echo "Successfully built 223e8c337146"; echo "Successfully tagged app:1"
SH
CI_JOB_ID=4242 GITHUB_SHA=abc123 CI_JOB_TOKEN=secret-token-value bp run --name timed -- sh "$tmp/legacy.sh" >/dev/null 2>&1
got=$(bp report name:timed --format json | jq -r '.builds[0] | [.format, .status, .labels.CI_JOB_ID, .labels.GITHUB_SHA, (.labels | has("CI_JOB_TOKEN")), (.steps[] | select(.text == "RUN compile") | (.duration_s >= 0.9 and .duration_s < 3))] | @tsv')
check "legacy build timed, labelled, no token" "$got" "legacy	success	4242	abc123	false	true"
grep -c secret-token-value "$tmp/t.db" >/dev/null 2>&1; check "the token is nowhere in the database" $? 1

# 4. SIGTERM is passed on; the build is stored as incomplete and the job sees the signal
cat > "$tmp/slow.sh" <<'SH'
trap 'echo got TERM; exit 143' TERM
echo "#1 [1/2] RUN step one"; echo "#1 DONE 0.1s"; echo
echo "#2 [2/2] RUN step two"
sleep 30 & wait
SH
"$bin" --db "$tmp/t.db" run --name killed -- sh "$tmp/slow.sh" >"$tmp/killed.out" 2>&1 &
pid=$!
sleep 1
kill -TERM $pid
wait $pid
check "exit status after SIGTERM" $? 143
grep -q "got TERM" "$tmp/killed.out"; check "the command received SIGTERM" $? 0
got=$(bp report name:killed --format json | jq -r '.builds[0] | [.status, .steps_total] | @tsv')
check "stored as incomplete" "$got" "incomplete	2"

echo "run-wrapper: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
