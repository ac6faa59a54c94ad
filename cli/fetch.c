/*
 * fetch.c - `buildprof fetch SOURCE ...`: collects from live APIs into the
 * database, one transaction per fetched object, like ingest. Sources are
 * rows in a table; `registry` reads an image from a registry.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buildprof/collector.h"
#include "cli.h"

struct registry_fetch {
	const char *ref;
	struct registry_options opt;
};

static int fetch_registry_parse(FILE *in, const char *source, const struct bp_sink *sink,
				struct collector_result *res, struct bp_error *err, void *vctx)
{
	struct registry_fetch *f = vctx;
	struct bp_image img;
	int rc;

	(void)in;
	memset(res, 0, sizeof(*res));
	if (collector_fetch_registry_image(f->ref, &f->opt, &img, res->sha256, err))
		return -1;
	res->format = collector_format("manifest");
	rc = sink->image(sink->ctx, &img, err);
	bp_image_release(&img);
	return rc;
}

static int fetch_registry(int argc, char **argv, const struct cli_env *env);

static const struct cli_command fetch_registry_cmd = {
	.name = "fetch registry",
	.run = fetch_registry,
	.summary = "an image's manifest and config from a registry",
	.usage =
	"usage: buildprof fetch registry [--platform OS/ARCH] [--plain-http] REF...\n"
	"\n"
	"Reads each image REF (alpine, ghcr.io/org/app:1.2, 127.0.0.1:5000/app@sha256:...)\n"
	"from its registry with the v2 API: the manifest (an index resolved to the\n"
	"platform's manifest), and the config blob for the command behind each layer.\n"
	"Stores the image with its compressed layer sizes, like `ingest` of a manifest.\n"
	"Anonymous access, basic auth and bearer tokens are handled; credentials come\n"
	"only from BUILDPROF_REGISTRY_USER and BUILDPROF_REGISTRY_PASSWORD.\n"
	"\n"
	"  -p, --platform P   the platform to pick from an index (default linux/amd64)\n"
	"      --plain-http   http instead of https (always so for localhost, 127.0.0.1)\n"
	"  -h, --help         this text\n",
};

static int fetch_registry(int argc, char **argv, const struct cli_env *env)
{
	static const struct option longopts[] = {
		{ "platform", required_argument, NULL, 'p' },
		{ "plain-http", no_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct registry_fetch f = { 0 };
	struct cli_input_opts opts = { 0 };
	struct bp_store *st;
	int c, i, rc = EXIT_OK;

	optind = 1;
	while ((c = getopt_long(argc, argv, "p:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'p':
			if (!strchr(optarg, '/'))
				return cli_usage_error(&fetch_registry_cmd, "--platform wants OS/ARCH, like linux/arm64");
			f.opt.platform = optarg;
			break;
		case 'P':
			f.opt.plain_http = 1;
			break;
		case 'h':
			return cli_help(&fetch_registry_cmd);
		default:
			return cli_usage_error(&fetch_registry_cmd, "bad option");
		}
	}
	if (optind >= argc)
		return cli_usage_error(&fetch_registry_cmd, "no image reference");
	f.opt.username = getenv("BUILDPROF_REGISTRY_USER");
	f.opt.password = getenv("BUILDPROF_REGISTRY_PASSWORD");
	if (!f.opt.username || !*f.opt.username || !f.opt.password)
		f.opt.username = f.opt.password = NULL;
	st = cli_open_store(env);
	if (!st)
		return EXIT_INPUT;
	bp_build_init(&opts.labels);
	opts.parse = fetch_registry_parse;
	opts.parse_ctx = &f;
	for (i = optind; i < argc; i++) {
		f.ref = argv[i];
		if (cli_store_input(st, NULL, argv[i], "fetch", &opts) != EXIT_OK)
			rc = EXIT_INPUT;
	}
	bp_build_release(&opts.labels);
	store_close(st);
	return rc;
}

/* --- GitLab and GitHub --- */

