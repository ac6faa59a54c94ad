/*
 * collector.h - turns inputs (files, stdin, a wrapped command's output) into
 * bp_build records. A format is a row in a table: a detector that scores the
 * first lines and a streaming parser fed one line at a time, so memory stays
 * bounded whatever the input's size.
 */
#ifndef BUILDPROF_COLLECTOR_H
#define BUILDPROF_COLLECTOR_H

#include <stdio.h>

#include "buildprof/model.h"
#include "buildprof/util.h"

/* Longest line kept; the rest of a longer line is dropped (and counted). */
#define BP_LINE_MAX (64 * 1024)

/* One line of input, with any CI wrapper prefix (timestamps) and ANSI
 * escapes removed. Borrowed: valid only during the call it is passed to. */
struct bp_line {
	const char *text; /* NUL-terminated, no line ending */
	size_t len;       /* strlen(text) */
	long lineno;      /* 1-based line number in the input */
	double ts;        /* epoch seconds from a wrapper's timestamp, NAN when none */
	int truncated;    /* 1 when the input line was longer than BP_LINE_MAX */
};

/* Where a parser delivers each finished build. The build is lent: the sink
 * may change it or take its contents (leaving it bp_build_init'd); the
 * parser releases it afterwards. Returns 0, or -1 with err set to stop. */
struct bp_sink {
	int (*build)(void *ctx, struct bp_build *build, struct bp_error *err);
	/* Images (inspect, history, manifests), lent the same way. */
	int (*image)(void *ctx, struct bp_image *image, struct bp_error *err);
	/* CI pipelines with their jobs (GitLab, GitHub Actions), lent the same way. */
	int (*pipeline)(void *ctx, struct bp_pipeline *pipeline, struct bp_error *err);
	void *ctx;
};

struct bp_parser;

struct bp_format {
	const char *name;        /* "buildkit" */
	const char *description; /* one line for --help */
	/* Scores how much the first lines look like this format: 0 = not at all. */
	int (*detect)(const struct bp_line *lines, size_t n);
	/* A parser that hands each finished build to sink (borrowed for its life). */
	struct bp_parser *(*parser_new)(const struct bp_sink *sink);
	/* Feeds one line; returns 0, or -1 with err set for input it must refuse
	 * or when the sink failed. */
	int (*parser_line)(struct bp_parser *p, const struct bp_line *line, struct bp_error *err);
	/* End of input: emits what remains (a truncated build as incomplete). */
	int (*parser_finish)(struct bp_parser *p, struct bp_error *err);
	void (*parser_free)(struct bp_parser *p);
	/* Formats that are whole JSON documents instead of lines: the complete
	 * input (at most BP_DOCUMENT_MAX bytes) in one call. Returns 0, or -1
	 * with err set. */
	int (*parse_document)(const char *data, size_t len, const struct bp_sink *sink,
			      struct bp_error *err);
	/* Scores a whole document (document formats only), like detect. */
	int (*detect_document)(const char *data, size_t len);
};

/* Largest JSON document (inspect, history, manifest) read whole. */
#define BP_DOCUMENT_MAX (64 * 1024 * 1024)

/* The table of known formats, NULL-terminated. */
extern const struct bp_format *const collector_formats[];
/* Returns the format of that name, or NULL. */
const struct bp_format *collector_format(const char *name);

/* What one input became. */
struct collector_result {
	const struct bp_format *format; /* the format used (borrowed, static) */
	char sha256[65];                /* of the input's bytes */
	long long bytes;                /* input size */
	long lines;                     /* lines read */
	long long dropped_bytes;        /* bytes cut from over-long lines */
	int builds, images, pipelines;  /* what the input held */
};

/* Reads `in` (named `source` in messages) to the end, detecting its format
 * unless `format` is given, and hands each build to sink. Returns 0, or -1
 * with err set ("source:line: ..."); builds already given to the sink before
 * an error are the caller's to keep or discard. */
int collector_parse_stream(FILE *in, const char *source, const struct bp_format *format,
			   const struct bp_sink *sink, struct collector_result *res,
			   struct bp_error *err);

/* --- parsing ahead on a second thread (collector/ahead.c) --- */
/* A thread reads and parses `paths` (- is stdin) in order, as
 * collector_parse_stream would, while the caller stores what they held.
 * For each path in turn the caller calls collector_ahead_open_next: 0, or
 * the errno of opening it (nothing more comes of that path). When 0,
 * collector_ahead_replay (ctx the collector_ahead, `in` unused) hands the
 * sink what the parse handed its own, in order, and returns as the parse
 * did; after the sink fails it returns -1 with the sink's error, and the
 * rest of that input is dropped. Start returns NULL when no thread could
 * be made; finish stops the thread, drops what it read past the caller,
 * and frees it all. `paths` must outlive the collector_ahead. */
struct collector_ahead;
struct collector_ahead *collector_ahead_start(char *const paths[], size_t n,
					      const struct bp_format *format);
