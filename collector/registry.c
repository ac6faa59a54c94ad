/*
 * registry.c - reads an image from a registry over the Docker Registry HTTP
 * API v2 / OCI distribution spec: manifest (with the Accept headers that
 * make a registry serve schema 2 / OCI rather than schema 1), index ->
 * platform manifest, config blob. Answers the two auth challenges
 * registries use: Basic, and Bearer (token from the realm, for the scope).
 * Credentials come from the caller (the environment), never from a file or
 * the database, and never appear in messages.
 */
#include <ctype.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buildprof/collector.h"
#include "buildprof/http.h"

#define ACCEPT "Accept: application/vnd.oci.image.index.v1+json, " \
	"application/vnd.docker.distribution.manifest.list.v2+json, " \
	"application/vnd.oci.image.manifest.v1+json, " \
	"application/vnd.docker.distribution.manifest.v2+json"

struct ref {
	char *host;   /* as named: "127.0.0.1:5000", "docker.io" */
	char *api;    /* where the API is: "registry-1.docker.io" for docker.io */
	char *repo;   /* "library/alpine" */
	char *ref;    /* tag or digest */
};

static void ref_release(struct ref *r)
{
	free(r->host);
	free(r->api);
	free(r->repo);
	free(r->ref);
}

/* docker's rules: the first component is a registry when it has a '.' or a
 * ':' or is "localhost"; otherwise Docker Hub, with "library/" for one-word names. */
