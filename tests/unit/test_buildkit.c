/*
 * test_buildkit.c - the BuildKit plain-progress parser on small logs shaped
 * like the real ones in tests/data/corpus (each case names the quirk).
 */
#include "unit.h"

#define S(lit) lit, sizeof(lit) - 1

/* docker 20.10: #N sha256: digest lines, two parallel stages interleaved
 * with "#N ...", a vertex shown twice (once CACHED), image named at export. */
static const char interleaved[] =
	"#1 [internal] load build definition from Dockerfile\n"
	"#1 sha256:33f1149aa3f46907fe402753fdeee49f3508e2d238a128a78ff03eb99faa5f98\n"
	"#1 transferring dockerfile: 133B done\n"
	"#1 DONE 0.0s\n"
	"\n"
	"#4 [base 1/2] COPY busybox /bin/busybox\n"
	"#4 CACHED\n"
	"\n"
	"#5 [deps 2/2] RUN sleep 3\n"
	"#5 0.799 installing\n"
	"#5 ...\n"
	"\n"
	"#6 [assets 2/2] RUN tar -cf /a.tar /a\n"
	"#6 2.797 tar: removing leading '/'\n"
	"#6 DONE 2.8s\n"
	"\n"
	"#5 [deps 2/2] RUN sleep 3\n"
	"#5 3.810 fetched libalpha\n"
	"#5 DONE 3.8s\n"
	"\n"
	"#4 [base 1/2] COPY busybox /bin/busybox\n"
	"#4 CACHED\n"
	"\n"
	"#7 [stage-3 1/1] COPY --from=deps /x /x\n"
	"#7 DONE 0.1s\n"
	"\n"
	"#8 exporting to image\n"
	"#8 exporting layers 0.1s done\n"
	"#8 writing image sha256:822793b9467afd73b8d5f3fd4016bc1766055c71c9351fde57fdecaa118a7408 done\n"
	"#8 naming to docker.io/library/bt done\n"
	"#8 DONE 0.1s\n";

static void test_interleaved(void)
{
	struct parsed p;
	const struct bp_build *b;
	const struct bp_step *s;

	parse_text(S(interleaved), NULL, &p);
	CHECK_INT(p.rc, 0);
	CHECK_STR(p.res.format ? p.res.format->name : NULL, "buildkit");
	CHECK_INT(p.n, 1);
	if (p.n != 1)
		goto out;
	b = &p.builds[0];
	CHECK_INT(b->status, BP_BUILD_SUCCESS);
	CHECK_INT(b->nsteps, 6); /* #4 shown twice is one vertex */
	CHECK_STR(b->image_ref, "docker.io/library/bt");
	CHECK_STR(b->image_id, "sha256:822793b9467afd73b8d5f3fd4016bc1766055c71c9351fde57fdecaa118a7408");
	s = find_step(b, "RUN sleep 3");
	CHECK(s && s->duration_s == 3.8 && s->output_lines == 2 && s->status == BP_STEP_DONE);
	CHECK(s && s->index == 2 && s->count == 2 && !strcmp(s->stage, "deps") && !strcmp(s->instruction, "RUN"));
	s = find_step(b, "COPY busybox");
	CHECK(s && s->cached && s->status == BP_STEP_CACHED && isnan(s->duration_s));
	s = find_step(b, "[internal] load build definition");
	CHECK(s && s->kind == BP_KIND_INTERNAL && s->digest &&
	      !strcmp(s->digest, "sha256:33f1149aa3f46907fe402753fdeee49f3508e2d238a128a78ff03eb99faa5f98"));
	s = find_step(b, "exporting to image");
	CHECK(s && s->kind == BP_KIND_EXPORT && s->duration_s == 0.1);
	/* no wrapper clock: start and wall unknown, never 0 */
	CHECK(isnan(b->wall_s) && isnan(b->started_at));
out:
	parsed_release(&p);
}

