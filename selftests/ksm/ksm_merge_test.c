// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmaccel_ksm selftest: merging and what stays true around it.
 *
 * Identical pages of two files of one group merge and read back; files of
 * different groups do not merge unless merge_across_groups is 1; a write
 * to a merged page gets a private copy and leaves the other files alone;
 * punching holes frees pages; the counters add up; run=2 unmerges
 * everything; a page changed between passes (volatile) waits; a pinned page
 * is not merged, and one pinned for DMA is not even unmapped; a page with a
 * memory error is not used again;
 * max_page_sharing caps a merged page; a page written while the scanner
 * decides, unmaps and merges is never merged with stale content; the
 * scanner thread merges on its own; a mounted vmaccelfs with size= and
 * group=.
 *
 * The scanner thread is stopped (run=0) during the tests, which merge with
 * VMACCEL_KSM_SCAN, so every count is exact.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/statfs.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <sys/utsname.h>

#include "ksm_util.h"

#define NP	64	/* data pages per file */
#define NZ	16	/* zero pages per file */

FIXTURE(ksm) {
	int fd[4];
	char *map[4];
	size_t len;
};

FIXTURE_SETUP(ksm)
{
	int i;

	if (!ksm_present())
		SKIP(return, "vmaccel_ksm not loaded");
	ksm_quiet();
	self->len = (NP + NZ) * KSM_PAGE;
	for (i = 0; i < 4; i++) {
		self->fd[i] = ksm_create(self->len, 1);
		ASSERT_LE(0, self->fd[i]);
		self->map[i] = ksm_map(self->fd[i], self->len);
		ASSERT_NE(NULL, self->map[i]);
	}
}

FIXTURE_TEARDOWN(ksm)
{
	int i;

	for (i = 0; i < 4; i++) {
		if (self->map[i])
			munmap(self->map[i], self->len);
		if (self->fd[i] > 0)
			close(self->fd[i]);
	}
	ksm_quiet();
}

/* File @i: NP pages of @seed, then NZ zero pages. */
static void fill(struct _test_data_ksm *self, int i, unsigned long seed)
{
	unsigned long n;

	for (n = 0; n < NP; n++)
		ksm_fill(self->map[i] + n * KSM_PAGE, seed, n);
	memset(self->map[i] + NP * KSM_PAGE, 0, NZ * KSM_PAGE);
}

static bool same(struct _test_data_ksm *self, int i, unsigned long seed)
{
	char page[KSM_PAGE];
	unsigned long n;

	for (n = 0; n < NP; n++) {
		ksm_fill(page, seed, n);
		if (memcmp(page, self->map[i] + n * KSM_PAGE, KSM_PAGE))
			return false;
	}
	memset(page, 0, sizeof(page));
	for (n = NP; n < NP + NZ; n++)
		if (memcmp(page, self->map[i] + n * KSM_PAGE, KSM_PAGE))
			return false;
	return true;
}

TEST_F(ksm, merge_and_read_back)
{
	struct vmaccel_ksm_file_stats a, b;
	char page[KSM_PAGE];
	unsigned long n;

	fill(self, 0, 7);
	fill(self, 1, 7);
	/* One pass merges: a new page is a candidate at once. */
	ASSERT_EQ(NP + 2 * NZ - 1, ksm_scan(self->fd[0], 1));
	/* NP contents shared by 2, the zero page by 2 * NZ. */
	EXPECT_EQ(NP + 1, ksm_sys_get("pages_shared"));
	EXPECT_EQ(NP + 2 * NZ - 1, ksm_sys_get("pages_sharing"));
	EXPECT_EQ(2 * NZ, ksm_sys_get("zero_pages_sharing"));
	ASSERT_EQ(0, ksm_stats(self->fd[0], &a));
	ASSERT_EQ(0, ksm_stats(self->fd[1], &b));
	EXPECT_EQ(NP + NZ, a.resident);
	EXPECT_EQ(NP + NZ, a.merged);
	EXPECT_EQ(NZ, a.zero);
	EXPECT_EQ(NP + 1, a.shared);
	EXPECT_EQ(NZ - 1, a.sharing);
	EXPECT_EQ(NP + NZ, b.merged);
	EXPECT_EQ(1, a.group);
	EXPECT_EQ(self->len, a.size);
	/* The mappings were removed to write-protect: they fault back. */
	EXPECT_TRUE(same(self, 0, 7));
	EXPECT_TRUE(same(self, 1, 7));
	/* read() sees the same. */
	for (n = 0; n < NP; n += 7) {
		char want[KSM_PAGE];

		ksm_fill(want, 7, n);
		ASSERT_EQ((ssize_t)KSM_PAGE, pread(self->fd[1], page, KSM_PAGE,
						   n * KSM_PAGE));
		EXPECT_EQ(0, memcmp(want, page, KSM_PAGE));
	}
	/* A second pass finds nothing more. */
	EXPECT_EQ(0, ksm_scan(self->fd[0], 1));
	EXPECT_LT(0, ksm_sys_get("general_profit"));
}

