// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmaccel_ksm selftest: guest RAM is charged to the memory cgroup of the
 * VMM that created the file, whoever makes a page of it be allocated.
 *
 * Two cgroups, "owner" and "other" (cgroup v2, memory controller).  The
 * test process creates a file while it is in owner, then moves to other
 * (cgroup v2 leaves charges where they were made) and:
 *
 * - faults the file's pages in: owner's memory.current grows by them,
 *   other's does not; closing the file gives them back to owner;
 * - after VMACCEL_KSM_SCAN merged identical pages (which uncharges the
 *   duplicates from owner), writes to each of them (a copy-on-write
 *   storm): the copies are charged to owner;
 * - after the merge, has run=2 unmerge everything (the copies are made by
 *   the writer of the knob): charged to owner too.
 *
 * Bounds are loose (3/4 of the pages to owner, under 1/4 to other): a
 * cgroup's usage also moves by per-CPU charge batches and the test's own
 * stack and page tables.
 */
#define _GNU_SOURCE
#include <limits.h>

#include "ksm_util.h"

#define CG_ROOT	"/sys/fs/cgroup"
#define NPAGES	1024L	/* 4 MiB: far above the per-CPU charge batches */
#define BYTES	(NPAGES * (long)KSM_PAGE)

static int write_str(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, s, strlen(s));
	close(fd);
	return n == (ssize_t)strlen(s) ? 0 : -1;
}

/* memory.current of cgroup @cg, or -1. */
static long cg_current(const char *cg)
{
	char path[PATH_MAX], buf[32];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/memory.current", cg);
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

/* Move the calling process into @cg. */
static int cg_enter(const char *cg)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/cgroup.procs", cg);
	return write_str(path, "0");
}

/* Whether the memory controller can be used below the root cgroup. */
static bool memcg_usable(void)
{
	char buf[256] = "";
	int fd = open(CG_ROOT "/cgroup.controllers", O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0 || !strstr(buf, "memory"))
		return false;
	return write_str(CG_ROOT "/cgroup.subtree_control", "+memory") == 0;
}

FIXTURE(memcg) {
	char owner[PATH_MAX];
	char other[PATH_MAX];
	int fd;
	char *map;
};

FIXTURE_SETUP(memcg)
{
	self->fd = -1;
	self->map = NULL;
	self->owner[0] = '\0';
	self->other[0] = '\0';
	if (!ksm_present())
		SKIP(return, "vmaccel_ksm not loaded");
	if (!memcg_usable())
		SKIP(return, "no cgroup v2 memory controller at " CG_ROOT);
	ksm_quiet();
	snprintf(self->owner, sizeof(self->owner), CG_ROOT "/vk-owner-%d", getpid());
	snprintf(self->other, sizeof(self->other), CG_ROOT "/vk-other-%d", getpid());
	ASSERT_EQ(0, mkdir(self->owner, 0755));
	ASSERT_EQ(0, mkdir(self->other, 0755));
	/* The file is created by a task of owner. */
	ASSERT_EQ(0, cg_enter(self->owner));
	self->fd = ksm_create(BYTES, 1);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, cg_enter(self->other));
}

FIXTURE_TEARDOWN(memcg)
{
	if (self->map)
		munmap(self->map, BYTES);
	if (self->fd >= 0)
		close(self->fd);
	cg_enter(CG_ROOT);
	if (self->owner[0])
		rmdir(self->owner);
	if (self->other[0])
		rmdir(self->other);
	ksm_quiet();
}

/* Map @fd (from other) and give every page the same content; or NULL. */
static char *fill_same(int fd)
{
	char *map = ksm_map(fd, BYTES);
	long i;

	if (!map)
		return NULL;
	for (i = 0; i < NPAGES; i++)
		ksm_fill(map + i * KSM_PAGE, 7, 0);
	return map;
}