/* An error with the recap and buildx's closing line; the parallel vertex is canceled. */
static const char failing[] =
	"#0 building with \"default\" instance using docker driver\n"
	"\n"
	"#5 [builder 3/4] RUN make\n"
	"#5 0.410 exec /bin/sh: exec format error\n"
	"#5 ERROR: process \"/bin/sh -c make\" did not complete successfully: exit code: 1\n"
	"\n"
	"#6 [stage-1 2/3] RUN sleep 100\n"
	"#6 CANCELED\n"
	"------\n"
	" > [builder 3/4] RUN make:\n"
	"#5 0.410 exec /bin/sh: exec format error\n"
	"------\n"
	"Dockerfile:6\n"
	"--------------------\n"
	"   6 | >>> RUN make\n"
	"--------------------\n"
	"ERROR: failed to solve: process \"/bin/sh -c make\" did not complete successfully: exit code: 1\n";

static void test_failing(void)
{
	struct parsed p;
	const struct bp_step *s;

	parse_text(S(failing), NULL, &p);
	CHECK_INT(p.rc, 0);
	CHECK_INT(p.n, 1);
	if (p.n != 1)
		goto out;
	CHECK_INT(p.builds[0].status, BP_BUILD_FAILED);
	CHECK(p.builds[0].error && strstr(p.builds[0].error, "failed to solve: process"));
	s = find_step(&p.builds[0], "RUN make");
	CHECK(s && s->status == BP_STEP_ERROR && s->output_lines == 1); /* the recap is not counted again */
	CHECK(s && s->error && strstr(s->error, "exit code: 1"));
	s = find_step(&p.builds[0], "RUN sleep 100");
	CHECK(s && s->status == BP_STEP_CANCELED);
out:
	parsed_release(&p);
}

/* A log that stops mid-step, CRLF endings, padded indexes, platform prefixes. */
static const char truncated[] =
	"#1 [linux/amd64 internal] load metadata for docker.io/library/alpine:latest\r\n"
	"#1 DONE 2.0s\r\n"
	"\r\n"
	"#2 [linux/amd64 stage-0  1/24] FROM docker.io/library/alpine@sha256:6a92cd1fc\r\n"
	"#2 CACHED\r\n"
	"\r\n"
	"#3 [linux/amd64 stage-0  2/24] RUN apk add git\r\n"
	"#3 0.272 fetch http://dl-cdn.alpinelinux.org/alpine/v3.10/main/x86_64/APKINDEX.tar.gz\r\n";

static void test_truncated(void)
{
	struct parsed p;
	const struct bp_step *s;

	parse_text(S(truncated), NULL, &p);
	CHECK_INT(p.rc, 0);
	CHECK_INT(p.n, 1);
	if (p.n != 1)
		goto out;
	CHECK_INT(p.builds[0].status, BP_BUILD_INCOMPLETE);
	s = find_step(&p.builds[0], "RUN apk add git");
	CHECK(s && s->status == BP_STEP_INCOMPLETE && isnan(s->duration_s));
	CHECK(s && s->platform && !strcmp(s->platform, "linux/amd64"));
	CHECK(s && s->stage && !strcmp(s->stage, "stage-0") && s->index == 2 && s->count == 24);
	s = find_step(&p.builds[0], "FROM docker.io/library/alpine");
	CHECK(s && s->kind == BP_KIND_FROM && s->cached);
	CHECK_STR(p.builds[0].base_image, "docker.io/library/alpine");
out:
	parsed_release(&p);
}

/* Two builds in one log; the second is recognised by "#1" starting over. */
static const char two_builds[] =
	"#1 [internal] load build definition from Dockerfile\n"
	"#1 DONE 0.0s\n"
	"\n"
	"#2 [1/2] FROM docker.io/library/busybox\n"
	"#2 DONE 0.5s\n"
	"\n"
	"#3 [2/2] RUN true\n"
	"#3 DONE 1.5s\n"
	"\n"
	"#1 [internal] load .dockerignore\n"
	"#1 DONE 0.0s\n"
	"\n"
	"#2 [1/2] FROM docker.io/library/busybox\n"
	"#2 CACHED\n"
	"\n"
	"#3 [2/2] RUN true\n"
	"#3 CACHED\n";

