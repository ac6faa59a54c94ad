/*
 * test_ahead.c - parsing ahead on a second thread (collector/ahead.c): each
 * input's builds come back in order and match a parse on this thread; an
 * input that cannot be opened, fails to parse, fails in the sink or is
 * never replayed leaves the queue in step for the next; a queue many times
 * its size blocks and resumes both ways; stopping early frees it all; an
 * input parsed to its end is known before its replay, as the replay ends.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "unit.h"

/* A legacy log of `builds` builds; build k runs "RUN echo TAG-k". */
static void write_log(const char *path, const char *tag, int builds)
{
	FILE *f = fopen(path, "w");
	int k;

	if (!f) {
		CHECK(!"cannot write a test log");
		return;
	}
	for (k = 0; k < builds; k++)
		fprintf(f, "Step 1/2 : FROM busybox\n ---> 3854c6dde112\n"
			   "Step 2/2 : RUN echo %s-%d\n ---> Running in b9a76ab7de5e\n%s-%d\n"
			   "Removing intermediate container b9a76ab7de5e\n ---> f3964575eca3\n"
			   "Successfully built f3964575eca3\n", tag, k, tag, k);
	fclose(f);
}

/* paths[i] = dir/names[i], argv[i] pointing at it, for i < n. */
static void name_paths(const char *dir, const char *const names[], int n, char paths[][256], char *argv[])
{
	int i;

	for (i = 0; i < n; i++) {
		snprintf(paths[i], sizeof(paths[i]), "%s/%s", dir, names[i]);
		argv[i] = paths[i];
	}
}

struct replayed {
	char texts[8][64]; /* the RUN step of each build the sink took */
	int n;
	int fail_at;       /* the sink fails on this build (1-based), 0 never */
	long long seen;    /* builds over all inputs */
	int loose;         /* builds whose step strings came unpacked */
};

static int take_build(void *ctx, struct bp_build *b, struct bp_error *err)
{
	struct replayed *r = ctx;
	const struct bp_step *s = find_step(b, "RUN echo ");

	r->seen++;
	/* handed over packed, a few blocks for the storing core to read */
	if (b->nsteps && !b->step_strings.head)
		r->loose++;
	if (r->fail_at && r->n + 1 == r->fail_at) {
		r->fail_at = 0; /* once: a build handed on after it would be taken */
		return bp_error_set(err, "sink", 0, "refused build %d", r->n + 1);
	}
	if (r->n < 8)
		snprintf(r->texts[r->n], sizeof(r->texts[0]), "%s", s ? s->text : "(no RUN step)");
	r->n++;
	/* take what is lent, as the ingest sink may */
	bp_build_release(b);
	bp_build_init(b);
	return 0;
}

static int take_image(void *ctx, struct bp_image *img, struct bp_error *err)
{
	return bp_error_set(err, "sink", 0, "no image expected");
}

static int take_pipeline(void *ctx, struct bp_pipeline *pl, struct bp_error *err)
{
	return bp_error_set(err, "sink", 0, "no pipeline expected");
}

static int replay(struct collector_ahead *ahead, const char *source, struct replayed *r,
		  struct collector_result *res, struct bp_error *err)
{
	struct bp_sink sink = { .build = take_build, .image = take_image, .pipeline = take_pipeline,
				.ctx = r };

	bp_error_init(err);
	r->n = 0;
	return collector_ahead_replay(NULL, source, &sink, res, err, ahead);
}

