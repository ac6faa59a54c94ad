#!/usr/bin/env python3
"""Deterministic benchmark inputs derived from the real samples.

  gen.py builds DIR N      N BuildKit logs (~20 steps each) in DIR, plus DIR.csv:
                           the same step rows as CSV for the sqlite3 .import ceiling
  gen.py biglog FILE MB    one BuildKit build whose RUN step prints MB megabytes
  gen.py gitlab DIR N      N GitLab "list pipeline jobs" responses, one file each

Templates are samples/logs/buildkit-{cold,warm,deps-change,src-change}.log (real
docker builds); each build varies its name, durations (x0.5..x2), cache state
(the template's, plus extra steps cached or not) and stage count (0..8 extra
steps in an extra stage), so no two files are the same bytes.
"""
import csv, json, os, random, re, sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..')
TEMPLATES = ['cold', 'warm', 'deps-change', 'src-change']
DONE = re.compile(r'^(#\d+) DONE (\d+(?:\.\d+)?)s$')
STEP = re.compile(r'^#(\d+) \[(?:([^\]]*?) )?(\d+)/(\d+)\] (\S+)(.*)$')
STATE = re.compile(r'^#(\d+) (CACHED|DONE (\d+(?:\.\d+)?)s|ERROR.*)$')


def template(name):
    with open(os.path.join(ROOT, 'samples', 'logs', 'buildkit-%s.log' % name)) as f:
        return f.read().split('\n')


def vertices(lines):
    """Split a log into its blank-line separated vertex blocks."""
    blocks, cur = [], []
    for line in lines:
        if line == '':
            if cur:
                blocks.append(cur)
            cur = []
        else:
            cur.append(line)
    if cur:
        blocks.append(cur)
    return blocks


def one_build(rng, blocks, i):
    factor = rng.uniform(0.5, 2.0)
    extra = rng.randrange(0, 9)
    out = []
    for b in blocks[:-1]:
        for line in b:
            m = DONE.match(line)
            out.append('%s DONE %.1fs' % (m.group(1), float(m.group(2)) * factor) if m else line)
        out.append('')
    for k in range(extra):
        v = 20 + k
        out.append('#%d [extra-%d %d/%d] RUN ./step.sh %d %d' % (v, i % 7, k + 1, extra, k, i))
        out.append('#%d sha256:%064x' % (v, rng.getrandbits(256)))
        if rng.random() < 0.5:
            out.append('#%d CACHED' % v)
        else:
            out.append('#%d 0.%03d step %d of build %d' % (v, rng.randrange(1000), k, i))
            out.append('#%d DONE %.1fs' % (v, rng.uniform(0.1, 9.0)))
        out.append('')
    out.extend(re.sub(r'(naming to \S+:)\S+', r'\g<1>bench-%d' % i, line) for line in blocks[-1])
    out.append('')
    return out


def rows(build_id, lines):
    """The peer script's step rows, for the CSV that sqlite3 .import loads."""
    steps = {}
    for line in lines:
        m = STEP.match(line)
        if m:
            v = int(m.group(1))
            steps.setdefault(v, [m.group(2) or '', int(m.group(3)), int(m.group(4)), m.group(5),
                                 m.group(5) + m.group(6), 0, '', 0])
            continue
        m = STATE.match(line)
        if m and int(m.group(1)) in steps:
            s = steps[int(m.group(1))]
            if m.group(2) == 'CACHED':
                s[5] = 1
            elif m.group(3):
                s[6] = m.group(3)
            else:
                s[7] = 1
    return [[build_id, v] + s for v, s in steps.items()]


def builds(d, n):
    rng = random.Random(n)
    os.makedirs(d, exist_ok=True)
    temps = [vertices(template(t)) for t in TEMPLATES]
    with open(d.rstrip('/') + '.csv', 'w', newline='') as cf:
        w = csv.writer(cf)
        for i in range(n):
            lines = one_build(rng, temps[i % len(temps)], i)
            with open(os.path.join(d, 'b%06d.log' % i), 'w') as f:
                f.write('\n'.join(lines))
            w.writerows(rows(i + 1, lines))


def biglog(path, mb):
    rng = random.Random(mb)
    head = vertices(template('cold'))
    limit = mb * 1024 * 1024
    with open(path, 'w') as f:
        for b in head[:5]:
            f.write('\n'.join(b) + '\n\n')
        f.write('#30 [big 1/1] RUN ./generate-a-lot-of-output.sh\n#30 sha256:%064x\n' % rng.getrandbits(256))
        filler = 'x' * 60
        t, written, n = 0.0, 0, 0
        chunk = []
        while written < limit:
            t += 0.0007
            line = '#30 %.3f compiling unit %d %s\n' % (t, n, filler)
            chunk.append(line)
            written += len(line)
            n += 1
            if len(chunk) == 10000:
                f.write(''.join(chunk))
                chunk = []
        f.write(''.join(chunk))
        f.write('#30 DONE %.1fs\n\n' % t)
        f.write('\n'.join(head[-1]) + '\n')


def gitlab(d, n):
    rng = random.Random(n)
    os.makedirs(d, exist_ok=True)
    path = os.path.join(ROOT, 'tests', 'data', 'corpus', 'gitlab-jobs', 'gitlab-docs-list-pipeline-jobs.json')
    with open(path) as f:
        jobs = json.load(f)
    names = [('build', 'build'), ('test', 'unit'), ('test', 'lint'), ('deploy', 'deploy')]
    for p in range(n):
        out = []
        for k, (stage, name) in enumerate(names):
            j = json.loads(json.dumps(jobs[k % len(jobs)]))
            j['id'] = 100000 + p * len(names) + k
            j['name'], j['stage'] = name, stage
            j['pipeline']['id'] = 5000 + p
            j['duration'] = round(rng.uniform(10, 600), 3)
            j['queued_duration'] = round(rng.uniform(0, 60), 3)
            out.append(j)
        with open(os.path.join(d, 'p%06d.json' % p), 'w') as f:
            json.dump(out, f)


if __name__ == '__main__':
    cmd = sys.argv[1]
    if cmd == 'builds':
        builds(sys.argv[2], int(sys.argv[3]))
    elif cmd == 'biglog':
        biglog(sys.argv[2], int(sys.argv[3]))
    elif cmd == 'gitlab':
        gitlab(sys.argv[2], int(sys.argv[3]))
    else:
        sys.exit('usage: gen.py builds|biglog|gitlab ...')