static void test_two_builds(void)
{
	struct parsed p;

	parse_text(S(two_builds), NULL, &p);
	CHECK_INT(p.rc, 0);
	CHECK_INT(p.n, 2);
	if (p.n == 2) {
		CHECK(find_step(&p.builds[0], "RUN true")->duration_s == 1.5);
		CHECK(find_step(&p.builds[1], "RUN true")->cached);
		CHECK_INT(p.builds[1].status, BP_BUILD_SUCCESS);
	}
	parsed_release(&p);
}

/* GitHub Actions timestamps give start offsets and the wall time. */
static const char timestamped[] =
	"2020-05-14T10:55:14.0Z #1 [1/2] FROM docker.io/library/busybox\n"
	"2020-05-14T10:55:14.0Z #1 CACHED\n"
	"2020-05-14T10:55:14.0Z \n"
	"2020-05-14T10:55:15.0Z #2 [2/2] RUN make\n"
	"2020-05-14T10:55:20.5Z #2 DONE 5.4s\n";

static void test_timestamped(void)
{
	struct parsed p;
	const struct bp_step *s;

	parse_text(S(timestamped), NULL, &p);
	CHECK_INT(p.n, 1);
	if (p.n == 1) {
		CHECK_NEAR(p.builds[0].wall_s, 6.5, 1e-9);
		CHECK_NEAR(p.builds[0].started_at, 1589453714.0, 1e-6);
		s = find_step(&p.builds[0], "RUN make");
		CHECK(s && fabs(s->start_s - 1.0) < 1e-9 && s->duration_s == 5.4);
	}
	parsed_release(&p);
}

static void test_not_buildkit(void)
{
	struct parsed p;

	parse_text(S("hello world\nthis is not a build log\n"), NULL, &p);
	CHECK_INT(p.rc, -1);
	CHECK(strstr(p.err.text, "not a build log") != NULL);
	CHECK_INT(p.err.line, 1);
	parsed_release(&p);
	parse_text("", 0, NULL, &p);
	CHECK_INT(p.rc, -1);
	CHECK(strstr(p.err.text, "empty") != NULL);
	parsed_release(&p);
	parse_text(S("\n\n  \n"), NULL, &p);
	CHECK_INT(p.rc, -1);
	CHECK(strstr(p.err.text, "empty") != NULL);
	parsed_release(&p);
	/* hostile numbers: a huge vertex number is not believed, no crash */
	parse_text(S("#99999999999999999999 [1/1] RUN x\n#2 [1/1] RUN y\n#2 DONE -5s\n"), NULL, &p);
	CHECK_INT(p.rc, 0);
	CHECK(p.n == 1 && p.builds[0].nsteps == 1 && isnan(p.builds[0].steps[0].duration_s));
	parsed_release(&p);
}

/* rawjson: a vertex with two intervals sums them; a canceled vertex; logs
 * counted from base64; true overlap between parallel vertices. */
static const char rawjson[] =
	"{\"vertexes\":[{\"digest\":\"sha256:a\",\"name\":\"[base 1/2] RUN make\",\"started\":\"2025-01-01T00:00:00Z\"}]}\n"
	"{\"vertexes\":[{\"digest\":\"sha256:b\",\"name\":\"[other 1/1] RUN sleep 5\",\"started\":\"2025-01-01T00:00:01Z\"}]}\n"
	"{\"logs\":[{\"vertex\":\"sha256:a\",\"stream\":1,\"data\":\"b25lCnR3bwo=\",\"timestamp\":\"2025-01-01T00:00:01Z\"}]}\n"
	"{\"vertexes\":[{\"digest\":\"sha256:a\",\"name\":\"[base 1/2] RUN make\",\"started\":\"2025-01-01T00:00:00Z\",\"completed\":\"2025-01-01T00:00:02Z\"}]}\n"
	"{\"vertexes\":[{\"digest\":\"sha256:a\",\"name\":\"[base 1/2] RUN make\",\"started\":\"2025-01-01T00:00:03Z\",\"completed\":\"2025-01-01T00:00:04.5Z\"}]}\n"
	"{\"vertexes\":[{\"digest\":\"sha256:b\",\"name\":\"[other 1/1] RUN sleep 5\",\"started\":\"2025-01-01T00:00:01Z\",\"completed\":\"2025-01-01T00:00:06Z\",\"error\":\"context canceled\"}]}\n";