TEST_F(ksm, groups_do_not_merge)
{
	struct vmaccel_ksm_group g = { .group = 2 };
	struct vmaccel_ksm_file_stats st;

	ASSERT_EQ(0, ioctl(self->fd[1], VMACCEL_KSM_SET_GROUP, &g));
	memset(&g, 0xff, sizeof(g));
	ASSERT_EQ(0, ioctl(self->fd[1], VMACCEL_KSM_GET_GROUP, &g));
	EXPECT_EQ(2, g.group);
	EXPECT_EQ(0, g.flags);
	fill(self, 0, 11);
	fill(self, 1, 11);
	ASSERT_EQ(2 * (NZ - 1), ksm_scan(self->fd[0], 2));
	/* Only each file's zero pages merged, within the file's group. */
	EXPECT_EQ(2, ksm_sys_get("pages_shared"));
	EXPECT_EQ(2 * (NZ - 1), ksm_sys_get("pages_sharing"));
	ASSERT_EQ(0, ksm_stats(self->fd[0], &st));
	EXPECT_EQ(NZ, st.merged);
	/* Opting in needs everything unmerged first, like merge_across_nodes. */
	EXPECT_EQ(-EBUSY, ksm_sys_set("merge_across_groups", "1"));
	ASSERT_EQ(0, ksm_sys_set("run", "2"));
	ASSERT_EQ(0, ksm_sys_set("merge_across_groups", "1"));
	ASSERT_EQ(NP + 2 * NZ - 1, ksm_scan(self->fd[0], 1));
	EXPECT_EQ(NP + 1, ksm_sys_get("pages_shared"));
	EXPECT_TRUE(same(self, 0, 11));
	EXPECT_TRUE(same(self, 1, 11));
	/* Moving a file to another group unmerges it. */
	g.group = 3;
	g.flags = 0;
	ASSERT_EQ(0, ioctl(self->fd[1], VMACCEL_KSM_SET_GROUP, &g));
	ASSERT_EQ(0, ksm_stats(self->fd[1], &st));
	EXPECT_EQ(0, st.merged);
	EXPECT_TRUE(same(self, 1, 11));
}

TEST_F(ksm, cow_break)
{
	long cow_before = ksm_sys_get("cow_breaks");
	struct vmaccel_ksm_file_stats a, b;
	char page[KSM_PAGE];

	fill(self, 0, 3);
	fill(self, 1, 3);
	fill(self, 2, 3);
	ASSERT_LT(0, ksm_scan(self->fd[0], 1));
	EXPECT_EQ(2 * NP, ksm_sys_get("pages_sharing") - (3 * NZ - 1));
	/* A write through the mapping. */
	memset(self->map[0] + 5 * KSM_PAGE + 100, 0xab, 10);
	/* A write through write(2), to a merged zero page. */
	memset(page, 0xcd, sizeof(page));
	ASSERT_EQ((ssize_t)KSM_PAGE, pwrite(self->fd[1], page, KSM_PAGE,
					    (NP + 2) * KSM_PAGE));
	ASSERT_EQ(0, ksm_stats(self->fd[0], &a));
	ASSERT_EQ(0, ksm_stats(self->fd[1], &b));
	EXPECT_EQ(1, a.cow_breaks);
	EXPECT_EQ(1, b.cow_breaks);
	EXPECT_EQ(NP + NZ - 1, a.merged);
	EXPECT_EQ(NP + NZ - 1, b.merged);
	EXPECT_EQ(cow_before + 2, ksm_sys_get("cow_breaks"));
	/* The writers see their writes, everybody else the old content. */
	ksm_fill(page, 3, 5);
	memset(page + 100, 0xab, 10);
	EXPECT_EQ(0, memcmp(page, self->map[0] + 5 * KSM_PAGE, KSM_PAGE));
	memset(page, 0xcd, sizeof(page));
	EXPECT_EQ(0, memcmp(page, self->map[1] + (NP + 2) * KSM_PAGE, KSM_PAGE));
	EXPECT_TRUE(same(self, 2, 3));
	ksm_fill(page, 3, 5);
	EXPECT_EQ(0, memcmp(page, self->map[1] + 5 * KSM_PAGE, KSM_PAGE));
	/* Writing back the old content lets it merge again. */
	memcpy(self->map[0] + 5 * KSM_PAGE, page, KSM_PAGE);
	ASSERT_EQ(1, ksm_scan(self->fd[0], 2));
	EXPECT_TRUE(same(self, 0, 3));
}

