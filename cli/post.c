/*
 * post.c - `buildprof post`: the Markdown report where the team reads it.
 * Targets and their defaults come from the CI environment (GitLab's CI_*,
 * GitHub's GITHUB_*), tokens only from the environment.
 */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buildprof/report.h"
#include "cli.h"

static const char *env_or(const char *flag, const char *var, const char *dflt)
{
	const char *v = getenv(var);

	if (flag)
		return flag;
	return v && *v ? v : dflt;
}

/* GitHub's PR number: refs/pull/123/merge, else the event payload. */
static char *github_pr_number(void)
{
	const char *ref = getenv("GITHUB_REF"), *path = getenv("GITHUB_EVENT_PATH");
	char buf[32];

	if (ref && !strncmp(ref, "refs/pull/", 10)) {
		size_t n = strspn(ref + 10, "0123456789");
		if (n && n < sizeof(buf))
			return xstrndup(ref + 10, n);
	}
	if (path && *path) {
		json_t *o = json_load_file(path, 0, NULL);
		json_t *num = json_object_get(json_object_get(o, "pull_request"), "number");
		if (!num)
			num = json_object_get(o, "number");
		if (json_is_integer(num)) {
			snprintf(buf, sizeof(buf), "%lld", (long long)json_integer_value(num));
			json_decref(o);
			return xstrdup(buf);
		}
		json_decref(o);
	}
	return NULL;
}

/* GitHub's limit on a comment; GitLab's is larger. */
#define BODY_MAX 65536

/* The selector words as one `compare` side ("" for all builds). */
static char *words_of(int argc, char **argv)
{
	struct strbuf sb = STRBUF_INIT;
	int i;

	for (i = 0; i < argc; i++)
		strbuf_addf(&sb, "%s%s", i ? " " : "", argv[i]);
	return strbuf_detach(&sb, NULL);
}

/* The comparison with the baseline builds as a Markdown section; nothing
 * (with a warning) when no build matches the baseline yet, as on a
 * project's first pipeline. */
static int add_comparison(const struct cli_env *env, const char *baseline, char *after, struct strbuf *body)
{
	struct analyzer_compare c;
	char *sides[2] = { (char *)baseline, after }, *text = NULL;
	size_t len = 0;
	int empty = 0, rc;
	FILE *out;

	analyzer_compare_init(&c);
	rc = cli_load_compare(env, &cli_post, sides, &c, &empty);
	if (rc == EXIT_OK && (out = open_memstream(&text, &len))) {
		report_compare_format("markdown")->print(out, &c, baseline, after, 0);
		fclose(out);
		strbuf_add(body, text, len);
		free(text);
	} else if (empty == 1) {
		warning("post: no builds match the baseline '%s' yet; the comparison is left out", baseline);
		rc = EXIT_OK;
	}
	analyzer_compare_release(&c);
	return rc;
}

/* Draws the charts as PNGs and uploads them (GitLab), embedding each. */
static int add_charts(const struct cli_env *env, const struct report_post_target *t, const char *baseline,
		      char *after, int argc, char **argv, struct strbuf *body)
{
	static const char *const kinds[] = { "trend", "compare", "steps" };
	struct strbuf md = STRBUF_INIT;
	size_t i;
	int rc = EXIT_OK;

	for (i = 0; i < BP_ARRAY_SIZE(kinds) && rc == EXIT_OK; i++) {
		struct strbuf png = STRBUF_INIT;
		struct bp_error err;
		char name[64], *sides[2] = { (char *)baseline, after };
		struct plot_dest dest = { name, 900, 420, &png };
		int compare = !strcmp(kinds[i], "compare");

		/* with a baseline the comparison says more than the slowest steps */
		if (compare != !!baseline && strcmp(kinds[i], "trend"))
			continue;
		snprintf(name, sizeof(name), "buildprof-%s.png", kinds[i]);
		bp_error_init(&err);
		/* a chart the builds cannot fill (it says why) is left out of the comment */
		if ((compare ? cli_plot_chart(env, kinds[i], 2, sides, &dest, 10, NULL)
			     : cli_plot_chart(env, kinds[i], argc, argv, &dest, 10, NULL)) != EXIT_OK) {
			warning("post: the %s chart is left out", kinds[i]);
		} else if (report_post_upload(t, name, png.buf, png.len, &md, &err)) {
			cli_print_error("post", &err);
			rc = EXIT_INPUT;
		} else {
			strbuf_addch(&md, '\n');
		}
		strbuf_release(&png);
	}
	if (rc == EXIT_OK && md.len)
		strbuf_addf(body, "\n#### Charts\n\n%s", md.buf);
	strbuf_release(&md);
	return rc;
}

