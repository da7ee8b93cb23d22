// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmaccel_pvlock selftest: an unlock never touches the lock after the
 * store that hands it over.
 *
 * Legal use of a spinlock: the next owner takes the lock, releases it and
 * frees the object that holds it, while the previous owner may still be
 * inside vmaccel_pvlock_unlock() (upstream fixed this class in 2015,
 * commit d6abfdb20223 "x86/spinlocks/paravirt: Fix memory corruption on
 * unlock").  A FREE_AFTER_UNLOCK run does exactly that, round after round,
 * and holds the other unlocks of a round right after their releasing store
 * until the object is freed (at most 2 ms), so an unlock that reads the
 * lock afterwards reads freed memory: KASAN reports it in the debug tier,
 * and the kernel-log check of the runner fails the run.  Both with waiters spinning (they take the
 * lock during the window) and with waiters blocked (the unlocker must find
 * and kick them without dereferencing the lock).
 */
#include "pvlock_util.h"

static void free_after_unlock(struct __test_metadata *_metadata,
			      __u32 threads, __u32 spin_threshold)
{
	struct vmaccel_pvlock_run p;
	struct vmaccel_pvlock_result r;

	p = pvlock_params(VMACCEL_PVLOCK_KIND_PV, threads, 2000, 1000, 0,
			  VMACCEL_PVLOCK_RUN_FREE_AFTER_UNLOCK |
			  VMACCEL_PVLOCK_RUN_SPIN_THRESHOLD);
	p.spin_threshold = spin_threshold;
	pvlock_must_run(_metadata, &p, &r);
	pvlock_expect_sane(_metadata, &p, &r);
	TH_LOG("%llu acquisitions (%llu rounds of %u), %llu blocked, %llu kicks",
	       (unsigned long long)r.acquisitions,
	       (unsigned long long)(r.acquisitions / threads), threads,
	       (unsigned long long)r.blocked, (unsigned long long)r.kicks);
	EXPECT_EQ(0U, r.status);
	EXPECT_EQ(PVLOCK_U64(0), r.violations);
	EXPECT_EQ(PVLOCK_U64(0), r.fifo_violations);
	/* Many rounds, so many objects freed under a pending unlock. */
	EXPECT_GE(r.acquisitions, PVLOCK_U64(100));
}

/* The waiters spin and take the lock while its releaser is held. */
TEST_F(pvlock, free_after_unlock_waiters_spinning)
{
	free_after_unlock(_metadata, 2, 1U << 20);
}

/*
 * A crowd with a zero spin threshold: waiters that find the lock taken
 * register, set the slow flag and may block, so unlocks that see the flag
 * scan for them by the lock's address while the object may be gone.  How
 * many block depends on the machine (a held unlock keeps its CPU, so on 2
 * CPUs there is often nobody left to contend): the counts are logged, the
 * verdict is the kernel log (KASAN) and the run's checks.
 */
TEST_F(pvlock, free_after_unlock_crowd)
{
	struct vmaccel_pvlock_run p;
	struct vmaccel_pvlock_result r;

	p = pvlock_params(VMACCEL_PVLOCK_KIND_PV, pvlock_crowd(), 2000, 20000,
			  0, VMACCEL_PVLOCK_RUN_FREE_AFTER_UNLOCK |
			  VMACCEL_PVLOCK_RUN_SPIN_THRESHOLD);
	p.spin_threshold = 0;
	pvlock_must_run(_metadata, &p, &r);
	pvlock_expect_sane(_metadata, &p, &r);
	TH_LOG("%llu acquisitions, %llu slow, %llu blocked, %llu kicks",
	       (unsigned long long)r.acquisitions,
	       (unsigned long long)r.taken_slow,
	       (unsigned long long)r.blocked, (unsigned long long)r.kicks);
	EXPECT_EQ(0U, r.status);
	EXPECT_EQ(PVLOCK_U64(0), r.violations);
	EXPECT_GE(r.acquisitions, PVLOCK_U64(p.nr_threads));
}

/* The flag goes with the pv lock only, not with the API or irqs off. */
TEST_F(pvlock, free_after_unlock_flag_checked)
{
	__u32 f = VMACCEL_PVLOCK_RUN_FREE_AFTER_UNLOCK;
	struct vmaccel_pvlock_run p;
	int fd = pvlock_open();

	ASSERT_LE(0, fd);
	p = pvlock_params(VMACCEL_PVLOCK_KIND_TICKET, 2, 10, 0, 0, f);
	EXPECT_EQ(-1, pvlock_start(fd, &p));
	EXPECT_EQ(EINVAL, errno);
	p = pvlock_params(VMACCEL_PVLOCK_KIND_PV, 2, 10, 0, 0,
			  f | VMACCEL_PVLOCK_RUN_API);
	EXPECT_EQ(-1, pvlock_start(fd, &p));
	EXPECT_EQ(EINVAL, errno);
	p = pvlock_params(VMACCEL_PVLOCK_KIND_PV, 2, 10, 0, 0,
			  f | VMACCEL_PVLOCK_RUN_IRQS_OFF);
	EXPECT_EQ(-1, pvlock_start(fd, &p));
	EXPECT_EQ(EINVAL, errno);
	close(fd);
}

TEST_HARNESS_MAIN