TEST_F(ksm, punch_hole_frees)
{
	struct vmaccel_ksm_file_stats st;
	char zero[KSM_PAGE] = { 0 };
	struct statfs sf;
	unsigned long n;

	fill(self, 0, 5);
	fill(self, 1, 5);
	ASSERT_LT(0, ksm_scan(self->fd[0], 1));
	ASSERT_EQ(NP + 1, ksm_sys_get("pages_shared"));
	/* Punch the first 8 data pages out of both files (what QEMU does). */
	ASSERT_EQ(0, fallocate(self->fd[0], FALLOC_FL_PUNCH_HOLE |
			       FALLOC_FL_KEEP_SIZE, 0, 8 * KSM_PAGE));
	ASSERT_EQ(0, fallocate(self->fd[1], FALLOC_FL_PUNCH_HOLE |
			       FALLOC_FL_KEEP_SIZE, 0, 8 * KSM_PAGE));
	ASSERT_EQ(0, ksm_stats(self->fd[0], &st));
	EXPECT_EQ(NP + NZ - 8, st.resident);
	EXPECT_EQ(self->len, st.size);
	/* Those merged pages had no other user: they are gone. */
	EXPECT_EQ(NP + 1 - 8, ksm_sys_get("pages_shared"));
	for (n = 0; n < 8; n++)
		EXPECT_EQ(0, memcmp(zero, self->map[0] + n * KSM_PAGE, KSM_PAGE));
	/* Touching them again (reads above) allocated them again. */
	ASSERT_EQ(0, ksm_stats(self->fd[0], &st));
	EXPECT_EQ(NP + NZ, st.resident);
	/* A partial punch zeroes inside the page, on a private copy. */
	ASSERT_EQ(0, fallocate(self->fd[0], FALLOC_FL_PUNCH_HOLE |
			       FALLOC_FL_KEEP_SIZE, 20 * KSM_PAGE + 10, 20));
	EXPECT_EQ(0, memcmp(zero, self->map[0] + 20 * KSM_PAGE + 10, 20));
	EXPECT_NE(0, memcmp(zero, self->map[1] + 20 * KSM_PAGE + 10, 20));
	/* The whole file: nothing stays resident. */
	ASSERT_EQ(0, fallocate(self->fd[0], FALLOC_FL_PUNCH_HOLE |
			       FALLOC_FL_KEEP_SIZE, 0, self->len));
	ASSERT_EQ(0, ksm_stats(self->fd[0], &st));
	EXPECT_EQ(0, st.resident);
	ASSERT_EQ(0, fstatfs(self->fd[0], &sf));
	EXPECT_EQ(VMACCEL_KSM_MAGIC, sf.f_type);
	/* Allocation (mode 0) fills pages in and may grow the file. */
	ASSERT_EQ(0, fallocate(self->fd[0], 0, 0, self->len + KSM_PAGE));
	ASSERT_EQ(0, ksm_stats(self->fd[0], &st));
	EXPECT_EQ(NP + NZ + 1, st.resident);
	EXPECT_EQ(self->len + KSM_PAGE, st.size);
}

TEST_F(ksm, stats_add_up)
{
	struct vmaccel_ksm_file_stats st;
	long merged = 0, n;
	int i;

	fill(self, 0, 1);
	fill(self, 1, 1);
	fill(self, 2, 2);
	fill(self, 3, 1);
	/* Half of file 2 like the others. */
	for (n = 0; n < NP / 2; n++)
		ksm_fill(self->map[2] + n * KSM_PAGE, 1, n);
	ASSERT_LT(0, ksm_scan(self->fd[0], 1));
	for (i = 0; i < 4; i++) {
		ASSERT_EQ(0, ksm_stats(self->fd[i], &st));
		EXPECT_EQ(st.merged, st.shared + st.sharing);
		EXPECT_LE(st.zero, st.merged);
		EXPECT_LE(st.merged, st.resident);
		merged += st.merged;
	}
	/* Every merged file page is counted once, in shared or sharing. */
	EXPECT_EQ(merged, ksm_sys_get("pages_shared") +
			  ksm_sys_get("pages_sharing"));
	/* 64 + 32 + 16 pages of data in 3 copies, 32 in 4, 32 alone. */
	EXPECT_EQ(NP + 1, ksm_sys_get("pages_shared"));
	EXPECT_EQ(4 * (NP + NZ) - 32 - (NP + 1), ksm_sys_get("pages_sharing"));
}

