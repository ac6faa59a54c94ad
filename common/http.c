/*
 * http.c - the libcurl wrapper every API client uses (see http.h). One
 * place decides timeouts, retries and what an error message says, so the
 * registry, GitLab, GitHub and webhook clients all behave alike.
 */
#include <ctype.h>
#include <curl/curl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "buildprof/http.h"

struct transfer {
	struct http_response *res;
	int too_big;
	double retry_after; /* seconds, -1 when not given */
};

void http_response_release(struct http_response *res)
{
	strbuf_release(&res->body);
	free(res->content_type);
	free(res->www_authenticate);
	free(res->docker_content_digest);
	free(res->link);
	free(res->next_page);
	memset(res, 0, sizeof(*res));
	strbuf_init(&res->body, 0);
}

static size_t on_body(char *p, size_t size, size_t n, void *ctx)
{
	struct transfer *t = ctx;
	size_t len = size * n;

	if (t->res->body.len + len > (size_t)HTTP_BODY_MAX) {
		t->too_big = 1;
		return 0; /* makes curl stop with CURLE_WRITE_ERROR */
	}
	strbuf_add(&t->res->body, p, len);
	return len;
}

/* "Name: value\r\n" -> a new string holding value, when the name matches. */
static char *header_value(const char *line, size_t len, const char *name)
{
	size_t nlen = strlen(name), end;

	if (len <= nlen + 1 || strncasecmp(line, name, nlen) || line[nlen] != ':')
		return NULL;
	line += nlen + 1;
	len -= nlen + 1;
	while (len && (*line == ' ' || *line == '\t')) {
		line++;
		len--;
	}
	end = len;
	while (end && (line[end - 1] == '\r' || line[end - 1] == '\n' || line[end - 1] == ' '))
		end--;
	return xstrndup(line, end);
}

static size_t on_header(char *p, size_t size, size_t n, void *ctx)
{
	struct transfer *t = ctx;
	struct http_response *res = t->res;
	size_t len = size * n;
	char *v;

	/* a new status line (a redirect, or 100 Continue) starts a new header set */
	if (len > 5 && !strncmp(p, "HTTP/", 5)) {
		free(res->www_authenticate);
		res->www_authenticate = NULL;
		t->retry_after = -1;
		return len;
	}
#define TAKE(field, name)                                  \
	if ((v = header_value(p, len, name))) {            \
		free(res->field);                          \
		res->field = v;                            \
		return len;                                \
	}
	TAKE(content_type, "Content-Type")
	TAKE(www_authenticate, "WWW-Authenticate")
	TAKE(docker_content_digest, "Docker-Content-Digest")
	TAKE(link, "Link")
	TAKE(next_page, "X-Next-Page")
#undef TAKE
	if ((v = header_value(p, len, "Retry-After"))) {
		char *end;
		double s = strtod(v, &end);
		if (end != v && !*end && isfinite(s) && s >= 0)
			t->retry_after = s;
		free(v);
	}
	return len;
}

double http_backoff(int attempt, double retry_after)
{
	double wait;

	if (retry_after >= 0)
		return retry_after > 60 ? 60 : retry_after;
	wait = 0.5 * pow(2, attempt - 1);
	return wait > 30 ? 30 : wait;
}

static void sleep_s(double s)
{
	struct timespec ts;

	ts.tv_sec = (time_t)s;
	ts.tv_nsec = (long)((s - (double)ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts))
		;
}

/* The URL without credentials or query, for messages. */
static void safe_url(const char *url, char *buf, size_t size)
{
	const char *scheme = strstr(url, "://"), *at, *slash, *q;
	size_t len;

	if (scheme) {
		slash = strchr(scheme + 3, '/');
		at = strchr(scheme + 3, '@');
		if (at && (!slash || at < slash)) {
			snprintf(buf, size, "%.*s%s", (int)(scheme + 3 - url), url, at + 1);
			url = buf;
		}
	}
	q = strchr(url, '?');
	len = q ? (size_t)(q - url) : strlen(url);
	if (url != buf)
		snprintf(buf, size, "%.*s", (int)len, url);
	else if (q)
		buf[len] = '\0';
}

