/*
 * store_internal.h - (store-internal) what the store's files share: the
 * handle's layout and the migration entry point.
 */
#ifndef BUILDPROF_STORE_INTERNAL_H
#define BUILDPROF_STORE_INTERNAL_H

#include <sqlite3.h>
#include <stdio.h>

#include "buildprof/store.h"

struct bp_store {
	sqlite3 *db;
	char *path;
	sqlite3_stmt *put_build, *put_step, *put_label; /* reused across builds */
};

int store_migrate(sqlite3 *db, const char *path, struct bp_error *err);
/* Sets err from the database's last error, prefixed by what was being done. */
int store_fail(struct bp_store *st, struct bp_error *err, const char *doing);

#endif
