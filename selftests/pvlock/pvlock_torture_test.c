// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmaccel_pvlock selftest: the torture.  Mutual exclusion holds for every
 * real lock kind (with interrupts on and off), the broken lock is caught,
 * tickets are served in order, the results add up, the kernel log gets the
 * "End of test" line, and the module counters account for every event of
 * a run.
 */
#include <sys/stat.h>

#include "pvlock_util.h"

FIXTURE(excl) {
	int unused;
};

FIXTURE_VARIANT(excl) {
	__u32 kind;
	__u32 flags;
};

FIXTURE_VARIANT_ADD(excl, pv) {
	.kind = VMACCEL_PVLOCK_KIND_PV,
};

FIXTURE_VARIANT_ADD(excl, pv_irqs_off) {
	.kind = VMACCEL_PVLOCK_KIND_PV,
	.flags = VMACCEL_PVLOCK_RUN_IRQS_OFF,
};

FIXTURE_VARIANT_ADD(excl, pv_api) {
	.kind = VMACCEL_PVLOCK_KIND_PV,
	.flags = VMACCEL_PVLOCK_RUN_API,
};

FIXTURE_VARIANT_ADD(excl, pv_api_irqs_off) {
	.kind = VMACCEL_PVLOCK_KIND_PV,
	.flags = VMACCEL_PVLOCK_RUN_API | VMACCEL_PVLOCK_RUN_IRQS_OFF,
};

FIXTURE_VARIANT_ADD(excl, ticket) {
	.kind = VMACCEL_PVLOCK_KIND_TICKET,
};

FIXTURE_VARIANT_ADD(excl, ticket_irqs_off) {
	.kind = VMACCEL_PVLOCK_KIND_TICKET,
	.flags = VMACCEL_PVLOCK_RUN_IRQS_OFF,
};

FIXTURE_VARIANT_ADD(excl, spinlock) {
	.kind = VMACCEL_PVLOCK_KIND_SPINLOCK,
};

FIXTURE_VARIANT_ADD(excl, spinlock_irqs_off) {
	.kind = VMACCEL_PVLOCK_KIND_SPINLOCK,
	.flags = VMACCEL_PVLOCK_RUN_IRQS_OFF,
};

FIXTURE_SETUP(excl)
{
	self->unused = 0;
}

FIXTURE_TEARDOWN(excl)
{
}

/*
 * More threads than CPUs hammer one lock: no thread ever finds another in
 * the critical section, ticket locks serve every ticket in order, every
 * thread gets the lock (no starvation), and the per-thread counts add up.
 */
TEST_F(excl, mutual_exclusion)
{
	struct vmaccel_pvlock_run p = pvlock_params(variant->kind,
						    pvlock_crowd(), 800, 1000,
						    200, variant->flags);
	struct vmaccel_pvlock_result r;

	pvlock_must_run(_metadata, &p, &r);
	pvlock_expect_sane(_metadata, &p, &r);
	EXPECT_EQ(PVLOCK_U64(0), r.violations);
	EXPECT_EQ(PVLOCK_U64(0), r.fifo_violations);
	EXPECT_EQ(PVLOCK_U64(0), r.lost_wakeups);
	EXPECT_EQ(0U, r.status);
	EXPECT_GE(r.acquisitions_min, PVLOCK_U64(1));
	if (variant->flags & VMACCEL_PVLOCK_RUN_API) {
		/* The exported trylock variants work, and never too much. */
		EXPECT_GT(r.trylocks, PVLOCK_U64(0));
		EXPECT_LE(r.trylocks, r.acquisitions / 4 + p.nr_threads);
		EXPECT_EQ(PVLOCK_U64(0), r.taken_slow);
	} else {
		EXPECT_EQ(PVLOCK_U64(0), r.trylocks);
	}
	if (variant->kind != VMACCEL_PVLOCK_KIND_PV) {
		/* Only the pv lock has a slow path. */
		EXPECT_EQ(PVLOCK_U64(0), r.taken_slow);
		EXPECT_EQ(PVLOCK_U64(0), r.blocked);
		EXPECT_EQ(PVLOCK_U64(0), r.kicks);
	}
}

