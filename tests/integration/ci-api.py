#!/usr/bin/env python3
"""Replays recorded GitLab and GitHub API responses (the corpus in
tests/data/corpus) over real HTTP on 127.0.0.1, split into pages with the real
pagination headers (GitLab X-Next-Page, GitHub Link), rate-limit headers, and
injected faults: the second page of GitLab jobs answers 429 with Retry-After: 1
once, the GitLab pipelines list answers 500 once, the GitHub jobs' second page
answers GitHub's used-up quota (403, X-RateLimit-Remaining: 0, a reset 2 s
away) once, the GitLab pipeline object says its quota is used up
(RateLimit-Remaining: 0, reset 2 s away) so the next request must wait, and
the repository Limited/Repo is out of quota for an hour. Tokens are checked
(PRIVATE-TOKEN, Authorization: Bearer). GitLab jobs come from the docs' and
gitlab4j's job samples, re-parented to pipeline 46 (gitlab4j's pipeline), the
latter renumbered 8 (both samples use id 7).
GET /stats shows what happened. Usage: ci-api.py PORT CORPUS_DIR GITLAB_TOKEN GITHUB_TOKEN"""
import json, sys, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlparse, parse_qs

PORT, CORPUS, GL, GH = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
def load(p): return json.load(open(f"{CORPUS}/{p}"))
pipeline46 = load("gitlab-jobs/gitlab4j-pipeline.json")
jobs46 = load("gitlab-jobs/gitlab-docs-list-pipeline-jobs.json") + [load("gitlab-jobs/gitlab4j-job.json")]
for j in jobs46: j["pipeline"]["id"] = 46
jobs46[2]["id"] = 8  # gitlab4j's sample job has the docs' job id 7; a distinct job here
run = load("github-jobs/pygithub-get-run-3881497935.json")
run_jobs = load("github-jobs/pygithub-list-jobs-run-3881497935.json")
stats = {"requests": [], "fault_429_at": None, "retry_after_429_at": None, "fault_500": 0, "bad_token": 0,
         "gh_403_at": None, "gh_403_reset": None, "gh_after_403_at": None,
         "gl_quota_reset": None, "gl_after_quota_at": None}

class H(BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def reply(self, code, obj, headers=()):
        b = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(b)))
        self.send_header("RateLimit-Remaining", "599"); self.send_header("X-RateLimit-Remaining", "4999")
        for k, v in headers: self.send_header(k, v)
        self.end_headers(); self.wfile.write(b)
    def do_GET(self):
        u = urlparse(self.path); q = parse_qs(u.query); page = int(q.get("page", ["1"])[0])
        stats["requests"].append(self.path)
        if u.path == "/stats": return self.reply(200, stats)
        if u.path.startswith("/api/v4/"):
            if self.headers.get("PRIVATE-TOKEN") != GL:
                stats["bad_token"] += 1; return self.reply(401, {"message": "401 Unauthorized"})
            p = u.path[len("/api/v4"):]
            if p == "/projects/2/pipelines/1":  # a proxy's error page with status 200
                b = b"<html><body><h1>502 Bad Gateway</h1></body></html>"
                self.send_response(200); self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(b))); self.end_headers(); return self.wfile.write(b)
            if p == "/projects/3/pipelines/1":  # a body cut off mid-document
                b = json.dumps(pipeline46).encode()[:120]
                self.send_response(200); self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(b))); self.end_headers(); return self.wfile.write(b)
            if p == "/projects/1/pipelines":
                if stats["fault_500"] == 0:
                    stats["fault_500"] += 1; return self.reply(500, {"message": "500 Internal Server Error"})
                return self.reply(200, [{"id": 46, "status": "success", "ref": "main"}])
            if p == "/projects/1/pipelines/46":
                if stats["gl_quota_reset"] is None:
                    stats["gl_quota_reset"] = int(time.time()) + 2
                    return self.reply(200, pipeline46, [("RateLimit-Remaining", "0"),
                                                        ("RateLimit-Reset", str(stats["gl_quota_reset"]))])
                return self.reply(200, pipeline46)
            if p == "/projects/1/pipelines/46/jobs":
                if page == 2 and stats["fault_429_at"] is None:
                    stats["fault_429_at"] = time.time()
                    return self.reply(429, {"message": "429 Too Many Requests"}, [("Retry-After", "1")])
                if page == 1 and stats["gl_after_quota_at"] is None:
                    stats["gl_after_quota_at"] = time.time()
                if page == 2 and stats["retry_after_429_at"] is None:
                    stats["retry_after_429_at"] = time.time()
                nxt = str(page + 1) if page < len(jobs46) else ""
                return self.reply(200, jobs46[page - 1:page], [("X-Next-Page", nxt), ("X-Page", str(page))])
            return self.reply(404, {"message": "404 Project Not Found"})
        if u.path.startswith("/repos/"):
            if self.headers.get("Authorization") != "Bearer " + GH:
                stats["bad_token"] += 1; return self.reply(401, {"message": "Bad credentials"})
            if u.path.startswith("/repos/Limited/Repo/"):
                return self.reply(403, {"message": "API rate limit exceeded"},
                                  [("X-RateLimit-Remaining", "0"), ("X-RateLimit-Reset", str(int(time.time()) + 3600))])
            base = "/repos/PyGithub/PyGithub/actions"
            if u.path == base + "/runs": return self.reply(200, {"total_count": 1, "workflow_runs": [run]})
            if u.path == base + "/runs/3881497935": return self.reply(200, run)
            if u.path == base + "/runs/3881497935/jobs":
                if page == 2 and stats["gh_403_at"] is None:
                    stats["gh_403_at"] = time.time(); stats["gh_403_reset"] = int(time.time()) + 2
                    return self.reply(403, {"message": "API rate limit exceeded"},
                                      [("X-RateLimit-Remaining", "0"), ("X-RateLimit-Reset", str(stats["gh_403_reset"]))])
                if page == 2 and stats["gh_after_403_at"] is None:
                    stats["gh_after_403_at"] = time.time()
                jobs = run_jobs["jobs"]; per = 2
                chunk = jobs[(page - 1) * per: page * per]
                hdr = []
                if page * per < len(jobs):
                    hdr = [("Link", f'<http://127.0.0.1:{PORT}{u.path}?per_page=100&filter=all&page={page + 1}>; rel="next", '
                                    f'<http://127.0.0.1:{PORT}{u.path}?page={(len(jobs) + per - 1) // per}>; rel="last"')]
                return self.reply(200, {"total_count": len(jobs), "jobs": chunk}, hdr)
            return self.reply(404, {"message": "Not Found"})
        return self.reply(404, {"message": "Not Found"})

ThreadingHTTPServer(("127.0.0.1", PORT), H).serve_forever()