static void test_ahead_inputs(const char *dir)
{
	char paths[7][256], msg[1100];
	char *argv[7];
	struct collector_ahead *ahead;
	struct collector_result res;
	struct replayed r = { .fail_at = 0 };
	struct bp_error err;

	static const char *const names[7] = { "a.log", "missing.log", "empty.log", "b.log",
					       "c.log", "d.log", "e.log" };
	name_paths(dir, names, 7, paths, argv);
	write_log(paths[0], "a", 3);
	fclose(fopen(paths[2], "w"));
	write_log(paths[3], "b", 3);
	write_log(paths[4], "c", 3);
	write_log(paths[5], "d", 3);
	write_log(paths[6], "e", 1);

	ahead = collector_ahead_start(argv, 7, NULL);
	CHECK(ahead != NULL);
	if (!ahead)
		return;
	/* a: three builds in order, the result as a parse here would give */
	CHECK_INT(collector_ahead_open_next(ahead), 0);
	CHECK_INT(replay(ahead, paths[0], &r, &res, &err), 0);
	CHECK_INT(r.n, 3);
	CHECK_STR(r.texts[0], "RUN echo a-0");
	CHECK_STR(r.texts[2], "RUN echo a-2");
	CHECK_INT(res.builds, 3);
	CHECK(res.format == collector_format("legacy"));
	CHECK(res.bytes > 0 && strlen(res.sha256) == 64);
	/* missing: the errno of opening it, and nothing to replay */
	CHECK_INT(collector_ahead_open_next(ahead), ENOENT);
	/* empty: the parse's own error, naming the file */
	CHECK_INT(collector_ahead_open_next(ahead), 0);
	CHECK_INT(replay(ahead, paths[2], &r, &res, &err), -1);
	CHECK_INT(r.n, 0);
	bp_error_format(&err, msg, sizeof(msg));
	CHECK(strstr(msg, "empty.log: empty input") != NULL);
	/* b: the sink refuses its second build; the third is dropped */
	r.fail_at = 2;
	CHECK_INT(collector_ahead_open_next(ahead), 0);
	CHECK_INT(replay(ahead, paths[3], &r, &res, &err), -1);
	CHECK_INT(r.n, 1);
	CHECK_STR(r.texts[0], "RUN echo b-0");
	CHECK_STR(bp_error_format(&err, msg, sizeof(msg)), "sink: refused build 2");
	/* c: in step again after the failure */
	CHECK_INT(collector_ahead_open_next(ahead), 0);
	CHECK_INT(replay(ahead, paths[4], &r, &res, &err), 0);
	CHECK_INT(r.n, 3);
	CHECK_STR(r.texts[0], "RUN echo c-0");
	CHECK_STR(r.texts[2], "RUN echo c-2");
	/* d: opened but never replayed (its store failed first): dropped */
	CHECK_INT(collector_ahead_open_next(ahead), 0);
	/* e: what comes next is e's, not the rest of d */
	CHECK_INT(collector_ahead_open_next(ahead), 0);
	CHECK_INT(replay(ahead, paths[6], &r, &res, &err), 0);
	CHECK_INT(r.n, 1);
	CHECK_STR(r.texts[0], "RUN echo e-0");
	collector_ahead_finish(ahead);
}

/* Many times the queue's size: the parser blocks on a full queue and the
 * reader on an empty one, and every build still comes in order. Then a
 * second run stopped after two inputs: what was parsed past them is freed
 * (ASan's leak check), and the thread ends. */
static void test_ahead_many(const char *dir)
{
	enum { INPUTS = 150 };
	static char paths[INPUTS][256];
	char *argv[INPUTS], want[64];
	struct collector_ahead *ahead;
	struct collector_result res;
	struct replayed r = { .fail_at = 0 };
	struct bp_error err;
	int i, in_order = 1, all = 1;

	for (i = 0; i < INPUTS; i++) {
		char tag[16];
		snprintf(paths[i], sizeof(paths[i]), "%s/many-%03d.log", dir, i);
		snprintf(tag, sizeof(tag), "m%d", i);
		write_log(paths[i], tag, 3);
		argv[i] = paths[i];
	}
	ahead = collector_ahead_start(argv, INPUTS, collector_format("legacy"));
	CHECK(ahead != NULL);
	if (!ahead)
		return;
	for (i = 0; i < INPUTS; i++) {
		if (collector_ahead_open_next(ahead) || replay(ahead, paths[i], &r, &res, &err)) {
			all = 0;
			break;
		}
		snprintf(want, sizeof(want), "RUN echo m%d-2", i);
		in_order &= r.n == 3 && !strcmp(r.texts[2], want);
		/* now and then the reader is slow, and the parser runs ahead */
		if (i % 50 == 0)
			usleep(20000);
	}
	collector_ahead_finish(ahead);
	CHECK(all);
	CHECK(in_order);
	CHECK_INT(r.seen, INPUTS * 3);
	CHECK_INT(r.loose, 0);

	ahead = collector_ahead_start(argv, INPUTS, NULL);
	CHECK(ahead != NULL);
	if (!ahead)
		return;
	r.seen = 0;
	CHECK_INT(collector_ahead_open_next(ahead), 0);
	CHECK_INT(replay(ahead, paths[0], &r, &res, &err), 0);
	CHECK_INT(collector_ahead_open_next(ahead), 0); /* opened, not replayed */
	usleep(20000); /* the parser fills the queue and waits */
	collector_ahead_finish(ahead);
	CHECK_INT(r.seen, 3);
}

