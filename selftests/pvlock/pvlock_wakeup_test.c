// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmaccel_pvlock selftest: no lost wake-ups in long runs, on every backend.
 *
 * Runs use a zero spin threshold, so that every contended acquisition takes
 * the blocking path, and VMACCEL_PVLOCK_RUN_VERIFY_KICKS: each acquisition
 * that halted waits (up to a second) for the kick of the unlocker that let
 * it in and counts a lost wake-up if it never comes.  With the ipi backend a
 * lost kick would not hang a waiter whose interrupts are on (the timer tick
 * ends every halt), which is why the kick itself is checked.
 *
 * The negative control: the pv_nokick kind is the same lock with the
 * unlocker's kick left out; the same check must report its lost wake-ups
 * (its waiters only wake at the timer tick, and wait for the missing kick
 * at most until the end of the run, so it ends in bounded time).
 */
#include "pvlock_util.h"

#define BACKEND		PVLOCK_SYSFS "backend"
#define AVAILABLE	PVLOCK_SYSFS "available_backends"

/* Long enough for tens of thousands of block/kick cycles under TCG. */
#define LONG_RUN_MS	6000
/* Holding the lock most of the time, so that nearly every waiter blocks. */
#define LONG_CS_NS	20000

FIXTURE(wake) {
	char backend[32];
	char available[128];
};

FIXTURE_VARIANT(wake) {
	const char *backend;
	bool blocks;		/* the backend halts waiters */
	__u32 flags;
};

FIXTURE_VARIANT_ADD(wake, ipi) {
	.backend = "ipi",
	.blocks = true,
};

FIXTURE_VARIANT_ADD(wake, kvm) {
	.backend = "kvm",
	.blocks = true,
};

FIXTURE_VARIANT_ADD(wake, kvm_irqs_off) {
	.backend = "kvm",
	.blocks = true,
	.flags = VMACCEL_PVLOCK_RUN_IRQS_OFF,
};

FIXTURE_VARIANT_ADD(wake, spin) {
	.backend = "spin",
	.blocks = false,
};

/*
 * PVLOCK_BACKENDS="kvm ...": the variants of the other backends are left
 * out, each reported as a skip (selftests/pvlock/kvm-guest.sh runs kvm's
 * only, in a KVM guest; the others run in every other tier).
 */
static bool wake_left_out(const char *backend)
{
	const char *only = getenv("PVLOCK_BACKENDS");

	return only && *only && !pvlock_word_in(only, backend);
}

FIXTURE_SETUP(wake)
{
	ASSERT_EQ(0, pvlock_sysfs_read(BACKEND, self->backend,
				       sizeof(self->backend)));
	ASSERT_EQ(0, pvlock_sysfs_read(AVAILABLE, self->available,
				       sizeof(self->available)));
}

FIXTURE_TEARDOWN(wake)
{
	pvlock_sysfs_write(BACKEND, self->backend);
}

