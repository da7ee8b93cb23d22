// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmaccel_ksm selftest: a long randomized run checked against a shadow copy.
 *
 * Three files of one merge group, KS_PAGES pages each, whose pages hold one
 * of KS_SEEDS contents (seed 0 is all zeroes), so there is much to merge.
 * Writer threads write whole pages (through the mapping or pwrite(2)),
 * reader threads check pages (through the mapping or pread(2)), a punch
 * thread punches pages out (they read back as zeroes), a truncate thread
 * cuts the last file short and extends it again (the cut pages read back
 * as zeroes; that file is accessed with pread/pwrite only, so that nobody
 * touches its mapping beyond EOF), a scan thread runs scanner passes and
 * the scanner thread runs as well (run=1).  Each page
 * has a lock that orders its writes and checks with the shadow, never with
 * the kernel.  Every check must find exactly the last content written.
 * At the end every page is checked, run=2 unmerges, every page is checked
 * again, and the counters must add up.  VMACCEL_SHADOW_SECS sets the
 * length (default 10).
 */
#define _GNU_SOURCE
#include <assert.h>
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "ksm_util.h"

#define KS_FILES	3
#define KS_PAGES	256
#define KS_SEEDS	6
#define KS_WRITERS	2
#define KS_READERS	2
#define KS_TRUNC	(KS_FILES - 1)	/* the file that gets truncated */

/* max_page_sharing of the run must hold every page of the files. */
static_assert(KS_FILES * KS_PAGES <= 1024, "raise max_page_sharing");

struct ks {
	int fd[KS_FILES];
	char *map[KS_FILES];
	unsigned char shadow[KS_FILES][KS_PAGES];
	pthread_mutex_t lock[KS_FILES][KS_PAGES];
	pthread_rwlock_t trunc_lock;	/* write: a truncate of KS_TRUNC */
	atomic_bool stop;
	atomic_long bad, writes, reads, punches, scans, truncates;
	char bad_msg[256];
};

static void ks_content(char *page, unsigned int seed)
{
	if (seed)
		ksm_fill(page, seed, 0);
	else
		memset(page, 0, KSM_PAGE);
}

static unsigned int ks_rand(unsigned int *s)
{
	*s = *s * 1103515245 + 12345;
	return *s >> 8;
}

static void ks_bad(struct ks *k, int f, int p, const char *how)
{
	if (atomic_fetch_add(&k->bad, 1) == 0)
		snprintf(k->bad_msg, sizeof(k->bad_msg),
			 "file %d page %d: %s differs from the shadow (seed %u)",
			 f, p, how, k->shadow[f][p]);
}

static bool ks_check(struct ks *k, int f, int p, bool use_read)
{
	char want[KSM_PAGE], got[KSM_PAGE];

	ks_content(want, k->shadow[f][p]);
	if (use_read) {
		if (pread(k->fd[f], got, KSM_PAGE, p * KSM_PAGE) != KSM_PAGE)
			return false;
		return !memcmp(want, got, KSM_PAGE);
	}
	return !memcmp(want, k->map[f] + p * KSM_PAGE, KSM_PAGE);
}

static void *ks_writer(void *arg)
{
	struct ks *k = arg;
	unsigned int s = (unsigned int)(uintptr_t)pthread_self();
	char page[KSM_PAGE];

	while (!atomic_load(&k->stop)) {
		int f = ks_rand(&s) % KS_FILES, p = ks_rand(&s) % KS_PAGES;
		unsigned int seed = ks_rand(&s) % KS_SEEDS;

		ks_content(page, seed);
		if (f == KS_TRUNC)
			pthread_rwlock_rdlock(&k->trunc_lock);
		pthread_mutex_lock(&k->lock[f][p]);
		if ((ks_rand(&s) & 1) && f != KS_TRUNC) {
			memcpy(k->map[f] + p * KSM_PAGE, page, KSM_PAGE);
		} else if (pwrite(k->fd[f], page, KSM_PAGE, p * KSM_PAGE) !=
			   KSM_PAGE) {
			ks_bad(k, f, p, "pwrite failed");
		}
		k->shadow[f][p] = seed;
		pthread_mutex_unlock(&k->lock[f][p]);
		if (f == KS_TRUNC)
			pthread_rwlock_unlock(&k->trunc_lock);
		atomic_fetch_add(&k->writes, 1);
	}
	return NULL;
}