TEST_F(ksm, run2_unmerges_everything)
{
	struct vmaccel_ksm_file_stats st;

	fill(self, 0, 9);
	fill(self, 1, 9);
	ASSERT_LT(0, ksm_scan(self->fd[0], 1));
	ASSERT_LT(0, ksm_sys_get("pages_sharing"));
	ASSERT_EQ(0, ksm_sys_set("run", "2"));
	EXPECT_EQ(2, ksm_sys_get("run"));
	EXPECT_EQ(0, ksm_sys_get("pages_shared"));
	EXPECT_EQ(0, ksm_sys_get("pages_sharing"));
	EXPECT_EQ(0, ksm_sys_get("pages_unshared"));
	ASSERT_EQ(0, ksm_stats(self->fd[0], &st));
	EXPECT_EQ(0, st.merged);
	EXPECT_EQ(NP + NZ, st.resident);
	EXPECT_EQ(0, st.cow_breaks);	/* no write happened */
	EXPECT_TRUE(same(self, 0, 9));
	EXPECT_TRUE(same(self, 1, 9));
}

TEST_F(ksm, volatile_pages_wait)
{
	char *a = self->map[0], *b = self->map[1];

	ksm_fill(a, 21, 0);
	ASSERT_EQ(0, ksm_scan(self->fd[0], 1));
	/* a's page changes; b gets the same new content. */
	ksm_fill(a, 22, 0);
	ksm_fill(b, 22, 0);
	ASSERT_EQ(0, ksm_scan(self->fd[0], 1));
	EXPECT_LE(1, ksm_sys_get("pages_volatile"));
	/* Stable for a pass now: merged. */
	ASSERT_EQ(1, ksm_scan(self->fd[0], 1));
	EXPECT_EQ(0, memcmp(a, b, KSM_PAGE));
}

/*
 * A writer toggles words of the pages of files 0 and 1, which start equal,
 * between their first content and another value (so pages keep becoming
 * equal again: merge candidates of the stable tree and, once a merged page
 * lost its users, of the unstable tree), while passes run: the scanner
 * checksums a page, later unmaps it, then compares and merges it.  Every
 * write must survive: both files end equal to the writer's shadow copy.
 */
struct racer {
	char *map[2];
	char *shadow[2];
	atomic_bool stop;
	unsigned long writes;
};

static void *racer_run(void *arg)
{
	static const unsigned int offs[] = { 0, 1, 256, 511 };
	unsigned long x = 88172645463325252UL;
	struct racer *r = arg;

	while (!atomic_load(&r->stop)) {
		unsigned long n, off, v, f, *word;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		f = (x >> 40) & 1;
		n = x % NP;
		off = offs[(x >> 32) % 4];
		word = (unsigned long *)(r->shadow[f] + n * KSM_PAGE) + off;
		v = *word ^ 0x5a5a5a5a5a5a5a5aUL;
		__atomic_store_n((unsigned long *)(r->map[f] + n * KSM_PAGE) + off,
				 v, __ATOMIC_RELAXED);
		*word = v;
		r->writes++;
	}
	return NULL;
}

/* Passes on @fd for @secs seconds.  Return: merges, or -1. */
static long scan_for(int fd, int secs, int *passes)
{
	time_t end = time(NULL) + secs;
	long merged = 0, m;

	*passes = 0;
	while (time(NULL) < end) {
		m = ksm_scan(fd, 1);
		if (m < 0)
			return -1;
		merged += m;
		(*passes)++;
	}
	return merged;
}

TEST_F(ksm, racing_writes_never_merged_stale)
{
	struct vmaccel_ksm_file_stats st;
	struct racer r = { .map = { self->map[0], self->map[1] } };
	int passes = 0;
	pthread_t th;
	long merged;

	fill(self, 0, 51);
	fill(self, 1, 51);
	r.shadow[0] = malloc(NP * KSM_PAGE);
	r.shadow[1] = malloc(NP * KSM_PAGE);
	ASSERT_NE(NULL, r.shadow[0]);
	ASSERT_NE(NULL, r.shadow[1]);
	memcpy(r.shadow[0], self->map[0], NP * KSM_PAGE);
	memcpy(r.shadow[1], self->map[1], NP * KSM_PAGE);
	ASSERT_EQ(0, pthread_create(&th, NULL, racer_run, &r));
	merged = scan_for(self->fd[0], 3, &passes);
	atomic_store(&r.stop, true);
	pthread_join(th, NULL);
	ASSERT_LE(0, merged);
	TH_LOG("%d passes, %ld merges, %lu writes", passes, merged, r.writes);
	EXPECT_EQ(0, memcmp(r.shadow[0], self->map[0], NP * KSM_PAGE));
	EXPECT_EQ(0, memcmp(r.shadow[1], self->map[1], NP * KSM_PAGE));
	/* Back to the first content: everything merges. */
	fill(self, 0, 51);
	fill(self, 1, 51);
	ASSERT_LE(0, ksm_scan(self->fd[0], 2));
	ASSERT_EQ(0, ksm_stats(self->fd[0], &st));
	EXPECT_EQ(NP + NZ, st.merged);
	EXPECT_TRUE(same(self, 0, 51));
	EXPECT_TRUE(same(self, 1, 51));
	free(r.shadow[0]);
	free(r.shadow[1]);
}

