/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * cgroup v2 helpers of the vmaccel_ksm selftests that check the memory
 * cgroup charge of guest RAM.
 */
#ifndef KSM_CGROUP_H
#define KSM_CGROUP_H

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "../lib/vmaccel_sysfs.h"

#define CG_ROOT	"/sys/fs/cgroup"

/* memory.current of cgroup @cg, or -1. */
static inline long cg_current(const char *cg)
{
	char path[PATH_MAX];
	long v = -1;

	snprintf(path, sizeof(path), "%s/memory.current", cg);
	return vmaccel_read_long(path, &v) ? -1 : v;
}

/* Move the calling process into @cg. */
static inline int cg_enter(const char *cg)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/cgroup.procs", cg);
	return vmaccel_write_file(path, "0");
}

/* Whether the memory controller can be used below the root cgroup. */
static inline bool memcg_usable(void)
{
	char buf[256];

	if (vmaccel_read_file(CG_ROOT "/cgroup.controllers", buf, sizeof(buf)) <= 0 ||
	    !strstr(buf, "memory"))
		return false;
	return vmaccel_write_file(CG_ROOT "/cgroup.subtree_control", "+memory") == 0;
}

#endif /* KSM_CGROUP_H */
