#!/bin/bash
# make bench: speed and memory of buildprof as ratios against baselines
# measured in the same run (these machines are shared and noisy, so absolute
# times mean little). Each figure is the median of $BENCH_RUNS runs, with min
# and max. Prints a table and writes out/bench.json.
#
#   BENCH_SIZES   build counts for the ingest corpora (default "1000 10000
#                 100000"; report and compare run over the largest)
#   BENCH_BIG_MB  size of the single long BuildKit log (default 1024)
#   BENCH_PIPELINES  GitLab pipelines (default 10000)
#   BENCH_RUNS    runs per figure (default 3)
#   BENCH_OUT     where the figures go as JSON (default out/bench.json); the
#                 run before is kept beside it as bench.last.json and its
#                 ratios are shown next to this run's (tests/bench/table.py)
#   BENCH_KEEP    when set, the work directory (inputs, databases, gnuplot's
#                 data and last chart) is kept and not removed at the end
# Usage: tests/bench/run.sh BUILDPROF READ_STEPS PARSE_JSON STORE_FLOOR PARSE_LOGS
# (the last four are tests/bench/read_steps.c, the floors under the JSON
# report, under the text report ("text") and under any JSON report ("json"),
# parse_json.c, jansson's whole-tree parse of the GitLab JSON for reference,
# store_floor.c, the floor under ingest, and parse_logs.c, ingest's parsing
# alone, run beside the floor; make bench builds them)
set -euo pipefail
abspath() { echo "$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"; }
bin=$(abspath "$1")
read_steps=$(abspath "$2")
parse_json=$(abspath "$3")
store_floor=$(abspath "$4")
parse_logs=$(abspath "$5")
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
sizes=${BENCH_SIZES:-1000 10000 100000}
big_mb=${BENCH_BIG_MB:-1024}
npipe=${BENCH_PIPELINES:-10000}
runs=${BENCH_RUNS:-3}
out=${BENCH_OUT:-$root/out/bench.json}
work=$(mktemp -d "${TMPDIR:-/tmp}/buildprof-bench.XXXXXX")
[ -n "${BENCH_KEEP:-}" ] || trap 'rm -rf "$work"' EXIT
results=$work/results.tsv
: >"$results"
export LC_ALL=C

for tool in sqlite3 python3 jq gnuplot /usr/bin/time; do
	command -v "$tool" >/dev/null || { echo "bench: needs $tool (make bench installs it)" >&2; exit 2; }
done

calc() { awk "BEGIN { printf \"%.6f\", $1 }"; }

# cmd WORD...: the command as one shell snippet, each word quoted.
cmd() { printf '%q ' "$@"; }

