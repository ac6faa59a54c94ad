/*
 * http.c - the libcurl wrapper every API client uses (see http.h). One
 * place decides timeouts, retries and what an error message says, so the
 * registry, GitLab, GitHub and webhook clients all behave alike.
 */
#include <ctype.h>
#include <stdio.h>
/* the calls go through the pointers below, not curl.h's type-checking macros */
#define CURL_DISABLE_TYPECHECK 1
#include <curl/curl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "buildprof/http.h"

/* libcurl is loaded on the first request, not at start: it and the thirty
 * libraries it needs cost every command about 20 ms to map (a third of a
 * chart's time), and only fetch and post talk HTTP. curl.h still gives the
 * prototypes; these are the functions this file uses. */
static struct {
	__typeof__(curl_global_init) *global_init;
	__typeof__(curl_easy_init) *easy_init;
	__typeof__(curl_easy_reset) *easy_reset;
	__typeof__(curl_easy_setopt) *easy_setopt;
	__typeof__(curl_easy_perform) *easy_perform;
	__typeof__(curl_easy_getinfo) *easy_getinfo;
	__typeof__(curl_easy_strerror) *easy_strerror;
	__typeof__(curl_easy_cleanup) *easy_cleanup;
	__typeof__(curl_slist_append) *slist_append;
	__typeof__(curl_slist_free_all) *slist_free_all;
	__typeof__(curl_mime_init) *mime_init;
	__typeof__(curl_mime_addpart) *mime_addpart;
	__typeof__(curl_mime_name) *mime_name;
	__typeof__(curl_mime_filename) *mime_filename;
	__typeof__(curl_mime_data) *mime_data;
	__typeof__(curl_mime_free) *mime_free;
} lib;

#define SYM(field, symbol) { #symbol, (void **)&lib.field }
static const struct bp_dynsym curl_symbols[] = {
	SYM(global_init, curl_global_init),
	SYM(easy_init, curl_easy_init),
	SYM(easy_reset, curl_easy_reset),
	SYM(easy_setopt, curl_easy_setopt),
	SYM(easy_perform, curl_easy_perform),
	SYM(easy_getinfo, curl_easy_getinfo),
	SYM(easy_strerror, curl_easy_strerror),
	SYM(easy_cleanup, curl_easy_cleanup),
	SYM(slist_append, curl_slist_append),
	SYM(slist_free_all, curl_slist_free_all),
	SYM(mime_init, curl_mime_init),
	SYM(mime_addpart, curl_mime_addpart),
	SYM(mime_name, curl_mime_name),
	SYM(mime_filename, curl_mime_filename),
	SYM(mime_data, curl_mime_data),
	SYM(mime_free, curl_mime_free),
	{ NULL, NULL }
};
#undef SYM

/* Loads libcurl once. Returns 0, or -1 with err naming what is missing. */
static int load_libcurl(const char *where, struct bp_error *err)
{
	static const char *const sonames[] = { "libcurl.so.4", "libcurl-gnutls.so.4", "libcurl.so",
						NULL };
	static const struct bp_dynlib curl = { "libcurl", "libcurl4", sonames, curl_symbols };
	static int loaded;

	if (loaded)
		return 0;
	if (bp_dynlib_load(&curl, where, err))
		return -1;
	lib.global_init(CURL_GLOBAL_DEFAULT);
	loaded = 1;
	return 0;
}

struct transfer {
	struct http_response *res;
	int too_big;
};

void http_response_init(struct http_response *res)
{
	memset(res, 0, sizeof(*res));
	strbuf_init(&res->body, 0);
	res->retry_after = -1;
	res->ratelimit_remaining = -1;
	res->ratelimit_reset = -1;
}

