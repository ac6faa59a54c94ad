/*
 * test_buildah_kaniko.c - the podman/buildah and kaniko parsers on small
 * logs shaped like those in tests/data/corpus.
 */
#include "unit.h"

#define S(lit) lit, sizeof(lit) - 1

static const char buildah_modern[] =
	"[1/2] STEP 1/3: FROM node:20-alpine AS frontend\n"
	"[1/2] STEP 2/3: RUN npm ci\n"
	"--> Using cache 33a4f527234eda22e8f14970909cab6a3fb36f87ad61edb91320c5f959f7c201\n"
	"--> 33a4f527234e\n"
	"[1/2] STEP 3/3: WORKDIR /app \n"
	"--> fcade1480bfc\n"
	"[2/2] STEP 1/2: FROM frontend\n"
	"[2/2] STEP 2/2: RUN make\n"
	"cc main.c\n"
	"--> 70ca3b0ccb66\n"
	"[2/2] COMMIT app:1\n"
	"--> b314df57b99\n"
	"Successfully tagged localhost/app:1\n"
	"b314df57b99ff450845b873d0ae140f7b1385f1dd06022b3927ece12bfbb3e41\n";

static void test_buildah(void)
{
	struct parsed p;
	const struct bp_step *s;

	parse_text(S(buildah_modern), NULL, &p);
	CHECK_STR(p.res.format ? p.res.format->name : NULL, "buildah");
	CHECK_INT(p.n, 1);
	if (p.n != 1)
		goto out;
	CHECK_INT(p.builds[0].status, BP_BUILD_SUCCESS);
	CHECK_STR(p.builds[0].base_image, "node:20-alpine"); /* FROM frontend resolves */
	s = find_step(&p.builds[0], "RUN npm ci");
	CHECK(s && s->cached && s->stage && !strcmp(s->stage, "frontend") && s->count == 3);
	s = find_step(&p.builds[0], "WORKDIR /app");
	CHECK(s && !strcmp(s->text, "WORKDIR /app") && !s->cached && s->status == BP_STEP_DONE);
	s = find_step(&p.builds[0], "RUN make");
	CHECK(s && s->output_lines == 1 && isnan(s->duration_s));
	CHECK_STR(p.builds[0].image_ref, "localhost/app:1");
out:
	parsed_release(&p);

	parse_text(S("STEP 1: FROM alpine\nSTEP 2: ENV FOO=bar\nSTEP 3: RUN /bin/false\n"
		     "error building at STEP \"RUN /bin/false\": error while running runtime: exit status 1\n"),
		   NULL, &p);
	CHECK_INT(p.n, 1);
	if (p.n == 1) {
		CHECK_INT(p.builds[0].status, BP_BUILD_FAILED);
		s = find_step(&p.builds[0], "ENV FOO");
		CHECK(s && s->status == BP_STEP_DONE); /* metadata steps end when the next starts */
		s = find_step(&p.builds[0], "RUN /bin/false");
		CHECK(s && s->status == BP_STEP_ERROR && strstr(s->error, "exit status 1"));
	}
	parsed_release(&p);
}

/* kubectl prefix, padding, HTML escapes, a cache hit announced ahead. */
static const char kaniko[] =
	"pod-1 kaniko INFO[0000] Retrieving image manifest alpine:3.19                \n"
	"pod-1 kaniko INFO[0001] Building stage 'alpine:3.19' [idx: '0', base-idx: '-1'] \n"
	"pod-1 kaniko INFO[0002] Checking for cached layer reg/cache:87cc5744e7ea93cd... \n"
	"pod-1 kaniko INFO[0002] Using caching version of cmd: RUN apk add a &amp;&amp; b \n"
	"pod-1 kaniko INFO[0002] No cached layer found for cmd RUN make              \n"
	"pod-1 kaniko INFO[0003] RUN apk add a &amp;&amp; b                         \n"
	"pod-1 kaniko INFO[0003] Found cached layer, extracting to filesystem        \n"
	"pod-1 kaniko INFO[0004] RUN make                                            \n"
	"pod-1 kaniko INFO[0004] Cmd: /bin/sh                                        \n"
	"compiling...\n"
	"pod-1 kaniko INFO[0019] Taking snapshot of full filesystem...               \n"
	"pod-1 kaniko INFO[0021] Pushing image to reg/app:1                          \n"
	"pod-1 kaniko INFO[0023] Pushed reg/app@sha256:c8ebb3bacc19bd9faad077342aaeb9a1f22ce8243e0d83bb0b793b7f4ff13d86 \n";

static void test_kaniko(void)
{
	struct parsed p;
	const struct bp_step *s;

	parse_text(S(kaniko), NULL, &p);
	CHECK_STR(p.res.format ? p.res.format->name : NULL, "kaniko");
	CHECK_INT(p.n, 1);
	if (p.n != 1)
		goto out;
	CHECK_INT(p.builds[0].status, BP_BUILD_SUCCESS);
	CHECK_INT(p.builds[0].nsteps, 2);
	CHECK_STR(p.builds[0].base_image, "alpine:3.19");
	CHECK_STR(p.builds[0].image_ref, "reg/app");
	CHECK_NEAR(p.builds[0].wall_s, 23.0, 1e-9);
	s = find_step(&p.builds[0], "RUN apk add a && b");
	CHECK(s && s->cached && s->duration_s == 1.0);
	s = find_step(&p.builds[0], "RUN make");
	CHECK(s && !s->cached && s->duration_s == 17.0 && s->output_lines == 1);
	CHECK(s && s->start_s == 4.0);
out:
	parsed_release(&p);

	/* an error ends the build as failed, the running step too */
	parse_text(S("INFO[0001] RUN false\nerror building image: error building stage: exit status 1\n"),
		   "kaniko", &p);
	CHECK(p.n == 1 && p.builds[0].status == BP_BUILD_FAILED);
	CHECK(p.n == 1 && p.builds[0].steps[0].status == BP_STEP_ERROR);
	parsed_release(&p);
}

/* docker history without -H=false prints human sizes; newest layer first */
static void test_history(void)
{
	struct parsed p;

	parse_text(S("{\"CreatedBy\":\"/bin/sh -c #(nop)  CMD [\\\"sh\\\"]\",\"ID\":\"7328f6f8b418\",\"Size\":\"0B\"}\n"
		     "{\"CreatedBy\":\"RUN make # buildkit\",\"ID\":\"<missing>\",\"Size\":\"1.5MB\"}\n"
		     "{\"CreatedBy\":\"ADD file:458 in /\",\"ID\":\"<missing>\",\"Size\":\"5.6kB\"}\n"), NULL, &p);
	CHECK_STR(p.res.format ? p.res.format->name : NULL, "history");
	CHECK_INT(p.nimages, 1);
	if (p.nimages == 1) {
		CHECK_INT(p.images[0].nlayers, 3);
		CHECK_STR(p.images[0].layers[0].created_by, "ADD file:458 in /");
		CHECK_INT(p.images[0].layers[1].size_bytes, 1500000);
		CHECK(p.images[0].layers[2].empty);
		CHECK_INT(p.images[0].size_bytes, 1505600);
		CHECK_STR(p.images[0].image_id, "7328f6f8b418");
	}
	parsed_release(&p);
	parse_text(S("{\"CreatedBy\":\"x\",\"Size\":\"12 parsecs\"}\n{\"CreatedBy\":"), NULL, &p);
	CHECK_INT(p.rc, -1);
	CHECK_INT(p.err.line, 2);
	parsed_release(&p);
}

void test_buildah_kaniko(void)
{
	test_history();
	test_buildah();
	test_kaniko();
}