TEST_F(ksm, pinned_page_not_merged)
{
	struct iovec iov = { .iov_base = self->map[1], .iov_len = KSM_PAGE };
	char buf[KSM_PAGE];
	int p[2];

	ksm_fill(self->map[0], 31, 0);
	ksm_fill(self->map[1], 31, 0);
	ASSERT_EQ(0, pipe(p));
	/* vmsplice() holds references on the page while it sits in the pipe. */
	ASSERT_EQ((ssize_t)KSM_PAGE, vmsplice(p[1], &iov, 1, 0));
	EXPECT_EQ(0, ksm_scan(self->fd[0], 2));
	ASSERT_EQ((ssize_t)KSM_PAGE, read(p[0], buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, self->map[0], KSM_PAGE));
	EXPECT_EQ(1, ksm_scan(self->fd[0], 1));
	close(p[0]);
	close(p[1]);
}

/* Whether the page at @addr is present in this process's page tables. */
static int page_present(void *addr)
{
	__u64 e = 0;
	int fd = open("/proc/self/pagemap", O_RDONLY);
	off_t off = (uintptr_t)addr / KSM_PAGE * sizeof(e);

	if (fd < 0)
		return -1;
	if (pread(fd, &e, sizeof(e), off) != sizeof(e))
		e = 0;
	close(fd);
	return !!(e & (1ull << 63));
}

struct dio_read {
	int fd;
	void *buf;
	ssize_t ret;
};

static void *dio_read_thread(void *arg)
{
	struct dio_read *r = arg;

	r->ret = pread(r->fd, r->buf, KSM_PAGE, 0);
	return NULL;
}

/* Remove the dm-delay device @name and the loop device @loop (if any). */
static int delay_dev_remove(const char *name, const char *loop)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd),
		 "dmsetup remove --noudevsync %s 2>/dev/null; [ -z '%s' ] || losetup -d '%s'",
		 name, loop, loop);
	return system(cmd);
}

/*
 * A page pinned for DMA is left out before the scanner unmaps its
 * candidates: it stays mapped pass after pass (the process never refaults
 * it) and is counted in pages_pinned; unpinned, it merges.  The pin: an
 * O_DIRECT read into the page from a dm-delay device, which holds the bio
 * (and the pin) for two seconds.  Long-term pins cannot be had here:
 * io_uring fixed buffers take only anonymous, shmem and hugetlbfs memory
 * on 6.1 (EOPNOTSUPP), and 6.12 refuses writable long-term pins of a
 * mapping with ->page_mkwrite (EFAULT), as VFIO's would be.
 */
