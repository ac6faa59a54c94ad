/*
 * ciapi.c - live collection of CI timings: GitLab's pipelines and jobs API
 * (X-Next-Page pagination, include_retried) and GitHub Actions' runs and
 * jobs API (Link pagination). Every response goes through the same parser
 * a file of it would, so fetching and ingesting store the same thing.
 * Retries, backoff and timeouts are common/http.c's.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "buildprof/collector.h"
#include "buildprof/http.h"

#define MAX_PAGES 1000

static int get(const struct ci_fetch_options *o, const char *url, struct http_response *res,
	       struct bp_error *err)
{
	const char *headers[3] = { "Accept: application/json", o->auth_header, NULL };
	struct http_request req = { 0 };

	req.url = url;
	req.headers = headers;
	if (http_request(&req, res, err))
		return -1;
	if (res->status != 200) {
		const char *why = res->status == 401 ? "; the token in %s was not accepted"
				  : res->status == 403 ? "; the token in %s may not read this"
				  : res->status == 404 ? "; no such project, pipeline or run (or the token in %s cannot see it)"
						       : "";
		char hint[160];
		snprintf(hint, sizeof(hint), why, o->token_var ? o->token_var : "(no token)");
		bp_error_set(err, url, 0, "HTTP %ld%s", res->status, hint);
		http_response_release(res);
		return -1;
	}
	if (res->content_type && strstr(res->content_type, "text/html")) {
		bp_error_set(err, url, 0, "answered an HTML page, not the API's JSON");
		http_response_release(res);
		return -1;
	}
	return 0;
}

/* Parses one response as `ingest --format F` would. */
static int take(const char *format, const struct http_response *res, const char *url,
		const struct bp_sink *sink, struct bp_sha256 *fp, struct bp_error *err)
{
	bp_sha256_update(fp, res->body.buf, res->body.len);
	if (collector_format(format)->parse_document(res->body.buf, res->body.len, sink, err)) {
		if (!err->source[0])
			snprintf(err->source, sizeof(err->source), "%s", url);
		return -1;
	}
	return 0;
}

/* GETs url and every page after it, feeding each to the parser. */
static int get_all(const struct ci_fetch_options *o, const char *format, const char *first,
		   const struct bp_sink *sink, struct bp_sha256 *fp, struct bp_error *err)
{
	char *url = xstrdup(first);
	int page, rc = -1;

	for (page = 0; url && page < MAX_PAGES; page++) {
		struct http_response res;
		char *next = NULL;
		if (get(o, url, &res, err) || take(format, &res, url, sink, fp, err)) {
			if (res.status == 200)
				http_response_release(&res);
			goto out;
		}
		if (res.next_page && *res.next_page) {
			struct strbuf sb = STRBUF_INIT;
			strbuf_addf(&sb, "%s&page=%s", first, res.next_page);
			next = strbuf_detach(&sb, NULL);
		} else {
			next = http_link_next(res.link);
		}
		http_response_release(&res);
		free(url);
		url = next;
	}
	rc = 0;
out:
	free(url);
	return rc;
}

/* The ids and statuses in a JSON list of pipelines (GitLab) or runs
 * (GitHub, under workflow_runs): new arrays of new strings. */
static void ids_of(const struct http_response *res, int github, char ***ids, char ***statuses, size_t *n)
{
	json_t *root = json_loadb(res->body.buf, res->body.len, 0, NULL), *arr, *o;
	char buf[32];
	size_t i, alloc = 0;

	*n = 0;
	arr = github ? json_object_get(root, "workflow_runs") : root;
	json_array_foreach(arr, i, o) {
		json_t *id = json_object_get(o, "id");
		const char *status = json_string_value(json_object_get(o, "status"));
		if (!json_is_integer(id))
			continue;
		snprintf(buf, sizeof(buf), "%lld", (long long)json_integer_value(id));
		BP_GROW(*ids, *n + 1, alloc);
		*statuses = xreallocarray(*statuses, alloc, sizeof(**statuses));
		(*ids)[*n] = xstrdup(buf);
		(*statuses)[(*n)++] = github ? collector_github_status(status,
				json_string_value(json_object_get(o, "conclusion"))) : xstrdup_or_null(status);
	}
	json_decref(root);
}

int collector_list_pipelines(const struct ci_fetch_options *o, int github, char ***ids, char ***statuses,
			     size_t *n, struct bp_error *err)
{
	struct strbuf url = STRBUF_INIT;
	struct http_response res;
	int rc = -1;

	*ids = NULL;
	*statuses = NULL;
	*n = 0;
	if (github) {
		strbuf_addf(&url, "%s/repos/%s/actions", o->api_url, o->project);
		if (o->workflow)
			strbuf_addf(&url, "/workflows/%s", o->workflow);
		strbuf_addf(&url, "/runs?per_page=%ld", o->last);
		if (o->ref) {
			strbuf_addstr(&url, "&branch=");
			strbuf_add_urlencoded(&url, o->ref);
		}
	} else {
		strbuf_addf(&url, "%s/projects/", o->api_url);
		strbuf_add_urlencoded(&url, o->project);
		strbuf_addf(&url, "/pipelines?per_page=%ld&order_by=id&sort=desc", o->last);
		if (o->ref) {
			strbuf_addstr(&url, "&ref=");
			strbuf_add_urlencoded(&url, o->ref);
		}
	}
	if (!get(o, url.buf, &res, err)) {
		ids_of(&res, github, ids, statuses, n);
		http_response_release(&res);
		rc = 0;
	}
	strbuf_release(&url);
	return rc;
}

/* One pipeline / run: the object, then all pages of its jobs. */
static int fetch_one(const struct ci_fetch_options *o, int github, const struct bp_sink *sink,
		     struct bp_sha256 *fp, struct bp_error *err)
{
	struct strbuf url = STRBUF_INIT;
	struct http_response res;
	const char *format = github ? "github" : "gitlab";
	int rc = -1;

	if (github) {
		strbuf_addf(&url, "%s/repos/%s/actions/runs/%s", o->api_url, o->project, o->pipeline);
	} else {
		strbuf_addf(&url, "%s/projects/", o->api_url);
		strbuf_add_urlencoded(&url, o->project);
		strbuf_addf(&url, "/pipelines/%s", o->pipeline);
	}
	if (get(o, url.buf, &res, err))
		goto out;
	if (take(format, &res, url.buf, sink, fp, err)) {
		http_response_release(&res);
		goto out;
	}
	http_response_release(&res);
	strbuf_addstr(&url, github ? "/jobs?per_page=100&filter=all" : "/jobs?per_page=100&include_retried=true");
	rc = get_all(o, format, url.buf, sink, fp, err);
out:
	strbuf_release(&url);
	return rc;
}

int collector_fetch_gitlab(const struct ci_fetch_options *o, const struct bp_sink *sink,
			   struct bp_sha256 *fp, struct bp_error *err)
{
	return fetch_one(o, 0, sink, fp, err);
}

int collector_fetch_github(const struct ci_fetch_options *o, const struct bp_sink *sink,
			   struct bp_sha256 *fp, struct bp_error *err)
{
	return fetch_one(o, 1, sink, fp, err);
}
