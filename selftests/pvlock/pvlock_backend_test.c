// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmaccel_pvlock selftest: backend selection at load and override in sysfs,
 * what each backend does to a run, and the spin_threshold knob.
 */
#include "pvlock_util.h"

#define BACKEND		PVLOCK_SYSFS "backend"
#define AVAILABLE	PVLOCK_SYSFS "available_backends"
#define THRESHOLD	PVLOCK_SYSFS "spin_threshold"
#define RUNS_ACTIVE	PVLOCK_SYSFS "runs_active"

static const char *const backend_names[] = {
	[VMACCEL_PVLOCK_BACKEND_SPIN] = "spin",
	[VMACCEL_PVLOCK_BACKEND_IPI] = "ipi",
	[VMACCEL_PVLOCK_BACKEND_KVM] = "kvm",
};

/* Saves and restores the backend and the threshold around each test. */
FIXTURE(knobs) {
	char backend[32];
	char threshold[32];
	char available[128];
};

FIXTURE_SETUP(knobs)
{
	ASSERT_EQ(0, pvlock_sysfs_read(BACKEND, self->backend,
				       sizeof(self->backend)));
	ASSERT_EQ(0, pvlock_sysfs_read(THRESHOLD, self->threshold,
				       sizeof(self->threshold)));
	ASSERT_EQ(0, pvlock_sysfs_read(AVAILABLE, self->available,
				       sizeof(self->available)));
}

FIXTURE_TEARDOWN(knobs)
{
	pvlock_sysfs_write(BACKEND, self->backend);
	pvlock_sysfs_write(THRESHOLD, self->threshold);
}

/* The list follows what the CPU reports; the default is the best of it. */
TEST_F(knobs, available_backends_follow_cpuid)
{
	bool kvm = pvlock_cpuid_kvm_pv_unhalt();

	TH_LOG("available: %s; CPUID KVM PV_UNHALT: %s", self->available,
	       kvm ? "yes" : "no");
	EXPECT_TRUE(pvlock_word_in(self->available, "ipi"));
	EXPECT_TRUE(pvlock_word_in(self->available, "spin"));
	EXPECT_EQ(kvm, pvlock_word_in(self->available, "kvm"));
	EXPECT_FALSE(pvlock_word_in(self->available, "bogus"));
}

/*
 * Chosen at load: kvm when the host offers PV unhalt, else ipi; but spin
 * where the kernel's own spinlock_t does not use PV spinlocks on KVM
 * (kvm_spinlock_init()): KVM_HINTS_REALTIME, or PV unhalt with nopvspin or
 * one possible CPU.  The test runs right after the module is loaded,
 * before anything switches it.
 */
TEST_F(knobs, default_backend_is_the_best_available)
{
	bool unhalt = pvlock_cpuid_kvm_pv_unhalt();
	bool realtime = pvlock_cpuid_kvm_realtime();
	bool nopvspin = pvlock_cmdline_has("nopvspin");
	bool one_cpu = sysconf(_SC_NPROCESSORS_CONF) == 1;
	const char *want = unhalt ? "kvm" : "ipi";

	if (realtime || (unhalt && (nopvspin || one_cpu)))
		want = "spin";
	TH_LOG("PV unhalt %d, KVM_HINTS_REALTIME %d, nopvspin %d, one CPU %d",
	       unhalt, realtime, nopvspin, one_cpu);
	EXPECT_STREQ(want, self->backend);
}

/* Every available backend can be selected, reads back, and is used. */
TEST_F(knobs, override_each_available_backend)
{
	struct vmaccel_pvlock_run p;
	struct vmaccel_pvlock_result r;
	char buf[32];
	unsigned int b;

	for (b = 0; b < ARRAY_SIZE(backend_names); b++) {
		if (!pvlock_word_in(self->available, backend_names[b]))
			continue;
		ASSERT_EQ(0, pvlock_sysfs_write(BACKEND, backend_names[b]));
		ASSERT_EQ(0, pvlock_sysfs_read(BACKEND, buf, sizeof(buf)));
		EXPECT_STREQ(backend_names[b], buf);
		/* Without the trailing newline echo usually adds, too. */
		ASSERT_EQ(0, pvlock_sysfs_write(BACKEND, self->backend));
		ASSERT_EQ(0, pvlock_sysfs_write(BACKEND, backend_names[b]));

		p = pvlock_params(VMACCEL_PVLOCK_KIND_PV, 2, 100, 100, 100, 0);
		pvlock_must_run(_metadata, &p, &r);
		EXPECT_EQ(b, r.backend);
		EXPECT_EQ(PVLOCK_U64(0), r.violations);
	}
}

