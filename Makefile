# buildprof - build-time profiler and cache analyzer for CI pipelines and Docker builds.
#   make            build ./buildprof
#   make demo       install missing packages, build, ingest samples/, print the report
#   make test       unit, golden CLI and integration tests, then again under ASan+UBSan
#   make asan       the sanitizer build alone (build-asan/buildprof)
#   make tsan       ThreadSanitizer over the second threads (ingest, report, compare)
#   make install    PREFIX=/usr/local DESTDIR=
# V=1 shows the full compiler commands; DEVELOPER=1 (set by CI and `make test`) adds -Werror.

PREFIX ?= /usr/local
DESTDIR ?=
CC ?= cc
CFLAGS ?= -O2 -g
WARNINGS = -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wno-unused-parameter \
	   -Wformat=2 -Wno-format-nonliteral
ifeq ($(DEVELOPER),1)
WARNINGS += -Werror
endif
PKGS = sqlite3 jansson libcurl libpng
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
# libcurl is not linked: common/http.c loads it on the first request
PKG_LIBS := $(shell pkg-config --libs sqlite3 jansson libpng 2>/dev/null)
ALL_CFLAGS = -std=c11 -pthread -D_GNU_SOURCE -Iinclude -I$(O)/gen $(WARNINGS) $(PKG_CFLAGS) $(CFLAGS) -MMD -MP
LIBS = $(PKG_LIBS) -lm -ldl

ifneq ($(V),1)
QUIET_CC = @echo '   CC $@';
QUIET_LINK = @echo ' LINK $@';
QUIET_GEN = @echo '  GEN $@';
endif

