// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmaccel_balloon: every bad input gets a clear errno and leaves nothing
 * registered.
 */
#include "balloon_util.h"

FIXTURE(bad) {
	int dev;
	int mem;
	int efd;
	long vms;
};

FIXTURE_SETUP(bad)
{
	self->dev = balloon_open();
	if (self->dev < 0)
		SKIP(return, "%s: %s (module not loaded?)", BALLOON_DEV,
		     strerror(errno));
	self->mem = balloon_memfd(64 * MiB);
	ASSERT_LE(0, self->mem);
	self->efd = eventfd(0, EFD_CLOEXEC);
	ASSERT_LE(0, self->efd);
	self->vms = balloon_knob("vms");
}

FIXTURE_TEARDOWN(bad)
{
	if (self->dev < 0)
		return;
	/* Nothing a rejected call did stays registered. */
	EXPECT_EQ(self->vms, balloon_knob("vms"));
	balloon_defaults();
	close(self->efd);
	close(self->mem);
	close(self->dev);
}

TEST_F(bad, register_fields)
{
	struct vmaccel_balloon_register good =
		balloon_req(self->mem, self->efd, 64 * MiB, 16 * MiB, 64 * MiB);
	struct vmaccel_balloon_register r;

	r = good;
	EXPECT_EQ(0, balloon_reg_errno(self->dev, &r));
	r = good;
	r.flags = 1;
	EXPECT_EQ(EINVAL, balloon_reg_errno(self->dev, &r));
	r = good;
	r.flags = 1U << 31;
	EXPECT_EQ(EINVAL, balloon_reg_errno(self->dev, &r));
	r = good;
	r.pid = 1;			/* without VMACCEL_BALLOON_REGISTER_PROCESS */
	EXPECT_EQ(EINVAL, balloon_reg_errno(self->dev, &r));
	r = good;
	r.flags = VMACCEL_BALLOON_REGISTER_PROCESS;	/* with a file */
	r.pid = getpid();
	EXPECT_EQ(EINVAL, balloon_reg_errno(self->dev, &r));
	r = good;
	r.reserved[3] = 1;
	EXPECT_EQ(EINVAL, balloon_reg_errno(self->dev, &r));
	r = good;
	memset(r.name, 'x', sizeof(r.name));	/* no NUL */
	EXPECT_EQ(EINVAL, balloon_reg_errno(self->dev, &r));
	r = good;
	r.floor_bytes = 16 * MiB + 1;		/* not page aligned */
	EXPECT_EQ(EINVAL, balloon_reg_errno(self->dev, &r));
	r = good;
	r.guest_bytes = 64 * MiB - 2048;
	EXPECT_EQ(EINVAL, balloon_reg_errno(self->dev, &r));
	r = good;
	r.floor_bytes = 8 * MiB;		/* below the minimum floor */
	EXPECT_EQ(EINVAL, balloon_reg_errno(self->dev, &r));
	r = good;
	r.floor_bytes = 48 * MiB;		/* floor above ceiling */
	r.ceiling_bytes = 32 * MiB;
	EXPECT_EQ(EINVAL, balloon_reg_errno(self->dev, &r));
	r = good;
	r.ceiling_bytes = 128 * MiB;		/* ceiling above guest */
	EXPECT_EQ(EINVAL, balloon_reg_errno(self->dev, &r));
	r = good;
	r.guest_bytes = 128 * MiB;		/* does not match the file */
	r.ceiling_bytes = 128 * MiB;
	EXPECT_EQ(EINVAL, balloon_reg_errno(self->dev, &r));
	r = good;
	r.guest_bytes = ~0ULL & ~4095ULL;
	r.ceiling_bytes = r.guest_bytes;
	EXPECT_EQ(EINVAL, balloon_reg_errno(self->dev, &r));
	/* Name of 31 characters is fine. */
	r = good;
	memset(r.name, 'y', sizeof(r.name) - 1);
	r.name[sizeof(r.name) - 1] = 0;
	EXPECT_EQ(0, balloon_reg_errno(self->dev, &r));
}

