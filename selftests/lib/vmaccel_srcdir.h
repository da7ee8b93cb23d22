/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The repository's files, for the selftests that run its scripts
 * (selftests/<mod>/NAME.sh, selftests/lib/NAME.sh): $VMACCEL_SRC_DIR when
 * set (a program installed with make -C selftests install), else the
 * repository of the program, build/selftests/<mod>/<program>, found
 * through /proc/self/exe.
 */
#ifndef VMACCEL_SRCDIR_H
#define VMACCEL_SRCDIR_H

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/*
 * Writes the path of @rel, relative to the repository, into @buf (@len
 * bytes).  Returns 0, or -errno (-ENAMETOOLONG when it does not fit).
 */
static inline int vmaccel_src_path(char *buf, size_t len, const char *rel)
{
	const char *env = getenv("VMACCEL_SRC_DIR");
	char exe[PATH_MAX], *top;
	ssize_t n;

	if (env && *env) {
		if ((size_t)snprintf(buf, len, "%s/%s", env, rel) >= len)
			return -ENAMETOOLONG;
		return 0;
	}
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n < 0)
		return -errno;
	exe[n] = '\0';
	/* build/selftests/<mod>/<program> -> the repository */
	top = dirname(dirname(dirname(dirname(exe))));
	if ((size_t)snprintf(buf, len, "%s/%s", top, rel) >= len)
		return -ENAMETOOLONG;
	return 0;
}

#endif /* VMACCEL_SRCDIR_H */
