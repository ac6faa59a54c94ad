/*
 * test_http.c - the pure parts of common/http.c: response headers (the
 * rate-limit headers of GitLab and GitHub, Retry-After), Link pagination and
 * how long a used-up quota makes the next request wait.
 */
#include <stdlib.h>

#include "buildprof/http.h"
#include "unit.h"

static void take(struct http_response *res, const char *line)
{
	http_take_header(res, line, strlen(line));
}

static void test_headers(void)
{
	struct http_response res;

	http_response_init(&res);
	CHECK_INT(res.ratelimit_remaining, -1);
	CHECK(res.retry_after < 0 && res.ratelimit_reset < 0);
	take(&res, "HTTP/1.1 429 Too Many Requests\r\n");
	take(&res, "content-type: application/json\r\n");
	take(&res, "Retry-After: 7\r\n");
	take(&res, "RateLimit-Remaining: 0\r\n");
	take(&res, "RateLimit-Reset: 1580393717\r\n");
	take(&res, "X-Next-Page:\r\n");
	CHECK_STR(res.content_type, "application/json");
	CHECK_NEAR(res.retry_after, 7, 0);
	CHECK_INT(res.ratelimit_remaining, 0);
	CHECK_NEAR(res.ratelimit_reset, 1580393717, 0);
	CHECK_STR(res.next_page, "");
	/* a redirect's new status line forgets the old rate-limit state */
	take(&res, "HTTP/1.1 200 OK\r\n");
	CHECK(res.retry_after < 0 && res.ratelimit_remaining == -1 && res.ratelimit_reset < 0);
	/* GitHub's names; garbage and negative values are ignored */
	take(&res, "x-ratelimit-remaining: 4999\r\n");
	take(&res, "X-RateLimit-Reset: soon\r\n");
	take(&res, "Retry-After: -3\r\n");
	take(&res, "Retry-After: Wed, 21 Oct 2015 07:28:00 GMT\r\n");
	CHECK_INT(res.ratelimit_remaining, 4999);
	CHECK(res.ratelimit_reset < 0 && res.retry_after < 0);
	take(&res, "X-RateLimit-Remaining: 1e300\r\n");
	CHECK_INT(res.ratelimit_remaining, 1000000000L);
	take(&res, "Link\r\n");
	take(&res, "\r\n");
	CHECK(res.link == NULL);
	http_response_release(&res);
}

static void test_ratelimit_wait(void)
{
	struct http_response res;

	http_response_init(&res);
	CHECK_NEAR(http_ratelimit_wait(&res, 1000), 0, 0);
	res.ratelimit_remaining = 3;
	res.ratelimit_reset = 2000000000;
	CHECK_NEAR(http_ratelimit_wait(&res, 1999999990), 0, 0); /* quota left */
	res.ratelimit_remaining = 0;
	CHECK_NEAR(http_ratelimit_wait(&res, 1999999990), 11, 1e-9); /* Unix time, one spare second */
	CHECK_NEAR(http_ratelimit_wait(&res, 2000000100), 0, 0);     /* already past */
	res.ratelimit_reset = 30; /* the IETF draft's seconds from now */
	CHECK_NEAR(http_ratelimit_wait(&res, 1999999990), 30, 0);
	http_response_release(&res);
}

static void test_link_next(void)
{
	char *s;

	s = http_link_next("<https://api.github.com/r?page=2>; rel=\"next\", "
			   "<https://api.github.com/r?page=5>; rel=\"last\"");
	CHECK_STR(s, "https://api.github.com/r?page=2");
	free(s);
	s = http_link_next("<https://x/?page=1>; rel=\"prev\", <https://x/?page=3>; rel=\"next\"");
	CHECK_STR(s, "https://x/?page=3");
	free(s);
	CHECK(http_link_next("<https://x/?page=1>; rel=\"prev\"") == NULL);
	CHECK(http_link_next("rel=\"next\"") == NULL);
	CHECK(http_link_next("<unterminated; rel=\"next\"") == NULL);
	CHECK(http_link_next(NULL) == NULL);
}

void test_http(void)
{
	test_headers();
	test_ratelimit_wait();
	test_link_next();
}