/* Unknown names and unavailable backends are refused; nothing changes. */
TEST_F(knobs, bad_backend_writes)
{
	char buf[32];

	EXPECT_EQ(-EINVAL, pvlock_sysfs_write(BACKEND, "bogus"));
	EXPECT_EQ(-EINVAL, pvlock_sysfs_write(BACKEND, "ipi spin"));
	EXPECT_EQ(-EINVAL, pvlock_sysfs_write(BACKEND, "IPI"));
	EXPECT_EQ(-EINVAL, pvlock_sysfs_write(BACKEND, "\n"));
	EXPECT_EQ(-EINVAL, pvlock_sysfs_write(BACKEND, "kvmx"));
	if (!pvlock_word_in(self->available, "kvm"))
		EXPECT_EQ(-ENODEV, pvlock_sysfs_write(BACKEND, "kvm\n"));
	ASSERT_EQ(0, pvlock_sysfs_read(BACKEND, buf, sizeof(buf)));
	EXPECT_STREQ(self->backend, buf);
}

/* No switch while a run uses the locks; allowed again once it ended. */
TEST_F(knobs, no_switch_while_locks_in_use)
{
	struct vmaccel_pvlock_run p;
	struct vmaccel_pvlock_result r;
	__u64 active;
	int fd;

	ASSERT_EQ(0, pvlock_sysfs_u64(RUNS_ACTIVE, &active));
	ASSERT_EQ(PVLOCK_U64(0), active);
	fd = pvlock_open();
	ASSERT_LE(0, fd);
	p = pvlock_params(VMACCEL_PVLOCK_KIND_PV, 2, 30000, 100, 1000, 0);
	ASSERT_EQ(0, pvlock_start(fd, &p));
	ASSERT_EQ(0, pvlock_sysfs_u64(RUNS_ACTIVE, &active));
	EXPECT_EQ(PVLOCK_U64(1), active);
	EXPECT_EQ(-EBUSY, pvlock_sysfs_write(BACKEND, "spin"));
	EXPECT_EQ(-EBUSY, pvlock_sysfs_write(BACKEND, self->backend));
	ASSERT_EQ(0, pvlock_stop(fd));
	ASSERT_EQ(0, pvlock_result(fd, &r, 0));
	close(fd);
	ASSERT_EQ(0, pvlock_sysfs_u64(RUNS_ACTIVE, &active));
	EXPECT_EQ(PVLOCK_U64(0), active);
	EXPECT_EQ(0, pvlock_sysfs_write(BACKEND, "spin"));
}

/* spin: a plain ticket lock; even with no spinning allowed, nobody halts. */
TEST_F(knobs, spin_backend_never_blocks)
{
	struct vmaccel_pvlock_run p;
	struct vmaccel_pvlock_result r;

	if (pvlock_nr_cpus() < 2)
		SKIP(return, "contention needs 2 CPUs");
	ASSERT_EQ(0, pvlock_sysfs_write(BACKEND, "spin"));
	p = pvlock_params(VMACCEL_PVLOCK_KIND_PV, pvlock_crowd(), 1000, 3000,
			  0, VMACCEL_PVLOCK_RUN_SPIN_THRESHOLD);
	pvlock_must_run(_metadata, &p, &r);
	pvlock_expect_sane(_metadata, &p, &r);
	EXPECT_EQ((__u32)VMACCEL_PVLOCK_BACKEND_SPIN, r.backend);
	EXPECT_GT(r.taken_slow, PVLOCK_U64(0));
	EXPECT_EQ(PVLOCK_U64(0), r.blocked);
	EXPECT_EQ(PVLOCK_U64(0), r.halts);
	EXPECT_EQ(PVLOCK_U64(0), r.kicks);
	EXPECT_EQ(PVLOCK_U64(0), r.violations);
	EXPECT_EQ(PVLOCK_U64(0), r.fifo_violations);
}

/*
 * ipi: waiters with interrupts on block and are kicked; with interrupts
 * off they cannot be woken by an IPI, so they keep spinning.
 */
TEST_F(knobs, ipi_backend_blocks_only_with_irqs_on)
{
	struct vmaccel_pvlock_run p;
	struct vmaccel_pvlock_result r;

	if (pvlock_nr_cpus() < 2)
		SKIP(return, "contention needs 2 CPUs");
	ASSERT_EQ(0, pvlock_sysfs_write(BACKEND, "ipi"));
	p = pvlock_params(VMACCEL_PVLOCK_KIND_PV, pvlock_crowd(), 1000, 3000,
			  0, VMACCEL_PVLOCK_RUN_SPIN_THRESHOLD |
			  VMACCEL_PVLOCK_RUN_VERIFY_KICKS);
	pvlock_must_run(_metadata, &p, &r);
	pvlock_expect_sane(_metadata, &p, &r);
	EXPECT_EQ((__u32)VMACCEL_PVLOCK_BACKEND_IPI, r.backend);
	EXPECT_GT(r.blocked, PVLOCK_U64(0));
	/* With VERIFY_KICKS a blocked waiter stays registered for its kick. */
	EXPECT_GE(r.kicks, r.blocked);
	EXPECT_GT(r.wakeups, PVLOCK_U64(0));
	EXPECT_EQ(PVLOCK_U64(0), r.lost_wakeups);
	EXPECT_EQ(PVLOCK_U64(0), r.irqs_off_spins);

	p.flags = VMACCEL_PVLOCK_RUN_SPIN_THRESHOLD | VMACCEL_PVLOCK_RUN_IRQS_OFF;
	pvlock_must_run(_metadata, &p, &r);
	pvlock_expect_sane(_metadata, &p, &r);
	EXPECT_GT(r.irqs_off_spins, PVLOCK_U64(0));
	EXPECT_EQ(r.taken_slow, r.irqs_off_spins);
	EXPECT_EQ(PVLOCK_U64(0), r.blocked);
	EXPECT_EQ(PVLOCK_U64(0), r.halts);
	EXPECT_EQ(PVLOCK_U64(0), r.violations);
}