/* The deliberately broken lock must be caught by the owner check. */
TEST_F(pvlock, broken_lock_is_detected)
{
	struct vmaccel_pvlock_run p = pvlock_params(VMACCEL_PVLOCK_KIND_BROKEN,
						    pvlock_crowd(), 1500, 2000,
						    0, 0);
	struct vmaccel_pvlock_result r;

	/* Preemption is off inside: one CPU never has two threads inside. */
	if (pvlock_nr_cpus() < 2)
		SKIP(return, "overlapping critical sections need 2 CPUs");
	pvlock_must_run(_metadata, &p, &r);
	pvlock_expect_sane(_metadata, &p, &r);
	EXPECT_GT(r.violations, PVLOCK_U64(0));
	EXPECT_EQ(VMACCEL_PVLOCK_STATUS_FAILURE, r.status);
	/* Not a ticket lock: no order to check. */
	EXPECT_EQ(PVLOCK_U64(0), r.fifo_violations);
}

/*
 * The FIFO check can fail: a correct but unfair lock, whose threads take a
 * ticket on arrival, serves them out of order whenever two meet.  The check
 * compares the ticket taken with the number of critical sections before it
 * (the same check the API mode relies on, with the ticket the lock's grab
 * noted), so it does not trust the lock's own head.
 */
TEST_F(pvlock, unfair_lock_fails_fifo_check)
{
	struct vmaccel_pvlock_run p = pvlock_params(VMACCEL_PVLOCK_KIND_UNFAIR,
						    pvlock_crowd(), 1000, 2000,
						    0, 0);
	struct vmaccel_pvlock_result r;

	if (pvlock_nr_cpus() < 2)
		SKIP(return, "two threads meet at the lock on 2 CPUs only");
	pvlock_must_run(_metadata, &p, &r);
	pvlock_expect_sane(_metadata, &p, &r);
	TH_LOG("%llu acquisitions, %llu out of order",
	       (unsigned long long)r.acquisitions,
	       (unsigned long long)r.fifo_violations);
	EXPECT_EQ(PVLOCK_U64(0), r.violations);
	EXPECT_GT(r.fifo_violations, PVLOCK_U64(0));
	EXPECT_EQ(VMACCEL_PVLOCK_STATUS_FAILURE, r.status);
}

/*
 * FIFO: with a zero spin threshold most waiters of the pv lock block and are
 * kicked one by one; each acquisition must hold exactly the ticket due, for
 * the pv lock, for the exported API (the ticket noted by the lock's grab;
 * sysfs threshold) and for the plain ticket lock.
 */
TEST_F(pvlock, tickets_served_in_fifo_order)
{
	struct vmaccel_pvlock_run p;
	struct vmaccel_pvlock_result r;

	p = pvlock_params(VMACCEL_PVLOCK_KIND_PV, pvlock_crowd(), 1500, 3000,
			  0, VMACCEL_PVLOCK_RUN_SPIN_THRESHOLD);
	p.spin_threshold = 0;
	pvlock_must_run(_metadata, &p, &r);
	pvlock_expect_sane(_metadata, &p, &r);
	EXPECT_EQ(0U, r.run.spin_threshold);
	EXPECT_EQ(PVLOCK_U64(0), r.fifo_violations);
	EXPECT_EQ(PVLOCK_U64(0), r.violations);
	/* With more threads than CPUs and no outside time, waiters queue. */
	if (pvlock_nr_cpus() > 1)
		EXPECT_GT(r.taken_slow, PVLOCK_U64(0));

	p = pvlock_params(VMACCEL_PVLOCK_KIND_PV, pvlock_crowd(), 1000, 3000,
			  0, VMACCEL_PVLOCK_RUN_API);
	pvlock_must_run(_metadata, &p, &r);
	pvlock_expect_sane(_metadata, &p, &r);
	EXPECT_EQ(PVLOCK_U64(0), r.fifo_violations);
	EXPECT_EQ(PVLOCK_U64(0), r.violations);
	EXPECT_GT(r.trylocks, PVLOCK_U64(0));

	p = pvlock_params(VMACCEL_PVLOCK_KIND_TICKET, pvlock_crowd(), 1000,
			  3000, 0, 0);
	pvlock_must_run(_metadata, &p, &r);
	pvlock_expect_sane(_metadata, &p, &r);
	EXPECT_EQ(PVLOCK_U64(0), r.fifo_violations);
	EXPECT_EQ(PVLOCK_U64(0), r.violations);
}

