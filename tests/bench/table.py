#!/usr/bin/env python3
"""table.py - make bench's table and its JSON, and a run set beside the last.

  table.py RESULTS.tsv OUT.json [KEY=VALUE]...
      Prints the table of the figures in RESULTS.tsv and writes them to
      OUT.json. An OUT.json already there, the last run's, is first moved
      to OUT.last.json (out/bench.json -> out/bench.last.json), and its
      ratios are printed beside this run's, so a change shows against the
      run before it without copying files by hand. KEY=VALUE pairs say what
      ran (commit, sizes, ...); they are kept under "run".
  table.py --compare OLD.json NEW.json
      NEW's table with OLD's ratios beside, for any two kept runs.

RESULTS.tsv (tests/bench/run.sh writes it) has a figure a line, nine or ten
fields separated by tabs: figure, unit, buildprof's median, min and max, the
baseline's median, the baseline's name, the kind, the target, and the ratio
in each turn, space-separated. Where there are turns, the figure's ratio is
their median: buildprof and its baseline ran one after the other in each
turn, so a slow spell of the machine slows both, where the medians of each
may come from runs minutes apart. Without, it is the ratio of the medians.
The kind says how the ratio reads: "rate" (higher is better, buildprof / baseline),
"speedup" (baseline / buildprof, higher is better), "cost" and "ceiling"
(buildprof / baseline, lower is better); "info" has no baseline and no
ratio (MB/s, database size). An empty target: a ratio shown for reference,
with nothing to meet.

Ratios of one run against another move with the machine: these are shared,
and a baseline's own speed varies by up to 1.6x between runs. A ratio is
measured against a baseline of the same turn, so it moves less than the
times do, but still by a quarter or more at times: read a change only once
several runs agree on it.
"""
import json
import os
import statistics
import sys

SCHEMA = "buildprof.bench/1"
KINDS = ("rate", "speedup", "cost", "ceiling", "info")
FIGURE_KEYS = ("figure", "buildprof", "baseline", "baseline_name", "kind", "target")


class BadInput(Exception):
    pass


def number(text, where):
    if text == "":
        return None
    try:
        return float(text)
    except ValueError:
        raise BadInput("%s: not a number: '%s'" % (where, text))


def figure(fields, where):
    """One line of RESULTS.tsv as a figure, with its ratio and whether it
    met its target."""
    if len(fields) not in (9, 10):
        raise BadInput("%s: %d fields, not 9 or 10" % (where, len(fields)))
    name, unit, bp, bmin, bmax, base, bname, kind, target = fields[:9]
    if kind not in KINDS:
        raise BadInput("%s: unknown kind '%s'" % (where, kind))
    r = {"figure": name, "unit": unit, "buildprof": number(bp, where), "min": number(bmin, where),
         "max": number(bmax, where), "baseline": number(base, where), "baseline_name": bname,
         "kind": kind, "target": number(target, where)}
    turns = fields[9].split() if len(fields) == 10 else []
    mine, theirs = r["buildprof"], r["baseline"]
    if kind == "speedup":
        mine, theirs = theirs, mine
    if turns and kind != "info":
        # each turn's ratio, its runs side by side: their median
        r["turn_ratios"] = [number(t, where) for t in turns]
        r["ratio"] = statistics.median(r["turn_ratios"])
    elif kind != "info" and mine is not None and theirs:
        # a time of 0 (a run too quick for the clock) has no ratio
        r["ratio"] = mine / theirs
    if "ratio" in r:
        if r["target"] is not None:
            if kind in ("rate", "speedup"):
                r["met"] = r["ratio"] >= r["target"]
            else:
                r["met"] = r["ratio"] <= r["target"]
    return r


def key(r):
    """What names a figure: the same measure stands against two baselines
    (ingest against .import and against the peer script)."""
    return (r["figure"], r["baseline_name"])


def read_results(path):
    figures, seen = [], {}
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            r = figure(line.rstrip("\n").split("\t"), "%s:%d" % (path, n))
            if key(r) in seen:
                raise BadInput("%s:%d: '%s' against '%s' again (line %d): a run could not be set beside another"
                               % (path, n, r["figure"], r["baseline_name"], seen[key(r)]))
            seen[key(r)] = n
            figures.append(r)
    if not figures:
        raise BadInput("%s: no figures" % path)
    return figures