static int parse_ref(const char *s, struct ref *r, struct bp_error *err)
{
	const char *slash = strchr(s, '/'), *name, *at, *colon, *last;
	char *repo;

	memset(r, 0, sizeof(*r));
	if (!*s || strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-/:@") != strlen(s))
		return bp_error_set(err, s, 0, "not an image reference");
	if (slash && (memchr(s, '.', (size_t)(slash - s)) || memchr(s, ':', (size_t)(slash - s)) ||
		      !strncmp(s, "localhost/", 10))) {
		r->host = xstrndup(s, (size_t)(slash - s));
		name = slash + 1;
	} else {
		r->host = xstrdup("docker.io");
		name = s;
	}
	r->api = xstrdup(strcmp(r->host, "docker.io") ? r->host : "registry-1.docker.io");
	at = strchr(name, '@');
	last = strrchr(name, '/');
	colon = strrchr(name, ':');
	if (at) {
		repo = xstrndup(name, (size_t)(at - name));
		r->ref = xstrdup(at + 1);
	} else if (colon && (!last || colon > last)) {
		repo = xstrndup(name, (size_t)(colon - name));
		r->ref = xstrdup(colon + 1);
	} else {
		repo = xstrdup(name);
		r->ref = xstrdup("latest");
	}
	if (!*repo || !*r->ref) {
		free(repo);
		ref_release(r);
		return bp_error_set(err, s, 0, "not an image reference");
	}
	if (!strcmp(r->host, "docker.io") && !strchr(repo, '/')) {
		r->repo = malloc(strlen(repo) + 9);
		sprintf(r->repo, "library/%s", repo);
		free(repo);
	} else {
		r->repo = repo;
	}
	return 0;
}

struct session {
	struct ref ref;
	const struct registry_options *opt;
	char *scheme;        /* "https" or "http" */
	char *bearer;        /* "Authorization: Bearer ..." once earned */
	int basic;           /* send basic credentials */
};

/* key="value" from a WWW-Authenticate challenge (new string or NULL). */
static char *challenge_param(const char *ch, const char *key)
{
	size_t klen = strlen(key);
	const char *p = ch;

	while ((p = strstr(p, key))) {
		if ((p == ch || p[-1] == ' ' || p[-1] == ',') && p[klen] == '=' && p[klen + 1] == '"') {
			const char *v = p + klen + 2, *e = strchr(v, '"');
			return e ? xstrndup(v, (size_t)(e - v)) : NULL;
		}
		p += klen;
	}
	return NULL;
}

static char *userpwd(const struct session *s)
{
	struct strbuf sb = STRBUF_INIT;

	if (!s->opt->username || !s->opt->password)
		return NULL;
	strbuf_addf(&sb, "%s:%s", s->opt->username, s->opt->password);
	return strbuf_detach(&sb, NULL);
}

/* Answers a Bearer challenge: GET realm?service=...&scope=... */
static int get_token(struct session *s, const char *challenge, struct bp_error *err)
{
	char *realm = challenge_param(challenge, "realm"), *service = challenge_param(challenge, "service");
	char *scope = challenge_param(challenge, "scope"), *up = userpwd(s);
	struct strbuf url = STRBUF_INIT, hdr = STRBUF_INIT;
	struct http_request req = { 0 };
	struct http_response res;
	json_t *o = NULL;
	const char *token;
	int rc = -1;

	if (!realm) {
		bp_error_set(err, s->ref.api, 0, "bearer challenge without a realm");
		goto out;
	}
	strbuf_addstr(&url, realm);
	strbuf_addch(&url, strchr(realm, '?') ? '&' : '?');
	if (service) {
		strbuf_addstr(&url, "service=");
		strbuf_add_urlencoded(&url, service);
	}
	if (!scope) {
		struct strbuf sc = STRBUF_INIT;
		strbuf_addf(&sc, "repository:%s:pull", s->ref.repo);
		scope = strbuf_detach(&sc, NULL);
	}
	strbuf_addstr(&url, service ? "&scope=" : "scope=");
	strbuf_add_urlencoded(&url, scope);
	req.url = url.buf;
	req.userpwd = up;
	if (http_request(&req, &res, err))
		goto out;
	if (res.status != 200) {
		bp_error_set(err, realm, 0, "token request answered HTTP %ld%s", res.status,
			     res.status == 401 ? (up ? " (credentials in BUILDPROF_REGISTRY_USER/"
						       "BUILDPROF_REGISTRY_PASSWORD refused)"
						     : " (set BUILDPROF_REGISTRY_USER and BUILDPROF_REGISTRY_PASSWORD)")
					       : "");
		http_response_release(&res);
		goto out;
	}
	o = json_loadb(res.body.buf, res.body.len, 0, NULL);
	token = json_string_value(json_object_get(o, "token"));
	if (!token)
		token = json_string_value(json_object_get(o, "access_token"));
	if (!token) {
		bp_error_set(err, realm, 0, "token response has no token");
	} else {
		strbuf_addf(&hdr, "Authorization: Bearer %s", token);
		free(s->bearer);
		s->bearer = strbuf_detach(&hdr, NULL);
		rc = 0;
	}
	http_response_release(&res);
out:
	json_decref(o);
	strbuf_release(&url);
	strbuf_release(&hdr);
	free(realm);
	free(service);
	free(scope);
	free(up);
	return rc;
}

/* The registry's own words from {"errors":[{"code":..,"message":..}]}. */
static void registry_error(const struct http_response *res, char *buf, size_t size)
{
	json_t *o = json_loadb(res->body.buf, res->body.len, 0, NULL);
	json_t *e = json_array_get(json_object_get(o, "errors"), 0);
	const char *code = json_string_value(json_object_get(e, "code"));
	const char *msg = json_string_value(json_object_get(e, "message"));

	if (code || msg)
		snprintf(buf, size, " (%s%s%s)", code ? code : "", code && msg ? ": " : "", msg ? msg : "");
	else
		buf[0] = '\0';
	json_decref(o);
}

/* GET /v2/<repo>/<kind>/<ref>, answering one auth challenge. */
static int registry_get(struct session *s, const char *kind, const char *what,
			struct http_response *res, struct bp_error *err)
{
	struct strbuf url = STRBUF_INIT;
	struct http_request req = { 0 };
	const char *headers[3];
	char *up = NULL, detail[512];
	int round, rc = -1;

	strbuf_addf(&url, "%s://%s/v2/%s/%s/%s", s->scheme, s->ref.api, s->ref.repo, kind, what);
	for (round = 0; round < 2; round++) {
		size_t h = 0;
		headers[h++] = ACCEPT;
		if (s->bearer)
			headers[h++] = s->bearer;
		headers[h] = NULL;
		free(up);
		up = s->basic ? userpwd(s) : NULL;
		memset(&req, 0, sizeof(req));
		req.url = url.buf;
		req.headers = headers;
		req.userpwd = up;
		if (http_request(&req, res, err))
			goto out;
		if (res->status != 401 || round == 1 || !res->www_authenticate)
			break;
		/* the challenge: answer it once */
		if (!strncasecmp(res->www_authenticate, "Bearer", 6)) {
			char *ch = xstrdup(res->www_authenticate);
			int r = get_token(s, ch, err);
			free(ch);
			if (r) {
				http_response_release(res);
				goto out;
			}
		} else if (!strncasecmp(res->www_authenticate, "Basic", 5) && s->opt->username &&
			   s->opt->password) {
			s->basic = 1;
		} else {
			break;
		}
		http_response_release(res);
	}
	if (res->status != 200) {
		registry_error(res, detail, sizeof(detail));
		bp_error_set(err, url.buf, 0, "HTTP %ld%s%s", res->status, detail,
			     res->status == 401 && !s->opt->username
				     ? "; set BUILDPROF_REGISTRY_USER and BUILDPROF_REGISTRY_PASSWORD"
			     : res->status == 401 ? "; the credentials in BUILDPROF_REGISTRY_USER/"
						    "BUILDPROF_REGISTRY_PASSWORD were refused"
						  : "");
		http_response_release(res);
		goto out;
	}
	if (res->content_type && !strncasecmp(res->content_type, "text/html", 9)) {
		bp_error_set(err, url.buf, 0, "answered an HTML page, not a registry document");
		http_response_release(res);
		goto out;
	}
	rc = 0;
out:
	free(up);
	strbuf_release(&url);
	return rc;
}

/* The manifest format's parser collects what a document holds. */
struct collected {
	struct bp_image *images;
	size_t n, alloc;
};

static int collect(void *ctx, struct bp_image *img, struct bp_error *err)
{
	struct collected *c = ctx;

	BP_GROW(c->images, c->n + 1, c->alloc);
	c->images[c->n++] = *img;
	bp_image_init(img);
	return 0;
}

static void collected_release(struct collected *c)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		bp_image_release(&c->images[i]);
	free(c->images);
	memset(c, 0, sizeof(*c));
}