# time_jobs SETUP CMD [SETUP CMD]...: runs each CMD (a shell snippet) $runs
# times and prints, a line per job in order, its median, min and max wall
# seconds. The jobs take turns (A B A B ...), so a spell in which this
# shared machine runs slow (they last minutes here) slows buildprof and its
# baselines alike, instead of whichever ran during it. SETUP runs untimed
# before each run, e.g. to remove a db. Each run starts with nothing left to
# write back: otherwise the kernel flushes the inputs just generated, or the
# last run's database, during whichever command comes next. A CMD that
# starts with "selftimed:" times itself: what it prints is its seconds.
time_jobs() {
	local -a setups=() cmds=() ts=()
	local i j t0 t1
	while [ $# -ge 2 ]; do
		setups+=("$1")
		cmds+=("$2")
		shift 2
	done
	for ((i = 0; i < runs; i++)); do
		for ((j = 0; j < ${#cmds[@]}; j++)); do
			eval "${setups[j]}"
			sync
			if [[ ${cmds[j]} == selftimed:* ]]; then
				t1=$(eval "${cmds[j]#selftimed:}" 2>"$work/stderr") ||
					{ cat "$work/stderr" >&2; echo "bench: failed: ${cmds[j]}" >&2; exit 1; }
				ts[j]+=" $t1"
				continue
			fi
			t0=$(date +%s.%N)
			eval "${cmds[j]}" >/dev/null 2>"$work/stderr" ||
				{ cat "$work/stderr" >&2; echo "bench: failed: ${cmds[j]}" >&2; exit 1; }
			t1=$(date +%s.%N)
			ts[j]+=" $(calc "$t1 - $t0")"
		done
	done
	for ((j = 0; j < ${#cmds[@]}; j++)); do
		printf '%s\n' ${ts[j]} | sort -g |
			awk '{ a[NR] = $1 } END { printf "%s %s %s\n", a[int((NR + 1) / 2)], a[1], a[NR] }'
	done >"$work/times"
	printf '%s\n' "${ts[@]}" >"$work/turns"
}

# faster J K [SCALE]: for each turn of the last time_jobs, how many times
# faster job J ran than job K in that turn (K's seconds over J's), times
# SCALE: a ratio of rates when SCALE is J's count over K's (steps against
# rows). slower J K: J's seconds over K's, a ratio of costs. Each turn's
# jobs ran one after the other, so a slow spell of the machine, which
# lasts minutes here, slows both; the table's ratio is the median of these
# (tests/bench/table.py), where one of medians pairs runs minutes apart.
faster() { turn_ratios "$2" "$1" "${3:-1}"; }
slower() { turn_ratios "$1" "$2" 1; }
turn_ratios() {
	awk -v a="$1" -v b="$2" -v scale="$(calc "$3")" '
		NR == a { n = split($0, x, " ") } NR == b { split($0, y, " ") }
		END { for (i = 1; i <= n; i++) if (y[i] > 0) printf "%s%.6g", (i > 1 ? " " : ""), scale * x[i] / y[i] }' \
		"$work/turns"
}

# warm PATH...: reads the files (a corpus or a CSV) so a job starts with its
# inputs in the page cache, whatever the job before it evicted: the jobs of
# a figure read 1.4 GB between them at 100k builds, more than this machine
# caches
warm() { find "$@" -type f -exec cat {} + >/dev/null; }

# job N: the Nth line of the last time_jobs (median min max)
job() { sed -n "${1}p" "$work/times"; }

# floor DB [LOGS]: store_floor.c's seconds storing DB's rows anew into
# $work/floor.db; with LOGS, beside parse_logs.c parsing that directory over
# and over on the other core
floor() {
	local parser="" rc=0
	rm -f "$work/floor.db" "$work/floor.db-wal" "$work/floor.db-shm"
	if [ $# -ge 2 ]; then
		"$parse_logs" "$2" >/dev/null &
		parser=$!
		sleep 0.1
	fi
	"$store_floor" "$1" "$work/floor.db" || rc=$?
	if [ -n "$parser" ]; then
		kill "$parser"
		wait "$parser" 2>/dev/null || true
	fi
	return $rc
}

# record FIGURE UNIT BP_MEDIAN BP_MIN BP_MAX BASE_MEDIAN BASELINE KIND TARGET [TURNS]
# KIND "rate": higher is better, ratio = bp / base; "cost": ratio = bp / base.
# TURNS: the ratio in each turn (faster, slower), whose median is the
# figure's ratio; without it, the ratio of the medians.
record() { printf '%s\t' "$@" | sed 's/\t$//' >>"$results"; echo >>"$results"; }

echo "bench: generating inputs in $work" >&2
for n in $sizes; do
	python3 "$here/gen.py" builds "$work/b$n" "$n"
done
python3 "$here/gen.py" gitlab "$work/gl" "$npipe"
python3 "$here/gen.py" biglog "$work/big.log" "$big_mb"

# --- ingest of BuildKit corpora, against sqlite3 .import and the peer script
for n in $sizes; do
	db=$work/bp$n.db
	echo "bench: ingest $n builds" >&2
	ingest=$(cmd sh -c 'cd "$1" && ls | xargs "$2" --db "$3" ingest' - "$work/b$n" "$bin" "$db")
	# one ingest first, untimed: its database gives the rows for the
	# own-table reference below, and every job then reads warm inputs
	rm -f "$db" "$db-wal" "$db-shm"
	eval "$ingest" >/dev/null
	# the same reference for what buildprof stores: every vertex row, all
	# its columns, into its own step table (primary key, CHECKs) in pages of
	# its size, from CSV
	sqlite3 -csv "$db" "SELECT * FROM step" >"$work/rows$n.csv"
	ddl="PRAGMA page_size = $(sqlite3 "$db" "PRAGMA page_size"); $(sqlite3 "$db" ".schema step")"
	time_jobs "rm -f $db $db-wal $db-shm; warm $work/b$n" "$ingest" \
		"rm -f $work/imp.db; warm $work/b$n.csv" "$(cmd sqlite3 "$work/imp.db" "CREATE TABLE step(build_id INT, vertex INT, stage TEXT, idx INT, count INT, instruction TEXT, text TEXT, cached INT, duration REAL, error INT)" \
			".mode csv" ".import $work/b$n.csv step")" \
		"rm -f $work/peer.db*; warm $work/b$n" "$(cmd sh -c 'cd "$1" && ls | xargs python3 "$2" "$3"' - "$work/b$n" "$here/peer_ingest.py" "$work/peer.db")" \
		"rm -f $work/imp.db; warm $work/rows$n.csv" "$(cmd sqlite3 "$work/imp.db" "$ddl" ".mode csv" ".import $work/rows$n.csv step")" \
		"warm $work/b$n" "$ingest" \
		: "selftimed:floor $db" \
		: "selftimed:floor $db $work/b$n"
	read -r med mn mx < <(job 1)
	read -r imed _ _ < <(job 2)
	read -r pmed _ _ < <(job 3)
	read -r rmed _ _ < <(job 4)
	# the fifth job ingested the same files again, into the database the
	# first had just filled: each is found stored by its bytes (before its
	# builds are stored, when its parse is ahead) and nothing is written
	read -r amed amn amx < <(job 5)
	steps=$(sqlite3 "$db" "SELECT count(*) FROM step WHERE kind = 'step' OR kind = 'from'")
	rows=$(wc -l <"$work/b$n.csv")
	bytes=$(du -sb "$work/b$n" | cut -f1)
	all=$(sqlite3 "$db" "SELECT count(*) FROM step")
	rate() { calc "$1 / $2"; }
	record "ingest $n builds (steps/s)" "steps/s" "$(rate "$steps" "$med")" "$(rate "$steps" "$mx")" \
		"$(rate "$steps" "$mn")" "$(rate "$rows" "$imed")" "sqlite3 .import, 10 cols" rate 0.5 \
		"$(faster 1 2 "$steps / $rows")"
	record "ingest $n builds (step rows/s)" "rows/s" "$(rate "$all" "$med")" "$(rate "$all" "$mx")" \
		"$(rate "$all" "$mn")" "$(rate "$all" "$rmed")" "sqlite3 .import, its table" rate 0.5 \
		"$(faster 1 4)"
	record "ingest $n builds (steps/s)" "steps/s" "$(rate "$steps" "$med")" "$(rate "$steps" "$mx")" \
		"$(rate "$steps" "$mn")" "$(rate "$rows" "$pmed")" "peer_ingest.py" rate 3 \
		"$(faster 1 3 "$steps / $rows")"
	# the floor under ingest: the rows this ingest stored, stored again
	# into a new database of the same schema and settings and nothing else
	# (no logs, no parsing; store_floor.c times making the database and
	# storing the rows, not reading them back), in turns with the jobs it
	# is set against, the last two of time_jobs above. Its rate
	# against the two baselines is the best ratio any ingest of these rows
	# into this schema reaches in this run; ingest against it, how near
	# buildprof comes to that
	read -r fmed fmn fmx < <(job 6)
	# and the same beside ingest's parsing of these logs on the other core,
	# as ingest stores beside its parser: the cores share a cache and the
	# memory bus (and what else the host shares between two virtual CPUs).
	# It shows what that company costs the store. The parse here never
	# waits, where ingest's waits while its queue is full, so the cost
	# shown is at most what ingest pays, and this is no strict floor
	read -r bmed bmn bmx < <(job 7)
	record "  store floor, $n (steps/s)" "steps/s" "$(rate "$steps" "$fmed")" "$(rate "$steps" "$fmx")" \
		"$(rate "$steps" "$fmn")" "$(rate "$rows" "$imed")" "sqlite3 .import, 10 cols" rate "" \
		"$(faster 6 2 "$steps / $rows")"
	record "  store floor, $n (steps/s)" "steps/s" "$(rate "$steps" "$fmed")" "$(rate "$steps" "$fmx")" \
		"$(rate "$steps" "$fmn")" "$(rate "$rows" "$pmed")" "peer_ingest.py" rate "" \
		"$(faster 6 3 "$steps / $rows")"
	record "  ingest $n against its floor" "steps/s" "$(rate "$steps" "$med")" "$(rate "$steps" "$mx")" \
		"$(rate "$steps" "$mn")" "$(rate "$steps" "$fmed")" "store floor" rate "" "$(faster 1 6)"
	record "  store floor beside a parse, $n" "steps/s" "$(rate "$steps" "$bmed")" \
		"$(rate "$steps" "$bmx")" "$(rate "$steps" "$bmn")" "$(rate "$steps" "$fmed")" "store floor" rate "" \
		"$(faster 7 6)"
	record "  ingest $n against it" "steps/s" "$(rate "$steps" "$med")" "$(rate "$steps" "$mx")" \
		"$(rate "$steps" "$mn")" "$(rate "$steps" "$bmed")" "floor beside a parse" rate "" \
		"$(faster 1 7)"
	record "  ingest $n again, all stored" "steps/s" "$(rate "$steps" "$amed")" \
		"$(rate "$steps" "$amx")" "$(rate "$steps" "$amn")" "$(rate "$steps" "$med")" "its first ingest" rate "" \
		"$(faster 5 1)"
	record "ingest $n builds (MB/s)" "MB/s" "$(rate "$bytes / 1048576" "$med")" "$(rate "$bytes / 1048576" "$mx")" \
		"$(rate "$bytes / 1048576" "$mn")" "" "" info ""
	record "database size per build ($n)" "bytes" "$(( $(stat -c %s "$db") / n ))" "" "" "" "" info ""
	last=$n
done

# --- GitLab jobs JSON against jq + sqlite3
echo "bench: ingest $npipe GitLab pipelines" >&2
time_jobs "rm -f $work/gl.db*; warm $work/gl" \
	"$(cmd sh -c 'cd "$1" && ls | xargs "$2" --db "$3" ingest --format gitlab' - "$work/gl" "$bin" "$work/gl.db")" \
	"rm -f $work/glpeer.db*; warm $work/gl" \
	"$(cmd sh -c 'cd "$1" && ls | xargs bash "$2" "$3"' - "$work/gl" "$here/peer_gitlab.sh" "$work/glpeer.db")" \
	"warm $work/gl" "$(cmd sh -c 'cd "$1" && ls | xargs "$2"' - "$work/gl" "$parse_json")"
read -r med mn mx < <(job 1)
read -r pmed _ _ < <(job 2)
record "ingest $npipe GitLab pipelines (s)" "s" "$med" "$mn" "$mx" "$pmed" "peer_gitlab.sh (jq)" speedup 3 \
	"$(faster 1 2)"
# jansson reading the same files into whole trees, nothing else: the floor
# under ingest while buildprof did that, beaten once it built only what it
# reads (common/jsonkeep.c)
read -r med mn mx < <(job 3)
record "parse $npipe GitLab pipelines, jansson (s)" "s" "$med" "$mn" "$mx" "$pmed" "peer_gitlab.sh (jq)" speedup "" \
	"$(faster 3 2)"
# listing them back, each job with its last 10 runs (the default --history),
# against one scan of the job table: no target, but a per-job query that
# reads every pipeline shows here at once (it once took minutes)
time_jobs : "$(cmd sqlite3 "$work/gl.db" "SELECT count(*), sum(duration_s) FROM job")" \
	: "$(cmd "$bin" --db "$work/gl.db" pipelines)"
read -r smed _ _ < <(job 1)
read -r med mn mx < <(job 2)
record "pipelines over $npipe GitLab pipelines (s)" "s" "$med" "$mn" "$mx" "$smed" "sqlite3 full scan of job" cost "" \
	"$(slower 2 1)"

# --- peak RSS on one long log: must not grow with the input
echo "bench: peak RSS on a ${big_mb} MB log" >&2
rm -f "$work/big.db"
/usr/bin/time -f %M -o "$work/rss" "$bin" --db "$work/big.db" ingest "$work/big.log" >/dev/null
record "peak RSS, ${big_mb} MB log (MB)" "MB" "$(calc "$(cat "$work/rss") / 1024")" "" "" \
	32 "limit" ceiling 1

# --- report and compare over the largest database, against one full scan
db=$work/bp$last.db
echo "bench: report over $last builds" >&2
half=$((last / 2))
time_jobs : "$(cmd sqlite3 "$db" "SELECT count(*), sum(duration_s), sum(cached) FROM step")" \
	: "$(cmd "$bin" --db "$db" report)" \
	: "$(cmd "$bin" --db "$db" report --format json)" \
	: "$(cmd "$bin" --db "$db" compare "1..$half" "$((half + 1))..$last")" \
	: "$(cmd "$read_steps" "$db")" \
	: "$(cmd "$read_steps" "$db" json)" \
	: "$(cmd "$read_steps" "$db" text)"
read -r smed _ _ < <(job 1)
read -r med mn mx < <(job 2)
record "report over $last builds (s)" "s" "$med" "$mn" "$mx" "$smed" "sqlite3 full scan of step" cost 3 \
	"$(slower 2 1)"
read -r med mn mx < <(job 3)
record "report --format json over $last builds (s)" "s" "$med" "$mn" "$mx" "$smed" "sqlite3 full scan of step" cost 3 \
	"$(slower 3 1)"
read -r med mn mx < <(job 4)
record "compare $half v $half builds (s)" "s" "$med" "$mn" "$mx" "$smed" "sqlite3 full scan of step" cost 3 \
	"$(slower 4 1)"
# the floor under the JSON report: fetching every step row it reads,
# nothing else
read -r med mn mx < <(job 5)
record "fetch every step row, $last builds (s)" "s" "$med" "$mn" "$mx" "$smed" "sqlite3 full scan of step" cost "" \
	"$(slower 5 1)"
# and the floor under any JSON report computed from the stored steps: only
# the step fields the design's JSON prints (and the start and kind its
# exclusive times and step counts come from)
read -r med mn mx < <(job 6)
record "fetch the step fields JSON prints, $last builds (s)" "s" "$med" "$mn" "$mx" "$smed" "sqlite3 full scan of step" \
	cost "" "$(slower 6 1)"
# and under the text report, which reads four columns fewer than JSON's
# (no vertex, platform, instruction or output lines)
read -r med mn mx < <(job 7)
record "fetch the step fields text prints, $last builds (s)" "s" "$med" "$mn" "$mx" "$smed" "sqlite3 full scan of step" \
	cost "" "$(slower 7 1)"

# --- the same report when builds share names, as a CI history's do: each
# generated build has a name of its own (its file's), which leaves the
# report nothing to read of a name's history to price its cache hits, no
# previous build and no cache breaker. Here the same builds carry 20 names
# (5,000 builds each at 100k), interleaved as builds of several images are.
names=20
echo "bench: report over $last builds of $names names" >&2
rm -f "$work/named.db"
sqlite3 "$db" "VACUUM INTO '$work/named.db'"
sqlite3 "$work/named.db" "UPDATE build SET name = 'app' || (id % $names)"
time_jobs : "$(cmd sqlite3 "$work/named.db" "SELECT count(*), sum(duration_s), sum(cached) FROM step")" \
	: "$(cmd "$bin" --db "$work/named.db" report)"
read -r smed _ _ < <(job 1)
read -r med mn mx < <(job 2)
record "report, $last builds of $names names (s)" "s" "$med" "$mn" "$mx" "$smed" "sqlite3 full scan of step" cost 3 \
	"$(slower 2 1)"
rm -f "$work/named.db"

# --- charts over the smallest corpus (1000 builds by default) against
# gnuplot drawing the equivalent chart from the same numbers (a build's time
# is its wall time, else the sum of its steps, as the trend chart has it;
# slowest steps and compare use the mean, SQL having no median: the drawing
# is the same size)
db=$work/bp$(set -- $sizes; echo "$1").db
n1=$(sqlite3 "$db" "SELECT count(*) FROM build")
half=$((n1 / 2))
steptime="(SELECT sum(duration_s) FROM step s WHERE s.id >= (b.id << 20) AND s.id < ((b.id + 1) << 20)
	AND s.kind = 'step')"
sqlite3 -separator ' ' "$db" "SELECT id, coalesce(wall_s, $steptime, 0) FROM build b ORDER BY id" >"$work/trend.dat"
sqlite3 -separator ' ' "$db" "SELECT build_id, avg(cached) FROM step WHERE kind = 'step'
	GROUP BY build_id ORDER BY build_id" >"$work/cache.dat"
sqlite3 -separator '	' "$db" "SELECT replace(substr(text, 1, 40), '\"', ''), avg(duration_s) FROM step
	WHERE kind = 'step' AND duration_s > 0 GROUP BY stage, text ORDER BY 2 DESC LIMIT 15" >"$work/steps.dat"
sqlite3 -separator '	' "$db" "SELECT replace(substr(text, 1, 40), '\"', ''),
	avg(CASE WHEN build_id <= $half THEN duration_s END), avg(CASE WHEN build_id > $half THEN duration_s END)
	FROM step WHERE kind = 'step' AND duration_s > 0 GROUP BY stage, text
	HAVING min(build_id) <= $half AND max(build_id) > $half ORDER BY 2 DESC LIMIT 15" >"$work/compare.dat"
gp_head="set terminal png size 1000,600; set output '$work/g.png'; set datafile separator '\t';"
gp_trend="$gp_head set datafile separator ' '; set title 'build time'; set xlabel 'build'; set ylabel 's';
	plot '$work/trend.dat' using 1:2 with linespoints title 'build time'"
gp_cache="$gp_head set datafile separator ' '; set title 'cache hit rate'; set yrange [0:1];
	plot '$work/cache.dat' using 1:2 with linespoints title 'hit rate'"
gp_steps="$gp_head set title 'slowest steps'; set style fill solid; set boxwidth 0.8; set xtics rotate by 45 right;
	plot '$work/steps.dat' using 2:xtic(1) with boxes title 'mean s'"
gp_compare="$gp_head set title 'before and after'; set style data histograms; set style fill solid;
	set xtics rotate by 45 right; plot '$work/compare.dat' using 2:xtic(1) title 'before', '' using 3 title 'after'"
for kind in steps cache trend compare; do
	args=$kind; [ "$kind" = compare ] && args="compare 1..$half $((half + 1))..$n1"
	gp=gp_$kind
	# shellcheck disable=SC2086 # args is the kind and its selections
	time_jobs "rm -f $work/c.png" "$(cmd "$bin" --db "$db" plot $args -o "$work/c.png")" \
		"rm -f $work/g.png" "$(cmd gnuplot -e "${!gp}")"
	read -r med mn mx < <(job 1)
	read -r gmed _ _ < <(job 2)
	record "plot $kind, $n1 builds (s)" "s" "$med" "$mn" "$mx" "$gmed" "gnuplot png" cost 1 "$(slower 1 2)"
done

commit=$(git -C "$root" describe --always --dirty 2>/dev/null || echo unknown)
python3 "$here/table.py" "$results" "$out" "commit=$commit" "date=$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
	"sizes=$sizes" "big_mb=$big_mb" "pipelines=$npipe" "runs=$runs" "cpus=$(nproc)"