def read_run(path):
    """A kept run: its figures by name, and what ran. Runs written before
    the "run" member have only their figures."""
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    if not isinstance(doc, dict) or not isinstance(doc.get("figures"), list):
        raise BadInput("%s: no \"figures\" list: not a make bench result" % path)
    for i, r in enumerate(doc["figures"]):
        if not isinstance(r, dict) or not all(k in r for k in FIGURE_KEYS) or r["kind"] not in KINDS:
            raise BadInput("%s: figure %d is not one make bench writes" % (path, i + 1))
    return doc


def g(v):
    return "" if v is None else "%.3g" % v


def met_word(r):
    return {True: "yes", False: "NO"}.get(r.get("met"), "")


def describe(run):
    info = run.get("run") or {}
    what = " ".join(str(info[k]) for k in ("commit", "date") if info.get(k))
    return what or "not recorded"


def print_table(figures, last):
    """The table; with last (a kept run), its ratio and whether it met the
    target beside each figure it has too, and which targets changed."""
    before = {key(r): r for r in last["figures"]} if last else {}
    fmt = "%-42s %12s %12s  %-26s %7s %8s  %-4s"
    head = fmt % ("figure", "buildprof", "baseline", "(baseline)", "ratio", "target", "met")
    print(head + ("  %-11s" % "last run" if last else ""))
    for r in figures:
        tgt = ""
        if r["target"] is not None:
            tgt = (">= " if r["kind"] in ("rate", "speedup") else "<= ") + g(r["target"])
        line = fmt % (r["figure"], g(r["buildprof"]), g(r["baseline"]), r["baseline_name"],
                      g(r.get("ratio")), tgt, met_word(r))
        old = before.get(key(r))
        if old:
            line += "  %s %s" % (g(old.get("ratio")), met_word(old))
        print(line.rstrip())
    if any("turn_ratios" in r for r in figures):
        print("ratio: the median of its turns' ratios, buildprof's run against the baseline's beside it")
    held = [r for r in figures if "met" in r]
    summary = "targets met: %d of %d" % (sum(r["met"] for r in held), len(held))
    if last:
        both = [r for r in held if "met" in before.get(key(r), {})]
        if both:
            summary += "; last run (%s): %d of these %d" % (
                describe(last), sum(before[key(r)]["met"] for r in both), len(both))
        else:
            summary += "; the last run (%s) has none of these figures: it ran at other sizes" % describe(last)
        now = ["%s against %s" % key(r) for r in both if r["met"] and not before[key(r)]["met"]]
        lost = ["%s against %s" % key(r) for r in both if not r["met"] and before[key(r)]["met"]]
        if now:
            summary += "\n  met now, not in the last run: " + "; ".join(now)
        if lost:
            summary += "\n  met in the last run, not now: " + "; ".join(lost)
    print(summary)


def last_path(out):
    stem, ext = os.path.splitext(out)
    return stem + ".last" + (ext or ".json")


def write_run(results, out, pairs):
    figures = read_results(results)
    run = {}
    for p in pairs:
        key, eq, value = p.partition("=")
        if not eq or not key:
            raise BadInput("not KEY=VALUE: '%s'" % p)
        run[key] = value
    last = None
    if os.path.exists(out):
        try:
            last = read_run(out)
        except (OSError, ValueError, BadInput) as e:
            print("table.py: the last run is not shown: %s" % e, file=sys.stderr)
        os.replace(out, last_path(out))
    if os.path.dirname(out):
        os.makedirs(os.path.dirname(out), exist_ok=True)
    tmp = out + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump({"schema": SCHEMA, "run": run, "figures": figures}, f, indent=2)
        f.write("\n")
    os.replace(tmp, out)
    print_table(figures, last)
    print("written to %s%s" % (out, " (the last run kept as %s)" % last_path(out) if last else ""))


def main(argv):
    try:
        if len(argv) == 4 and argv[1] == "--compare":
            old, new = read_run(argv[2]), read_run(argv[3])
            print("this run: %s" % describe(new))
            print_table(new["figures"], old)
            return 0
        if len(argv) >= 3 and not argv[1].startswith("-"):
            write_run(argv[1], argv[2], argv[3:])
            return 0
    except (OSError, ValueError, BadInput) as e:
        print("table.py: %s" % e, file=sys.stderr)
        return 1
    print("usage: table.py RESULTS.tsv OUT.json [KEY=VALUE]...\n"
          "       table.py --compare OLD.json NEW.json", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