static void test_rawjson(void)
{
	struct parsed p;
	const struct bp_step *s;

	parse_text(S(rawjson), NULL, &p);
	CHECK_STR(p.res.format ? p.res.format->name : NULL, "rawjson");
	CHECK_INT(p.n, 1);
	if (p.n == 1) {
		s = find_step(&p.builds[0], "RUN make");
		CHECK(s && fabs(s->duration_s - 3.5) < 1e-9); /* 2 s + 1.5 s, not 4.5 s */
		CHECK(s && s->output_lines == 2 && s->start_s == 0.0 && s->status == BP_STEP_DONE);
		s = find_step(&p.builds[0], "RUN sleep 5");
		CHECK(s && s->status == BP_STEP_CANCELED && s->start_s == 1.0);
		CHECK_INT(p.builds[0].status, BP_BUILD_INCOMPLETE);
		CHECK_NEAR(p.builds[0].wall_s, 6.0, 1e-9);
	}
	parsed_release(&p);
	/* a malformed line is refused with its line number */
	parse_text(S("{\"vertexes\":[]}\n{\"vertexes\":[{\"digest\":\"sha256:a\",\n"), NULL, &p);
	CHECK_INT(p.rc, -1);
	CHECK_INT(p.err.line, 2);
	CHECK_STR(p.err.source, "test.log");
	CHECK(strstr(p.err.text, "malformed SolveStatus JSON") != NULL);
	parsed_release(&p);
}

/* rawjson of a build with 6,000 vertices in 60 stages, each sent started
 * and then completed: every update finds its vertex, every stage reaches
 * its last step, so the build shows its end. (Both are hash lookups: a
 * search of all vertices per update, and of all steps per step, took
 * seconds at 20,000.) */
static void test_rawjson_many_vertices(void)
{
	struct strbuf log = STRBUF_INIT;
	struct parsed p;
	size_t i, pass, bad = 0;
	const size_t n = 6000, stages = 60;

	for (pass = 0; pass < 2; pass++)
		for (i = 0; i < n; i++)
			strbuf_addf(&log,
				    "{\"vertexes\":[{\"digest\":\"sha256:%064zx\",\"name\":\"[s%zu %zu/%zu] RUN step %zu\","
				    "\"started\":\"2025-01-01T00:00:00Z\"%s}]}\n",
				    i, i % stages, i / stages + 1, n / stages, i,
				    pass ? ",\"completed\":\"2025-01-01T00:00:02Z\"" : "");
	parse_text(log.buf, log.len, NULL, &p);
	CHECK_INT(p.n, 1);
	if (p.n == 1) {
		CHECK_INT(p.builds[0].nsteps, n);
		for (i = 0; i < p.builds[0].nsteps; i++)
			bad += p.builds[0].steps[i].duration_s != 2.0 || p.builds[0].steps[i].vertex != (int)i + 1;
		CHECK_INT(bad, 0);
		CHECK_INT(p.builds[0].status, BP_BUILD_SUCCESS);
	}
	parsed_release(&p);
	strbuf_release(&log);
}

void test_buildkit(void)
{
	test_interleaved();
	test_failing();
	test_truncated();
	test_two_builds();
	test_timestamped();
	test_not_buildkit();
	test_rawjson();
	test_rawjson_many_vertices();
}