TEST_F(ksm, dma_pinned_page_skipped_before_unmap)
{
	char backing[] = "/tmp/ksm_pin_XXXXXX", cmd[384], loop[64] = "";
	char name[64];
	struct dio_read r = { .buf = self->map[1] };
	struct utsname u;
	pthread_t t;
	long maj, min;
	char *end;
	int bfd;
	long pinned;
	FILE *f;

	/* 6.5 (BIO_PAGE_PINNED): block O_DIRECT pins; before, it gets refs. */
	ASSERT_EQ(0, uname(&u));
	maj = strtol(u.release, &end, 10);
	min = *end == '.' ? strtol(end + 1, NULL, 10) : 0;
	if (maj < 6 || (maj == 6 && min < 5))
		SKIP(return, "%s: O_DIRECT takes page references, not pins",
		     u.release);
	ksm_fill(self->map[0], 37, 0);
	snprintf(name, sizeof(name), "vmaccel_ksm_pin_%d", getpid());
	bfd = mkstemp(backing);
	ASSERT_LE(0, bfd);
	ASSERT_EQ((ssize_t)KSM_PAGE, write(bfd, self->map[0], KSM_PAGE));
	close(bfd);
	snprintf(cmd, sizeof(cmd),
		 "modprobe -q loop; modprobe -q dm_delay; losetup -f --show %s",
		 backing);
	f = popen(cmd, "r");
	ASSERT_NE(NULL, f);
	if (!fgets(loop, sizeof(loop), f))
		loop[0] = 0;
	pclose(f);
	loop[strcspn(loop, "\n")] = 0;
	unlink(backing);
	if (!loop[0])
		SKIP(return, "no loop device");
	snprintf(cmd, sizeof(cmd),
		 "dmsetup create --noudevsync %s --table '0 8 delay %s 0 2000' && dmsetup mknodes %s",
		 name, loop, name);
	if (system(cmd)) {
		delay_dev_remove(name, loop);
		SKIP(return, "dm-delay unavailable");
	}
	snprintf(cmd, sizeof(cmd), "/dev/mapper/%s", name);
	r.fd = open(cmd, O_RDONLY | O_DIRECT);
	if (r.fd < 0 || pthread_create(&t, NULL, dio_read_thread, &r)) {
		delay_dev_remove(name, loop);
		ASSERT_TRUE(false) {
			TH_LOG("no O_DIRECT read from %s", cmd);
		}
	}
	/* The read faults the page in and pins it, then waits in dm-delay. */
	usleep(500 * 1000);
	pinned = ksm_sys_get("pages_pinned");
	EXPECT_EQ(1, page_present(self->map[1]));
	EXPECT_EQ(0, ksm_scan(self->fd[0], 3));
	EXPECT_EQ(1, page_present(self->map[1])) {
		TH_LOG("the pinned page was unmapped");
	}
	EXPECT_LE(pinned + 3, ksm_sys_get("pages_pinned"));
	ASSERT_EQ(0, pthread_join(t, NULL));
	EXPECT_EQ((ssize_t)KSM_PAGE, r.ret);
	close(r.fd);
	EXPECT_EQ(0, delay_dev_remove(name, loop));
	/* The read is done: the page is unpinned and merges. */
	EXPECT_EQ(1, ksm_scan(self->fd[0], 1));
	EXPECT_EQ(0, memcmp(self->map[0], self->map[1], KSM_PAGE));
}

static sigjmp_buf touch_jmp;
static int touch_code;	/* read after siglongjmp(), from memory */

static void touch_sigbus(int sig, siginfo_t *si, void *uc)
{
	touch_code = si->si_code;
	siglongjmp(touch_jmp, 1);
}

/*
 * Touch @addr (a write if @write) in this process: the si_code of the
 * SIGBUS it gets, or 0 without one.
 */
static int touch(char *addr, bool write)
{
	struct sigaction sa = { .sa_sigaction = touch_sigbus,
				.sa_flags = SA_SIGINFO }, old;
	int code = 0;

	sigaction(SIGBUS, &sa, &old);
	touch_code = 0;
	if (!sigsetjmp(touch_jmp, 1)) {
		if (write)
			__atomic_store_n(addr, 1, __ATOMIC_RELAXED);
		else
			(void)__atomic_load_n(addr, __ATOMIC_RELAXED);
	} else {
		code = touch_code;
	}
	sigaction(SIGBUS, &old, NULL);
	return code;
}

/*
 * A page with a memory error (MADV_HWPOISON: the kernel's memory-failure
 * path, which cannot take a vmaccelfs page out of use and leaves it
 * marked) is not used again: read(2) and write(2) get EIO and a new
 * mapping SIGBUS (BUS_MCEERR_AR), as on shmem; the scanner neither reads
 * nor merges it, and removes the mappings it still has; a write to a
 * merged page with an error gets SIGBUS instead of a copy of it;
 * unmerging leaves it merged and a file sharing it cannot change group;
 * new duplicates of its content merge into a new page.
 */