/* Known before its replay: the result of an input whose end the storing
 * side already holds, the same the replay gives; never for a parse that
 * failed. The last path is a FIFO: the parser opens it only once it has
 * queued all before it, and until a writer opens it too, so once that
 * open returns, the first take holds every earlier input to its end. */
static void test_ahead_parsed(const char *dir)
{
	char paths[4][256], sha[65];
	char *argv[4];
	struct collector_ahead *ahead;
	const struct collector_result *known;
	struct collector_result res;
	struct replayed r = { .fail_at = 0 };
	struct bp_error err;
	long long bytes;
	FILE *fifo;
	int fd;

	static const char *const names[4] = { "pa.log", "pempty.log", "pb.log", "pfifo" };
	name_paths(dir, names, 4, paths, argv);
	write_log(paths[0], "a", 2);
	fclose(fopen(paths[1], "w"));
	write_log(paths[2], "b", 1);
	CHECK_INT(mkfifo(paths[3], 0600), 0);
	ahead = collector_ahead_start(argv, 4, NULL);
	CHECK(ahead != NULL);
	if (!ahead)
		return;
	fd = open(paths[3], O_WRONLY);
	CHECK(fd >= 0);
	fifo = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (fifo) {
		fputs("Step 1/1 : FROM busybox\n ---> 3854c6dde112\nSuccessfully built 3854c6dde112\n", fifo);
		fclose(fifo);
	}
	/* a: known, and what its replay then says */
	CHECK_INT(collector_ahead_open_next(ahead), 0);
	known = collector_ahead_parsed(ahead);
	CHECK(known != NULL);
	snprintf(sha, sizeof(sha), "%s", known ? known->sha256 : "");
	bytes = known ? known->bytes : -1;
	CHECK_INT(replay(ahead, paths[0], &r, &res, &err), 0);
	CHECK_INT(r.n, 2);
	CHECK_STR(sha, res.sha256);
	CHECK(strlen(sha) == 64 && bytes == res.bytes && bytes > 0);
	/* empty: its parse failed, so nothing is known ahead */
	CHECK_INT(collector_ahead_open_next(ahead), 0);
	CHECK(collector_ahead_parsed(ahead) == NULL);
	CHECK_INT(replay(ahead, paths[1], &r, &res, &err), -1);
	/* b: its own result, not a's */
	CHECK_INT(collector_ahead_open_next(ahead), 0);
	known = collector_ahead_parsed(ahead);
	CHECK(known && strcmp(known->sha256, sha) && known->builds == 1);
	CHECK_INT(replay(ahead, paths[2], &r, &res, &err), 0);
	CHECK_INT(r.n, 1);
	CHECK_STR(r.texts[0], "RUN echo b-0");
	/* the FIFO: known or not yet, its replay is whole */
	CHECK_INT(collector_ahead_open_next(ahead), 0);
	known = collector_ahead_parsed(ahead);
	CHECK(!known || known->builds == 1);
	CHECK_INT(replay(ahead, paths[3], &r, &res, &err), 0);
	CHECK_INT(r.n, 1);
	collector_ahead_finish(ahead);
}

void test_ahead(void)
{
	char dir[] = "/tmp/buildprof-ahead-XXXXXX";
	char cmd[64];

	if (!mkdtemp(dir)) {
		CHECK(!"mkdtemp failed");
		return;
	}
	test_ahead_inputs(dir);
	test_ahead_many(dir);
	test_ahead_parsed(dir);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	CHECK_INT(system(cmd), 0);
}