TEST_F(bad, register_descriptors)
{
	struct vmaccel_balloon_register r =
		balloon_req(self->mem, self->efd, 64 * MiB, 16 * MiB, 64 * MiB);
	int dir, pipefd[2];

	r.mem_fd = -1;
	EXPECT_EQ(EBADF, balloon_reg_errno(self->dev, &r));
	r.mem_fd = 100000;
	EXPECT_EQ(EBADF, balloon_reg_errno(self->dev, &r));
	/* Not a regular file: an eventfd, a directory, a pipe. */
	r.mem_fd = self->efd;
	EXPECT_EQ(EINVAL, balloon_reg_errno(self->dev, &r));
	dir = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ASSERT_LE(0, dir);
	r.mem_fd = dir;
	EXPECT_EQ(EINVAL, balloon_reg_errno(self->dev, &r));
	ASSERT_EQ(0, pipe(pipefd));
	r.mem_fd = pipefd[0];
	EXPECT_EQ(EINVAL, balloon_reg_errno(self->dev, &r));
	/* The event descriptor must be an eventfd. */
	r.mem_fd = self->mem;
	r.event_fd = -1;
	EXPECT_EQ(EBADF, balloon_reg_errno(self->dev, &r));
	r.event_fd = self->mem;
	EXPECT_EQ(EINVAL, balloon_reg_errno(self->dev, &r));
	r.event_fd = pipefd[1];
	EXPECT_EQ(EINVAL, balloon_reg_errno(self->dev, &r));
	close(pipefd[0]);
	close(pipefd[1]);
	close(dir);
}

TEST_F(bad, vm_ioctls)
{
	struct vmaccel_balloon_stat st[VMACCEL_BALLOON_MAX_STATS + 1];
	struct vmaccel_balloon_account a;
	struct vmaccel_balloon_target t;
	struct vmaccel_balloon_stats s;
	int vm;

	vm = balloon_register(self->dev, self->mem, self->efd, 64 * MiB,
			      16 * MiB, 64 * MiB);
	ASSERT_LE(0, vm);
	memset(&t, 0, sizeof(t));
	t.flags = 1;
	EXPECT_EQ(-1, ioctl(vm, VMACCEL_BALLOON_GET_TARGET, &t));
	EXPECT_EQ(EINVAL, errno);
	memset(&a, 0, sizeof(a));
	a.flags = 1;
	EXPECT_EQ(-1, ioctl(vm, VMACCEL_BALLOON_GET_ACCOUNT, &a));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, ioctl(vm, VMACCEL_BALLOON_GET_ACCOUNT, NULL));
	EXPECT_EQ(EFAULT, errno);

	memset(st, 0, sizeof(st));
	memset(&s, 0, sizeof(s));
	s.stats_ptr = (__u64)(uintptr_t)st;
	s.nr = 1;
	s.flags = 2;
	EXPECT_EQ(-1, ioctl(vm, VMACCEL_BALLOON_REPORT_STATS, &s));
	EXPECT_EQ(EINVAL, errno);
	s.flags = 0;
	s.reserved[1] = 1;
	EXPECT_EQ(-1, ioctl(vm, VMACCEL_BALLOON_REPORT_STATS, &s));
	EXPECT_EQ(EINVAL, errno);
	s.reserved[1] = 0;
	s.nr = VMACCEL_BALLOON_MAX_STATS + 1;
	EXPECT_EQ(-1, ioctl(vm, VMACCEL_BALLOON_REPORT_STATS, &s));
	EXPECT_EQ(EINVAL, errno);
	s.nr = 0xffffffff;
	EXPECT_EQ(-1, ioctl(vm, VMACCEL_BALLOON_REPORT_STATS, &s));
	EXPECT_EQ(EINVAL, errno);
	s.nr = 2;
	st[1].tag = VMACCEL_BALLOON_NR_TAGS;	/* unknown tag */
	EXPECT_EQ(-1, ioctl(vm, VMACCEL_BALLOON_REPORT_STATS, &s));
	EXPECT_EQ(EINVAL, errno);
	st[1].tag = 0xffff;
	EXPECT_EQ(-1, ioctl(vm, VMACCEL_BALLOON_REPORT_STATS, &s));
	EXPECT_EQ(EINVAL, errno);
	st[1].tag = TAG_AVAIL;
	st[1].reserved[2] = 1;
	EXPECT_EQ(-1, ioctl(vm, VMACCEL_BALLOON_REPORT_STATS, &s));
	EXPECT_EQ(EINVAL, errno);
	st[1].reserved[2] = 0;
	s.stats_ptr = 8;			/* unmapped */
	EXPECT_EQ(-1, ioctl(vm, VMACCEL_BALLOON_REPORT_STATS, &s));
	EXPECT_EQ(EFAULT, errno);
	/* A rejected report changed nothing. */
	ASSERT_EQ(0, balloon_account(vm, &a));
	EXPECT_EQ(0ULL, a.stats_age_ns);

	/* Unknown commands, on both descriptors; the VM ioctl on the device. */
	EXPECT_EQ(-1, ioctl(vm, _IO(VMACCEL_IOCTL_TYPE, 0x6f)));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(-1, ioctl(vm, VMACCEL_BALLOON_REGISTER, NULL));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(-1, ioctl(self->dev, VMACCEL_BALLOON_GET_TARGET, &t));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(-1, ioctl(self->dev, VMACCEL_BALLOON_REGISTER, NULL));
	EXPECT_EQ(EFAULT, errno);
	close(vm);
}

