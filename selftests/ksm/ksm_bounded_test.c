// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmaccel_ksm selftest: work that one caller starts does not hold the
 * others up.
 *
 * - A VMACCEL_KSM_SCAN of many passes holds vk_scan_mutex one chunk at a
 *   time: closing a file and SET_GROUP (both need the mutex) complete
 *   while it still runs (the passes it completed by then are fewer than
 *   it asked for; before, they waited for every pass).
 * - VMACCEL_KSM_GET_STATS walks the file in batches without allocating:
 *   its counts over a file of many batches are exact when nothing
 *   changes, each merged page counted once in "shared" even when its
 *   users lie in different batches.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>

#include "ksm_util.h"

#define BIG_PAGES	8192UL	/* 32 MiB: 128 chunks per pass */
#define SCAN_PASSES	VMACCEL_KSM_SCAN_MAX_PASSES

struct scanner {
	int dev;
	atomic_int done;
	long merged;
};

static void *scanner_run(void *arg)
{
	struct scanner *s = arg;

	s->merged = ksm_scan(s->dev, SCAN_PASSES);
	atomic_store(&s->done, 1);
	return NULL;
}

/* Slow in the debug tier (KASAN): a timeout of its own. */
FIXTURE(slow) {
	int unused;
};

FIXTURE_SETUP(slow)
{
}

FIXTURE_TEARDOWN(slow)
{
}

TEST_F_TIMEOUT(slow, scan_lets_others_in, 300)
{
	struct vmaccel_ksm_group g = { .group = 8 };
	long before, scanned0, at_close, at_set;
	struct scanner s = { 0 };
	unsigned long i;
	int big, small, other;
	pthread_t th;
	char *p;

	if (!ksm_present())
		SKIP(return, "vmaccel_ksm not loaded");
	ksm_quiet();
	big = ksm_create(BIG_PAGES * KSM_PAGE, 7);
	ASSERT_LE(0, big);
	p = ksm_map(big, BIG_PAGES * KSM_PAGE);
	ASSERT_NE(NULL, p);
	/* Distinct pages: every pass checksums them all, nothing merges. */
	for (i = 0; i < BIG_PAGES; i++)
		ksm_fill(p + i * KSM_PAGE, 77, i);
	small = ksm_create(KSM_PAGE, 7);
	ASSERT_LE(0, small);
	other = ksm_create(KSM_PAGE, 7);
	ASSERT_LE(0, other);
	s.dev = open(KSM_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, s.dev);

	before = ksm_sys_get("full_scans");
	scanned0 = ksm_sys_get("pages_scanned");
	ASSERT_EQ(0, pthread_create(&th, NULL, scanner_run, &s));
	/* Wait until the passes are under way (no time limit: progress). */
	while (ksm_sys_get("pages_scanned") == scanned0 && !atomic_load(&s.done))
		usleep(1000);
	/* Both need vk_scan_mutex. */
	EXPECT_EQ(0, close(small));	/* evicts: leaves the scanner's list */
	at_close = ksm_sys_get("full_scans");
	EXPECT_EQ(0, ioctl(other, VMACCEL_KSM_SET_GROUP, &g));
	at_set = ksm_sys_get("full_scans");
	pthread_join(th, NULL);
	TH_LOG("passes done: %ld when the close returned, %ld after SET_GROUP, %ld in all",
	       at_close - before, at_set - before,
	       ksm_sys_get("full_scans") - before);
	EXPECT_EQ(0, s.merged);
	EXPECT_EQ(before + SCAN_PASSES, ksm_sys_get("full_scans"));
	/* They did not wait for the whole SCAN. */
	EXPECT_GT(before + SCAN_PASSES, at_close);
	EXPECT_GT(before + SCAN_PASSES, at_set);
	munmap(p, BIG_PAGES * KSM_PAGE);
	close(big);
	close(other);
	close(s.dev);
	ksm_quiet();
}

#define ST_PAGES	3000UL	/* six GET_STATS batches */
#define ST_KINDS	16UL	/* < 256 (max_page_sharing) copies each */
#define ST_ZERO		100UL

TEST(stats_across_batches)
{
	struct vmaccel_ksm_file_stats st;
	static char page[KSM_PAGE];
	unsigned long i;
	int fd;

	if (!ksm_present())
		SKIP(return, "vmaccel_ksm not loaded");
	ksm_quiet();
	fd = ksm_create(0, 9);
	ASSERT_LE(0, fd);
	for (i = 0; i < ST_PAGES + ST_ZERO; i++) {
		if (i < ST_PAGES)
			ksm_fill(page, 5, i % ST_KINDS);
		else
			memset(page, 0, sizeof(page));
		ASSERT_EQ((ssize_t)KSM_PAGE, pwrite(fd, page, KSM_PAGE,
						    i * KSM_PAGE));
	}
	ASSERT_LT(0, ksm_scan(fd, 1));
	ASSERT_EQ(0, ksm_stats(fd, &st));
	EXPECT_EQ(ST_PAGES + ST_ZERO, st.resident);
	EXPECT_EQ(ST_PAGES + ST_ZERO, st.merged);
	EXPECT_EQ(ST_KINDS + 1, st.shared);	/* + the zero page */
	EXPECT_EQ(ST_PAGES + ST_ZERO - ST_KINDS - 1, st.sharing);
	EXPECT_EQ(ST_ZERO, st.zero);
	EXPECT_EQ(9, st.group);
	EXPECT_EQ((ST_PAGES + ST_ZERO) * KSM_PAGE, st.size);
	/* The host-wide counters agree. */
	EXPECT_EQ(st.shared, ksm_sys_get("pages_shared"));
	EXPECT_EQ(st.sharing, ksm_sys_get("pages_sharing"));
	/* Twice in a row: each call counts with its own stamp. */
	ASSERT_EQ(0, ksm_stats(fd, &st));
	EXPECT_EQ(ST_KINDS + 1, st.shared);
	close(fd);
	ksm_quiet();
}

TEST_HARNESS_MAIN