void http_response_release(struct http_response *res)
{
	strbuf_release(&res->body);
	free(res->content_type);
	free(res->www_authenticate);
	free(res->docker_content_digest);
	free(res->link);
	free(res->next_page);
	http_response_init(res);
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

/* A header's value as a finite number >= 0, or -1 when absent or not one. */
static double header_number(const char *line, size_t len, const char *name)
{
	char *v = header_value(line, len, name), *end;
	double x = -1;

	if (v) {
		x = strtod(v, &end);
		if (end == v || *end || !isfinite(x) || x < 0)
			x = -1;
		free(v);
	}
	return x;
}

void http_take_header(struct http_response *res, const char *p, size_t len)
{
	double x;
	char *v;

	/* a new status line (a redirect, or 100 Continue) starts a new header set */
	if (len > 5 && !strncmp(p, "HTTP/", 5)) {
		free(res->www_authenticate);
		res->www_authenticate = NULL;
		res->retry_after = -1;
		res->ratelimit_remaining = -1;
		res->ratelimit_reset = -1;
		return;
	}
#define TAKE(field, name)                                  \
	if ((v = header_value(p, len, name))) {            \
		free(res->field);                          \
		res->field = v;                            \
		return;                                    \
	}
	TAKE(content_type, "Content-Type")
	TAKE(www_authenticate, "WWW-Authenticate")
	TAKE(docker_content_digest, "Docker-Content-Digest")
	TAKE(link, "Link")
	TAKE(next_page, "X-Next-Page")
#undef TAKE
	if ((x = header_number(p, len, "Retry-After")) >= 0)
		res->retry_after = x;
	else if ((x = header_number(p, len, "RateLimit-Remaining")) >= 0 ||
		 (x = header_number(p, len, "X-RateLimit-Remaining")) >= 0)
		res->ratelimit_remaining = x > 1e9 ? 1000000000L : (long)x;
	else if ((x = header_number(p, len, "RateLimit-Reset")) >= 0 ||
		 (x = header_number(p, len, "X-RateLimit-Reset")) >= 0)
		res->ratelimit_reset = x;
}

static size_t on_header(char *p, size_t size, size_t n, void *ctx)
{
	struct transfer *t = ctx;

	http_take_header(t->res, p, size * n);
	return size * n;
}

char *http_link_next(const char *link)
{
	const char *p, *lt = NULL, *gt, *q;

	if (!link || !(p = strstr(link, "rel=\"next\"")))
		return NULL;
	/* the <...> just before rel="next" */
	for (q = link; q < p; q++)
		if (*q == '<')
			lt = q;
	if (!lt || !(gt = strchr(lt, '>')) || gt > p)
		return NULL;
	return xstrndup(lt + 1, (size_t)(gt - lt - 1));
}

double http_ratelimit_wait(const struct http_response *res, double now)
{
	double reset = res->ratelimit_reset;

	if (res->ratelimit_remaining != 0 || reset < 0)
		return 0;
	/* GitLab and GitHub send Unix time; the IETF draft sends seconds from now */
	if (reset < 1e9)
		return reset;
	return reset > now ? reset - now + 1 : 0;
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

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Longest wait for a used-up rate limit: $BUILDPROF_HTTP_MAX_WAIT, else 120 s. */
static double max_wait_s(void)
{
	const char *env = getenv("BUILDPROF_HTTP_MAX_WAIT");
	long v;

	return env && !bp_parse_long(env, 0, 86400, &v) ? (double)v : 120;
}

/* Sleeps until a used-up quota comes back, or fails when that is further
 * away than the longest wait: hammering a rate-limited API only extends the
 * block, and waiting an hour silently would look like a hang. */
static int wait_for_quota(double until, const char *where, struct bp_error *err)
{
	double wait = until - now_s(), limit = max_wait_s();
	time_t t = (time_t)until;
	struct tm tm;
	char when[32];

	if (wait <= 0)
		return 0;
	if (wait > limit) {
		gmtime_r(&t, &tm);
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", &tm);
		return bp_error_set(err, where, 0,
				    "API rate limit used up until %s (%.0f s from now, more than "
				    "BUILDPROF_HTTP_MAX_WAIT=%.0f s); try again later",
				    when, wait, limit);
	}
	if (isatty(2))
		fprintf(stderr, "buildprof: rate limit used up, waiting %.0f s\n", wait);
	sleep_s(wait);
	return 0;
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
	static double quota_back_at; /* the last response used the quota up until then */
	struct transfer t;
	struct curl_slist *hdrs = NULL;
	curl_mime *mime = NULL;
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
	http_response_init(res);
	safe_url(req->url, where, sizeof(where));
	if (wait_for_quota(quota_back_at, where, err))
		return -1;
	if (load_libcurl(where, err))
		return -1;
	curl = lib.easy_init();
	if (!curl)
		return bp_error_set(err, where, 0, "cannot start libcurl");
	for (i = 0; req->headers && req->headers[i]; i++)
		hdrs = lib.slist_append(hdrs, req->headers[i]);
	if (req->file_name) {
		curl_mimepart *part;
		mime = lib.mime_init(curl);
		part = lib.mime_addpart(mime);
		lib.mime_name(part, "file");
		lib.mime_filename(part, req->file_name);
		lib.mime_data(part, req->file_data, req->file_len);
	}
	for (i = 1; i <= attempts; i++) {
		long status = 0;
		double quota_wait;
		memset(&t, 0, sizeof(t));
		t.res = res;
		res->retry_after = -1;
		res->ratelimit_remaining = -1;
		res->ratelimit_reset = -1;
		strbuf_reset(&res->body);
		errbuf[0] = '\0';
		lib.easy_reset(curl);
		lib.easy_setopt(curl, CURLOPT_URL, req->url);
		lib.easy_setopt(curl, CURLOPT_HTTPHEADER, hdrs);
		lib.easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
		lib.easy_setopt(curl, CURLOPT_WRITEDATA, &t);
		lib.easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
		lib.easy_setopt(curl, CURLOPT_HEADERDATA, &t);
		lib.easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
		lib.easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 1L);
		lib.easy_setopt(curl, CURLOPT_MAXREDIRS, 5L);
		lib.easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 10L);
		lib.easy_setopt(curl, CURLOPT_TIMEOUT, timeout);
		lib.easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
		lib.easy_setopt(curl, CURLOPT_USERAGENT, "buildprof/0.1");
		lib.easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
		lib.easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
		if ((ca = getenv("CURL_CA_BUNDLE")) || (ca = getenv("SSL_CERT_FILE")))
			lib.easy_setopt(curl, CURLOPT_CAINFO, ca);
		if (req->userpwd) {
			lib.easy_setopt(curl, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
			lib.easy_setopt(curl, CURLOPT_USERPWD, req->userpwd);
			/* credentials never follow a redirect to another host */
			lib.easy_setopt(curl, CURLOPT_UNRESTRICTED_AUTH, 0L);
		}
		if (req->method && strcmp(req->method, "GET"))
			lib.easy_setopt(curl, CURLOPT_CUSTOMREQUEST, req->method);
		if (req->body) {
			lib.easy_setopt(curl, CURLOPT_POSTFIELDS, req->body);
			lib.easy_setopt(curl, CURLOPT_POSTFIELDSIZE, (long)req->body_len);
		}
		if (mime)
			lib.easy_setopt(curl, CURLOPT_MIMEPOST, mime);
		rc = lib.easy_perform(curl);
		res->attempts = i;
		if (t.too_big) {
			bp_error_set(err, where, 0, "response larger than %ld MiB", HTTP_BODY_MAX >> 20);
			goto out;
		}
		quota_wait = http_ratelimit_wait(res, now_s());
		if (rc == CURLE_OK) {
			int limited;
			lib.easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
			res->status = status;
			/* GitHub answers a used-up quota with 403 and Remaining: 0 */
			limited = status == 429 || (status == 403 && res->ratelimit_remaining == 0);
			if ((!limited && status < 500) || i == attempts) {
				if (quota_wait > 0)
					quota_back_at = now_s() + quota_wait;
				ret = 0;
				goto out;
			}
		}
		/* transient: a refused connection, a timeout, 429 or 5xx */
		if (i < attempts) {
			if (res->retry_after < 0 && quota_wait > 0) {
				if (wait_for_quota(now_s() + quota_wait, where, err))
					goto out;
			} else {
				sleep_s(http_backoff(i, res->retry_after));
			}
		}
	}
	bp_error_set(err, where, 0, "%s", errbuf[0] ? errbuf : lib.easy_strerror(rc));
out:
	if (ret)
		http_response_release(res); /* no response to judge: nothing for the caller to free */
	lib.mime_free(mime);
	lib.slist_free_all(hdrs);
	lib.easy_cleanup(curl);
	return ret;
}
