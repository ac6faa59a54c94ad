#!/bin/sh
# Integration: several CI jobs writing one database, and ingests killed at
# random moments. 8 processes ingest different logs at once and 4 `buildprof
# run` wrappers run at once: every build is stored exactly once, nobody sees
# "database is locked", PRAGMA integrity_check is ok. Then an ingest of a
# large input is SIGKILLed 50 times at random moments: the database stays
# intact, the build is either all there or absent, and the next ingest of
# the same file succeeds. A long ingest commits each second, so what it read
# is in the database while it reads on. Usage: tests/integration/concurrency.sh BINARY
set -u
bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
root=$(cd "$(dirname "$0")/../.." && pwd)
. "$(dirname "$0")/lib/common.sh"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT INT TERM
db=$tmp/shared.db

# 1. eight concurrent ingests, 5 distinct logs each (40 builds)
for p in 1 2 3 4 5 6 7 8; do
    for r in cold warm src-change deps-change failed; do
        { sed "s/buildprof-sample:/job$p-/" "$root/samples/logs/buildkit-$r.log"; echo "job $p"; } >"$tmp/p$p-$r.log"
    done
done
for p in 1 2 3 4 5 6 7 8; do
    "$bin" --db "$db" ingest --label job=$p "$tmp"/p$p-*.log >"$tmp/out$p" 2>&1 &
done
wait
cat "$tmp"/out[1-8] >"$tmp/all"
check "no process saw 'database is locked'" "$(grep -c 'locked' "$tmp/all")" 0
check "40 builds reported stored" "$(grep -c '^build [0-9]*:' "$tmp/all")" 40
check "40 builds in the database" "$(sqlite3 "$db" 'SELECT count(*) FROM build')" 40
check "each once: 8 jobs x 5" "$(sqlite3 "$db" "SELECT count(DISTINCT value) || ':' || count(*) FROM label WHERE key = 'job'")" "8:40"

# 2. four concurrent run wrappers
for p in 1 2 3 4; do
    "$bin" --db "$db" run --name wrapper-$p -- sh -c "cat '$root/samples/logs/legacy-cold.log'; sleep 0.$p" >/dev/null 2>"$tmp/run$p" &
done
wait
check "4 wrapped builds stored" "$(sqlite3 "$db" "SELECT count(*) FROM build WHERE name LIKE 'wrapper-%'")" 4
check "integrity" "$(sqlite3 "$db" 'PRAGMA integrity_check')" ok

# 3. kill an ingest of a large input at random moments, 50 times
big=$tmp/big.log
{ cat "$root/samples/logs/buildkit-cold.log"; i=0; while [ $i -lt 3000 ]; do
      printf '#%d [internal] load metadata %d\n#%d DONE 0.1s\n\n' $((i + 100)) $i $((i + 100)); i=$((i + 1)); done
  cat "$root/samples/logs/buildkit-cold.log" | head -0; } >"$big"
cdb=$tmp/crash.db
"$bin" --db "$cdb" ingest "$root/samples/logs/buildkit-warm.log" >/dev/null
kills=0 bad=0
n=0
while [ $n -lt 50 ]; do
    "$bin" --db "$cdb" ingest --name big "$big" >/dev/null 2>&1 &
    pid=$!
    sleep "0.0$(( (n * 37) % 10 ))$(( (n * 13) % 10 ))"
    kill -9 $pid 2>/dev/null && kills=$((kills + 1))
    wait $pid 2>/dev/null
    ok=$(sqlite3 "$cdb" 'PRAGMA integrity_check')
    # a build of the big input is all there (3000+ steps) or absent
    partial=$(sqlite3 "$cdb" "SELECT count(*) FROM build b WHERE b.name = 'big' AND (SELECT count(*) FROM step s WHERE s.build_id = b.id) < 3014")
    [ "$ok" = ok ] && [ "$partial" = 0 ] || bad=$((bad + 1))
    if [ "$(sqlite3 "$cdb" "SELECT count(*) FROM build WHERE name = 'big'")" != 0 ]; then
        sqlite3 "$cdb" "PRAGMA foreign_keys = ON; DELETE FROM source WHERE id IN (SELECT source_id FROM build WHERE name = 'big')"
    fi
    n=$((n + 1))
done
check "50 killed ingests: intact every time, never a partial build" "$bad" 0
echo "(killed mid-ingest $kills times of 50)"
"$bin" --db "$cdb" ingest --name big "$big" >"$tmp/final" 2>&1
check "the next ingest of the same file succeeds" $? 0
check "and the earlier build survived all of it" "$(sqlite3 "$cdb" "SELECT count(*) FROM build WHERE name = 'buildkit-warm'")" 1
# 4. a long ingest commits each second: the builds before a slow input are
# in the database (for other readers, and safe from a crash) while it waits
# for the next. Input 21 arrives after 1.2 s; input 22 is a FIFO whose
# writer waits (up to 5 s) to see the 21 before it committed, and only then
# writes. The parsing thread opens 22 while 21 is still being stored, so the
# writer watches the database rather than the moment 22 is opened.
ldb=$tmp/long.db
i=1
while [ $i -le 40 ]; do
    { cat "$root/samples/logs/buildkit-cold.log"; echo "copy $i"; } >"$tmp/long$i.log"; i=$((i + 1))
done
mkfifo "$tmp/slow" "$tmp/look"
{ sleep 1.2; cat "$root/samples/logs/buildkit-warm.log" >"$tmp/slow"; } &
{ exec 3>"$tmp/look"; k=0
  while [ $k -lt 50 ] && [ "$(sqlite3 "$ldb" 'SELECT count(*) FROM build' 2>/dev/null)" != 21 ]; do
      sleep 0.1; k=$((k + 1))
  done
  sqlite3 "$ldb" 'SELECT count(*) FROM build' >"$tmp/seen"
  cat "$root/samples/logs/buildkit-deps-change.log" >&3; } &
"$bin" --db "$ldb" ingest "$tmp"/long[1-9].log "$tmp"/long1[0-9].log "$tmp/long20.log" "$tmp/slow" \
    "$tmp/look" "$tmp"/long2[1-9].log "$tmp"/long3[0-9].log "$tmp/long40.log" >/dev/null 2>"$tmp/long.err"
check "a long ingest succeeds" "$?:$(cat "$tmp/long.err")" "0:"
wait
check "the 21 builds before a slow input were committed while it waited for the next" "$(cat "$tmp/seen")" 21
check "and all 42 are stored" "$(sqlite3 "$ldb" 'SELECT count(*) FROM build')" 42

echo "concurrency: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