TEST_F(bad, sysfs_ranges)
{
	static const struct {
		const char *knob, *val;
	} bad[] = {
		{ "enabled", "2" }, { "enabled", "-1" }, { "enabled", "yes" },
		{ "interval_ms", "99" }, { "interval_ms", "60001" },
		{ "interval_ms", "\n" }, { "interval_ms", "10ms" },
		{ "low_pct", "0" }, { "low_pct", "91" }, { "low_pct", "30" },
		{ "high_pct", "20" }, { "high_pct", "100" }, { "high_pct", "1" },
		{ "step_pct", "0" }, { "step_pct", "51" },
		{ "guest_free_pct", "91" }, { "guest_free_pct", "-1" },
		{ "stall_ms", "99" }, { "stall_ms", "600001" },
		{ "stats_max_age_ms", "999" }, { "stats_max_age_ms", "3600001" },
		{ "stats_max_age_ms", "0x400" }, { "fair_shares", "0" },
		{ "test_available_pct", "-2" }, { "test_available_pct", "101" },
		{ "vms", "1" }, { "target_changes", "0" },
		{ "host_available_pct", "5" },
	};
	unsigned int i;

	balloon_defaults();
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		long before = balloon_knob(bad[i].knob);
		int ret = balloon_set(bad[i].knob, bad[i].val);

		EXPECT_NE(0, ret) TH_LOG("%s <- '%s' accepted", bad[i].knob,
					 bad[i].val);
		if (strcmp(bad[i].knob, "host_available_pct"))
			EXPECT_EQ(before, balloon_knob(bad[i].knob));
	}
	/* The edges are accepted. */
	EXPECT_EQ(0, balloon_set("interval_ms", "100"));
	EXPECT_EQ(0, balloon_set("interval_ms", "60000"));
	EXPECT_EQ(0, balloon_set("stats_max_age_ms", "1000"));
	EXPECT_EQ(0, balloon_set("stats_max_age_ms", "3600000"));
	EXPECT_EQ(0, balloon_set("step_pct", "50"));
	EXPECT_EQ(0, balloon_set("test_available_pct", "100"));
	EXPECT_EQ(0, balloon_set("test_available_pct", "-1"));
	EXPECT_EQ(0, balloon_set("high_pct", "99"));
	EXPECT_EQ(0, balloon_set("low_pct", "90"));
	EXPECT_EQ(0, balloon_set("low_pct", "1"));
	EXPECT_EQ(0, balloon_set("high_pct", "2"));
	balloon_defaults();
	EXPECT_EQ(20, balloon_knob("low_pct"));
	EXPECT_EQ(30, balloon_knob("high_pct"));
}

/* The counters are also under stats/, as in every module of the suite. */
TEST_F(bad, counters_also_under_stats)
{
	static const char * const names[] = {
		"host_available_pct", "vms", "target_changes", "inflations",
		"deflations", "released_bytes", "pressure_ticks",
		"reclaim_ticks", "stalls", "fair_shares",
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(names); i++) {
		const char *n = names[i];

		ASSERT_EQ(0, vmaccel_stats_alias(BALLOON_SYSFS, n))
			TH_LOG("%sstats/%s", BALLOON_SYSFS, n);
	}
}

/*
 * Every numeric file as the knob helper declares it: knobs 0644, counters
 * 0444 (also under stats/), one decimal number and a newline each.
 */
TEST_F(bad, numbers_modes_and_format)
{
	static const char * const knobs[] = {
		"enabled", "interval_ms", "low_pct", "high_pct", "step_pct",
		"guest_free_pct", "stall_ms", "stats_max_age_ms",
		"test_available_pct",
		NULL,
	};
	static const char * const counters[] = {
		"host_available_pct", "vms", "target_changes", "inflations",
		"deflations", "released_bytes", "pressure_ticks",
		"reclaim_ticks", "stalls", "fair_shares",
		"stats/host_available_pct", "stats/vms",
		"stats/target_changes", "stats/inflations", "stats/deflations",
		"stats/released_bytes", "stats/pressure_ticks",
		"stats/reclaim_ticks", "stats/stalls", "stats/fair_shares",
		NULL,
	};
	static const char * const sign[] = {
		"test_available_pct",
		NULL,
	};
	const char *bad = NULL;
	int r;

	r = vmaccel_sysfs_numbers(BALLOON_SYSFS, knobs, counters, sign, &bad);
	ASSERT_EQ(0, r) TH_LOG("%s%s: %s", BALLOON_SYSFS, bad, strerror(-r));
}

TEST_HARNESS_MAIN