static int run_post(int argc, char **argv, const struct cli_env *env)
{
	static const struct option longopts[] = {
		{ "to", required_argument, NULL, 'T' },
		{ "top", required_argument, NULL, 't' },
		{ "by", required_argument, NULL, 'b' },
		{ "project", required_argument, NULL, 'P' },
		{ "repo", required_argument, NULL, 'P' },
		{ "mr", required_argument, NULL, 'N' },
		{ "pr", required_argument, NULL, 'N' },
		{ "api-url", required_argument, NULL, 'A' },
		{ "json", no_argument, NULL, 'j' },
		{ "baseline", required_argument, NULL, 'B' },
		{ "charts", no_argument, NULL, 'C' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct report_post_target t = { 0 };
	struct report_options opt = { NULL, 5, 0 };
	struct bp_selector sel;
	struct bp_store *st = NULL;
	struct bp_error err;
	struct strbuf auth = STRBUF_INIT;
	const char *to = NULL, *project = NULL, *number = NULL, *api = NULL, *by = NULL, *tok;
	const char *baseline = NULL;
	struct strbuf full = STRBUF_INIT;
	char *body = NULL, *pr = NULL, *after = NULL;
	size_t body_len = 0;
	long top;
	int c, json = 0, charts = 0, rc = EXIT_USAGE;

	bp_selector_init(&sel);
	bp_error_init(&err);
	optind = 1;
	while ((c = getopt_long(argc, argv, "t:b:nh", longopts, NULL)) != -1) {
		switch (c) {
		case 'T': to = optarg; break;
		case 'P': project = optarg; break;
		case 'N': number = optarg; break;
		case 'A': api = optarg; break;
		case 'j': json = 1; break;
		case 'B': baseline = optarg; break;
		case 'C': charts = 1; break;
		case 'n': t.dry_run = 1; break;
		case 'b': by = optarg; break;
		case 't':
			if (bp_parse_long(optarg, 0, 100, &top)) {
				rc = cli_usage_error(&cli_post, "--top wants a number from 0 to 100");
				goto out;
			}
			opt.top = (size_t)top;
			break;
		case 'h':
			rc = cli_help(&cli_post);
			goto out;
		default:
			rc = cli_usage_error(&cli_post, "bad option");
			goto out;
		}
	}
	if (!to) {
		rc = cli_usage_error(&cli_post, "--to gitlab-mr, github-pr, github-summary or webhook");
		goto out;
	}
	t.kind = to;
	if (!strcmp(to, "webhook")) {
		/* the URL is the first word that is no selector */
		if (optind >= argc || !strstr(argv[optind], "://")) {
			rc = cli_usage_error(&cli_post, "--to webhook wants the URL after it: post --to webhook URL");
			goto out;
		}
		t.api_url = argv[optind++];
	} else if (!strcmp(to, "gitlab-mr")) {
		t.api_url = env_or(api, "CI_API_V4_URL", "https://gitlab.com/api/v4");
		t.project = env_or(project, "CI_PROJECT_ID", NULL);
		t.number = env_or(number, "CI_MERGE_REQUEST_IID", NULL);
		if ((tok = getenv("GITLAB_TOKEN")) && *tok) {
			strbuf_addf(&auth, "PRIVATE-TOKEN: %s", tok);
			t.token_var = "GITLAB_TOKEN";
		} else if ((tok = getenv("CI_JOB_TOKEN")) && *tok) {
			strbuf_addf(&auth, "JOB-TOKEN: %s", tok);
			t.token_var = "CI_JOB_TOKEN";
		}
		if (!t.project || !t.number) {
			rc = cli_usage_error(&cli_post, "gitlab-mr needs the project and merge request: "
							"CI_PROJECT_ID and CI_MERGE_REQUEST_IID, or --project and --mr");
			goto out;
		}
	} else if (!strcmp(to, "github-pr")) {
		t.api_url = env_or(api, "GITHUB_API_URL", "https://api.github.com");
		t.project = env_or(project, "GITHUB_REPOSITORY", NULL);
		t.number = number ? number : (pr = github_pr_number());
		if ((tok = getenv("GITHUB_TOKEN")) && *tok) {
			strbuf_addf(&auth, "Authorization: Bearer %s", tok);
			t.token_var = "GITHUB_TOKEN";
		}
		if (!t.project || !t.number) {
			rc = cli_usage_error(&cli_post, "github-pr needs the repository and pull request: "
							"GITHUB_REPOSITORY and GITHUB_REF (refs/pull/N/merge) or "
							"GITHUB_EVENT_PATH, or --repo and --pr");
			goto out;
		}
	} else if (strcmp(to, "github-summary")) {
		rc = cli_usage_error(&cli_post, "unknown target '%s' (gitlab-mr, github-pr, github-summary, webhook)", to);
		goto out;
	}
	if (auth.len)
		t.auth_header = auth.buf;
	if (!t.dry_run && (!strcmp(to, "gitlab-mr") || !strcmp(to, "github-pr")) && !t.auth_header) {
		error("post: %s needs a token in %s", to, !strcmp(to, "gitlab-mr") ? "GITLAB_TOKEN (or CI_JOB_TOKEN)" : "GITHUB_TOKEN");
		rc = EXIT_INPUT;
		goto out;
	}
	if (by && strcmp(by, "base") && strncmp(by, "label:", 6)) {
		rc = cli_usage_error(&cli_post, "--by wants base or label:KEY");
		goto out;
	}
	rc = cli_parse_selectors(&cli_post, argc - optind, argv + optind, &sel);
	if (rc != EXIT_OK)
		goto out;
	rc = EXIT_INPUT;
	if (!(st = cli_open_store(env)))
		goto out;
	opt.out = open_memstream(&body, &body_len);
	if (!opt.out)
		goto out;
	rc = cli_render_report(st, &sel, report_format(json ? "json" : "markdown"), &opt, by, argc > optind);
	fclose(opt.out);
	opt.out = NULL;
	if (rc != EXIT_OK)
		goto out;
	strbuf_add(&full, body, body_len);
	after = words_of(argc - optind, argv + optind);
	if (baseline && !json) {
		size_t before = full.len;
		if ((rc = add_comparison(env, baseline, after, &full)) != EXIT_OK)
			goto out;
		if (full.len > BODY_MAX - 1024) { /* the report itself is kept under the limit */
			strbuf_setlen(&full, before);
			strbuf_addstr(&full, "\n_The comparison with the baseline is left out: the comment would "
					     "pass GitHub's 65,536 characters. `buildprof compare` shows it._\n");
		}
	}
	if (charts && json)
		warning("post: --charts goes with the Markdown comment, not --json; posting without them");
	if (charts && !json) {
		if (strcmp(to, "gitlab-mr"))
			warning("post: --charts uploads to GitLab merge requests only (GitHub's API has no "
				"upload for comment images); posting without them");
		else if ((rc = add_charts(env, &t, baseline, after, argc - optind, argv + optind, &full)) != EXIT_OK)
			goto out;
	}
	free(body);
	body = strbuf_detach(&full, &body_len);
	rc = EXIT_INPUT;
	if (!strcmp(to, "github-summary")) {
		const char *path = getenv("GITHUB_STEP_SUMMARY");
		FILE *f;
		if (!path || !*path) {
			error("post: github-summary needs GITHUB_STEP_SUMMARY (set by GitHub Actions)");
			goto out;
		}
		if (t.dry_run) {
			printf("append to %s\n%s", path, body);
		} else if (!(f = fopen(path, "a")) || fputs(body, f) < 0 || fclose(f)) {
			error("post: cannot append to '%s': %m", path);
			goto out;
		} else {
			printf("github-summary: appended the report to %s\n", path);
		}
		rc = EXIT_OK;
		goto out;
	}
	if (report_post(&t, body, json, &err)) {
		cli_print_error("post", &err);
		goto out;
	}
	rc = EXIT_OK;
out:
	if (opt.out)
		fclose(opt.out);
	free(body);
	free(after);
	strbuf_release(&full);
	free(pr);
	strbuf_release(&auth);
	store_close(st);
	bp_selector_release(&sel);
	return rc;
}

const struct cli_command cli_post = {
	.name = "post",
	.run = run_post,
	.summary = "publish the report: merge-request / pull-request comment, webhook",
	.usage =
	"usage: buildprof post --to TARGET [SELECTOR...] [--baseline SEL] [--charts] [--top N] [--by G] [--dry-run]\n"
	"       buildprof post --to webhook URL [--json] [SELECTOR...]\n"
	"\n"
	"Publishes the Markdown report (`report --format markdown`) of the selected\n"
	"builds. On a merge or pull request it keeps ONE comment: the one starting\n"
	"with <!-- buildprof --> is found (through all pages of comments) and updated;\n"
	"only when there is none is one created.\n"
	"\n"
	"Targets:\n"
	"  gitlab-mr       project CI_PROJECT_ID, merge request CI_MERGE_REQUEST_IID,\n"
	"                  API CI_API_V4_URL (default https://gitlab.com/api/v4);\n"
	"                  token GITLAB_TOKEN (PRIVATE-TOKEN), else CI_JOB_TOKEN\n"
	"  github-pr       repository GITHUB_REPOSITORY, pull request from GITHUB_REF\n"
	"                  (refs/pull/N/merge) or GITHUB_EVENT_PATH, API GITHUB_API_URL\n"
	"                  (default https://api.github.com); token GITHUB_TOKEN\n"
	"  github-summary  appends to the file GITHUB_STEP_SUMMARY\n"
	"  webhook URL     POSTs {\"text\": MARKDOWN} (Slack-compatible), or with --json\n"
	"                  the JSON report\n"
	"\n"
	"  --project P, --repo R   override the project / repository\n"
	"  --mr N, --pr N          override the merge / pull request number\n"
	"  --api-url URL           override the API base URL\n"
	"  -n, --dry-run           print the requests and the body, send nothing\n"
	"  -t, --top N, --by G     as for report\n"
	"      --baseline SEL      add the comparison of the selected builds with the\n"
	"                          builds SEL matches (one argument of selector words,\n"
	"                          like 'label:CI_COMMIT_REF_NAME=main last:10'), as\n"
	"                          `compare SEL ...` works it out\n"
	"      --charts            draw the trend chart and the compare chart (else the\n"
	"                          slowest steps) and upload them with the comment\n"
	"                          (gitlab-mr: GitLab's project uploads API)\n"
	"Tokens are read from the environment only and never printed. Requests time\n"
	"out, are retried on 429/5xx, and verify TLS.\n",
};
