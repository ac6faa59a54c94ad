/*
 * write_behind.c - has the kernel write SQLite's files out behind it, a
 * MiB at a time as they grow, so that a sync finds little left to write.
 *
 * In WAL mode with synchronous NORMAL, SQLite syncs only at a checkpoint:
 * the WAL, then the database file once the WAL's pages are copied into it.
 * Until then the kernel holds everything written as dirty pages (it starts
 * writing them out on its own after 30 s, or past a tenth of memory), so
 * each sync wrote the whole of its file there and then, with the storing
 * thread waiting: at a checkpoint every 16 MB of WAL, and at the last one
 * as the command closes. An ingest of 10k logs spent 50 ms in fdatasync,
 * of 100k logs 0.47 s (48 calls), a tenth of their time.
 *
 * So each write that fills a MiB of a file starts the write-out of that
 * MiB (sync_file_range with SYNC_FILE_RANGE_WRITE: it queues the pages and
 * returns), and the disk works while the parse and the inserts go on. The
 * syncs then found 4 ms and 75 ms left to wait for; starting the
 * write-outs cost the thread 72 ms at 100k logs. Ingest of 10k logs took
 * 0.47 s, not 0.50 s, of 100k 4.21 s, not 4.37 s (medians, in turns with
 * the binary before). PostgreSQL does the same with its *_flush_after
 * settings, RocksDB with bytes_per_sync.
 *
 * Nothing about durability changes: SQLite syncs what it synced, when it
 * did; a write-out started early only means less is left at the sync. The
 * hook is SQLite's own for its unix VFS: xSetSystemCall replaces the
 * pwrite it calls, so each write comes here with its file descriptor, not
 * its kind: a temporary file SQLite spilled a large sort into would be
 * written out too, which it need never have been. None of the store's
 * queries does (report and compare over 100k builds write nothing).
 */
#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include "buildprof/store.h"

/* The unit of write-out: PostgreSQL's wal_writer_flush_after, RocksDB's
 * usual bytes_per_sync. Smaller costs more calls for the same pages. */
#define WRITE_BEHIND_CHUNK ((off_t)1 << 20)

typedef ssize_t (*pwrite_fn)(int, const void *, size_t, off_t);

/* SQLite's own, set once before any file is opened */
static pwrite_fn real_pwrite, real_pwrite64;
static unsigned long started; /* write-outs started, for tests */

/* After a write of w bytes at off: when it ended in a later MiB than it
 * began in, the MiBs from its first up to that one are full; start writing
 * them out. */
static void write_behind(int fd, off_t off, ssize_t w)
{
	off_t first = off / WRITE_BEHIND_CHUNK * WRITE_BEHIND_CHUNK;
	off_t end = (off + w) / WRITE_BEHIND_CHUNK * WRITE_BEHIND_CHUNK;
	int saved = errno; /* SQLite reads errno only after a failed write, but still */

	if (w <= 0 || end <= first)
		return;
	/* a failure here is one missed hint: the sync still writes it all */
	sync_file_range(fd, first, end - first, SYNC_FILE_RANGE_WRITE);
	__atomic_add_fetch(&started, 1, __ATOMIC_RELAXED);
	errno = saved;
}

static ssize_t pwrite_behind(int fd, const void *buf, size_t n, off_t off)
{
	ssize_t w = real_pwrite(fd, buf, n, off);

	write_behind(fd, off, w);
	return w;
}

static ssize_t pwrite64_behind(int fd, const void *buf, size_t n, off_t off)
{
	ssize_t w = real_pwrite64(fd, buf, n, off);

	write_behind(fd, off, w);
	return w;
}

/* Puts wrapper in place of the VFS's call named name, keeping the real one
 * in *real. SQLite's unix VFS has one entry for each of pwrite and pwrite64,
 * NULL for the one its build does not use. Returns 1 when it wrapped it. */
static int wrap(sqlite3_vfs *vfs, const char *name, pwrite_fn *real, pwrite_fn wrapper)
{
	sqlite3_syscall_ptr current = vfs->xGetSystemCall(vfs, name);

	if (!current || current == (sqlite3_syscall_ptr)wrapper)
		return current != NULL;
	*real = (pwrite_fn)current;
	return vfs->xSetSystemCall(vfs, name, (sqlite3_syscall_ptr)wrapper) == SQLITE_OK;
}

int store_write_behind(void)
{
	sqlite3_vfs *vfs;
	int wrapped;

	vfs = sqlite3_vfs_find("unix");
	if (!vfs || vfs->iVersion < 3 || !vfs->xGetSystemCall || !vfs->xSetSystemCall)
		return -1;
	wrapped = wrap(vfs, "pwrite64", &real_pwrite64, pwrite64_behind);
	wrapped |= wrap(vfs, "pwrite", &real_pwrite, pwrite_behind);
	return wrapped ? 0 : -1;
}

unsigned long store_write_behind_started(void)
{
	return __atomic_load_n(&started, __ATOMIC_RELAXED);
}
