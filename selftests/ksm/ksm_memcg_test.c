// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmaccel_ksm selftest: guest RAM is charged to the memory cgroup of the
 * VMM that created the file when a writer of the file makes a page of it
 * be allocated, whoever that writer is.
 *
 * Two cgroups, "owner" and "other" (cgroup v2, memory controller).  The
 * test process creates a file (a group of its own) while it is in owner,
 * then moves to other (cgroup v2 leaves charges where they were made) and:
 *
 * - writes the file's pages (write(2) and stores through a mapping):
 *   owner's memory.current grows by them, other's does not; closing the
 *   file gives them back to owner;
 * - after VMACCEL_KSM_SCAN merged identical pages (which uncharges the
 *   duplicates from owner), writes to each of them (a copy-on-write
 *   storm): the copies are charged to owner;
 * - after the merge, has run=2 unmerge everything: charged to owner too;
 * - reads holes through a read-only file: a reader pays for its own pages;
 * - with owner at its memory.max, writes more: the writer gets SIGBUS, and
 *   owner's OOM killer (which could only kill owner's tasks, to no avail)
 *   does not run: a task of owner lives on;
 * - a file made with a named group (by a privileged helper) and one made
 *   from the root cgroup have no owner: the writer pays;
 * - a file's reference on its owner's cgroup ends with the file: a removed
 *   owner cgroup does not stay behind as a dying cgroup.
 *
 * Bounds are loose (3/4 of the pages to the payer, under 1/4 to the
 * other): a cgroup's usage also moves by per-CPU charge batches and the
 * test's own stack and page tables.
 */
#define _GNU_SOURCE
#include <limits.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>

#include "ksm_util.h"
#include "ksm_cgroup.h"

#define NPAGES	1024L	/* 4 MiB: far above the per-CPU charge batches */
#define BYTES	(NPAGES * (long)KSM_PAGE)

/* Map @fd with @prot and touch every page (a store if writable); 0 or -1. */
static int touch_all(int fd, int prot)
{
	char *map = mmap(NULL, BYTES, prot, MAP_SHARED, fd, 0);
	long i;

	if (map == MAP_FAILED)
		return -1;
	for (i = 0; i < NPAGES; i++) {
		if (prot & PROT_WRITE)
			map[i * KSM_PAGE] = 1;
		else
			(void)__atomic_load_n(&map[i * KSM_PAGE], __ATOMIC_RELAXED);
	}
	munmap(map, BYTES);
	return 0;
}

FIXTURE(memcg) {
	char owner[128];
	char other[128];
	int fd;
	char *map;
	pid_t helper;
};

FIXTURE_SETUP(memcg)
{
	self->fd = -1;
	self->map = NULL;
	self->helper = 0;
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
	self->fd = ksm_create_own(BYTES);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, cg_enter(self->other));
}

