#!/usr/bin/env python3
"""Constructs BuildKit --progress=rawjson streams (SolveStatus JSON lines, the
schema in shared/corpus/FORMAT-NOTES.md sections 1-2) for the builds whose real
plain-progress logs are in samples/logs/, so tests can cross-check the two
parsers. No real rawjson capture exists and BuildKit >= 0.13 cannot run here:
these files are CONSTRUCTED. Vertex names, cached flags, errors, durations and
log lines come from the plain log; absolute times come from a schedule over the
sample Dockerfile's stage graph (deps and assets after base, builder after deps,
the final stage after builder and assets), which is how BuildKit runs it.
Usage: make-rawjson.py PLAIN.log > OUT.jsonl"""
import base64, json, re, sys, hashlib

DEPENDS = {"base": [], "deps": ["base"], "assets": ["base"], "builder": ["deps"],
           "stage-4": ["base", "builder", "assets"]}
T0 = 1764064800.0  # 2025-11-25T10:00:00Z

def ts(t):
    whole = int(t); frac = round((t - whole) * 1e9)
    import datetime
    d = datetime.datetime.fromtimestamp(whole, datetime.timezone.utc)
    return d.strftime("%Y-%m-%dT%H:%M:%S") + ".%09dZ" % frac

def parse_plain(path):
    vs, order = {}, []
    for line in open(path, encoding="utf-8", errors="replace"):
        line = line.rstrip("\n")
        m = re.match(r"^#(\d+) (.*)$", line)
        if not m: continue
        n, rest = int(m.group(1)), m.group(2)
        if n not in vs:
            vs[n] = {"name": rest, "cached": False, "dur": None, "error": None, "logs": []}
            order.append(n); continue
        v = vs[n]
        if rest == "CACHED": v["cached"] = True
        elif rest.startswith("DONE "): v["dur"] = float(rest[5:-1])
        elif rest.startswith("ERROR"): v["error"] = rest.split(": ", 1)[-1]
        elif re.match(r"^\d+\.\d+ ", rest): v["logs"].append(rest.split(" ", 1)[1])
        elif rest.startswith(("naming to ", "writing image ")): v.setdefault("statuses", []).append(rest)
    return vs, order

def main():
    vs, order = parse_plain(sys.argv[1])
    digest = {n: "sha256:" + hashlib.sha256(vs[n]["name"].encode()).hexdigest() for n in order}
    stage_end, t_internal, events = {}, 0.0, []
    def stage_of(name):
        m = re.match(r"^\[(\S+) \d+/\d+\]", name)
        return m.group(1) if m else None
    last_in_stage = {}
    for n in order:  # schedule
        v = vs[n]; st = stage_of(v["name"]); dur = v["dur"] or 0.0
        if st is None and not v["name"].startswith("exporting"):
            start = t_internal; t_internal = start + dur
        elif st is None:
            start = max(stage_end.values() or [t_internal])
        else:
            start = max([last_in_stage.get(st, t_internal)] + [stage_end.get(d, t_internal) for d in DEPENDS[st]])
        end = start + (0.0 if v["cached"] else dur)
        v["start"], v["end"] = T0 + start, T0 + end
        if st: last_in_stage[st] = end; stage_end[st] = end
    evs = []
    for n in order:
        v = vs[n]; d = digest[n]
        base = {"digest": d, "name": v["name"]}
        evs.append((v["start"] - 1e-6, {"vertexes": [base]}))
        started = dict(base, started=ts(v["start"]))
        evs.append((v["start"], {"vertexes": [started]}))
        for i, l in enumerate(v["logs"]):
            t = v["start"] + (v["end"] - v["start"]) * (i + 1) / (len(v["logs"]) + 1)
            evs.append((t, {"logs": [{"vertex": d, "stream": 1, "data": base64.b64encode((l + "\n").encode()).decode(), "timestamp": ts(t)}]}))
        for s in v.get("statuses", []):
            sid = re.sub(r"( \d+\.\d+s)?( done)?$", "", s)
            evs.append((v["end"], {"statuses": [{"id": sid, "vertex": d, "current": 0, "timestamp": ts(v["end"]), "started": ts(v["start"]), "completed": ts(v["end"])}]}))
        done = dict(started)
        if v["error"] is not None: done["completed"] = ts(v["end"] + 0.5); done["error"] = v["error"]
        elif v["cached"] or v["dur"] is not None: done["completed"] = ts(v["end"])
        else: continue  # never finished in the plain log
        if v["cached"]: done["cached"] = True
        evs.append((v["end"] + (0.5 if v["error"] else 0), {"vertexes": [done]}))
    evs.sort(key=lambda e: e[0])
    for _, e in evs:
        print(json.dumps(e, separators=(",", ":")))

main()
