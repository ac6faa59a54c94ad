/*
 * read_steps.c - the bench's floor for report and compare: one pass over the
 * step table that fetches every column the JSON report reads (store_read.c's
 * STORE_STEPS_ALL query) through the SQLite API, and does nothing else.
 *
 * The bench's baseline for report is one full scan by the sqlite3 CLI that
 * counts and sums two numeric columns inside SQLite. No report can be
 * faster than fetching the rows it prints, so this program, timed in the
 * same run, shows how much of the target is left once the rows are read.
 *
 * With "text", it fetches what the other formats of the report read (the
 * STORE_STEPS_SHOWN query), which print no vertex, platform, instruction or
 * output lines: the floor under the text report.
 *
 * With "json", it fetches only the step fields the design's report --format
 * json must print (DESIGN.md, Outputs): a step's vertex, stage, index,
 * count, instruction, text, cached flag, status and duration, its start
 * (its exclusive time comes from the starts and ends of its build's
 * vertices) and its kind (which vertices are steps), and its build's id.
 * No JSON report can be faster than that fetch, whatever it then does, so
 * timed beside the scan it shows what of that target any report computed
 * from the stored steps has left.
 *
 * Usage: read_steps DATABASE [all|text|json]; prints the rows and text bytes
 * it read.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

static const char select_steps[] =
	"SELECT build_id, vertex, stage, platform, idx, count, instruction, text,"
	" kind, cached, status, start_s, duration_s, error, output_lines, first_line, end_line"
	" FROM step ORDER BY id";

static const char select_text_fields[] =
	"SELECT build_id, stage, idx, count, text, kind, cached, status, start_s, duration_s,"
	" error, first_line, end_line FROM step ORDER BY id";

static const char select_json_fields[] =
	"SELECT build_id, vertex, stage, idx, count, instruction, text, kind, cached, status,"
	" start_s, duration_s FROM step ORDER BY id";

int main(int argc, char **argv)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *stmt = NULL;
	long long rows = 0, text_bytes = 0, ints = 0;
	double reals = 0;
	const char *sql = select_steps;
	int rc, i, ncol;

	if (argc == 3 && !strcmp(argv[2], "json"))
		sql = select_json_fields;
	else if (argc == 3 && !strcmp(argv[2], "text"))
		sql = select_text_fields;
	else if (argc != 2 && !(argc == 3 && !strcmp(argv[2], "all"))) {
		fprintf(stderr, "usage: read_steps DATABASE [all|text|json]\n");
		return 2;
	}
	/* configured as the store configures SQLite (store.c), so the floor
	 * pays no mutex buildprof does not pay */
	sqlite3_config(SQLITE_CONFIG_MULTITHREAD);
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
	if (sqlite3_open_v2(argv[1], &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) != SQLITE_OK) {
		fprintf(stderr, "read_steps: %s: %s\n", argv[1], db ? sqlite3_errmsg(db) : "out of memory");
		sqlite3_close(db);
		return 1;
	}
	ncol = sqlite3_column_count(stmt);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		rows++;
		/* each value as the store reads it: text as text, numbers as numbers */
		for (i = 0; i < ncol; i++) {
			switch (sqlite3_column_type(stmt, i)) {
			case SQLITE_INTEGER:
				ints += sqlite3_column_int64(stmt, i);
				break;
			case SQLITE_FLOAT:
				reals += sqlite3_column_double(stmt, i);
				break;
			case SQLITE_TEXT:
				sqlite3_column_text(stmt, i);
				text_bytes += sqlite3_column_bytes(stmt, i);
				break;
			}
		}
	}
	if (rc != SQLITE_DONE) {
		fprintf(stderr, "read_steps: %s: %s\n", argv[1], sqlite3_errmsg(db));
		sqlite3_finalize(stmt);
		sqlite3_close(db);
		return 1;
	}
	/* printed so the reads have a use */
	printf("%lld rows, %lld text bytes, %lld, %.1f\n", rows, text_bytes, ints, reals);
	sqlite3_finalize(stmt);
	sqlite3_close(db);
	return 0;
}