struct ci_fetch {
	struct ci_fetch_options o;
	int github;
};

static int fetch_ci_parse(FILE *in, const char *source, const struct bp_sink *sink,
			  struct collector_result *res, struct bp_error *err, void *vctx)
{
	struct ci_fetch *f = vctx;
	struct bp_sha256 fp;
	int rc;

	(void)in;
	memset(res, 0, sizeof(*res));
	bp_sha256_init(&fp);
	rc = f->github ? collector_fetch_github(&f->o, sink, &fp, err) : collector_fetch_gitlab(&f->o, sink, &fp, err);
	if (isatty(2))
		fputs("\r\033[K", stderr); /* the progress line makes way for the result */
	bp_sha256_final_hex(&fp, res->sha256);
	res->format = collector_format(f->github ? "github" : "gitlab");
	return rc;
}

/* A listed pipeline that finished, and is stored with the same status,
 * has nothing new to fetch: fetching again is incremental. */
static int unchanged_since_stored(struct bp_store *st, const char *provider, const char *id, const char *listed)
{
	static const char *const finished[] = { "success", "failed", "canceled", "skipped" };
	struct bp_error err;
	char *stored = NULL;
	size_t i;
	int same = 0;

	if (!listed)
		return 0; /* asked for by id, or the listing did not say */
	for (i = 0; i < BP_ARRAY_SIZE(finished) && strcmp(listed, finished[i]); i++)
		;
	bp_error_init(&err);
	if (i < BP_ARRAY_SIZE(finished) && store_pipeline_status(st, provider, id, &stored, &err) == 1)
		same = stored && !strcmp(stored, listed);
	free(stored);
	return same;
}

