// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmaccel_pvlock selftest: the waiter hash.
 *
 * An unlocker finds the waiter of the next ticket in a hash keyed by (lock
 * address, ticket); a waiter that finds no free entry in its window is
 * found by a scan of every CPU's slots instead (counted in the debugfs
 * stats hash_full and lookup_scans).  Runs use a zero spin threshold and
 * VMACCEL_PVLOCK_RUN_VERIFY_KICKS, as pvlock_wakeup_test does, so that every
 * blocked waiter must be found and marked by its unlocker:
 *
 * - several runs at once (several locks, many waiters each): every blocked
 *   acquisition kicked through the hash, no scan, no entry left behind;
 * - hash_probes set to 0 (no registration may take an entry, as if every
 *   window were full): every blocked acquisition still kicked, through the
 *   scan, and each registration counted in hash_full;
 * - the same with debugfs hash_broken_fallback (those registrations are not
 *   counted for the scan, so their unlockers never look for them): the
 *   negative control, which the lost wake-up check must report.
 *
 * No timing is asserted.
 */
#include "pvlock_util.h"

#define HASH		PVLOCK_DEBUGFS "hash"
#define HASH_PROBES	PVLOCK_DEBUGFS "hash_probes"
#define BROKEN		PVLOCK_DEBUGFS "hash_broken_fallback"
#define STATS		PVLOCK_DEBUGFS "stats"
#define BACKEND		PVLOCK_SYSFS "backend"

#define NR_LOCKS	4
#define RUN_MS		3000
/* Holding the lock most of the time, so that nearly every waiter blocks. */
#define CS_NS		20000
/* Runs made again until some waiter blocked (see two_locks_at_once). */
#define TRIES		5

/* Counter @name of debugfs stats; -1 if missing. */
static long long debugfs_stat(const char *name)
{
	char buf[1024], *p;
	size_t n = strlen(name);

	if (pvlock_sysfs_read(STATS, buf, sizeof(buf)))
		return -1;
	for (p = buf; p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		if (!strncmp(p, name, n) && p[n] == ' ')
			return atoll(p + n + 1);
	}
	return -1;
}

/* Entries in use and registrations without one, from debugfs hash. */
static int hash_use(long long *used, long long *unhashed)
{
	char buf[256], *p;

	if (pvlock_sysfs_read(HASH, buf, sizeof(buf)))
		return -1;
	p = strstr(buf, " used ");
	if (!p || sscanf(p, " used %lld unhashed %lld", used, unhashed) != 2)
		return -1;
	return 0;
}

FIXTURE(hash) {
	char backend[32];
	char probes[32];
};

FIXTURE_SETUP(hash)
{
	if (pvlock_nr_cpus() < 2)
		SKIP(return, "contention needs 2 CPUs");
	ASSERT_EQ(0, pvlock_sysfs_read(BACKEND, self->backend,
				       sizeof(self->backend)));
	ASSERT_EQ(0, pvlock_sysfs_read(HASH_PROBES, self->probes,
				       sizeof(self->probes)));
	/* ipi blocks with interrupts on everywhere (TCG and KVM). */
	ASSERT_EQ(0, pvlock_sysfs_write(BACKEND, "ipi"));
}

FIXTURE_TEARDOWN(hash)
{
	if (pvlock_nr_cpus() < 2)
		return;
	pvlock_sysfs_write(BACKEND, self->backend);
	pvlock_sysfs_write(HASH_PROBES, self->probes);
	pvlock_sysfs_write(BROKEN, "N");
}

/*
 * NR_LOCKS runs at once, each on its own lock with a crowd of threads;
 * returns the total of blocked acquisitions, and checks every run.
 */
static __u64 many_locks(struct __test_metadata *_metadata)
{
	struct vmaccel_pvlock_result r[NR_LOCKS];
	struct vmaccel_pvlock_run p;
	__u64 blocked = 0;
	int fd[NR_LOCKS], i;

	p = pvlock_params(VMACCEL_PVLOCK_KIND_PV, pvlock_crowd(), RUN_MS, CS_NS,
			  0, VMACCEL_PVLOCK_RUN_SPIN_THRESHOLD |
			  VMACCEL_PVLOCK_RUN_VERIFY_KICKS);
	p.spin_threshold = 0;
	for (i = 0; i < NR_LOCKS; i++) {
		fd[i] = pvlock_open();
		if (fd[i] < 0)
			return 0;
		if (pvlock_start(fd[i], &p))
			return 0;
	}
	for (i = 0; i < NR_LOCKS; i++) {
		EXPECT_EQ(0, pvlock_result(fd[i], &r[i], 0));
		close(fd[i]);
		pvlock_expect_sane(_metadata, &p, &r[i]);
		EXPECT_EQ(PVLOCK_U64(0), r[i].lost_wakeups);
		EXPECT_EQ(PVLOCK_U64(0), r[i].violations);
		EXPECT_EQ(PVLOCK_U64(0), r[i].fifo_violations);
		EXPECT_EQ(0U, r[i].status);
		/* Every blocked acquisition was found and marked. */
		EXPECT_GE(r[i].kicks, r[i].blocked);
		blocked += r[i].blocked;
	}
	TH_LOG("%d locks: %llu blocked, %llu/%llu/%llu/%llu kicks", NR_LOCKS,
	       (unsigned long long)blocked, (unsigned long long)r[0].kicks,
	       (unsigned long long)r[1].kicks, (unsigned long long)r[2].kicks,
	       (unsigned long long)r[3].kicks);
	return blocked;
}