int collector_ahead_open_next(struct collector_ahead *ahead);
int collector_ahead_replay(FILE *in, const char *source, const struct bp_sink *sink,
			   struct collector_result *res, struct bp_error *err, void *ctx);
/* Between open_next and the replay (ctx the collector_ahead): the input's
 * result if its parse ended without error and the storing side already
 * holds its end, else NULL, without waiting. Valid until the replay. */
const struct collector_result *collector_ahead_parsed(void *ctx);
void collector_ahead_finish(struct collector_ahead *ahead);

/* --- the `run` wrapper (collector/run.c) --- */
struct collector_run_result {
	double started_at;  /* epoch seconds when the command started */
	double wall_s;      /* how long it ran (monotonic clock) */
	int exit_status;    /* its exit status; 128+N when killed by signal N; 127 when it
			     * could not be started */
	int interrupted;    /* SIGINT/SIGTERM/SIGHUP reached us and was passed on */
	long long bytes;    /* output bytes passed through */
};

/* Runs argv[0] with argv, passing its stdout and stderr through unchanged
 * while writing every line, prefixed with the ISO time its first byte
 * arrived ("2026-11-25T10:55:14.501459Z "), to `record` - the form the line
 * reader peels timestamps from. Signals that interrupt us are passed on and
 * the command's exit is awaited. Returns 0 (whatever the command's status),
 * or -1 with err set when the command could not be run at all. */
int collector_run(char *const argv[], FILE *record, struct collector_run_result *res,
		  struct bp_error *err);

/* --- registry client (collector/registry.c) --- */
struct registry_options {
	const char *platform;  /* "linux/amd64" (default) for picking from an index */
	int plain_http;        /* http:// instead of https:// (always for localhost, 127.0.0.1) */
	const char *username;  /* credentials, from the environment; NULL for anonymous */
	const char *password;
};

/* Fetches REF ("alpine", "127.0.0.1:5000/app:1", "ghcr.io/o/r@sha256:...")
 * from its registry (v2 API): the manifest (an index resolved to the
 * platform's), and the config blob for each layer's command, into img; the
 * registry's bearer-token and basic-auth challenges are answered. `fp`
 * receives a fingerprint of what was fetched (64 hex) so an unchanged image
 * is recognised. Returns 0, or -1 with err naming the URL and HTTP status. */
int collector_fetch_registry_image(const char *ref, const struct registry_options *opt,
				   struct bp_image *img, char fp[65], struct bp_error *err);

/* --- CI API clients (collector/ciapi.c) --- */
struct ci_fetch_options {
	const char *api_url;     /* GitLab .../api/v4, GitHub https://api.github.com */
	const char *project;     /* GitLab project id or path; GitHub "owner/name" */
	const char *pipeline;    /* one pipeline / run id, or NULL */
	const char *ref;         /* with last: the branch */
	const char *workflow;    /* GitHub: the workflow file (with ref/last), or NULL for all */
	long last;               /* how many recent pipelines / runs */
	const char *auth_header; /* "PRIVATE-TOKEN: ..." / "Authorization: Bearer ..." */
	const char *token_var;   /* the variable it came from, for messages */
};

/* The ids of the `last` most recent pipelines (GitLab) or runs (GitHub,
 * of `workflow` when set) on `ref` (any when NULL), with their statuses
 * as the store keeps them (NULL when not given): new arrays of new
 * strings. Returns 0 or -1 with err set. */
int collector_list_pipelines(const struct ci_fetch_options *o, int github, char ***ids, char ***statuses,
			     size_t *n, struct bp_error *err);
/* GitHub's status and conclusion as one status word, as stored: success,
 * failed, canceled, skipped, pending, running... (new string, or NULL). */
char *collector_github_status(const char *status, const char *conclusion);
/* Fetches pipeline / run o->pipeline with all pages of its jobs and hands
 * each document's pipelines to sink (the same parsers as `ingest`). Adds
 * every response body to fp. Returns 0, or -1 with err naming the URL and
 * HTTP status (and the token's variable, never its value). */
int collector_fetch_gitlab(const struct ci_fetch_options *o, const struct bp_sink *sink,
			   struct bp_sha256 *fp, struct bp_error *err);
int collector_fetch_github(const struct ci_fetch_options *o, const struct bp_sink *sink,
			   struct bp_sha256 *fp, struct bp_error *err);

/* --- helpers shared by the parsers (collector/dockerfile.c) --- */
/* Returns the canonical upper-case Dockerfile instruction that starts text
 * ("run" -> "RUN"), or NULL when the first word is none. Static string. */
const char *collector_instruction(const char *text);
/* Returns the FROM target of "FROM [--platform=x] image [AS name]" as a new
 * string, and the alias in *alias (new, or NULL). */
char *collector_from_target(const char *text, char **alias);

/* Marks step s (NULL for none) as failed with msg, and the build as failed,
 * keeping the build's first error. Messages are cut to 4 KiB. */
void collector_mark_failed(struct bp_build *b, struct bp_step *s, const char *msg);

#endif