/* A run with one thread never waits, and its lock is never contended. */
TEST_F(pvlock, single_thread_never_waits)
{
	struct vmaccel_pvlock_run p = pvlock_params(VMACCEL_PVLOCK_KIND_PV, 1,
						    300, 0, 0,
						    VMACCEL_PVLOCK_RUN_SPIN_THRESHOLD);
	struct vmaccel_pvlock_result r;

	p.spin_threshold = 0;
	pvlock_must_run(_metadata, &p, &r);
	pvlock_expect_sane(_metadata, &p, &r);
	EXPECT_GT(r.acquisitions, PVLOCK_U64(0));
	EXPECT_EQ(PVLOCK_U64(0), r.taken_slow);
	EXPECT_EQ(PVLOCK_U64(0), r.blocked);
	EXPECT_EQ(PVLOCK_U64(0), r.kicks);
	EXPECT_EQ(PVLOCK_U64(0), r.violations);
}

/* Find a kernel log record (read from @fd on) holding both strings. */
static bool kmsg_has(int fd, const char *needle, const char *verdict)
{
	char rec[2048];
	ssize_t n;

	for (;;) {
		n = read(fd, rec, sizeof(rec) - 1);
		if (n < 0) {
			if (errno == EPIPE)	/* overwritten records */
				continue;
			return false;		/* EAGAIN: no more */
		}
		rec[n] = '\0';
		if (strstr(rec, needle) && strstr(rec, verdict))
			return true;
	}
}

/* Like locktorture, every run ends with "End of test: ..." in the log. */
TEST_F(pvlock, end_of_test_line_in_kernel_log)
{
	struct vmaccel_pvlock_run p;
	struct vmaccel_pvlock_result r;
	int kmsg;

	kmsg = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	ASSERT_LE(0, kmsg);
	ASSERT_LE(0, lseek(kmsg, 0, SEEK_END));

	p = pvlock_params(VMACCEL_PVLOCK_KIND_SPINLOCK, 2, 200, 100, 100, 0);
	pvlock_must_run(_metadata, &p, &r);
	ASSERT_EQ(0U, r.status);
	EXPECT_TRUE(kmsg_has(kmsg, "spinlock-torture: ",
			     "End of test: SUCCESS"));
	ASSERT_LE(0, lseek(kmsg, 0, SEEK_END));

	if (pvlock_nr_cpus() < 2) {
		close(kmsg);
		return;		/* the broken lock only fails with 2 CPUs */
	}
	p = pvlock_params(VMACCEL_PVLOCK_KIND_BROKEN, pvlock_crowd(), 1000,
			  2000, 0, 0);
	pvlock_must_run(_metadata, &p, &r);
	ASSERT_EQ(VMACCEL_PVLOCK_STATUS_FAILURE, r.status);
	EXPECT_TRUE(kmsg_has(kmsg, "broken-torture: ",
			     "End of test: FAILURE"));
	close(kmsg);
}

/*
 * The module-wide counters (sysfs stats/) account for exactly the events
 * of a run: nothing else in the test VM uses pv locks.
 */