TEST_F(ksm, memory_error_page_not_used)
{
	struct vmaccel_ksm_range r = { .offset = 0, .length = KSM_PAGE };
	struct vmaccel_ksm_group g = { .group = 2 };
	struct vmaccel_ksm_file_stats st;
	char page[KSM_PAGE], *p;

	/* A private page, and a healthy one after it. */
	ksm_fill(self->map[0] + 2 * KSM_PAGE, 43, 2);
	ksm_fill(self->map[0] + 3 * KSM_PAGE, 53, 3);
	if (madvise(self->map[0] + 2 * KSM_PAGE, KSM_PAGE, MADV_HWPOISON) &&
	    errno != EBUSY)
		SKIP(return, "MADV_HWPOISON: %s", strerror(errno));
	EXPECT_EQ(-1, pread(self->fd[0], page, KSM_PAGE, 2 * KSM_PAGE));
	EXPECT_EQ(EIO, errno);
	EXPECT_EQ(-1, pwrite(self->fd[0], page, 16, 2 * KSM_PAGE));
	EXPECT_EQ(EIO, errno);
	ksm_fill(self->map[2] + 2 * KSM_PAGE, 43, 2);
	EXPECT_EQ(1, page_present(self->map[0] + 2 * KSM_PAGE));
	EXPECT_EQ(0, ksm_scan(self->fd[0], 2));
	/* The scanner removed the mapping: the next touch faults. */
	EXPECT_EQ(0, page_present(self->map[0] + 2 * KSM_PAGE));
	EXPECT_EQ(BUS_MCEERR_AR, touch(self->map[0] + 2 * KSM_PAGE, false));
	p = mmap(NULL, self->len, PROT_READ | PROT_WRITE, MAP_SHARED,
		 self->fd[0], 0);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ(BUS_MCEERR_AR, touch(p + 2 * KSM_PAGE, false));
	EXPECT_EQ(0, touch(p + 3 * KSM_PAGE, false));
	munmap(p, self->len);

	/* A merged page. */
	ksm_fill(self->map[0], 47, 0);
	ksm_fill(self->map[1], 47, 0);
	ASSERT_EQ(1, ksm_scan(self->fd[0], 1));
	EXPECT_EQ(0, touch(self->map[0], false));	/* mapped again */
	ASSERT_EQ(-1, madvise(self->map[1], KSM_PAGE, MADV_HWPOISON));
	/* The write-protected mapping: page_mkwrite refuses the copy. */
	EXPECT_EQ(1, page_present(self->map[1]));
	EXPECT_EQ(BUS_MCEERR_AR, touch(self->map[1], true));
	EXPECT_EQ(-1, ioctl(self->fd[1], VMACCEL_KSM_SET_GROUP, &g));
	EXPECT_EQ(EHWPOISON, errno);
	ASSERT_EQ(0, ioctl(self->fd[1], VMACCEL_KSM_UNMERGE_RANGE, &r));
	ASSERT_EQ(0, ksm_stats(self->fd[1], &st));
	EXPECT_EQ(1, st.merged);
	/* Two new copies of the content merge with each other only. */
	ksm_fill(self->map[2], 47, 0);
	ksm_fill(self->map[3], 47, 0);
	EXPECT_EQ(1, page_present(self->map[0]));
	EXPECT_EQ(1, ksm_scan(self->fd[0], 2));
	/* The other file's mapping of the bad page went too. */
	EXPECT_EQ(0, page_present(self->map[0]));
	ASSERT_EQ(0, ksm_stats(self->fd[2], &st));
	EXPECT_EQ(1, st.merged);
	EXPECT_EQ(2, ksm_sys_get("pages_shared"));
	EXPECT_EQ(0, memcmp(self->map[2], self->map[3], KSM_PAGE));
}

TEST_F(ksm, max_page_sharing)
{
	int i;

	ASSERT_EQ(-EINVAL, ksm_sys_set("max_page_sharing", "1"));
	ASSERT_EQ(0, ksm_sys_set("max_page_sharing", "2"));
	for (i = 0; i < 4; i++)
		ksm_fill(self->map[i], 41, 0);
	ASSERT_EQ(2, ksm_scan(self->fd[0], 2));
	/* Two merged pages of the same content, two users each. */
	EXPECT_EQ(2, ksm_sys_get("pages_shared"));
	EXPECT_EQ(2, ksm_sys_get("pages_sharing"));
	for (i = 1; i < 4; i++)
		EXPECT_EQ(0, memcmp(self->map[0], self->map[i], KSM_PAGE));
}

TEST_F(ksm, unmergeable_range)
{
	struct vmaccel_ksm_range r = { .offset = 0, .length = 8 * KSM_PAGE };
	struct vmaccel_ksm_file_stats st;

	fill(self, 0, 13);
	fill(self, 1, 13);
	ASSERT_LT(0, ksm_scan(self->fd[0], 1));
	ASSERT_EQ(0, ioctl(self->fd[0], VMACCEL_KSM_UNMERGE_RANGE, &r));
	ASSERT_EQ(0, ksm_stats(self->fd[0], &st));
	EXPECT_EQ(NP + NZ - 8, st.merged);
	EXPECT_EQ(0, ksm_scan(self->fd[0], 2));
	EXPECT_TRUE(same(self, 0, 13));
	ASSERT_EQ(0, ioctl(self->fd[0], VMACCEL_KSM_MERGE_RANGE, &r));
	EXPECT_EQ(8, ksm_scan(self->fd[0], 1));
}

