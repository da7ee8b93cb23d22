/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Helpers shared by the vmaccel_ksm selftests.  Plain helpers return -1 and
 * errno on failure; include this instead of kselftest_harness.h.
 */
#ifndef KSM_UTIL_H
#define KSM_UTIL_H

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/vmaccel_ksm.h>

/* The 6.1 harness's TEST() wrappers have unused parameters. */
#pragma GCC diagnostic ignored "-Wunused-parameter"
#include "kselftest_harness.h"
/* The counters are __u64 and longs, compared with small int constants. */
#pragma GCC diagnostic ignored "-Wsign-compare"

#define KSM_DEV		"/dev/vmaccel-ksm"
#define KSM_SYSFS	"/sys/kernel/mm/vmaccel_ksm/"
#define KSM_PAGE	4096UL

/* @call fails with -1 and errno @err. */
#define EXPECT_ERRNO(err, call) do {			\
		errno = 0;				\
		EXPECT_EQ(-1, (long)(call));		\
		EXPECT_EQ(err, errno);			\
	} while (0)

static inline long ksm_sys_get(const char *name)
{
	char path[128], buf[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), KSM_SYSFS "%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	return strtol(buf, NULL, 10);
}

/* 0 or -errno. */
static inline int ksm_sys_set(const char *name, const char *val)
{
	char path[128];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), KSM_SYSFS "%s", name);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, val, strlen(val));
	n = n < 0 ? -errno : 0;
	close(fd);
	return n;
}

static inline int ksm_sys_setl(const char *name, long v)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%ld", v);
	return ksm_sys_set(name, buf);
}

/* An unlinked vmaccelfs file made by VMACCEL_KSM_CREATE as @c says, or -1. */
static inline int ksm_create_as(const struct vmaccel_ksm_create *c)
{
	int dev, fd;

	dev = open(KSM_DEV, O_RDWR | O_CLOEXEC);
	if (dev < 0)
		return -1;
	fd = ioctl(dev, VMACCEL_KSM_CREATE, c);
	close(dev);
	return fd;
}

/* An unlinked vmaccelfs file of @size bytes in @group, or -1. */
static inline int ksm_create(__u64 size, __u32 group)
{
	struct vmaccel_ksm_create c = {
		.size = size, .group = group,
		.flags = VMACCEL_KSM_CREATE_CLOEXEC | VMACCEL_KSM_CREATE_GROUP,
	};

	return ksm_create_as(&c);
}

/* An unlinked file of @size bytes in a group of its own (a VMM's), or -1. */
static inline int ksm_create_own(__u64 size)
{
	struct vmaccel_ksm_create c = {
		.size = size, .flags = VMACCEL_KSM_CREATE_CLOEXEC,
	};

	return ksm_create_as(&c);
}

/* Run @passes full passes; returns the pages merged, or -1. */
static inline long ksm_scan(int fd, unsigned int passes)
{
	struct vmaccel_ksm_scan s = { .passes = passes };

	if (ioctl(fd, VMACCEL_KSM_SCAN, &s))
		return -1;
	return (long)s.merged;
}

static inline int ksm_stats(int fd, struct vmaccel_ksm_file_stats *st)
{
	return ioctl(fd, VMACCEL_KSM_GET_STATS, st);
}

static inline void *ksm_map(int fd, size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

	return p == MAP_FAILED ? NULL : p;
}

/* Deterministic page content: page @n of seed @seed. */
static inline void ksm_fill(void *page, unsigned long seed, unsigned long n)
{
	__u64 *q = page, x = seed * 0x9E3779B97F4A7C15ULL + n + 1;
	size_t i;

	for (i = 0; i < KSM_PAGE / 8; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		q[i] = x;
	}
}

/*
 * Mounts made after this vanish with the test's process, also when an
 * ASSERT (or an injected allocation failure) ends it early: a vmaccelfs
 * mount left behind would pin the module.  0 or -1.
 */
static inline int ksm_private_mounts(void)
{
	if (unshare(CLONE_NEWNS))
		return -1;
	return mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL);
}

/* Whether the module is there (else the test skips). */
static inline bool ksm_present(void)
{
	return access(KSM_DEV, F_OK) == 0 && access(KSM_SYSFS "run", F_OK) == 0;
}

/* Leave the knobs as a test found them: run=0 so only SCAN merges. */
static inline void ksm_quiet(void)
{
	ksm_sys_set("run", "2");
	ksm_sys_set("run", "0");
	ksm_sys_set("merge_across_groups", "0");
	ksm_sys_set("use_zero_pages", "1");
	ksm_sys_set("max_page_sharing", "256");
}

#endif /* KSM_UTIL_H */
