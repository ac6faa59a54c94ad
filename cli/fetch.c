/*
 * fetch.c - `buildprof fetch SOURCE ...`: collects from live APIs into the
 * database, one transaction per fetched object, like ingest. Sources are
 * rows in a table; `registry` reads an image from a registry.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

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
	opts.adjust_ctx = &f;
	for (i = optind; i < argc; i++) {
		f.ref = argv[i];
		if (cli_store_input(st, NULL, argv[i], "fetch", &opts) != EXIT_OK)
			rc = EXIT_INPUT;
	}
	bp_build_release(&opts.labels);
	store_close(st);
	return rc;
}

static const struct cli_command *const sources[] = {
	&fetch_registry_cmd,
};

static int run_fetch(int argc, char **argv, const struct cli_env *env)
{
	size_t i;

	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))
		return argc < 2 ? cli_usage_error(&cli_fetch, "which source? (registry)") : cli_help(&cli_fetch);
	for (i = 0; i < BP_ARRAY_SIZE(sources); i++)
		if (!strcmp(sources[i]->name + 6, argv[1]))
			return sources[i]->run(argc - 1, argv + 1, env);
	return cli_usage_error(&cli_fetch, "unknown source '%s' (registry)", argv[1]);
}

const struct cli_command cli_fetch = {
	.name = "fetch",
	.run = run_fetch,
	.summary = "collect from live APIs (registry)",
	.usage =
	"usage: buildprof fetch SOURCE [OPTIONS] ARGS...\n"
	"\n"
	"Collects from a live API into the database, one transaction per object.\n"
	"Sources:\n"
	"  registry REF...   an image's manifest and config (buildprof fetch registry --help)\n"
	"\n"
	"Requests time out, and are retried with backoff on 429 and 5xx (honouring\n"
	"Retry-After). TLS certificates are verified (CA bundle from CURL_CA_BUNDLE or\n"
	"SSL_CERT_FILE). Exit status 1 when any request failed; what was fetched is kept.\n",
};
