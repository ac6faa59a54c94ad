/*
 * run.c - the `buildprof run` wrapper's engine: spawn the build command,
 * pass its output through byte for byte (the person watching sees exactly
 * what they would without us), and record each line with the time it
 * arrived, since plain progress output and the legacy builder carry no
 * clock of their own. Signals (Ctrl-C, a CI runner's SIGTERM) are passed on
 * and the command's own exit status is what counts.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "buildprof/collector.h"

/* How long to keep reading after the command exited, for output still in
 * flight from processes it left behind. */
#define DRAIN_AFTER_EXIT_S 2.0

static volatile sig_atomic_t child_pid;
static volatile sig_atomic_t got_signal;

static void on_signal(int sig, siginfo_t *info, void *uctx)
{
	(void)uctx;
	got_signal = sig;
	/* A terminal's Ctrl-C already reached the command (same process group,
	 * si_code SI_KERNEL); pass on only what was sent to us alone. */
	if (child_pid > 0 && (!info || info->si_code != SI_KERNEL))
		kill((pid_t)child_pid, sig);
}

struct stream {
	int fd;           /* our end of the pipe, -1 once closed */
	int out;          /* where its bytes pass through: 1 or 2; -1 once that failed */
	struct strbuf line; /* the line being assembled */
	double line_ts;   /* epoch time its first byte arrived */
};

static void write_all(int fd, const char *p, size_t n, int *failed)
{
	while (n && !*failed) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			*failed = 1; /* our reader went away: keep recording regardless */
			return;
		}
		p += w;
		n -= (size_t)w;
	}
}

static void record_line(FILE *record, struct stream *s)
{
	char ts[64];
	time_t secs = (time_t)floor(s->line_ts);
	long us = lround((s->line_ts - floor(s->line_ts)) * 1e6);
	struct tm tm;

	if (us >= 1000000) {
		secs++;
		us -= 1000000;
	}
	gmtime_r(&secs, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	fprintf(record, "%s.%06ldZ ", ts, us);
	fwrite(s->line.buf, 1, s->line.len, record);
	fputc('\n', record);
	strbuf_reset(&s->line);
}

static void take(FILE *record, struct stream *s, const char *buf, size_t n, double now)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (!s->line.len && s->line_ts < 0)
			s->line_ts = now;
		if (buf[i] == '\n') {
			record_line(record, s);
			s->line_ts = -1;
			continue;
		}
		strbuf_addch(&s->line, buf[i]);
		/* an endless line is recorded in pieces: memory stays bounded; each
		 * piece leaves room for its timestamp within the reader's limit */
		if (s->line.len >= BP_LINE_MAX - 64) {
			record_line(record, s);
			s->line_ts = now;
		}
	}
}

int collector_run(char *const argv[], FILE *record, struct collector_run_result *res,
		  struct bp_error *err)
{
	struct stream streams[2];
	struct sigaction sa, old[4];
	static const int sigs[4] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
	int outp[2] = { -1, -1 }, errp[2] = { -1, -1 }, status = 0, i, exited = 0, out_failed[2] = { 0, 0 };
	double mono0, wall0, exit_mono = 0;
	pid_t pid;
	char buf[65536];

	memset(res, 0, sizeof(*res));
	if (pipe2(outp, O_CLOEXEC) || pipe2(errp, O_CLOEXEC)) {
		bp_error_set(err, argv[0], 0, "cannot create pipes: %s", strerror(errno));
		goto fail;
	}
	wall0 = bp_now();
	mono0 = bp_monotonic();
	res->started_at = wall0;
	got_signal = 0;
	pid = fork();
	if (pid < 0) {
		bp_error_set(err, argv[0], 0, "cannot start: %s", strerror(errno));
		goto fail;
	}
	if (pid == 0) {
		dup2(outp[1], 1);
		dup2(errp[1], 2);
		execvp(argv[0], argv);
		dprintf(2, "buildprof: run: cannot run '%s': %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	child_pid = pid;
	close(outp[1]);
	close(errp[1]);
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_signal;
	sa.sa_flags = SA_SIGINFO; /* no SA_RESTART: poll returns and we look at the child */
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < 4; i++)
		sigaction(sigs[i], &sa, &old[i]);
	signal(SIGPIPE, SIG_IGN);

	streams[0].fd = outp[0];
	streams[0].out = 1;
	streams[1].fd = errp[0];
	streams[1].out = 2;
	for (i = 0; i < 2; i++) {
		strbuf_init(&streams[i].line, 0);
		streams[i].line_ts = -1;
	}
	while (streams[0].fd >= 0 || streams[1].fd >= 0) {
		struct pollfd pfd[2];
		int r;
		for (i = 0; i < 2; i++) {
			pfd[i].fd = streams[i].fd;
			pfd[i].events = POLLIN;
			pfd[i].revents = 0;
		}
		r = poll(pfd, 2, 200);
		if (!exited && waitpid(pid, &status, WNOHANG) == pid) {
			exited = 1;
			exit_mono = bp_monotonic();
		}
		if (exited && bp_monotonic() - exit_mono > DRAIN_AFTER_EXIT_S)
			break; /* something the command started still holds the pipe */
		if (r < 0)
			continue; /* EINTR: a signal, passed on by the handler */
		for (i = 0; i < 2; i++) {
			ssize_t n;
			if (streams[i].fd < 0 || !(pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			n = read(streams[i].fd, buf, sizeof(buf));
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				close(streams[i].fd);
				streams[i].fd = -1;
				continue;
			}
			res->bytes += n;
			write_all(streams[i].out, buf, (size_t)n, &out_failed[i]);
			take(record, &streams[i], buf, (size_t)n, wall0 + (bp_monotonic() - mono0));
		}
	}
	if (!exited)
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
	res->wall_s = bp_monotonic() - mono0;
	for (i = 0; i < 2; i++) {
		if (streams[i].line.len)
			record_line(record, &streams[i]);
		if (streams[i].fd >= 0)
			close(streams[i].fd);
		strbuf_release(&streams[i].line);
	}
	fflush(record);
	child_pid = 0;
	for (i = 0; i < 4; i++)
		sigaction(sigs[i], &old[i], NULL);
	if (WIFEXITED(status))
		res->exit_status = WEXITSTATUS(status);
	else if (WIFSIGNALED(status))
		res->exit_status = 128 + WTERMSIG(status);
	res->interrupted = got_signal != 0;
	return 0;
fail:
	for (i = 0; i < 2; i++) {
		if (outp[i] >= 0)
			close(outp[i]);
		if (errp[i] >= 0)
			close(errp[i]);
	}
	return -1;
}