/* kvm: blocks with interrupts on and off (the host latches the kick). */
TEST_F(knobs, kvm_backend_blocks_with_irqs_off_too)
{
	struct vmaccel_pvlock_run p;
	struct vmaccel_pvlock_result r;

	if (!pvlock_word_in(self->available, "kvm"))
		SKIP(return, "no KVM PV unhalt on this machine");
	if (pvlock_nr_cpus() < 2)
		SKIP(return, "contention needs 2 CPUs");
	ASSERT_EQ(0, pvlock_sysfs_write(BACKEND, "kvm"));
	p = pvlock_params(VMACCEL_PVLOCK_KIND_PV, pvlock_crowd(), 1000, 3000,
			  0, VMACCEL_PVLOCK_RUN_SPIN_THRESHOLD |
			  VMACCEL_PVLOCK_RUN_IRQS_OFF);
	pvlock_must_run(_metadata, &p, &r);
	pvlock_expect_sane(_metadata, &p, &r);
	EXPECT_GT(r.blocked, PVLOCK_U64(0));
	EXPECT_EQ(PVLOCK_U64(0), r.irqs_off_spins);
	EXPECT_EQ(PVLOCK_U64(0), r.violations);
}

/* spin_threshold: range-checked; a run without the flag uses it. */
TEST_F(knobs, spin_threshold_knob)
{
	struct vmaccel_pvlock_run p;
	struct vmaccel_pvlock_result r;
	char max[32], over[32];
	__u64 v;

	snprintf(max, sizeof(max), "%u", VMACCEL_PVLOCK_SPIN_THRESHOLD_MAX);
	snprintf(over, sizeof(over), "%u",
		 VMACCEL_PVLOCK_SPIN_THRESHOLD_MAX + 1);

	ASSERT_EQ(0, pvlock_sysfs_write(THRESHOLD, "0"));
	ASSERT_EQ(0, pvlock_sysfs_u64(THRESHOLD, &v));
	EXPECT_EQ(PVLOCK_U64(0), v);
	ASSERT_EQ(0, pvlock_sysfs_write(THRESHOLD, max));
	ASSERT_EQ(0, pvlock_sysfs_u64(THRESHOLD, &v));
	EXPECT_EQ(PVLOCK_U64(VMACCEL_PVLOCK_SPIN_THRESHOLD_MAX), v);

	EXPECT_EQ(-EINVAL, pvlock_sysfs_write(THRESHOLD, over));
	EXPECT_EQ(-EINVAL, pvlock_sysfs_write(THRESHOLD, "-1"));
	EXPECT_EQ(-EINVAL, pvlock_sysfs_write(THRESHOLD, "abc"));
	EXPECT_EQ(-EINVAL, pvlock_sysfs_write(THRESHOLD, "12abc"));
	EXPECT_EQ(-EINVAL, pvlock_sysfs_write(THRESHOLD, "\n"));
	EXPECT_EQ(-EINVAL, pvlock_sysfs_write(THRESHOLD, "99999999999999999999"));
	ASSERT_EQ(0, pvlock_sysfs_u64(THRESHOLD, &v));
	EXPECT_EQ(PVLOCK_U64(VMACCEL_PVLOCK_SPIN_THRESHOLD_MAX), v);

	ASSERT_EQ(0, pvlock_sysfs_write(THRESHOLD, "77\n"));
	p = pvlock_params(VMACCEL_PVLOCK_KIND_PV, 2, 100, 100, 100, 0);
	pvlock_must_run(_metadata, &p, &r);
	EXPECT_EQ(77U, r.run.spin_threshold);
}

/* The read-only files refuse writes; the device is root-only. */
TEST_F(knobs, read_only_files)
{
	static const char *const ro[] = {
		AVAILABLE, RUNS_ACTIVE, PVLOCK_SYSFS "locks_in_use",
		PVLOCK_SYSFS "stats/taken_fast",
		PVLOCK_SYSFS "stats/released_slow_kicked",
	};
	__u64 v;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(ro); i++) {
		const char *path = ro[i];

		EXPECT_NE(0, pvlock_sysfs_write(path, "0")) {
			TH_LOG("%s accepted a write", path);
		}
	}
	ASSERT_EQ(0, pvlock_sysfs_u64(PVLOCK_SYSFS "locks_in_use", &v));
	EXPECT_EQ(PVLOCK_U64(0), v);
}

TEST_HARNESS_MAIN