int http_request(const struct http_request *req, struct http_response *res, struct bp_error *err)
{
	static int initialised;
	struct transfer t;
	struct curl_slist *hdrs = NULL;
	char errbuf[CURL_ERROR_SIZE], where[1024];
	const char *ca;
	CURL *curl;
	int attempts = req->max_attempts > 0 ? req->max_attempts : 4, i, ret = -1;
	CURLcode rc = CURLE_OK;

	long timeout = req->timeout_s > 0 ? req->timeout_s : 30;
	const char *env = getenv("BUILDPROF_HTTP_TIMEOUT");
	long v;

	if (req->timeout_s <= 0 && env && !bp_parse_long(env, 1, 3600, &v))
		timeout = v;
	memset(res, 0, sizeof(*res));
	strbuf_init(&res->body, 0);
	safe_url(req->url, where, sizeof(where));
	if (!initialised) {
		curl_global_init(CURL_GLOBAL_DEFAULT);
		initialised = 1;
	}
	curl = curl_easy_init();
	if (!curl)
		return bp_error_set(err, where, 0, "cannot start libcurl");
	for (i = 0; req->headers && req->headers[i]; i++)
		hdrs = curl_slist_append(hdrs, req->headers[i]);
	for (i = 1; i <= attempts; i++) {
		long status = 0;
		memset(&t, 0, sizeof(t));
		t.res = res;
		t.retry_after = -1;
		strbuf_reset(&res->body);
		errbuf[0] = '\0';
		curl_easy_reset(curl);
		curl_easy_setopt(curl, CURLOPT_URL, req->url);
		curl_easy_setopt(curl, CURLOPT_HTTPHEADER, hdrs);
		curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
		curl_easy_setopt(curl, CURLOPT_WRITEDATA, &t);
		curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
		curl_easy_setopt(curl, CURLOPT_HEADERDATA, &t);
		curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
		curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 1L);
		curl_easy_setopt(curl, CURLOPT_MAXREDIRS, 5L);
		curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 10L);
		curl_easy_setopt(curl, CURLOPT_TIMEOUT, timeout);
		curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(curl, CURLOPT_USERAGENT, "buildprof/0.1");
		curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
		curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
		if ((ca = getenv("CURL_CA_BUNDLE")) || (ca = getenv("SSL_CERT_FILE")))
			curl_easy_setopt(curl, CURLOPT_CAINFO, ca);
		if (req->userpwd) {
			curl_easy_setopt(curl, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
			curl_easy_setopt(curl, CURLOPT_USERPWD, req->userpwd);
			/* credentials never follow a redirect to another host */
			curl_easy_setopt(curl, CURLOPT_UNRESTRICTED_AUTH, 0L);
		}
		if (req->method && strcmp(req->method, "GET"))
			curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, req->method);
		if (req->body) {
			curl_easy_setopt(curl, CURLOPT_POSTFIELDS, req->body);
			curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, (long)req->body_len);
		}
		rc = curl_easy_perform(curl);
		res->attempts = i;
		if (t.too_big) {
			bp_error_set(err, where, 0, "response larger than %ld MiB", HTTP_BODY_MAX >> 20);
			goto out;
		}
		if (rc == CURLE_OK) {
			curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
			res->status = status;
			if ((status != 429 && status < 500) || i == attempts) {
				ret = 0;
				goto out;
			}
		}
		/* transient: a refused connection, a timeout, 429 or 5xx */
		if (i < attempts)
			sleep_s(http_backoff(i, t.retry_after));
	}
	bp_error_set(err, where, 0, "%s", errbuf[0] ? errbuf : curl_easy_strerror(rc));
out:
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(curl);
	return ret;
}