/* No entry and no unhashed registration is left once the runs ended. */
static void expect_hash_empty(struct __test_metadata *_metadata)
{
	long long used, unhashed;

	ASSERT_EQ(0, hash_use(&used, &unhashed));
	EXPECT_EQ(0, used);
	EXPECT_EQ(0, unhashed);
}

/*
 * Runs of many_locks() until one has a blocked waiter; *@full and *@scans
 * get what hash_full and lookup_scans grew by.  Returns the blocked count.
 */
static __u64 counted_runs(struct __test_metadata *_metadata, long long *full,
			  long long *scans)
{
	long long full0, scans0;
	__u64 blocked = 0;
	int attempt;

	full0 = debugfs_stat("hash_full");
	scans0 = debugfs_stat("lookup_scans");
	EXPECT_LE(0, full0);
	EXPECT_LE(0, scans0);
	for (attempt = 1; attempt <= TRIES && !blocked; attempt++)
		blocked = many_locks(_metadata);
	EXPECT_GT(blocked, PVLOCK_U64(0));
	*full = debugfs_stat("hash_full") - full0;
	*scans = debugfs_stat("lookup_scans") - scans0;
	TH_LOG("hash_full +%lld, lookup_scans +%lld", *full, *scans);
	return blocked;
}

TEST_F_TIMEOUT(hash, many_waiters_of_many_locks_found_in_the_hash, 120)
{
	long long full, scans;

	counted_runs(_metadata, &full, &scans);
	/*
	 * Torture threads wait in task context, one registration per CPU:
	 * far fewer than the entries of a window, so none went to the scan.
	 */
	EXPECT_EQ(0, full);
	EXPECT_EQ(0, scans);
	expect_hash_empty(_metadata);
}

TEST_F_TIMEOUT(hash, full_window_falls_back_to_the_scan, 120)
{
	long long full, scans;
	__u64 blocked;

	ASSERT_EQ(0, pvlock_sysfs_write(HASH_PROBES, "0"));
	blocked = counted_runs(_metadata, &full, &scans);
	/* Every blocked waiter registered without an entry... */
	EXPECT_GE(full, (long long)blocked);
	/* ...and its unlocker scanned for it (and marked it, above). */
	EXPECT_GE(scans, (long long)blocked);
	expect_hash_empty(_metadata);
}

TEST_F_TIMEOUT(hash, broken_fallback_is_reported, 120)
{
	struct vmaccel_pvlock_result r;
	struct vmaccel_pvlock_run p;
	int attempt, fd;

	ASSERT_EQ(0, pvlock_sysfs_write(HASH_PROBES, "0"));
	ASSERT_EQ(0, pvlock_sysfs_write(BROKEN, "Y"));
	p = pvlock_params(VMACCEL_PVLOCK_KIND_PV, pvlock_crowd(), RUN_MS, CS_NS,
			  0, VMACCEL_PVLOCK_RUN_SPIN_THRESHOLD |
			  VMACCEL_PVLOCK_RUN_VERIFY_KICKS);
	p.spin_threshold = 0;
	memset(&r, 0, sizeof(r));
	for (attempt = 1; attempt <= TRIES && !r.blocked; attempt++) {
		fd = pvlock_open();
		ASSERT_LE(0, fd);
		ASSERT_EQ(0, pvlock_start(fd, &p));
		ASSERT_EQ(0, pvlock_result(fd, &r, 0));
		close(fd);
	}
	ASSERT_GT(r.blocked, PVLOCK_U64(0));
	TH_LOG("%llu blocked, %llu kicks, %llu lost wake-ups",
	       (unsigned long long)r.blocked, (unsigned long long)r.kicks,
	       (unsigned long long)r.lost_wakeups);
	/* Mutual exclusion holds; the missed kicks are what must show. */
	EXPECT_EQ(PVLOCK_U64(0), r.violations);
	EXPECT_GT(r.lost_wakeups, PVLOCK_U64(0));
	ASSERT_EQ(0, pvlock_sysfs_write(BROKEN, "N"));
	expect_hash_empty(_metadata);
}

TEST_HARNESS_MAIN