static int fetch_ci(int argc, char **argv, const struct cli_env *env, int github,
		    const struct cli_command *cmd)
{
	static const struct option longopts[] = {
		{ "url", required_argument, NULL, 'u' },
		{ "project", required_argument, NULL, 'P' },
		{ "repo", required_argument, NULL, 'P' },
		{ "pipeline", required_argument, NULL, 'i' },
		{ "run", required_argument, NULL, 'i' },
		{ "ref", required_argument, NULL, 'r' },
		{ "branch", required_argument, NULL, 'r' },
		{ "workflow", required_argument, NULL, 'w' },
		{ "last", required_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct ci_fetch f = { 0 };
	struct cli_input_opts opts = { 0 };
	struct strbuf auth = STRBUF_INIT, what = STRBUF_INIT;
	struct bp_error err;
	struct bp_store *st = NULL;
	char **ids = NULL, **statuses = NULL;
	size_t n = 0, i, fetched = 0, unchanged = 0, failed = 0;
	const char *tok, *url = NULL, *project = NULL;
	int c, rc = EXIT_USAGE;

	f.github = github;
	f.o.last = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'u': url = optarg; break;
		case 'P': project = optarg; break;
		case 'i': f.o.pipeline = optarg; break;
		case 'r': f.o.ref = optarg; break;
		case 'w': f.o.workflow = optarg; break;
		case 'l':
			if (bp_parse_long(optarg, 1, 100, &f.o.last)) {
				rc = cli_usage_error(cmd, "--last wants a number from 1 to 100");
				goto out;
			}
			break;
		case 'h':
			rc = cli_help(cmd);
			goto out;
		default:
			rc = cli_usage_error(cmd, "bad option");
			goto out;
		}
	}
	f.o.api_url = url ? url : github ? (getenv("GITHUB_API_URL") && *getenv("GITHUB_API_URL") ? getenv("GITHUB_API_URL") : "https://api.github.com")
			       : (getenv("CI_API_V4_URL") && *getenv("CI_API_V4_URL") ? getenv("CI_API_V4_URL") : "https://gitlab.com/api/v4");
	f.o.project = project ? project : getenv(github ? "GITHUB_REPOSITORY" : "CI_PROJECT_ID");
	if (!f.o.project || !*f.o.project) {
		rc = cli_usage_error(cmd, github ? "--repo OWNER/NAME (or GITHUB_REPOSITORY)" : "--project ID|PATH (or CI_PROJECT_ID)");
		goto out;
	}
	if (!f.o.pipeline && !f.o.last) {
		rc = cli_usage_error(cmd, github ? "--run ID, or --last N (with --branch, --workflow)"
						 : "--pipeline ID, or --last N (with --ref)");
		goto out;
	}
	if (github && (tok = getenv("GITHUB_TOKEN")) && *tok) {
		strbuf_addf(&auth, "Authorization: Bearer %s", tok);
		f.o.token_var = "GITHUB_TOKEN";
	} else if (!github && (tok = getenv("GITLAB_TOKEN")) && *tok) {
		strbuf_addf(&auth, "PRIVATE-TOKEN: %s", tok);
		f.o.token_var = "GITLAB_TOKEN";
	} else if (!github && (tok = getenv("CI_JOB_TOKEN")) && *tok) {
		strbuf_addf(&auth, "JOB-TOKEN: %s", tok);
		f.o.token_var = "CI_JOB_TOKEN";
	}
	f.o.auth_header = auth.len ? auth.buf : NULL;
	rc = EXIT_INPUT;
	if (!(st = cli_open_store(env)))
		goto out;
	bp_error_init(&err);
	if (f.o.pipeline) {
		ids = xcalloc(1, sizeof(*ids));
		statuses = xcalloc(1, sizeof(*statuses));
		ids[0] = xstrdup(f.o.pipeline);
		n = 1;
	} else if (collector_list_pipelines(&f.o, github, &ids, &statuses, &n, &err)) {
		cli_print_error(cmd->name, &err);
		goto out;
	}
	bp_build_init(&opts.labels);
	opts.parse = fetch_ci_parse;
	opts.parse_ctx = &f;
	rc = EXIT_OK;
	/* one transaction per pipeline: a later failure keeps what was fetched */
	for (i = 0; i < n; i++) {
		if (unchanged_since_stored(st, github ? "github" : "gitlab", ids[i], statuses[i])) {
			unchanged++;
			continue;
		}
		if (isatty(2))
			fprintf(stderr, "\rfetching %s %zu of %zu (%s)...\033[K", github ? "run" : "pipeline", i + 1,
				n, ids[i]);
		f.o.pipeline = ids[i];
		strbuf_reset(&what);
		strbuf_addf(&what, "%s %s %s", github ? "github" : "gitlab", f.o.project, ids[i]);
		if (cli_store_input(st, NULL, what.buf, "fetch", &opts) != EXIT_OK) {
			rc = EXIT_INPUT;
			failed++;
		} else {
			fetched++;
		}
	}
	if (!n)
		printf("no %s to fetch\n", github ? "runs" : "pipelines");
	else
		printf("fetch %s: %zu fetched, %zu unchanged since the last fetch, %zu failed\n",
		       github ? "github" : "gitlab", fetched, unchanged, failed);
	bp_build_release(&opts.labels);
out:
	for (i = 0; i < n; i++) {
		free(ids[i]);
		free(statuses[i]);
	}
	free(ids);
	free(statuses);
	strbuf_release(&auth);
	strbuf_release(&what);
	store_close(st);
	return rc;
}

static int fetch_gitlab(int argc, char **argv, const struct cli_env *env);
static int fetch_github(int argc, char **argv, const struct cli_env *env);

