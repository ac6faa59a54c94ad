/*
 * test_legacy.c - the classic builder's parser: cache hits, failures with
 * ANSI colour, stages and their base image, wrapper timestamps for durations.
 */
#include "unit.h"

#define S(lit) lit, sizeof(lit) - 1

static const char multistage[] =
	"Sending build context to Docker daemon  1.993MB\n"
	"Step 1/6 : FROM golang:1.22 AS builder\n"
	" ---> 3854c6dde112\n"
	"Step 2/6 : COPY . /src\n"
	" ---> Using cache\n"
	" ---> 801ff54b5798\n"
	"Step 3/6 : RUN make\n"
	" ---> Running in b9a76ab7de5e\n"
	"cc -c main.c\n"
	"\033[91mwarning: unused\n"
	"\033[0mlinked\n"
	"Removing intermediate container b9a76ab7de5e\n"
	" ---> f3964575eca3\n"
	"Step 4/6 : FROM builder AS final\n"
	" ---> f3964575eca3\n"
	"Step 5/6 : COPY --from=builder /src/app /app\n"
	" ---> c22fd35655fb\n"
	"Step 6/6 : CMD [\"/app\"]\n"
	" ---> Running in 28f42b7c264f\n"
	" ---> Removed intermediate container 28f42b7c264f\n"
	" ---> 92c06c5bb322\n"
	"Successfully built 92c06c5bb322\n"
	"Successfully tagged app:latest\n";

static void test_multistage(void)
{
	struct parsed p;
	const struct bp_build *b;
	const struct bp_step *s;

	parse_text(S(multistage), NULL, &p);
	CHECK_INT(p.rc, 0);
	CHECK_STR(p.res.format ? p.res.format->name : NULL, "legacy");
	CHECK_INT(p.n, 1);
	if (p.n != 1)
		goto out;
	b = &p.builds[0];
	CHECK_INT(b->status, BP_BUILD_SUCCESS);
	CHECK_INT(b->nsteps, 6);
	CHECK_STR(b->image_id, "92c06c5bb322");
	CHECK_STR(b->image_ref, "app:latest");
	CHECK_STR(b->base_image, "golang:1.22"); /* final FROM builder resolves through the alias */
	s = find_step(b, "COPY . /src");
	CHECK(s && s->cached && s->status == BP_STEP_CACHED && !strcmp(s->stage, "builder"));
	s = find_step(b, "RUN make");
	CHECK(s && !s->cached && s->status == BP_STEP_DONE && s->output_lines == 3);
	CHECK(s && isnan(s->duration_s)); /* the log has no clock: unknown, not 0 */
	s = find_step(b, "COPY --from");
	CHECK(s && s->stage && !strcmp(s->stage, "final") && s->index == 5 && s->count == 6);
out:
	parsed_release(&p);
}

static const char failing[] =
	"Building vscode\n"
	"Step 1/3 : FROM vtsv/arm:builder\n"
	" ---> 7eca0c66db06\n"
	"Step 2/3 : RUN mkdir /vscode\n"
	" ---> Running in eb2266398646\n"
	"standard_init_linux.go:211: exec user process caused \"exec format error\"\n"
	"ERROR: Service 'vscode' failed to build: The command '/bin/sh -c mkdir /vscode' returned a non-zero code: 1\n";

static void test_failing(void)
{
	struct parsed p;
	const struct bp_step *s;

	parse_text(S(failing), NULL, &p);
	CHECK_INT(p.n, 1);
	if (p.n == 1) {
		CHECK_INT(p.builds[0].status, BP_BUILD_FAILED);
		s = find_step(&p.builds[0], "RUN mkdir");
		CHECK(s && s->status == BP_STEP_ERROR);
		CHECK(s && s->error && !strncmp(s->error, "The command '/bin/sh -c mkdir /vscode' returned", 47));
	}
	parsed_release(&p);
}

/* Go log timestamps give each step the time to the next step line. */
static const char timed[] =
	"2024/03/29 14:00:00 Step 1/3 : FROM debian\n"
	"2024/03/29 14:00:00  ---> 5335d5f43047\n"
	"2024/03/29 14:00:01 Step 2/3 : RUN make\n"
	"2024/03/29 14:00:01  ---> Running in d7ab43257b94\n"
	"2024/03/29 14:00:25  ---> 4cd1514c7e2c\n"
	"2024/03/29 14:00:25 Step 3/3 : RUN true\n"
	"2024/03/29 14:00:25  ---> Using cache\n"
	"2024/03/29 14:00:25  ---> a5d343ffc1ca\n"
	"2024/03/29 14:00:27 Successfully built a5d343ffc1ca\n";

static void test_timed(void)
{
	struct parsed p;
	const struct bp_step *s;

	parse_text(S(timed), NULL, &p);
	CHECK_INT(p.n, 1);
	if (p.n == 1) {
		s = find_step(&p.builds[0], "RUN make");
		CHECK(s && s->duration_s == 24.0 && s->start_s == 1.0);
		s = find_step(&p.builds[0], "RUN true");
		CHECK(s && s->duration_s == 2.0 && s->cached);
		CHECK_NEAR(p.builds[0].wall_s, 27.0, 1e-9);
	}
	parsed_release(&p);
}

/* Truncated mid-step: incomplete, the running step too. */
static void test_truncated(void)
{
	struct parsed p;

	parse_text(S("Step 1/82 : FROM jenkins/jenkins\n ---> 3854c6dde112\nStep 2/82 : WORKDIR /x\n"),
		   NULL, &p);
	CHECK_INT(p.n, 1);
	if (p.n == 1) {
		CHECK_INT(p.builds[0].status, BP_BUILD_INCOMPLETE);
		CHECK_INT(p.builds[0].steps[1].status, BP_STEP_INCOMPLETE);
	}
	parsed_release(&p);
}

void test_legacy(void)
{
	test_multistage();
	test_failing();
	test_timed();
	test_truncated();
}