TEST_F(ksm, truncate_and_sigbus)
{
	struct vmaccel_ksm_file_stats st;
	int status;
	pid_t pid;

	fill(self, 0, 17);
	fill(self, 1, 17);
	ASSERT_LT(0, ksm_scan(self->fd[0], 1));
	ASSERT_EQ(0, ftruncate(self->fd[0], 2 * KSM_PAGE + 100));
	ASSERT_EQ(0, ksm_stats(self->fd[0], &st));
	EXPECT_EQ(3, st.resident);
	EXPECT_TRUE(same(self, 1, 17));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		_exit(__atomic_load_n(&self->map[0][4 * KSM_PAGE],
				      __ATOMIC_RELAXED));
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFSIGNALED(status));
	EXPECT_EQ(SIGBUS, WTERMSIG(status));
	/* The tail of the last page reads as zero; growing back too. */
	EXPECT_EQ(0, self->map[0][2 * KSM_PAGE + 200]);
	ASSERT_EQ(0, ftruncate(self->fd[0], self->len));
	EXPECT_EQ(0, self->map[0][5 * KSM_PAGE]);
}

TEST_F(ksm, private_mapping_refused)
{
	void *p = mmap(NULL, KSM_PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE,
		       self->fd[0], 0);

	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);
}

TEST_F_TIMEOUT(ksm, scanner_thread_merges, 300)
{
	time_t end = time(NULL) + 240;

	fill(self, 0, 19);
	fill(self, 1, 19);
	ASSERT_EQ(0, ksm_sys_set("pages_to_scan", "100"));
	ASSERT_EQ(0, ksm_sys_set("sleep_millisecs", "10"));
	ASSERT_LT(0, ksm_sys_get("scanner_pid"));
	ASSERT_EQ(0, ksm_sys_set("run", "1"));
	/* A liveness bound, not a timing check. */
	while (ksm_sys_get("pages_sharing") < NP + 2 * NZ - 1 && time(NULL) < end)
		usleep(50000);
	EXPECT_EQ(NP + 2 * NZ - 1, ksm_sys_get("pages_sharing"));
	EXPECT_LT(0, ksm_sys_get("full_scans"));
	EXPECT_LT(0, ksm_sys_get("pages_scanned"));
	ASSERT_EQ(0, ksm_sys_set("run", "0"));
	EXPECT_TRUE(same(self, 0, 19));
	ksm_sys_set("pages_to_scan", "100");
	ksm_sys_set("sleep_millisecs", "20");
}

TEST_F(ksm, mounted_fs)
{
	char dir[] = "/tmp/vmaccelfs.XXXXXX", path[256], path2[256];
	struct vmaccel_ksm_group g;
	struct statfs sf;
	char buf[KSM_PAGE];
	int fd, i;

	ASSERT_EQ(0, ksm_private_mounts());
	ASSERT_NE(NULL, mkdtemp(dir));
	ASSERT_EQ(0, mount("none", dir, "vmaccelfs", 0, "size=64k,group=5,mode=0700"));
	ASSERT_EQ(0, statfs(dir, &sf));
	EXPECT_EQ(VMACCEL_KSM_MAGIC, sf.f_type);
	EXPECT_EQ(16, sf.f_blocks);
	snprintf(path, sizeof(path), "%s/sub", dir);
	ASSERT_EQ(0, mkdir(path, 0700));
	snprintf(path, sizeof(path), "%s/sub/ram", dir);
	fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0600);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ioctl(fd, VMACCEL_KSM_GET_GROUP, &g));
	EXPECT_EQ(5, g.group);
	memset(buf, 1, sizeof(buf));
	/* size=64k: 16 pages, the 17th fails. */
	for (i = 0; i < 16; i++)
		ASSERT_EQ((ssize_t)KSM_PAGE, write(fd, buf, sizeof(buf)));
	EXPECT_EQ(-1, write(fd, buf, sizeof(buf)));
	EXPECT_EQ(ENOSPC, errno);
	ASSERT_EQ(0, statfs(dir, &sf));
	EXPECT_EQ(0, sf.f_bfree);
	/* Busy while a file is open. */
	EXPECT_EQ(-1, umount(dir));
	EXPECT_EQ(EBUSY, errno);
	snprintf(path2, sizeof(path2), "%s/sub/ram2", dir);
	ASSERT_EQ(0, rename(path, path2));
	ASSERT_EQ(0, unlink(path2));
	/* Unlinked but open: the pages stay until the close. */
	ASSERT_EQ((ssize_t)KSM_PAGE, pread(fd, buf, sizeof(buf), 0));
	EXPECT_EQ(1, buf[0]);
	close(fd);
	ASSERT_EQ(0, statfs(dir, &sf));
	EXPECT_EQ(16, sf.f_bfree);
	snprintf(path, sizeof(path), "%s/sub", dir);
	ASSERT_EQ(0, rmdir(path));
	ASSERT_EQ(0, umount(dir));
	rmdir(dir);
}

TEST_HARNESS_MAIN