O ?= build
LIB_SRC = $(wildcard common/*.c collector/*.c store/*.c analyzer/*.c report/*.c)
CLI_SRC = $(wildcard cli/*.c)
UNIT_SRC = $(wildcard tests/unit/*.c)
LIB_OBJ = $(LIB_SRC:%.c=$(O)/%.o)
CLI_OBJ = $(CLI_SRC:%.c=$(O)/%.o)
UNIT_OBJ = $(UNIT_SRC:%.c=$(O)/%.o)
FUZZ_TARGETS = collector http selector json
FUZZ_REPLAY = $(FUZZ_TARGETS:%=$(O)/fuzz-replay-%)
# make bench's references (below); make test runs the bench at a tiny scale
BENCH_REFS = bench-read-steps bench-parse-json bench-store-floor bench-parse-logs

# Debian packages the build, the demo and the tests need.
DEB_BUILD = gcc make pkg-config libsqlite3-dev libjansson-dev libcurl4-openssl-dev libplot-dev libpng-dev
DEB_TEST = jq sqlite3 curl python3 time libxml2-utils valgrind gnuplot-nox

FUZZ_SECONDS ?= 120
FUZZ_FLAGS = -O1 -g -fsanitize=fuzzer,address,undefined -fno-omit-frame-pointer

.PHONY: all deps test-deps demo test asan tsan bench fuzz install uninstall clean

all: buildprof

buildprof: $(O)/buildprof
	@cp $< $@

$(O)/buildprof: $(CLI_OBJ) $(O)/libbuildprof.a
	$(QUIET_LINK)$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(LIBS)

$(O)/libbuildprof.a: $(LIB_OBJ)
	@rm -f $@
	@ar rcs $@ $^

# test_png draws with libplot itself, to set png.c against libplot's own PNG
$(O)/unit-tests: $(UNIT_OBJ) $(O)/libbuildprof.a
	$(QUIET_LINK)$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(LIBS) -lplot

# each fuzz target with a plain main that replays files (tests/fuzz/replay.c);
# its objects are kept, not deleted as intermediates and rebuilt every time
.SECONDARY: $(FUZZ_TARGETS:%=$(O)/tests/fuzz/fuzz_%.o) $(O)/tests/fuzz/replay.o
$(O)/fuzz-replay-%: $(O)/tests/fuzz/fuzz_%.o $(O)/tests/fuzz/replay.o $(O)/libbuildprof.a
	$(QUIET_LINK)$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(LIBS)

$(O)/%.o: %.c
	@mkdir -p $(dir $@)
	$(QUIET_CC)$(CC) $(ALL_CFLAGS) -c -o $@ $<

-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d) $(UNIT_OBJ:.o=.d)

# A new database is made in one pass from the schema its migrations end in
# (store/schema.c, store_migrate), which the build dumps by running them
# on an empty database.
SCHEMA_DUMP_SRC = store/gen/schema_dump.c store/schema.c common/error.c
$(O)/gen/schema_dump: $(SCHEMA_DUMP_SRC) store/store_internal.h $(wildcard include/buildprof/*.h)
	@mkdir -p $(dir $@)
	$(QUIET_LINK)$(CC) $(filter-out -MMD -MP,$(ALL_CFLAGS)) -DBUILDPROF_SCHEMA_DUMP $(LDFLAGS) \
		-o $@ $(SCHEMA_DUMP_SRC) $(PKG_LIBS)
$(O)/gen/schema_snapshot.h: $(O)/gen/schema_dump
	$(QUIET_GEN)$< >$@.tmp && mv $@.tmp $@
$(O)/store/schema.o: $(O)/gen/schema_snapshot.h

# Installs what is missing when root; otherwise prints the apt-get line and fails.
deps:
	@sh tests/install-deps.sh $(DEB_BUILD)

test-deps:
	@sh tests/install-deps.sh $(DEB_BUILD) $(DEB_TEST)

demo: deps
	@$(MAKE) --no-print-directory all
	@sh samples/demo.sh ./buildprof

# The whole suite, then the whole suite again under AddressSanitizer and UBSan,
# then ThreadSanitizer over the second threads (tests/tsan.sh).
test: test-deps
	@$(MAKE) --no-print-directory DEVELOPER=1 all $(O)/unit-tests $(FUZZ_REPLAY) $(BENCH_REFS:%=$(O)/%)
	@$(MAKE) --no-print-directory DEVELOPER=1 O=build-asan \
		CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
		LDFLAGS="-fsanitize=address,undefined" build-asan/buildprof build-asan/unit-tests \
		$(FUZZ_TARGETS:%=build-asan/fuzz-replay-%) $(BENCH_REFS:%=build-asan/%)
	@$(MAKE) --no-print-directory DEVELOPER=1 O=build-tsan $(TSAN_BUILD) build-tsan/buildprof build-tsan/unit-tests
	@sh tests/run-all.sh

asan:
	@$(MAKE) --no-print-directory O=build-asan \
		CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
		LDFLAGS="-fsanitize=address,undefined" build-asan/buildprof build-asan/unit-tests

# ThreadSanitizer, for the second threads (tests/tsan.sh runs it)
TSAN_BUILD = CFLAGS="-O1 -g -fsanitize=thread" LDFLAGS="-fsanitize=thread"
tsan: all
	@$(MAKE) --no-print-directory O=build-tsan $(TSAN_BUILD) build-tsan/buildprof build-tsan/unit-tests
	@sh tests/tsan.sh build-tsan build/buildprof

# Speed and memory as ratios against baselines run alongside (tests/bench/run.sh).
bench: test-deps
	@$(MAKE) --no-print-directory all $(BENCH_REFS:%=$(O)/%)
	@bash tests/bench/run.sh ./buildprof $(BENCH_REFS:%=$(O)/%)

# the bench's references: fetching every step row a report reads (the
# report's floor), jansson's whole-tree parse of the GitLab JSON, and
# storing the rows an ingest stored (ingest's floor), each and nothing else;
# and ingest's parsing alone, run beside the floor
$(O)/bench-read-steps: $(O)/tests/bench/read_steps.o
	$(QUIET_LINK)$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)
$(O)/bench-store-floor: $(O)/tests/bench/store_floor.o $(O)/libbuildprof.a
	$(QUIET_LINK)$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(LIBS)
$(O)/bench-parse-json: $(O)/tests/bench/parse_json.o
	$(QUIET_LINK)$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)
$(O)/bench-parse-logs: $(O)/tests/bench/parse_logs.o $(O)/libbuildprof.a
	$(QUIET_LINK)$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(LIBS)

# libFuzzer targets (clang), FUZZ_SECONDS each, on corpora seeded from
# samples/, tests/data/ and the kept regressions in tests/fuzz/regressions/.
# Findings land in build-fuzz/ as crash-*; copy each into
# tests/fuzz/regressions/TARGET/ once fixed, and `make test` replays it.
fuzz: $(FUZZ_TARGETS:%=build-fuzz/fuzz_%)
	@sh tests/fuzz/seed.sh build-fuzz
	@for t in $(FUZZ_TARGETS); do \
		echo "fuzz_$$t: $(FUZZ_SECONDS) s"; \
		(cd build-fuzz && ./fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -max_len=65536 \
			-timeout=10 -rss_limit_mb=2048 -print_final_stats=1 corpus-$$t) || exit 1; \
	done

build-fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(LIB_SRC) | build/gen/schema_snapshot.h
	@mkdir -p build-fuzz
	clang $(FUZZ_FLAGS) -std=c11 -D_GNU_SOURCE -Iinclude -Ibuild/gen $(PKG_CFLAGS) -o $@ $^ $(LIBS)

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 755 buildprof $(DESTDIR)$(PREFIX)/bin/buildprof
	install -m 644 doc/buildprof.1 $(DESTDIR)$(PREFIX)/share/man/man1/buildprof.1

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/buildprof $(DESTDIR)$(PREFIX)/share/man/man1/buildprof.1

clean:
	rm -rf build build-asan build-tsan build-fuzz buildprof out