TEST_F(pvlock, counters_account_for_a_run)
{
	__u64 before[PVLOCK_NR_STATS], after[PVLOCK_NR_STATS];
	struct vmaccel_pvlock_run p;
	struct vmaccel_pvlock_result r;
	__u64 histo_sum = 0, v, lo, hi;
	char line[128];
	FILE *h;

	/* zero_stats resets everything. */
	ASSERT_EQ(0, pvlock_sysfs_write(PVLOCK_DEBUGFS "zero_stats", "1"));
	ASSERT_EQ(0, pvlock_stats_read(before));
	for (int i = 0; i < PVLOCK_NR_STATS; i++) {
		ASSERT_EQ(PVLOCK_U64(0), before[i]) {
			TH_LOG("%s not zeroed", pvlock_stat_files[i]);
		}
	}

	p = pvlock_params(VMACCEL_PVLOCK_KIND_PV, pvlock_crowd(), 1000, 3000,
			  0, VMACCEL_PVLOCK_RUN_SPIN_THRESHOLD);
	p.spin_threshold = 16;
	pvlock_must_run(_metadata, &p, &r);
	pvlock_expect_sane(_metadata, &p, &r);
	ASSERT_EQ(0, pvlock_stats_read(after));

	EXPECT_EQ(r.acquisitions, after[ST_TAKEN_FAST] + after[ST_TAKEN_SLOW]);
	EXPECT_EQ(r.taken_slow, after[ST_TAKEN_SLOW]);
	EXPECT_EQ(r.blocked, after[ST_BLOCKED]);
	EXPECT_EQ(r.halts, after[ST_HALTS]);
	EXPECT_EQ(r.spurious_wakeups, after[ST_SPURIOUS]);
	EXPECT_EQ(r.irqs_off_spins, after[ST_IRQS_OFF]);
	EXPECT_EQ(r.kicks, after[ST_KICKED]);
	EXPECT_EQ(r.wakeups, after[ST_WAKEUPS]);
	EXPECT_LE(after[ST_KICKED], after[ST_RELEASED_SLOW]);
	EXPECT_LE(after[ST_PICKUP], after[ST_TAKEN_SLOW]);
	if (after[ST_BLOCKED])
		EXPECT_GT(after[ST_TIME], PVLOCK_U64(0));

	/* The histogram holds one entry per blocked acquisition. */
	h = fopen(PVLOCK_DEBUGFS "histo_time_blocked", "r");
	ASSERT_NE(NULL, h);
	ASSERT_NE(NULL, fgets(line, sizeof(line), h));	/* header */
	while (fgets(line, sizeof(line), h)) {
		char hi_s[32];
		int n;

		n = sscanf(line, "%llu %31s %llu", &lo, hi_s, &v);
		ASSERT_EQ(3, n);
		if (strcmp(hi_s, "inf")) {
			hi = strtoull(hi_s, NULL, 10);
			ASSERT_LT(lo, hi);
		}
		histo_sum += v;
	}
	fclose(h);
	EXPECT_EQ(after[ST_BLOCKED], histo_sum);
}

/* The debugfs files exist and parse; runs lists a run while it goes on. */
TEST_F(pvlock, debugfs_files)
{
	struct vmaccel_pvlock_run p;
	struct vmaccel_pvlock_result r;
	char buf[4096];
	int fd;

	ASSERT_EQ(0, pvlock_sysfs_read(PVLOCK_DEBUGFS "stats", buf,
				       sizeof(buf)));
	EXPECT_NE(NULL, strstr(buf, "taken_fast "));
	EXPECT_NE(NULL, strstr(buf, "released_slow_kicked "));
	ASSERT_EQ(0, pvlock_sysfs_read(PVLOCK_DEBUGFS "waiters", buf,
				       sizeof(buf)));
	EXPECT_EQ(0, strncmp(buf, "cpu slot lock want kicked halted backend",
			     40));

	fd = pvlock_open();
	ASSERT_LE(0, fd);
	p = pvlock_params(VMACCEL_PVLOCK_KIND_SPINLOCK, 2, 30000, 100, 1000, 0);
	ASSERT_EQ(0, pvlock_start(fd, &p));
	ASSERT_EQ(0, pvlock_sysfs_read(PVLOCK_DEBUGFS "runs", buf,
				       sizeof(buf)));
	EXPECT_NE(NULL, strstr(buf, " spinlock ")) {
		TH_LOG("runs: %s", buf);
	}
	EXPECT_NE(NULL, strstr(buf, " running "));
	ASSERT_EQ(0, pvlock_stop(fd));
	ASSERT_EQ(0, pvlock_result(fd, &r, 0));
	EXPECT_EQ(VMACCEL_PVLOCK_STATUS_STOPPED, r.status);
	close(fd);
	ASSERT_EQ(0, pvlock_sysfs_read(PVLOCK_DEBUGFS "runs", buf,
				       sizeof(buf)));
	EXPECT_EQ(NULL, strstr(buf, " running "));
}

TEST_HARNESS_MAIN
