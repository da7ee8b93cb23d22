/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The repository's files, for the selftests that run its scripts
 * (selftests/<mod>/NAME.sh, selftests/lib/NAME.sh): a selftest program is
 * build/selftests/<mod>/<program> in the repository, found through
 * /proc/self/exe.
 */
#ifndef VMACCEL_SRCDIR_H
#define VMACCEL_SRCDIR_H

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <unistd.h>

/*
 * Writes the path of @rel, relative to the repository, into @buf (@len
 * bytes).  Returns 0, or -errno (-ENAMETOOLONG when it does not fit).
 */
static inline int vmaccel_src_path(char *buf, size_t len, const char *rel)
{
	char exe[PATH_MAX], *top;
	ssize_t n;

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