FIXTURE_TEARDOWN(memcg)
{
	if (self->helper > 0) {
		kill(self->helper, SIGKILL);
		waitpid(self->helper, NULL, 0);
	}
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

/*
 * Give every page of @fd the same content, the first half with write(2),
 * the rest through the mapping it returns (or NULL).
 */
static char *fill_same(int fd)
{
	char page[KSM_PAGE];
	char *map;
	long i;

	ksm_fill(page, 7, 0);
	for (i = 0; i < NPAGES / 2; i++)
		if (pwrite(fd, page, KSM_PAGE, i * KSM_PAGE) != (ssize_t)KSM_PAGE)
			return NULL;
	map = ksm_map(fd, BYTES);
	if (!map)
		return NULL;
	for (; i < NPAGES; i++)
		memcpy(map + i * KSM_PAGE, page, KSM_PAGE);
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

/*
 * Which cgroup paid for @bytes allocated since @own0 and @oth0 were read:
 * "owner" or "other" (3/4 of it or more, the other under 1/4), else
 * "unclear".  Logs the deltas and @what.
 */
static const char *who_paid(const char *owner, const char *other, long own0,
			    long oth0, long bytes, const char *what)
{
	long own = cg_current(owner) - own0, oth = cg_current(other) - oth0;

	printf("# owner %+ld KiB, other %+ld KiB for %ld KiB %s\n",
	       own / 1024, oth / 1024, bytes / 1024, what);
	if (own >= bytes * 3 / 4 && oth < bytes / 4)
		return "owner";
	if (oth >= bytes * 3 / 4 && own < bytes / 4)
		return "other";
	return "unclear";
}

TEST_F(memcg, faults_charged_to_creator)
{
	long own0 = cg_current(self->owner), oth0 = cg_current(self->other);
	long own2;

	ASSERT_LE(0, own0);
	ASSERT_LE(0, oth0);
	/* Allocated by write(2) and faults of a task of other. */
	self->map = fill_same(self->fd);
	ASSERT_NE(NULL, self->map);
	EXPECT_STREQ("owner", who_paid(self->owner, self->other, own0, oth0,
				       BYTES, "written by other"));
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
	long own0, oth0, own1, merged, i;

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
	EXPECT_STREQ("owner", who_paid(self->owner, self->other, own0, oth0,
				       merged * KSM_PAGE,
				       "of copy-on-write breaks by other"));
}

TEST_F(memcg, unmerge_charged_to_creator)
{
	long own0, oth0, merged;

	self->map = fill_same(self->fd);
	ASSERT_NE(NULL, self->map);
	merged = merge(self->fd, self->other);
	ASSERT_LE(NPAGES - NPAGES / 256, merged);
	own0 = cg_current(self->owner);
	oth0 = cg_current(self->other);
	/* The admin's run=2, written by a task of other. */
	ASSERT_EQ(0, ksm_sys_set("run", "2"));
	EXPECT_STREQ("owner", who_paid(self->owner, self->other, own0, oth0,
				       merged * KSM_PAGE,
				       "unmerged by run=2 from other"));
}

TEST_F(memcg, reader_pays)
{
	long own0 = cg_current(self->owner), oth0 = cg_current(self->other);
	char path[64];
	int ro;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", self->fd);
	ro = open(path, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, ro);
	ASSERT_EQ(0, touch_all(ro, PROT_READ));
	close(ro);
	EXPECT_STREQ("other", who_paid(self->owner, self->other, own0, oth0,
				       BYTES, "of holes read by other"));
}

TEST_F_TIMEOUT(memcg, owner_full_no_foreign_oom_kill, 120)
{
	char path[PATH_MAX], buf[32];
	int go[2], status = 0, waited;
	pid_t writer;

	/* A task of owner, which its OOM killer would pick. */
	ASSERT_EQ(0, pipe(go));
	self->helper = fork();
	ASSERT_LE(0, self->helper);
	if (self->helper == 0) {
		close(go[0]);
		if (cg_enter(self->owner))
			_exit(1);
		if (write(go[1], "x", 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	close(go[1]);
	ASSERT_EQ(1, read(go[0], buf, 1));
	close(go[0]);
	/* Room in owner for a quarter of the file. */
	snprintf(path, sizeof(path), "%s/memory.max", self->owner);
	snprintf(buf, sizeof(buf), "%ld", cg_current(self->owner) + BYTES / 4);
	ASSERT_EQ(0, vmaccel_write_file(path, buf));
	/* A writer of other fills the file. */
	writer = fork();
	ASSERT_LE(0, writer);
	if (writer == 0)
		_exit(touch_all(self->fd, PROT_READ | PROT_WRITE) ? 2 : 0);
	for (waited = 0; waited < 600; waited++) {
		if (waitpid(writer, &status, WNOHANG) == writer)
			break;
		usleep(50000);
	}
	if (waited == 600) {
		TH_LOG("the writer still runs after 30 s (faults retried forever?)");
		kill(writer, SIGKILL);
		waitpid(writer, &status, 0);
	}
	EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGBUS) {
		TH_LOG("writer status 0x%x: want SIGBUS", status);
	}
	if (waitpid(self->helper, &status, WNOHANG) == self->helper) {
		self->helper = 0;	/* reaped: its pid may be reused */
		TH_LOG("owner's task is gone (status 0x%x): OOM-killed", status);
		EXPECT_TRUE(false);
	}
}

/* The cgroup that pays for a file written by a task of other. */
static const char *payer(const char *owner, const char *other, int fd)
{
	long own0 = cg_current(owner), oth0 = cg_current(other);

	if (touch_all(fd, PROT_READ | PROT_WRITE))
		return "error";
	return who_paid(owner, other, own0, oth0, BYTES, "written by other");
}

TEST_F(memcg, named_group_file_writer_pays)
{
	const char *who;
	int fd;

	/* A named group needs CAP_SYS_ADMIN: a helper's file, for a VMM. */
	ASSERT_EQ(0, cg_enter(self->owner));
	fd = ksm_create(BYTES, 1);
	ASSERT_EQ(0, cg_enter(self->other));
	ASSERT_LE(0, fd);
	who = payer(self->owner, self->other, fd);
	close(fd);
	EXPECT_STREQ("other", who);
}

TEST_F(memcg, root_cgroup_file_writer_pays)
{
	const char *who;
	int fd;

	ASSERT_EQ(0, cg_enter(CG_ROOT));
	fd = ksm_create_own(BYTES);
	ASSERT_EQ(0, cg_enter(self->other));
	ASSERT_LE(0, fd);
	who = payer(self->owner, self->other, fd);
	close(fd);
	EXPECT_STREQ("other", who);
}

/* A field of the root cgroup's cgroup.stat, or -1. */
static long root_stat(const char *name)
{
	long v = -1;

	return vmaccel_read_keyed(CG_ROOT "/cgroup.stat", name, &v) ? -1 : v;
}

TEST_F(memcg, owner_reference_ends_with_file)
{
	long dying0 = root_stat("nr_dying_descendants"), dying = -1;
	char cg[128];
	int fd, i, same;

	/* Cgroups removed before (other tests') finish dying first. */
	for (i = same = 0; i < 100 && same < 10; i++) {
		usleep(100000);
		dying = root_stat("nr_dying_descendants");
		same = dying == dying0 ? same + 1 : 0;
		dying0 = dying;
	}
	ASSERT_LE(0, dying0);
	snprintf(cg, sizeof(cg), CG_ROOT "/vk-gone-%d", getpid());
	ASSERT_EQ(0, mkdir(cg, 0755));
	ASSERT_EQ(0, cg_enter(cg));
	fd = ksm_create_own(BYTES);
	ASSERT_EQ(0, cg_enter(self->other));
	ASSERT_LE(0, fd);
	/* Pages charged to cg, by a task of other. */
	EXPECT_EQ(0, touch_all(fd, PROT_READ | PROT_WRITE));
	close(fd);
	ASSERT_EQ(0, rmdir(cg));
	/* Offlining drains the per-CPU caches; give RCU frees time. */
	for (i = 0; i < 100; i++) {
		dying = root_stat("nr_dying_descendants");
		if (dying <= dying0)
			break;
		usleep(100000);
	}
	TH_LOG("dying cgroups: %ld before, %ld after the owner went (up to 10 s)",
	       dying0, dying);
	EXPECT_LE(dying, dying0);
}

TEST_HARNESS_MAIN
