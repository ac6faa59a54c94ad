/*
 * dynlib.c - loading a library on first use (see util.h). libcurl and
 * libplot each pull in a crowd of libraries of their own (libplot: X11,
 * Xaw, Xt, xcb and ten more), which every command would otherwise map and
 * relocate at start, and only a few commands call them.
 */
#include <dlfcn.h>

#include "buildprof/util.h"

int bp_dynlib_load(const struct bp_dynlib *lib, const char *where, struct bp_error *err)
{
	void *h = NULL;
	size_t i;

	for (i = 0; lib->sonames[i] && !h; i++)
		h = dlopen(lib->sonames[i], RTLD_NOW | RTLD_LOCAL);
	if (!h)
		return bp_error_set(err, where, 0, "cannot load %s (install %s): %s", lib->name,
				    lib->package, dlerror());
	/* every address before any is used: a library too old for one
	 * function fails here, not halfway through a chart */
	for (i = 0; lib->symbols[i].name; i++)
		if (!(*lib->symbols[i].slot = dlsym(h, lib->symbols[i].name)))
			return bp_error_set(err, where, 0, "%s lacks %s: too old a %s", lib->name,
					    lib->symbols[i].name, lib->name);
	/* h stays open: the addresses are used until the process ends */
	return 0;
}
