#!/usr/bin/env python3
"""The few GitLab and GitHub endpoints `buildprof post` uses, on 127.0.0.1 only,
for tests: merge-request notes (GitLab, X-Next-Page pagination, PRIVATE-TOKEN),
project uploads (GitLab, multipart/form-data field "file")
and issue comments (GitHub, Link pagination, Authorization: Bearer), plus a
webhook sink. Starts with 150 unrelated comments on each so finding our own
needs the second page. GET /state shows everything (JSON).
Usage: forge.py PORT GITLAB_TOKEN GITHUB_TOKEN"""
import hashlib, json, re, sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlparse, parse_qs

PORT, GL_TOKEN, GH_TOKEN = int(sys.argv[1]), sys.argv[2], sys.argv[3]
state = {"gitlab": [{"id": i, "body": f"note {i}"} for i in range(1, 151)],
         "github": [{"id": 1000 + i, "body": f"comment {i}"} for i in range(1, 151)],
         "webhook": [], "uploads": [], "requests": [], "bad_auth": 0}
GL = "/api/v4/projects/group%2Fapp/merge_requests/7/notes"
GH = "/repos/org/app/issues/5/comments"
UPLOADS = "/api/v4/projects/group%2Fapp/uploads"

class H(BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def reply(self, code, obj, headers=()):
        b = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(b)))
        for k, v in headers: self.send_header(k, v)
        self.end_headers(); self.wfile.write(b)
    def body(self):
        n = int(self.headers.get("Content-Length", 0))
        return json.loads(self.rfile.read(n) or b"{}")
    def authorised(self, forge):
        ok = (self.headers.get("PRIVATE-TOKEN") == GL_TOKEN if forge == "gitlab"
              else self.headers.get("Authorization") == "Bearer " + GH_TOKEN)
        if not ok:
            state["bad_auth"] += 1
            self.reply(401, {"message": "401 Unauthorized"})
        return ok
    def route(self, method):
        u = urlparse(self.path); q = parse_qs(u.query)
        state["requests"].append(f"{method} {u.path}")
        if u.path == "/state": return self.reply(200, state)
        if u.path == "/hook" and method == "POST":
            state["webhook"].append(self.body()); return self.reply(200, {"ok": True})
        if u.path == UPLOADS and method == "POST":
            if not self.authorised("gitlab"): return
            raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            m = re.match(r"multipart/form-data; boundary=(.+)", self.headers.get("Content-Type", ""))
            if not m: return self.reply(400, {"message": "400 file is missing"})
            for part in raw.split(b"--" + m.group(1).encode()):
                head, _, data = part.partition(b"\r\n\r\n")
                name = re.search(rb'name="file"; filename="([^"]+)"', head)
                if name:
                    data = data[:-2] if data.endswith(b"\r\n") else data
                    fname = name.group(1).decode(); h = hashlib.md5(data).hexdigest()
                    state["uploads"].append({"filename": fname, "bytes": len(data), "signature": data[:8].hex()})
                    url = f"/uploads/{h}/{fname}"
                    return self.reply(201, {"alt": fname, "url": url, "full_path": "/group/app" + url,
                                            "markdown": f"![{fname}]({url})"})
            return self.reply(400, {"message": "400 file is missing"})
        forge = "gitlab" if u.path.startswith(GL) else "github" if u.path.startswith(("/repos/org/app/issues/")) else None
        if not forge: return self.reply(404, {"message": "404 Not found"})
        if not self.authorised(forge): return
        items = state[forge]
        if u.path in (GL, GH) and method == "GET":
            per, page = int(q.get("per_page", ["20"])[0]), int(q.get("page", ["1"])[0])
            chunk = items[(page - 1) * per: page * per]
            more = page * per < len(items)
            if forge == "gitlab":
                hdr = [("X-Next-Page", str(page + 1) if more else "")]
            else:
                hdr = [("Link", f'<http://127.0.0.1:{PORT}{GH}?per_page={per}&page={page + 1}>; rel="next"')] if more else []
            return self.reply(200, chunk, hdr)
        if u.path in (GL, GH) and method == "POST":
            new = {"id": max(i["id"] for i in items) + 1, "body": self.body()["body"]}
            items.append(new); return self.reply(201, new)
        target = int(u.path.rsplit("/", 1)[1]) if u.path.rsplit("/", 1)[1].isdigit() else None
        if method in ("PUT", "PATCH") and target:
            for i in items:
                if i["id"] == target:
                    i["body"] = self.body()["body"]; return self.reply(200, i)
        return self.reply(404, {"message": "404 Not found"})
    def do_GET(self): self.route("GET")
    def do_POST(self): self.route("POST")
    def do_PUT(self): self.route("PUT")
    def do_PATCH(self): self.route("PATCH")

ThreadingHTTPServer(("127.0.0.1", PORT), H).serve_forever()
