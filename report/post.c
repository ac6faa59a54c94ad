/*
 * post.c - publishes a report where a team reads it: one merge-request note
 * (GitLab) or pull-request comment (GitHub) that buildprof edits on every
 * push instead of adding another - found by the hidden marker the Markdown
 * report starts with - or a webhook (Slack-compatible). All HTTP goes
 * through common/http.c; tokens travel only in headers and never appear in
 * a message, a dry run or an error.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buildprof/http.h"
#include "buildprof/report.h"

#define MARKER "<!-- buildprof -->"
#define MAX_PAGES 100

static int send(const struct report_post_target *t, const char *method, const char *url,
		const char *body, struct http_response *res, struct bp_error *err)
{
	const char *headers[4];
	struct http_request req = { 0 };
	size_t h = 0;

	headers[h++] = "Content-Type: application/json";
	headers[h++] = "Accept: application/json";
	if (t->auth_header)
		headers[h++] = t->auth_header;
	headers[h] = NULL;
	req.method = method;
	req.url = url;
	req.headers = headers;
	req.body = body;
	req.body_len = body ? strlen(body) : 0;
	return http_request(&req, res, err);
}

/* A status the forge answered with, as a message naming the token's variable. */
static int refused(const struct report_post_target *t, const char *what, const struct http_response *res,
		   struct bp_error *err)
{
	const char *var = t->token_var ? t->token_var : "(no token)";

	switch (res->status) {
	case 401:
		return bp_error_set(err, t->kind, 0, "%s answered HTTP 401; the token in %s was not accepted",
				    what, var);
	case 403:
		return bp_error_set(err, t->kind, 0, "%s answered HTTP 403; the token in %s may not write here",
				    what, var);
	case 404:
		return bp_error_set(err, t->kind, 0, "%s answered HTTP 404; check the project and the "
						     "merge/pull request number", what);
	default:
		return bp_error_set(err, t->kind, 0, "%s answered HTTP %ld", what, res->status);
	}
}

/* Pages through the comments list for the one starting with the marker. */
static int find_marked(const struct report_post_target *t, const char *first_url, long long *id,
		       struct bp_error *err)
{
	char *url = xstrdup(first_url);
	int page, rc = -1;

	*id = 0;
	for (page = 0; page < MAX_PAGES && url; page++) {
		struct http_response res;
		json_t *arr, *c;
		size_t i;
		char *next = NULL;
		if (send(t, "GET", url, NULL, &res, err))
			goto out;
		if (res.status != 200) {
			refused(t, "listing the comments", &res, err);
			http_response_release(&res);
			goto out;
		}
		arr = json_loadb(res.body.buf, res.body.len, 0, NULL);
		if (!json_is_array(arr)) {
			bp_error_set(err, t->kind, 0, "listing the comments: the answer is not a JSON list");
			json_decref(arr);
			http_response_release(&res);
			goto out;
		}
		json_array_foreach(arr, i, c) {
			const char *b = json_string_value(json_object_get(c, "body"));
			if (b && !strncmp(b, MARKER, strlen(MARKER)) && !*id)
				*id = json_integer_value(json_object_get(c, "id"));
		}
		json_decref(arr);
		if (!*id) {
			if (res.next_page && *res.next_page) { /* GitLab */
				struct strbuf sb = STRBUF_INIT;
				strbuf_addf(&sb, "%s%cpage=%s", first_url, strchr(first_url, '?') ? '&' : '?',
					    res.next_page);
				next = strbuf_detach(&sb, NULL);
			} else if (res.link) { /* GitHub */
				next = http_link_next(res.link);
			}
		}
		http_response_release(&res);
		free(url);
		url = next;
		if (*id)
			break;
	}
	rc = 0;
out:
	free(url);
	return rc;
}

int report_post_upload(const struct report_post_target *t, const char *name, const void *data, size_t len,
		       struct strbuf *markdown, struct bp_error *err)
{
	struct strbuf url = STRBUF_INIT, proj = STRBUF_INIT;
	const char *headers[3] = { "Accept: application/json", t->auth_header, NULL };
	struct http_request req = { 0 };
	struct http_response res;
	json_t *o;
	const char *md;
	int rc = -1;