static int parse_doc(const struct http_response *res, const char *what, struct collected *out,
		     struct bp_error *err)
{
	struct bp_sink sink = { .image = collect, .ctx = out };
	const struct bp_format *manifest = collector_format("manifest");

	if (manifest->parse_document(res->body.buf, res->body.len, &sink, err)) {
		if (!err->source[0])
			snprintf(err->source, sizeof(err->source), "%s", what);
		return -1;
	}
	return 0;
}

int collector_fetch_registry_image(const char *refstr, const struct registry_options *opt,
				   struct bp_image *img, char fp[65], struct bp_error *err)
{
	struct session s;
	struct http_response res;
	struct collected docs = { 0 }, config = { 0 };
	struct bp_sha256 sha;
	const char *platform = opt->platform ? opt->platform : "linux/amd64";
	char *digest = NULL;
	size_t i, d;
	int rc = -1;

	memset(&s, 0, sizeof(s));
	bp_image_init(img);
	if (parse_ref(refstr, &s.ref, err))
		return -1;
	s.opt = opt;
	s.scheme = xstrdup(opt->plain_http || !strncmp(s.ref.api, "localhost", 9) ||
				   !strncmp(s.ref.api, "127.", 4) || !strncmp(s.ref.api, "[::1]", 5)
			   ? "http" : "https");
	bp_sha256_init(&sha);
	bp_sha256_update(&sha, refstr, strlen(refstr));
	if (registry_get(&s, "manifests", s.ref.ref, &res, err))
		goto out;
	bp_sha256_update(&sha, res.body.buf, res.body.len);
	digest = res.docker_content_digest ? xstrdup(res.docker_content_digest) : NULL;
	if (parse_doc(&res, refstr, &docs, err)) {
		http_response_release(&res);
		goto out;
	}
	http_response_release(&res);
	/* an index: one entry per platform; fetch the one asked for */
	if (docs.n && !docs.images[0].image_id && docs.images[0].digest && !docs.images[0].nlayers) {
		const char *want = NULL;
		for (i = 0; i < docs.n && !want; i++)
			if (docs.images[i].platform && !strncmp(docs.images[i].platform, platform, strlen(platform)))
				want = docs.images[i].digest;
		if (!want) {
			bp_error_set(err, refstr, 0, "no manifest for platform %s in the index", platform);
			goto out;
		}
		free(digest);
		digest = xstrdup(want);
		collected_release(&docs);
		if (registry_get(&s, "manifests", digest, &res, err))
			goto out;
		bp_sha256_update(&sha, res.body.buf, res.body.len);
		if (parse_doc(&res, refstr, &docs, err)) {
			http_response_release(&res);
			goto out;
		}
		http_response_release(&res);
	}
	if (docs.n != 1 || !docs.images[0].image_id) {
		bp_error_set(err, refstr, 0, "the registry's answer is no image manifest");
		goto out;
	}
	*img = docs.images[0];
	bp_image_init(&docs.images[0]);
	free(img->ref);
	img->ref = xstrdup(refstr);
	if (digest) {
		free(img->digest);
		img->digest = digest;
		digest = NULL;
	}
	/* the config: each layer's command, and the platform */
	if (registry_get(&s, "blobs", img->image_id, &res, err))
		goto out;
	if (parse_doc(&res, refstr, &config, err)) {
		http_response_release(&res);
		goto out;
	}
	http_response_release(&res);
	if (config.n == 1) {
		struct bp_image *c = &config.images[0];
		if (!img->platform && c->platform)
			img->platform = xstrdup(c->platform);
		img->created_at = c->created_at;
		/* history entries that made a layer line up with the manifest's layers */
		for (i = 0, d = 0; i < c->nlayers && d < img->nlayers; i++) {
			if (c->layers[i].empty)
				continue;
			if (!img->layers[d].created_by && c->layers[i].created_by)
				img->layers[d].created_by = xstrdup(c->layers[i].created_by);
			d++;
		}
	}
	bp_sha256_final_hex(&sha, fp);
	rc = 0;
out:
	if (rc)
		bp_image_release(img);
	free(digest);
	free(s.scheme);
	free(s.bearer);
	ref_release(&s.ref);
	collected_release(&docs);
	collected_release(&config);
	return rc;
}