static void *ks_reader(void *arg)
{
	struct ks *k = arg;
	unsigned int s = (unsigned int)(uintptr_t)pthread_self() ^ 0x5555;

	while (!atomic_load(&k->stop)) {
		int f = ks_rand(&s) % KS_FILES, p = ks_rand(&s) % KS_PAGES;
		bool use_read = (ks_rand(&s) & 1) || f == KS_TRUNC;

		if (f == KS_TRUNC)
			pthread_rwlock_rdlock(&k->trunc_lock);
		pthread_mutex_lock(&k->lock[f][p]);
		if (!ks_check(k, f, p, use_read))
			ks_bad(k, f, p, use_read ? "pread" : "mapping");
		pthread_mutex_unlock(&k->lock[f][p]);
		if (f == KS_TRUNC)
			pthread_rwlock_unlock(&k->trunc_lock);
		atomic_fetch_add(&k->reads, 1);
	}
	return NULL;
}

static void *ks_puncher(void *arg)
{
	struct ks *k = arg;
	unsigned int s = 777;

	while (!atomic_load(&k->stop)) {
		int f = ks_rand(&s) % KS_FILES, p = ks_rand(&s) % KS_PAGES;

		pthread_mutex_lock(&k->lock[f][p]);
		if (fallocate(k->fd[f], FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			      p * KSM_PAGE, KSM_PAGE))
			ks_bad(k, f, p, "punch failed");
		k->shadow[f][p] = 0;
		pthread_mutex_unlock(&k->lock[f][p]);
		atomic_fetch_add(&k->punches, 1);
		usleep(200);
	}
	return NULL;
}

static void *ks_truncater(void *arg)
{
	struct ks *k = arg;
	unsigned int s = 4242;

	while (!atomic_load(&k->stop)) {
		int n = KS_PAGES / 2 + ks_rand(&s) % (KS_PAGES / 2), p;

		pthread_rwlock_wrlock(&k->trunc_lock);
		if (ftruncate(k->fd[KS_TRUNC], n * KSM_PAGE) ||
		    ftruncate(k->fd[KS_TRUNC], KS_PAGES * KSM_PAGE))
			ks_bad(k, KS_TRUNC, n, "ftruncate failed");
		for (p = n; p < KS_PAGES; p++)
			k->shadow[KS_TRUNC][p] = 0;
		pthread_rwlock_unlock(&k->trunc_lock);
		atomic_fetch_add(&k->truncates, 1);
		usleep(3000);
	}
	return NULL;
}

static void *ks_scanner(void *arg)
{
	struct ks *k = arg;

	while (!atomic_load(&k->stop)) {
		if (ksm_scan(k->fd[0], 1) < 0)
			ks_bad(k, 0, 0, "scan failed");
		atomic_fetch_add(&k->scans, 1);
	}
	return NULL;
}

