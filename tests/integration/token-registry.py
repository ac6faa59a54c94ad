#!/usr/bin/env python3
"""A registry front for tests, on 127.0.0.1 only: answers /v2/ requests with
the bearer-token challenge real registries use (Docker Hub, GHCR), serves
tokens at /token for the test's basic credentials, and passes authorised
requests on to a real registry. Fault injection by repository name:
  flaky/...  the first manifest request gets 503 with Retry-After: 1
  html/...   answers an HTML page, as a misconfigured proxy would
  hang/...   never answers (holds the connection for 30 s)
GET /stats returns what happened (JSON). Usage: token-registry.py PORT UPSTREAM USER PASS"""
import base64, json, sys, time, urllib.request, urllib.error
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORT, UPSTREAM, USER, PASS = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
TOKEN = "t0k3n-" + base64.b16encode(PASS.encode()).decode()[:8]
stats = {"token_requests": 0, "token_scopes": [], "unauthorised": 0, "flaky_503_at": None,
         "flaky_retry_at": None, "requests": 0}

class Handler(BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def send(self, code, body=b"", ctype="application/json", headers=()):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers: self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)
    def do_GET(self):
        stats["requests"] += 1
        if self.path == "/stats":
            return self.send(200, json.dumps(stats).encode())
        if self.path.startswith("/token"):
            stats["token_requests"] += 1
            from urllib.parse import urlparse, parse_qs
            q = parse_qs(urlparse(self.path).query)
            stats["token_scopes"].append(q.get("scope", [""])[0])
            auth = self.headers.get("Authorization", "")
            want = "Basic " + base64.b64encode(f"{USER}:{PASS}".encode()).decode()
            if auth != want or q.get("service") != ["test-registry"]:
                return self.send(401, b'{"details":"bad credentials"}')
            return self.send(200, json.dumps({"token": TOKEN, "expires_in": 300}).encode())
        if not self.path.startswith("/v2/"):
            return self.send(404, b"{}")
        repo = self.path[4:].split("/manifests/")[0].split("/blobs/")[0]
        if self.headers.get("Authorization") != "Bearer " + TOKEN:
            stats["unauthorised"] += 1
            challenge = (f'Bearer realm="http://127.0.0.1:{PORT}/token",service="test-registry",'
                         f'scope="repository:{repo}:pull"')
            return self.send(401, b'{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}',
                             headers=[("WWW-Authenticate", challenge)])
        if repo.startswith("hang/"):
            stats["hung"] = stats.get("hung", 0) + 1
            time.sleep(30)
            return
        if repo.startswith("html/"):
            return self.send(200, b"<html><body>Sign in</body></html>", "text/html")
        if repo.startswith("flaky/") and "/manifests/" in self.path:
            if stats["flaky_503_at"] is None:
                stats["flaky_503_at"] = time.time()
                return self.send(503, b'{"errors":[{"code":"UNAVAILABLE"}]}', headers=[("Retry-After", "1")])
            if stats["flaky_retry_at"] is None:
                stats["flaky_retry_at"] = time.time()
        upstream_path = self.path.replace("/v2/flaky/", "/v2/", 1)
        req = urllib.request.Request(UPSTREAM + upstream_path,
                                     headers={"Accept": self.headers.get("Accept", "*/*")})
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                body = r.read()
                hdrs = [(k, v) for k, v in r.headers.items() if k in ("Docker-Content-Digest",)]
                return self.send(r.status, body, r.headers.get("Content-Type", "application/octet-stream"), hdrs)
        except urllib.error.HTTPError as e:
            return self.send(e.code, e.read())

ThreadingHTTPServer(("127.0.0.1", PORT), Handler).serve_forever()