/* Merge @fd's identical pages from the root cgroup, back to @cg after. */
static long merge(int fd, const char *cg)
{
	long merged;

	if (cg_enter(CG_ROOT))
		return -1;
	merged = ksm_scan(fd, 2);
	if (cg_enter(cg))
		return -1;
	return merged;
}

TEST_F(memcg, faults_charged_to_creator)
{
	long own0 = cg_current(self->owner), oth0 = cg_current(self->other);
	long own1, oth1, own2;

	ASSERT_LE(0, own0);
	ASSERT_LE(0, oth0);
	/* Allocated by faults of a task of other. */
	self->map = fill_same(self->fd);
	ASSERT_NE(NULL, self->map);
	own1 = cg_current(self->owner);
	oth1 = cg_current(self->other);
	TH_LOG("owner %+ld KiB, other %+ld KiB for %ld KiB faulted in by other",
	       (own1 - own0) / 1024, (oth1 - oth0) / 1024, BYTES / 1024);
	EXPECT_LE(BYTES * 3 / 4, own1 - own0);
	EXPECT_GT(BYTES / 4, oth1 - oth0);
	/* The pages go with the file, and owner's charge with them. */
	munmap(self->map, BYTES);
	self->map = NULL;
	close(self->fd);
	self->fd = -1;
	own2 = cg_current(self->owner);
	TH_LOG("owner %+ld KiB after the file is gone", (own2 - own0) / 1024);
	EXPECT_GT(BYTES / 4, own2 - own0);
}

TEST_F(memcg, cow_storm_charged_to_creator)
{
	long own0, oth0, own1, oth1, merged, i;

	self->map = fill_same(self->fd);
	ASSERT_NE(NULL, self->map);
	own0 = cg_current(self->owner);
	/* max_page_sharing (256) leaves one page per 256 unmerged. */
	merged = merge(self->fd, self->other);
	ASSERT_LE(NPAGES - NPAGES / 256, merged);
	/* The duplicates the merge freed are uncharged from owner. */
	own1 = cg_current(self->owner);
	TH_LOG("owner %+ld KiB after %ld pages merged", (own1 - own0) / 1024, merged);
	EXPECT_LE(merged * (long)KSM_PAGE * 3 / 4, own0 - own1);
	own0 = own1;
	oth0 = cg_current(self->other);
	/* Every page written: a copy for each one merged. */
	for (i = 0; i < NPAGES; i++)
		self->map[i * KSM_PAGE + 8] ^= 1;
	own1 = cg_current(self->owner);
	oth1 = cg_current(self->other);
	TH_LOG("owner %+ld KiB, other %+ld KiB for %ld copy-on-write breaks by other",
	       (own1 - own0) / 1024, (oth1 - oth0) / 1024, merged);
	EXPECT_LE(merged * (long)KSM_PAGE * 3 / 4, own1 - own0);
	EXPECT_GT(merged * (long)KSM_PAGE / 4, oth1 - oth0);
}

TEST_F(memcg, unmerge_charged_to_creator)
{
	long own0, oth0, own1, oth1, merged;

	self->map = fill_same(self->fd);
	ASSERT_NE(NULL, self->map);
	/* max_page_sharing (256) leaves one page per 256 unmerged. */
	merged = merge(self->fd, self->other);
	ASSERT_LE(NPAGES - NPAGES / 256, merged);
	own0 = cg_current(self->owner);
	oth0 = cg_current(self->other);
	/* The admin's run=2, written by a task of other. */
	ASSERT_EQ(0, ksm_sys_set("run", "2"));
	own1 = cg_current(self->owner);
	oth1 = cg_current(self->other);
	TH_LOG("owner %+ld KiB, other %+ld KiB after run=2 by other unmerged %ld pages",
	       (own1 - own0) / 1024, (oth1 - oth0) / 1024, merged);
	EXPECT_LE(merged * (long)KSM_PAGE * 3 / 4, own1 - own0);
	EXPECT_GT(merged * (long)KSM_PAGE / 4, oth1 - oth0);
}

TEST_HARNESS_MAIN
