/*
 * output.c - output files written atomically (see util.h): a temporary file
 * in the target's directory, renamed over the target when complete.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buildprof/util.h"

int bp_output_open(struct bp_output *o, const char *path, struct bp_error *err)
{
	struct strbuf tmp = STRBUF_INIT;
	mode_t mask;
	int fd;

	memset(o, 0, sizeof(*o));
	strbuf_addf(&tmp, "%s.tmp-XXXXXX", path);
	fd = mkstemp(tmp.buf);
	if (fd < 0) {
		bp_error_set(err, path, 0, "cannot write: %s", strerror(errno));
		strbuf_release(&tmp);
		return -1;
	}
	/* mkstemp makes 0600; an output file gets the usual 0666 less the umask */
	mask = umask(0);
	umask(mask);
	if (fchmod(fd, 0666 & ~mask) || !(o->f = fdopen(fd, "wb"))) {
		bp_error_set(err, path, 0, "cannot write: %s", strerror(errno));
		close(fd);
		unlink(tmp.buf);
		strbuf_release(&tmp);
		return -1;
	}
	o->path = xstrdup(path);
	o->tmp = strbuf_detach(&tmp, NULL);
	return 0;
}

static void output_release(struct bp_output *o)
{
	free(o->path);
	free(o->tmp);
	memset(o, 0, sizeof(*o));
}

int bp_output_commit(struct bp_output *o, struct bp_error *err)
{
	int failed = ferror(o->f);

	if (fclose(o->f) || failed || rename(o->tmp, o->path)) {
		bp_error_set(err, o->path, 0, "cannot write: %s", strerror(errno ? errno : EIO));
		unlink(o->tmp);
		output_release(o);
		return -1;
	}
	output_release(o);
	return 0;
}

void bp_output_abort(struct bp_output *o)
{
	if (o->f) {
		fclose(o->f);
		unlink(o->tmp);
	}
	output_release(o);
}
