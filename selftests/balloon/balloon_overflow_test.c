// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmaccel_balloon: VMM- and guest-supplied sizes at the ends of u64.
 *
 * A VMM chooses its guest's RAM size (any file size, up to 2^63 - 1 for a
 * sparse memfd) and relays the guest's statistics (any u64).  The policy's
 * arithmetic must give the same decisions as with exact arithmetic:
 *
 * - free + caches that wrap past 2^64 must not hide a guest from pressure;
 * - guest_free_pct and step_pct of a huge guest must not wrap (a wrapped
 *   "keep" asks a guest for memory it needs);
 * - the sum of what many huge guests can spare must not wrap (a wrapped
 *   total asks every guest for the host's whole need).
 */
#include "balloon_util.h"

#include <sys/sysinfo.h>

#define HUGE_GUEST	0x4000000000000000ull	/* 2^62 */
#define FLOOR		(64 * MiB)
#define NR_VMS		5

FIXTURE(ovf) {
	int dev;
	int mem[NR_VMS];
	int efd[NR_VMS];
	int vm[NR_VMS];
	bool ready;
};

FIXTURE_SETUP(ovf)
{
	int i;

	self->dev = balloon_open();
	if (self->dev < 0)
		SKIP(return, "%s: %s (module not loaded?)", BALLOON_DEV,
		     strerror(errno));
	balloon_defaults();
	/* Ticks only when a knob changes. */
	ASSERT_EQ(0, balloon_set("interval_ms", "60000"));
	for (i = 0; i < NR_VMS; i++) {
		self->mem[i] = balloon_memfd(HUGE_GUEST);
		ASSERT_LE(0, self->mem[i]);
		self->efd[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		ASSERT_LE(0, self->efd[i]);
		self->vm[i] = balloon_register(self->dev, self->mem[i],
					       self->efd[i], HUGE_GUEST, FLOOR,
					       HUGE_GUEST);
		ASSERT_LE(0, self->vm[i]);
	}
	self->ready = true;
}

FIXTURE_TEARDOWN(ovf)
{
	int i;

	if (self->dev < 0)
		return;
	balloon_defaults();
	for (i = 0; i < NR_VMS && self->ready; i++) {
		close(self->vm[i]);
		close(self->efd[i]);
		close(self->mem[i]);
	}
	close(self->dev);
}

static __u64 total_ram(void)
{
	struct sysinfo si;

	if (sysinfo(&si))
		return 0;
	return (__u64)si.totalram * si.mem_unit;
}

/*
 * Band 30-40 %, 29 % available: the host needs 6 % of its RAM (*@need).
 * Return: 0, or -errno of the knob write that failed.
 */
static int pressure(__u64 *need)
{
	int r;

	/* In the band first: real memory must not decide a tick meanwhile. */
	r = balloon_set("test_available_pct", "35");
	if (!r)
		r = balloon_set("high_pct", "40");
	if (!r)
		r = balloon_set("low_pct", "30");
	if (!r)
		r = balloon_set("test_available_pct", "29");
	*need = total_ram() * 6 / 100;
	return r;
}

TEST_F(ovf, free_plus_caches_past_2_64_still_pressured)
{
	__u64 need;
	long shares;

	if (!self->ready)
		return;
	shares = balloon_knob("fair_shares");
	/*
	 * 2^63 + 2^63 wraps to 0: "nothing available" would leave it only
	 * its fair share of what the others cannot give (fair_shares).
	 */
	ASSERT_EQ(0, balloon_report2(self->vm[0],
				     TAG_MEMFREE, 0x8000000000000000ull,
				     TAG_CACHES, 0x8000000000000000ull));
	ASSERT_EQ(0, pressure(&need));
	ASSERT_NE(0ULL, balloon_wait_event(self->efd[0], 5000)) {
		TH_LOG("the guest that reported 2^64 bytes free was not asked");
	}
	EXPECT_GT(HUGE_GUEST, balloon_target_bytes(self->vm[0]));
	EXPECT_LE(HUGE_GUEST - balloon_target_bytes(self->vm[0]), need);
	/* Asked for what it said it can spare, not for a fair share. */
	EXPECT_EQ(shares, balloon_knob("fair_shares"));
}

TEST_F(ovf, guest_free_pct_of_a_huge_guest_does_not_wrap)
{
	__u64 need;
	long ticks, shares;
	int i;

	if (!self->ready)
		return;
	/*
	 * Keep 90 % of 2^62 for the guest; it has 50 % available, so it has
	 * nothing to spare.  90 * 2^62 wraps to 2 * 2^62: keep would be 2 %,
	 * and the guest asked for what it "can spare".  Offering nothing in
	 * its statistics, it is asked its fair share of the host's need
	 * (fair_shares): no more than the need, and counted as such.
	 */
	ASSERT_EQ(0, balloon_set("guest_free_pct", "90"));
	ASSERT_EQ(0, balloon_report2(self->vm[0], TAG_AVAIL, HUGE_GUEST / 2,
				     TAG_MEMTOT, HUGE_GUEST));
	ticks = balloon_knob("pressure_ticks");
	shares = balloon_knob("fair_shares");
	ASSERT_EQ(0, pressure(&need));
	for (i = 0; i < 50 && balloon_knob("pressure_ticks") == ticks; i++)
		balloon_sleep_ms(100);
	EXPECT_LT(ticks, balloon_knob("pressure_ticks"));
	ASSERT_NE(0ULL, balloon_wait_event(self->efd[0], 5000));
	EXPECT_LE(HUGE_GUEST - balloon_target_bytes(self->vm[0]), need);
	/* Through the fair share (every VM here offers nothing). */
	EXPECT_LT(shares, balloon_knob("fair_shares"));
}

TEST_F(ovf, sum_of_huge_guests_does_not_wrap)
{
	__u64 need, given = 0, t;
	int i;

	if (!self->ready)
		return;
	/* Each can spare ~2^62; five of them wrap a u64 total. */
	ASSERT_EQ(0, balloon_set("guest_free_pct", "0"));
	ASSERT_EQ(0, balloon_set("step_pct", "50"));
	for (i = 0; i < NR_VMS; i++)
		ASSERT_EQ(0, balloon_report2(self->vm[i], TAG_AVAIL,
					     HUGE_GUEST, TAG_MEMTOT,
					     HUGE_GUEST));
	ASSERT_EQ(0, pressure(&need));
	for (i = 0; i < NR_VMS; i++)
		ASSERT_NE(0ULL, balloon_wait_event(self->efd[i], 5000));
	for (i = 0; i < NR_VMS; i++) {
		t = balloon_target_bytes(self->vm[i]);
		ASSERT_GE(HUGE_GUEST, t);
		given += HUGE_GUEST - t;
	}
	TH_LOG("need %llu MiB, asked %llu MiB of %d guests", need >> 20,
	       given >> 20, NR_VMS);
	/* What the host needs, page rounding aside; not NR_VMS times it. */
	EXPECT_LE(given, need);
	EXPECT_GE(given + NR_VMS * 4096ull, need);
}

TEST_HARNESS_MAIN
