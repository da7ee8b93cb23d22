// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmaccel_balloon: targets under real host pressure.  Memory allocated in
 * this (test) machine pushes MemAvailable below the low watermark and the
 * VM's target goes down; freed, the target comes back.  drop_caches,
 * which runs every shrinker, is not pressure.
 */
#include "balloon_util.h"

#include <sys/sysinfo.h>

#define GUEST	(256 * MiB)
#define FLOOR	(32 * MiB)

FIXTURE(pressure) {
	int dev;
	int mem;
	int efd;
	int vm;
};

FIXTURE_SETUP(pressure)
{
	self->dev = balloon_open();
	if (self->dev < 0)
		SKIP(return, "%s: %s (module not loaded?)", BALLOON_DEV,
		     strerror(errno));
	balloon_defaults();
	self->mem = balloon_memfd(GUEST);
	ASSERT_LE(0, self->mem);
	self->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	ASSERT_LE(0, self->efd);
	self->vm = balloon_register(self->dev, self->mem, self->efd, GUEST,
				    FLOOR, GUEST);
	ASSERT_LE(0, self->vm);
	ASSERT_EQ(0, balloon_report_avail(self->vm, GUEST, GUEST));
}

FIXTURE_TEARDOWN(pressure)
{
	if (self->dev < 0)
		return;
	balloon_defaults();
	close(self->vm);
	close(self->efd);
	close(self->mem);
	close(self->dev);
}

TEST_F(pressure, allocation_in_the_host_inflates_then_deflates)
{
	long cur = balloon_knob("host_available_pct");
	long ticks = balloon_knob("pressure_ticks");
	struct sysinfo si;
	__u64 bytes, t = GUEST;
	char *p;
	int i;

	ASSERT_EQ(0, sysinfo(&si));
	if (cur < 30)
		SKIP(return, "only %ld %% of memory available", cur);
	/* A band just below what is available now. */
	/* high first: low_pct must stay below it. */
	ASSERT_EQ(0, balloon_setl("high_pct", cur - 5));
	ASSERT_EQ(0, balloon_setl("low_pct", cur - 10));
	ASSERT_EQ(0, balloon_set("interval_ms", "100"));
	ASSERT_EQ(0, balloon_set("step_pct", "10"));
	balloon_sleep_ms(300);
	EXPECT_EQ(GUEST, balloon_target_bytes(self->vm));

	/* Take 15 % of RAM: available drops below the low watermark. */
	bytes = (__u64)si.totalram * si.mem_unit * 15 / 100;
	p = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	ASSERT_NE(MAP_FAILED, p);
	memset(p, 0x5a, bytes);
	TH_LOG("available %ld %% -> %ld %% (band %ld-%ld)", cur,
	       balloon_knob("host_available_pct"), cur - 10, cur - 5);
	ASSERT_NE(0ULL, balloon_wait_event(self->efd, 5000));
	t = balloon_target_bytes(self->vm);
	EXPECT_LT(t, GUEST);
	EXPECT_LT(ticks, balloon_knob("pressure_ticks"));

	/* Freed: the target goes back up to the ceiling. */
	munmap(p, bytes);
	for (i = 0; i < 100 && t < GUEST; i++) {
		balloon_sleep_ms(100);
		t = balloon_target_bytes(self->vm);
	}
	EXPECT_EQ(GUEST, t);
}

/*
 * drop_caches runs every shrinker but is not memory pressure: no
 * allocation stalled.  The target must hold (the old shrinker counted the
 * guests' spare memory as its objects, and drop_caches inflated them).
 */
TEST_F(pressure, drop_caches_is_not_pressure)
{
	long reclaim = balloon_knob("reclaim_ticks"), ticks;
	int fd, i;

	if (vmaccel_fault_injected())
		SKIP(return, "no drop_caches under fault injection");
	/* Inside the band: only reclaim could move the target. */
	ASSERT_EQ(0, balloon_set("test_available_pct", "25"));
	ASSERT_EQ(0, balloon_set("interval_ms", "100"));
	balloon_sleep_ms(300);
	ASSERT_EQ(GUEST, balloon_target_bytes(self->vm));
	ticks = balloon_knob("pressure_ticks");
	for (i = 0; i < 3; i++) {
		fd = open("/proc/sys/vm/drop_caches", O_WRONLY);
		if (fd < 0)
			SKIP(return, "drop_caches: %s", strerror(errno));
		ASSERT_EQ(2, write(fd, "3\n", 2));
		close(fd);
		balloon_sleep_ms(200);
	}
	EXPECT_EQ(0ULL, balloon_wait_event(self->efd, 500));
	EXPECT_EQ(GUEST, balloon_target_bytes(self->vm));
	EXPECT_EQ(ticks, balloon_knob("pressure_ticks"));
	EXPECT_EQ(reclaim, balloon_knob("reclaim_ticks"));
}

TEST_HARNESS_MAIN