TEST_F_TIMEOUT(wake, long_run_no_lost_wakeups, 120)
{
	struct vmaccel_pvlock_run p;
	struct vmaccel_pvlock_result r;

	if (wake_left_out(variant->backend))
		SKIP(return, "backend %s left out (PVLOCK_BACKENDS)",
		     variant->backend);
	if (!pvlock_word_in(self->available, variant->backend))
		SKIP(return, "backend %s not available here", variant->backend);
	if (pvlock_nr_cpus() < 2)
		SKIP(return, "contention needs 2 CPUs");
	ASSERT_EQ(0, pvlock_sysfs_write(BACKEND, variant->backend));

	p = pvlock_params(VMACCEL_PVLOCK_KIND_PV, pvlock_crowd(), LONG_RUN_MS,
			  LONG_CS_NS, 0, VMACCEL_PVLOCK_RUN_SPIN_THRESHOLD |
			  VMACCEL_PVLOCK_RUN_VERIFY_KICKS | variant->flags);
	p.spin_threshold = 0;
	pvlock_must_run(_metadata, &p, &r);
	pvlock_expect_sane(_metadata, &p, &r);
	TH_LOG("%s: %llu acquisitions, %llu blocked, %llu halts",
	       variant->backend, (unsigned long long)r.acquisitions,
	       (unsigned long long)r.blocked, (unsigned long long)r.halts);
	TH_LOG("%s: %llu spurious, %llu kicks, max wait %llu us",
	       variant->backend, (unsigned long long)r.spurious_wakeups,
	       (unsigned long long)r.kicks,
	       (unsigned long long)r.max_wait_ns / 1000);

	EXPECT_EQ(PVLOCK_U64(0), r.lost_wakeups);
	EXPECT_EQ(PVLOCK_U64(0), r.violations);
	EXPECT_EQ(PVLOCK_U64(0), r.fifo_violations);
	EXPECT_EQ(0U, r.status);
	/* Every thread kept making progress. */
	EXPECT_GE(r.acquisitions_min, PVLOCK_U64(1));
	if (variant->blocks) {
		/* The test is only meaningful if waiters did block... */
		EXPECT_GT(r.blocked, PVLOCK_U64(100));
		/* ...and each of them was kicked by its unlocker. */
		EXPECT_GE(r.kicks, r.blocked);
		EXPECT_EQ(PVLOCK_U64(0), r.irqs_off_spins);
	} else {
		EXPECT_EQ(PVLOCK_U64(0), r.blocked);
		EXPECT_EQ(PVLOCK_U64(0), r.kicks);
	}
}

/*
 * The verifier catches a lock that loses wake-ups: with the kick left out,
 * blocked acquisitions are reported lost, the run fails, and it still ends
 * (within the harness timeout: a missing kick costs its waiter at most a
 * second, and none after the end of the run).  Mutual exclusion and order
 * are intact: only the wake-ups are missing.
 */
#define NOKICK_RUN_MS	2500

TEST_F_TIMEOUT(wake, nokick_lock_is_reported, 60)
{
	struct vmaccel_pvlock_run p;
	struct vmaccel_pvlock_result r;
	int fd;

	if (wake_left_out(variant->backend))
		SKIP(return, "backend %s left out (PVLOCK_BACKENDS)",
		     variant->backend);
	if (!variant->blocks || variant->flags ||
	    !pvlock_word_in(self->available, variant->backend))
		SKIP(return, "only for a blocking backend, interrupts on");
	if (pvlock_nr_cpus() < 2)
		SKIP(return, "contention needs 2 CPUs");
	ASSERT_EQ(0, pvlock_sysfs_write(BACKEND, variant->backend));

	p = pvlock_params(VMACCEL_PVLOCK_KIND_PV_NOKICK, pvlock_crowd(),
			  NOKICK_RUN_MS, LONG_CS_NS, 0,
			  VMACCEL_PVLOCK_RUN_SPIN_THRESHOLD |
			  VMACCEL_PVLOCK_RUN_VERIFY_KICKS);
	p.spin_threshold = 0;
	pvlock_must_run(_metadata, &p, &r);
	pvlock_expect_sane(_metadata, &p, &r);
	TH_LOG("%s: %llu acquisitions, %llu blocked, %llu lost, %llu ms",
	       variant->backend, (unsigned long long)r.acquisitions,
	       (unsigned long long)r.blocked,
	       (unsigned long long)r.lost_wakeups,
	       (unsigned long long)r.elapsed_ns / 1000000);
	/* The waiters did block, nobody kicked them, and it was seen. */
	EXPECT_GT(r.blocked, PVLOCK_U64(0));
	EXPECT_EQ(PVLOCK_U64(0), r.kicks);
	EXPECT_GT(r.lost_wakeups, PVLOCK_U64(0));
	EXPECT_LE(r.lost_wakeups, r.blocked);
	EXPECT_EQ(VMACCEL_PVLOCK_STATUS_FAILURE, r.status);
	EXPECT_EQ(PVLOCK_U64(0), r.violations);
	EXPECT_EQ(PVLOCK_U64(0), r.fifo_violations);

	/* Its waiters would halt for good with interrupts off: refused. */
	fd = pvlock_open();
	ASSERT_LE(0, fd);
	p.flags |= VMACCEL_PVLOCK_RUN_IRQS_OFF;
	EXPECT_EQ(-1, pvlock_start(fd, &p));
	EXPECT_EQ(EINVAL, errno);
	close(fd);
}

