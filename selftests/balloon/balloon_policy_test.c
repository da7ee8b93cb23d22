// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmaccel_balloon: targets under simulated host pressure
 * (test_available_pct): proportional to what each guest can spare, step
 * limited, never below the floor, held between the watermarks, given back
 * when pressure eases; the eventfd fires on every change; a VM that does
 * not give memory back is marked stalled and no longer asked.
 */
#include "balloon_util.h"

#include <sys/sysinfo.h>

#define GUEST	(256 * MiB)
#define FLOOR	(64 * MiB)
/*
 * The tests that fault in all of a guest's RAM (65536 pages) get more than
 * the harness's 30 s.  One of them was killed at 30 s once in CI (it takes
 * about 2 s here; the cause was not found): they log how long the faulting
 * took, and tools/run-tests prints the machine's state after a timeout.
 * Every wait in them is bounded.
 */
#define TOUCH_SECS	180

FIXTURE(policy) {
	int dev;
	int mem[3];
	int efd[3];
	int vm[3];
};

FIXTURE_SETUP(policy)
{
	int i;

	self->dev = balloon_open();
	if (self->dev < 0)
		SKIP(return, "%s: %s (module not loaded?)", BALLOON_DEV,
		     strerror(errno));
	balloon_defaults();
	/* Ticks only when a knob changes, unless a test shortens this. */
	ASSERT_EQ(0, balloon_set("interval_ms", "60000"));
	for (i = 0; i < 3; i++) {
		self->mem[i] = balloon_memfd(GUEST);
		ASSERT_LE(0, self->mem[i]);
		self->efd[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		ASSERT_LE(0, self->efd[i]);
		self->vm[i] = balloon_register(self->dev, self->mem[i],
					       self->efd[i], GUEST, FLOOR,
					       GUEST);
		ASSERT_LE(0, self->vm[i]);
	}
}

FIXTURE_TEARDOWN(policy)
{
	int i;

	if (self->dev < 0)
		return;
	balloon_defaults();
	for (i = 0; i < 3; i++) {
		close(self->vm[i]);
		close(self->efd[i]);
		close(self->mem[i]);
	}
	close(self->dev);
}

/* Faults in all of @fd (GUEST bytes); -1 on failure, else the ms it took. */
static long long touch_all(int fd)
{
	struct timespec t0, t1;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (balloon_touch(fd, 0, GUEST))
		return -1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (t1.tv_sec - t0.tv_sec) * 1000LL +
	       (t1.tv_nsec - t0.tv_nsec) / 1000000;
}

static __u64 total_ram(void)
{
	struct sysinfo si;

	if (sysinfo(&si))
		return 0;
	return (__u64)si.totalram * si.mem_unit;
}

TEST_F(policy, proportional_to_what_guests_can_spare)
{
	__u64 need, give0, give1, spare0, spare1, keep = GUEST / 10;

	/* VM 0 can spare 150 MiB, VM 1 50 MiB; VM 2 never reported. */
	ASSERT_EQ(0, balloon_report_avail(self->vm[0], 150 * MiB + keep, GUEST));
	ASSERT_EQ(0, balloon_report_avail(self->vm[1], 50 * MiB + keep, GUEST));
	spare0 = 150 * MiB;
	spare1 = 50 * MiB;
	ASSERT_EQ(0, balloon_set("step_pct", "50"));
	/* Band 30-40; 29 % available: 6 % below its middle. */
	ASSERT_EQ(0, balloon_set("high_pct", "40"));
	ASSERT_EQ(0, balloon_set("low_pct", "30"));
	ASSERT_EQ(0, balloon_set("test_available_pct", "29"));
	need = total_ram() * 6 / 100;
	ASSERT_LT(need, spare0 + spare1);

	ASSERT_NE(0ULL, balloon_wait_event(self->efd[0], 5000));
	ASSERT_NE(0ULL, balloon_wait_event(self->efd[1], 5000));
	give0 = GUEST - balloon_target_bytes(self->vm[0]);
	give1 = GUEST - balloon_target_bytes(self->vm[1]);
	TH_LOG("need %llu MiB: VM0 gives %llu KiB, VM1 %llu KiB",
	       need >> 20, give0 >> 10, give1 >> 10);
	/* Together what the host needs (page rounding aside). */
	EXPECT_LE(give0 + give1, need);
	EXPECT_GE(give0 + give1 + 2 * 4096, need);
	/* In proportion: 3:1, within a page of rounding each. */
	EXPECT_LE(give1 * 3, give0 + 4 * 4096);
	EXPECT_GE(give1 * 3 + 4 * 4096, give0);
	/* The VM without statistics is not asked. */
	EXPECT_EQ(GUEST, balloon_target_bytes(self->vm[2]));
	EXPECT_EQ(0ULL, balloon_wait_event(self->efd[2], 0));
}

TEST_F(policy, step_limited_never_below_floor_then_back)
{
	__u64 prev[2] = { GUEST, GUEST }, step = GUEST * 5 / 100, t;
	int i, round, changes = 0;

	for (i = 0; i < 2; i++)
		ASSERT_EQ(0, balloon_report_avail(self->vm[i], GUEST, GUEST));
	ASSERT_EQ(0, balloon_set("test_available_pct", "0"));
	ASSERT_EQ(0, balloon_set("interval_ms", "100"));
	/* 5 % steps of 256 MiB from 256 to the 64 MiB floor: 16 ticks. */
	for (round = 0; round < 200; round++) {
		balloon_sleep_ms(50);
		for (i = 0; i < 2; i++) {
			t = balloon_target_bytes(self->vm[i]);
			ASSERT_LE(t, prev[i]);
			/* Never more than one step per tick. */
			if (t < prev[i]) {
				changes++;
				EXPECT_LE(prev[i] - t, step + 4096);
			}
			ASSERT_GE(t, FLOOR);
			prev[i] = t;
		}
		if (prev[0] == FLOOR && prev[1] == FLOOR)
			break;
	}
	EXPECT_EQ(FLOOR, prev[0]);
	EXPECT_EQ(FLOOR, prev[1]);
	EXPECT_LE(2 * 10, changes);
	/* Guest 256 MiB with 10 % kept: spare stops at the floor. */
	balloon_sleep_ms(300);
	EXPECT_EQ(FLOOR, balloon_target_bytes(self->vm[0]));

	/* Pressure gone: every VM back to its ceiling, step by step. */
	ASSERT_EQ(0, balloon_set("test_available_pct", "90"));
	for (round = 0; round < 200; round++) {
		balloon_sleep_ms(50);
		for (i = 0; i < 3; i++) {
			t = balloon_target_bytes(self->vm[i]);
			if (i < 2) {
				ASSERT_GE(t, prev[i]);
				EXPECT_LE(t - prev[i], 2 * step + 4096);
				prev[i] = t;
			}
		}
		if (prev[0] == GUEST && prev[1] == GUEST)
			break;
	}
	EXPECT_EQ(GUEST, prev[0]);
	EXPECT_EQ(GUEST, prev[1]);
	EXPECT_LT(0, balloon_knob("deflations"));
}

TEST_F(policy, held_between_watermarks_and_when_disabled)
{
	struct vmaccel_balloon_target t0, t1;

	ASSERT_EQ(0, balloon_report_avail(self->vm[0], GUEST, GUEST));
	ASSERT_EQ(0, balloon_set("interval_ms", "100"));
	/* Inside the band: hold. */
	ASSERT_EQ(0, balloon_set("test_available_pct", "25"));
	balloon_sleep_ms(500);
	ASSERT_EQ(0, balloon_target(self->vm[0], &t0));
	EXPECT_EQ(GUEST, t0.target_bytes);
	EXPECT_EQ(0ULL, t0.seq);
	/* Disabled: hold even under pressure. */
	ASSERT_EQ(0, balloon_set("enabled", "0"));
	ASSERT_EQ(0, balloon_set("test_available_pct", "0"));
	balloon_sleep_ms(500);
	ASSERT_EQ(0, balloon_target(self->vm[0], &t1));
	EXPECT_EQ(0ULL, t1.seq);
	EXPECT_EQ(0ULL, balloon_wait_event(self->efd[0], 0));
	/* Enabled again: the next tick acts. */
	ASSERT_EQ(0, balloon_set("enabled", "1"));
	ASSERT_NE(0ULL, balloon_wait_event(self->efd[0], 5000));
	ASSERT_EQ(0, balloon_target(self->vm[0], &t1));
	EXPECT_LT(t1.target_bytes, GUEST);
	EXPECT_LE(1ULL, t1.seq);
	EXPECT_NE(0ULL, t1.changed_ns);
}

TEST_F_TIMEOUT(policy, release_measured_and_stall_detected, TOUCH_SECS)
{
	struct vmaccel_balloon_account a;
	long long ms;
	__u64 target;

	/* VM 0 has all its RAM resident and can spare a lot. */
	ms = touch_all(self->mem[0]);
	ASSERT_LE(0, ms);
	TH_LOG("faulted in %llu MiB in %lld ms", GUEST / MiB, ms);
	ASSERT_EQ(0, balloon_report_avail(self->vm[0], GUEST, GUEST));
	ASSERT_EQ(0, balloon_set("stall_ms", "300"));
	ASSERT_EQ(0, balloon_set("step_pct", "10"));
	ASSERT_EQ(0, balloon_set("test_available_pct", "10"));
	ASSERT_NE(0ULL, balloon_wait_event(self->efd[0], 5000));
	target = balloon_target_bytes(self->vm[0]);
	ASSERT_LT(target, GUEST);

	/* The VMM does nothing: stalled after stall_ms, and not asked again. */
	ASSERT_EQ(0, balloon_set("interval_ms", "100"));
	balloon_sleep_ms(800);
	ASSERT_EQ(0, balloon_account(self->vm[0], &a));
	EXPECT_EQ(VMACCEL_BALLOON_ACCT_STALLED, a.flags);
	EXPECT_EQ(0ULL, a.last_release_ns);
	EXPECT_EQ(target, balloon_target_bytes(self->vm[0]));
	EXPECT_LT(0, balloon_knob("stalls"));

	/* The VMM gives back what was asked: measured on the file. */
	ASSERT_EQ(0, balloon_punch(self->mem[0], target, GUEST - target));
	ASSERT_EQ(0, balloon_account(self->vm[0], &a));
	EXPECT_EQ(0U, a.flags);
	EXPECT_NE(0ULL, a.last_release_ns);
	EXPECT_EQ(target, a.resident_bytes);
	EXPECT_EQ(GUEST - target, a.released_bytes);
}

TEST_F_TIMEOUT(policy, vmm_that_answers_is_asked_again, TOUCH_SECS)
{
	struct vmaccel_balloon_account a;
	__u64 target, last = GUEST;
	int i, releases = 0;
	long long ms;

	ms = touch_all(self->mem[0]);
	ASSERT_LE(0, ms);
	TH_LOG("faulted in %llu MiB in %lld ms", GUEST / MiB, ms);
	ASSERT_EQ(0, balloon_report_avail(self->vm[0], GUEST, GUEST));
	ASSERT_EQ(0, balloon_set("interval_ms", "100"));
	ASSERT_EQ(0, balloon_set("test_available_pct", "10"));
	/* Act as the VMM: on each event, give back down to the target. */
	for (i = 0; i < 100 && last > FLOOR; i++) {
		if (!balloon_wait_event(self->efd[0], 2000))
			break;
		target = balloon_target_bytes(self->vm[0]);
		if (target < last) {
			ASSERT_EQ(0, balloon_punch(self->mem[0], target,
						   last - target));
			releases++;
		}
		last = target;
	}
	EXPECT_EQ(FLOOR, last);
	ASSERT_EQ(0, balloon_account(self->vm[0], &a));
	EXPECT_EQ(0U, a.flags);
	EXPECT_EQ(FLOOR, a.resident_bytes);
	EXPECT_EQ(GUEST - FLOOR, a.released_bytes);
	EXPECT_NE(0ULL, a.last_release_ns);
	TH_LOG("%d releases, last one measured %llu us after its target",
	       releases, a.last_release_ns / 1000);
}

TEST_HARNESS_MAIN
