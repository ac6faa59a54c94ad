/*
 * http.h - the one libcurl wrapper: GET/POST with headers, a capped response
 * body, the response headers callers need, timeouts, and retries with
 * exponential backoff on 429 and 5xx that honour Retry-After. TLS
 * verification stays on (CA bundle from CURL_CA_BUNDLE or SSL_CERT_FILE).
 * Credentials passed in headers are never echoed in errors.
 */
#ifndef BUILDPROF_HTTP_H
#define BUILDPROF_HTTP_H

#include <stddef.h>

#include "buildprof/util.h"

/* Largest response body kept; a longer one is an error. */
#define HTTP_BODY_MAX (64L * 1024 * 1024)

struct http_request {
	const char *method;        /* "GET" (default when NULL), "POST", "PUT" */
	const char *url;
	const char *const *headers; /* "Name: value" strings, NULL-terminated; may be NULL */
	const char *body;          /* request body, NULL for none */
	size_t body_len;
	const char *userpwd;       /* "user:password" for basic auth, NULL for none */
	/* a file sent as multipart/form-data field "file" instead of body */
	const char *file_name;     /* its name in the form, NULL for no file */
	const void *file_data;
	size_t file_len;
	long timeout_s;            /* whole request; 0 means $BUILDPROF_HTTP_TIMEOUT, else 30 */
	int max_attempts;          /* 0 means 4 */
};

struct http_response {
	long status;               /* HTTP status of the last attempt, 0 when none came */
	struct strbuf body;        /* the body (STRBUF_INIT'd by http_request) */
	char *content_type;        /* response headers of interest, new strings or NULL */
	char *www_authenticate;
	char *docker_content_digest;
	char *link;
	char *next_page;           /* X-Next-Page (GitLab) */
	double retry_after;        /* Retry-After seconds, -1 when not given */
	long ratelimit_remaining;  /* RateLimit-Remaining / X-RateLimit-Remaining, -1 unknown */
	double ratelimit_reset;    /* when the quota comes back (Unix time), -1 unknown */
	int attempts;              /* how many requests were sent */
};

void http_response_release(struct http_response *res);
/* Resets res to an empty response (no headers seen yet). */
void http_response_init(struct http_response *res);
/* Takes one raw response header line ("Name: value\r\n") into res: the
 * fields above, the rate-limit headers of GitLab (RateLimit-*) and GitHub
 * (X-RateLimit-*), Retry-After. A status line starts a new header set.
 * Exposed for the fuzz target and tests. */
void http_take_header(struct http_response *res, const char *line, size_t len);
/* The URL of rel="next" in an RFC 8288 Link header (a new string), or NULL. */
char *http_link_next(const char *link);
/* Seconds to wait before the next request to a server whose last response
 * was res, at Unix time now: until the quota resets when it is used up, else
 * 0. */
double http_ratelimit_wait(const struct http_response *res, double now);
/* Sends req, retrying transient failures. Returns 0 when a response came
 * (any status: the caller judges it, then releases res), or -1 with err set
 * ("URL: what went wrong") and res already released when none did. */
int http_request(const struct http_request *req, struct http_response *res, struct bp_error *err);
/* Seconds to wait before attempt n (1-based) after a response that asked
 * for retry_after seconds (< 0: it did not say): honours the server, else
 * 0.5 s doubling, capped at 30 s. Exposed for tests. */
double http_backoff(int attempt, double retry_after);

#endif