/*
 * Two runs on two files at once, on two locks: kicks go to the waiter of
 * the right lock (a kick for the other lock would leave a waiter without
 * its own and show up as a lost wake-up).
 *
 * Whether waiters block depends on where the scheduler puts the threads:
 * with two CPUs it may keep the threads of one run on one CPU and those of
 * the other on the other, and then no waiter ever meets a held lock (seen
 * once in make check: 0 blocked in both runs).  The pair of runs is made
 * again, up to TWO_LOCKS_TRIES times, until some waiter blocked; every
 * attempt must be correct.
 */
#define TWO_LOCKS_TRIES	5

TEST_F_TIMEOUT(wake, two_locks_at_once, 120)
{
	struct vmaccel_pvlock_run p;
	struct vmaccel_pvlock_result r1, r2;
	int fd1, fd2, attempt;

	if (wake_left_out(variant->backend))
		SKIP(return, "backend %s left out (PVLOCK_BACKENDS)",
		     variant->backend);
	if (!variant->blocks || variant->flags ||
	    !pvlock_word_in(self->available, variant->backend))
		SKIP(return, "only for a blocking backend, once");
	if (pvlock_nr_cpus() < 2)
		SKIP(return, "contention needs 2 CPUs");
	ASSERT_EQ(0, pvlock_sysfs_write(BACKEND, variant->backend));

	p = pvlock_params(VMACCEL_PVLOCK_KIND_PV, pvlock_crowd(), 3000,
			  LONG_CS_NS, 0, VMACCEL_PVLOCK_RUN_SPIN_THRESHOLD |
			  VMACCEL_PVLOCK_RUN_VERIFY_KICKS);
	for (attempt = 1; attempt <= TWO_LOCKS_TRIES; attempt++) {
		fd1 = pvlock_open();
		fd2 = pvlock_open();
		ASSERT_LE(0, fd1);
		ASSERT_LE(0, fd2);
		ASSERT_EQ(0, pvlock_start(fd1, &p));
		ASSERT_EQ(0, pvlock_start(fd2, &p));
		ASSERT_EQ(0, pvlock_result(fd1, &r1, 0));
		ASSERT_EQ(0, pvlock_result(fd2, &r2, 0));
		close(fd1);
		close(fd2);
		pvlock_expect_sane(_metadata, &p, &r1);
		pvlock_expect_sane(_metadata, &p, &r2);
		EXPECT_EQ(PVLOCK_U64(0), r1.lost_wakeups + r2.lost_wakeups);
		EXPECT_EQ(PVLOCK_U64(0), r1.violations + r2.violations);
		EXPECT_EQ(PVLOCK_U64(0),
			  r1.fifo_violations + r2.fifo_violations);
		EXPECT_GE(r1.kicks, r1.blocked);
		EXPECT_GE(r2.kicks, r2.blocked);
		TH_LOG("attempt %d: %llu and %llu blocked, %llu and %llu kicks",
		       attempt, (unsigned long long)r1.blocked,
		       (unsigned long long)r2.blocked,
		       (unsigned long long)r1.kicks,
		       (unsigned long long)r2.kicks);
		if (r1.blocked + r2.blocked > 0)
			break;
	}
	/* Meaningful only if some waiter blocked in one of the attempts. */
	EXPECT_GT(r1.blocked + r2.blocked, PVLOCK_U64(0));
}

TEST_HARNESS_MAIN