TEST(shadow_copy)
{
	const char *env = getenv("VMACCEL_SHADOW_SECS");
	int secs = env ? atoi(env) : 10, f, p, i, n = 0;
	struct vmaccel_ksm_file_stats st;
	pthread_t th[KS_WRITERS + KS_READERS + 3];
	long merged_total = 0;
	struct ks *k;

	if (!ksm_present())
		SKIP(return, "vmaccel_ksm not loaded");
	ksm_quiet();
	k = calloc(1, sizeof(*k));
	ASSERT_NE(NULL, k);
	pthread_rwlock_init(&k->trunc_lock, NULL);
	for (f = 0; f < KS_FILES; f++) {
		k->fd[f] = ksm_create(KS_PAGES * KSM_PAGE, 4);
		ASSERT_LE(0, k->fd[f]);
		k->map[f] = ksm_map(k->fd[f], KS_PAGES * KSM_PAGE);
		ASSERT_NE(NULL, k->map[f]);
		for (p = 0; p < KS_PAGES; p++)
			pthread_mutex_init(&k->lock[f][p], NULL);
	}
	/* One merged page per content holds every page of that content. */
	ASSERT_EQ(0, ksm_sys_set("max_page_sharing", "1024"));
	ASSERT_EQ(0, ksm_sys_set("pages_to_scan", "200"));
	ASSERT_EQ(0, ksm_sys_set("sleep_millisecs", "5"));
	ASSERT_EQ(0, ksm_sys_set("run", "1"));
	for (i = 0; i < KS_WRITERS; i++)
		ASSERT_EQ(0, pthread_create(&th[n++], NULL, ks_writer, k));
	for (i = 0; i < KS_READERS; i++)
		ASSERT_EQ(0, pthread_create(&th[n++], NULL, ks_reader, k));
	ASSERT_EQ(0, pthread_create(&th[n++], NULL, ks_puncher, k));
	ASSERT_EQ(0, pthread_create(&th[n++], NULL, ks_scanner, k));
	ASSERT_EQ(0, pthread_create(&th[n++], NULL, ks_truncater, k));
	sleep(secs);
	atomic_store(&k->stop, true);
	for (i = 0; i < n; i++)
		pthread_join(th[i], NULL);
	ASSERT_EQ(0, ksm_sys_set("run", "0"));
	TH_LOG("writes %ld reads %ld punches %ld truncates %ld scans %ld cow_breaks %ld",
	       atomic_load(&k->writes), atomic_load(&k->reads),
	       atomic_load(&k->punches), atomic_load(&k->truncates),
	       atomic_load(&k->scans), ksm_sys_get("cow_breaks"));
	EXPECT_LT(0, atomic_load(&k->truncates));
	EXPECT_EQ(0, atomic_load(&k->bad)) TH_LOG("%s", k->bad_msg);
	EXPECT_LT(0, atomic_load(&k->scans));
	/* Quiet now: merge everything, check, unmerge, check. */
	ASSERT_LE(0, ksm_scan(k->fd[0], 2));
	for (f = 0; f < KS_FILES; f++) {
		ASSERT_EQ(0, ksm_stats(k->fd[f], &st));
		EXPECT_EQ(st.merged, st.shared + st.sharing);
		merged_total += st.merged;
		for (p = 0; p < KS_PAGES; p++) {
			EXPECT_TRUE(ks_check(k, f, p, p & 1));
			EXPECT_TRUE(ks_check(k, f, p, !(p & 1)));
		}
	}
	/*
	 * At most KS_SEEDS contents, each on one merged page: the scanner
	 * never splits the sharers of a content over two pages.
	 */
	EXPECT_EQ(merged_total, ksm_sys_get("pages_shared") +
				ksm_sys_get("pages_sharing"));
	EXPECT_GE(KS_SEEDS, ksm_sys_get("pages_shared"));
	ASSERT_EQ(0, ksm_sys_set("run", "2"));
	EXPECT_EQ(0, ksm_sys_get("pages_shared"));
	for (f = 0; f < KS_FILES; f++)
		for (p = 0; p < KS_PAGES; p++)
			EXPECT_TRUE(ks_check(k, f, p, p & 1));
	for (f = 0; f < KS_FILES; f++) {
		munmap(k->map[f], KS_PAGES * KSM_PAGE);
		close(k->fd[f]);
	}
	free(k);
	ksm_quiet();
	ksm_sys_set("pages_to_scan", "100");
	ksm_sys_set("sleep_millisecs", "20");
}

TEST_HARNESS_MAIN