static const struct cli_command fetch_gitlab_cmd = {
	.name = "fetch gitlab",
	.run = fetch_gitlab,
	.summary = "GitLab pipelines and their jobs",
	.usage =
	"usage: buildprof fetch gitlab [--url API] [--project ID|PATH] (--pipeline ID | --last N [--ref BRANCH])\n"
	"\n"
	"Reads pipelines and all their jobs (include_retried, every page) from the\n"
	"GitLab API and stores them as `ingest` of the same JSON would: a pipeline\n"
	"or job fetched again is updated, not duplicated. One transaction per\n"
	"pipeline: when a request fails, what was fetched before it is kept. With\n"
	"--last, a listed pipeline that finished and is stored with that status is\n"
	"not fetched again (only what changed). A progress line shows on a terminal.\n"
	"\n"
	"  --url API          default $CI_API_V4_URL, else https://gitlab.com/api/v4\n"
	"  --project P        project id or path (default $CI_PROJECT_ID)\n"
	"  --pipeline ID      one pipeline; or --last N recent ones (on --ref BRANCH)\n"
	"Token: GITLAB_TOKEN (PRIVATE-TOKEN), else CI_JOB_TOKEN (JOB-TOKEN).\n",
};

static const struct cli_command fetch_github_cmd = {
	.name = "fetch github",
	.run = fetch_github,
	.summary = "GitHub Actions workflow runs and their jobs",
	.usage =
	"usage: buildprof fetch github [--url API] [--repo OWNER/NAME] (--run ID | --last N [--branch B] [--workflow FILE])\n"
	"\n"
	"Reads workflow runs and all their jobs with steps (every page) from the\n"
	"GitHub API (GitHub Enterprise too) and stores them as `ingest` of the same\n"
	"JSON would; fetched again, they are updated. One transaction per run.\n"
	"With --last, a listed run that finished and is stored with that status is\n"
	"not fetched again (only what changed). A progress line shows on a terminal.\n"
	"\n"
	"  --url API          default $GITHUB_API_URL, else https://api.github.com\n"
	"  --repo R           OWNER/NAME (default $GITHUB_REPOSITORY)\n"
	"  --run ID           one run; or --last N recent ones (of --workflow FILE,\n"
	"                     on --branch B)\n"
	"Token: GITHUB_TOKEN (Authorization: Bearer).\n",
};

static int fetch_gitlab(int argc, char **argv, const struct cli_env *env)
{
	return fetch_ci(argc, argv, env, 0, &fetch_gitlab_cmd);
}

static int fetch_github(int argc, char **argv, const struct cli_env *env)
{
	return fetch_ci(argc, argv, env, 1, &fetch_github_cmd);
}

static const struct cli_command *const sources[] = {
	&fetch_registry_cmd,
	&fetch_gitlab_cmd,
	&fetch_github_cmd,
};

static int run_fetch(int argc, char **argv, const struct cli_env *env)
{
	size_t i;

	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))
		return argc < 2 ? cli_usage_error(&cli_fetch, "which source? (registry, gitlab, github)")
				: cli_help(&cli_fetch);
	for (i = 0; i < BP_ARRAY_SIZE(sources); i++)
		if (!strcmp(sources[i]->name + 6, argv[1]))
			return sources[i]->run(argc - 1, argv + 1, env);
	return cli_usage_error(&cli_fetch, "unknown source '%s' (registry, gitlab, github)", argv[1]);
}

const struct cli_command cli_fetch = {
	.name = "fetch",
	.run = run_fetch,
	.summary = "collect from live APIs (registry, gitlab, github)",
	.usage =
	"usage: buildprof fetch SOURCE [OPTIONS] ARGS...\n"
	"\n"
	"Collects from a live API into the database, one transaction per object.\n"
	"Sources:\n"
	"  registry REF...   an image's manifest and config (buildprof fetch registry --help)\n"
	"  gitlab            pipelines and jobs (buildprof fetch gitlab --help)\n"
	"  github            workflow runs, jobs and steps (buildprof fetch github --help)\n"
	"\n"
	"Requests time out, and are retried with backoff on 429 and 5xx (honouring\n"
	"Retry-After). TLS certificates are verified (CA bundle from CURL_CA_BUNDLE or\n"
	"SSL_CERT_FILE). Exit status 1 when any request failed; what was fetched is kept.\n",
};