	if (strcmp(t->kind, "gitlab-mr"))
		return bp_error_set(err, t->kind, 0, "charts can only be uploaded to GitLab (GitHub's API "
						     "has no upload for comment images)");
	strbuf_add_urlencoded(&proj, t->project);
	strbuf_addf(&url, "%s/projects/%s/uploads", t->api_url, proj.buf);
	if (t->dry_run) {
		printf("POST %s (upload %s, %zu bytes)\n", url.buf, name, len);
		strbuf_addf(markdown, "![%s](uploads/%s)", name, name);
		rc = 0;
		goto out;
	}
	req.method = "POST";
	req.url = url.buf;
	req.headers = headers;
	req.file_name = name;
	req.file_data = data;
	req.file_len = len;
	if (http_request(&req, &res, err))
		goto out;
	if (res.status != 200 && res.status != 201) {
		refused(t, "uploading a chart", &res, err);
		http_response_release(&res);
		goto out;
	}
	o = json_loadb(res.body.buf, res.body.len, 0, NULL);
	md = json_string_value(json_object_get(o, "markdown"));
	if (md) {
		strbuf_addstr(markdown, md);
		rc = 0;
	} else {
		bp_error_set(err, t->kind, 0, "uploading a chart: the answer has no \"markdown\" field");
	}
	json_decref(o);
	http_response_release(&res);
out:
	strbuf_release(&url);
	strbuf_release(&proj);
	return rc;
}

static int post_comment(const struct report_post_target *t, const char *body, struct bp_error *err)
{
	struct strbuf list = STRBUF_INIT, item = STRBUF_INIT, create = STRBUF_INIT, proj = STRBUF_INIT;
	struct http_response res;
	json_t *payload = json_object();
	char *json_body;
	long long id = 0;
	int github = !strcmp(t->kind, "github-pr"), rc = -1;

	json_object_set_new(payload, "body", report_json_string(body));
	json_body = json_dumps(payload, JSON_COMPACT);
	json_decref(payload);
	if (github) {
		strbuf_addf(&create, "%s/repos/%s/issues/%s/comments", t->api_url, t->project, t->number);
		strbuf_addf(&list, "%s?per_page=100", create.buf);
	} else {
		strbuf_add_urlencoded(&proj, t->project);
		strbuf_addf(&create, "%s/projects/%s/merge_requests/%s/notes", t->api_url, proj.buf, t->number);
		strbuf_addf(&list, "%s?per_page=100&sort=asc", create.buf);
	}
	if (t->dry_run) {
		printf("GET %s (to find an earlier buildprof comment)\nPOST or %s %s/{id}\n%s\n", list.buf,
		       github ? "PATCH" : "PUT", github ? "(comments)" : create.buf, json_body);
		rc = 0;
		goto out;
	}
	if (find_marked(t, list.buf, &id, err))
		goto out;
	if (id) {
		if (github)
			strbuf_addf(&item, "%s/repos/%s/issues/comments/%lld", t->api_url, t->project, id);
		else
			strbuf_addf(&item, "%s/%lld", create.buf, id);
		if (send(t, github ? "PATCH" : "PUT", item.buf, json_body, &res, err))
			goto out;
	} else if (send(t, "POST", create.buf, json_body, &res, err)) {
		goto out;
	}
	if (res.status != 200 && res.status != 201) {
		refused(t, id ? "updating the comment" : "creating the comment", &res, err);
		http_response_release(&res);
		goto out;
	}
	{
		json_t *o = json_loadb(res.body.buf, res.body.len, 0, NULL);
		printf("%s %s comment %lld on %s %s\n", t->kind, id ? "updated" : "created",
		       (long long)json_integer_value(json_object_get(o, "id")), t->project, t->number);
		json_decref(o);
	}
	http_response_release(&res);
	rc = 0;
out:
	free(json_body);
	strbuf_release(&list);
	strbuf_release(&item);
	strbuf_release(&create);
	strbuf_release(&proj);
	return rc;
}

static int post_webhook(const struct report_post_target *t, const char *body, int is_json,
			struct bp_error *err)
{
	struct http_response res;
	char *payload;
	int rc = -1;

	if (is_json) {
		payload = xstrdup(body);
	} else {
		json_t *o = json_object();
		json_object_set_new(o, "text", report_json_string(body));
		payload = json_dumps(o, JSON_COMPACT);
		json_decref(o);
	}
	if (t->dry_run) {
		printf("POST %s\n%s\n", t->api_url, payload);
		free(payload);
		return 0;
	}
	if (send(t, "POST", t->api_url, payload, &res, err))
		goto out;
	if (res.status < 200 || res.status > 299) {
		refused(t, "the webhook", &res, err);
	} else {
		printf("webhook accepted the report (HTTP %ld)\n", res.status);
		rc = 0;
	}
	http_response_release(&res);
out:
	free(payload);
	return rc;
}

int report_post(const struct report_post_target *t, const char *body, int is_json_payload,
		struct bp_error *err)
{
	if (!strcmp(t->kind, "webhook"))
		return post_webhook(t, body, is_json_payload, err);
	return post_comment(t, body, err);
}
