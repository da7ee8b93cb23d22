// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmaccel_pvlock selftest: an unlocker kicks the waiter of its own lock and
 * ticket, never a registration that took the slot while it was checking it.
 *
 * An unlocker scans the waiting slots for (lock, ticket).  A slot can end
 * one registration and start another between two reads of the unlocker:
 * read the lock of the old registration and the ticket of the new one, and
 * the unlocker takes the waiter of another lock for its own.  Reading
 * /sys/kernel/debug/vmaccel_pvlock/stale_kick makes that happen on purpose
 * (a torture hook turns the slot over between the two reads, see
 * pvlock_stale_kick_check()) and reports whether the unlocker marked or
 * kicked the new registration.  Reading stale_mark turns the slot over
 * later: the unlocker found the waiter of its lock, whose registration
 * then ends (its waiter has the lock) before the unlocker marks it.
 * Reading stale_premark marks the waiter the unlocker found kicked before
 * the unlocker does (as a stale unlocker could): it must still be kicked.
 *
 * The unlocker reaches the slot through the waiter hash (the check places
 * the slot's entry where the unlocker looks); with debugfs hash_probes 0
 * the slot has no entry and the unlocker's scan of all slots reaches it:
 * each check is made both ways.
 */
#include "pvlock_util.h"

#define STALE_KICK	PVLOCK_DEBUGFS "stale_kick"
#define STALE_MARK	PVLOCK_DEBUGFS "stale_mark"
#define STALE_PREMARK	PVLOCK_DEBUGFS "stale_premark"
#define HASH_PROBES	PVLOCK_DEBUGFS "hash_probes"

/* Read @file 4 times; every round must report @want marks and kicks. */
static void stale_check(struct __test_metadata *_metadata, const char *file,
			bool want)
{
	unsigned long long rounds, turned, marked, kicked;
	char buf[256];
	int i, n;

	for (i = 0; i < 4; i++) {
		ASSERT_EQ(0, pvlock_sysfs_read(file, buf, sizeof(buf))) {
			TH_LOG("%s: %s", file, strerror(errno));
		}
		n = sscanf(buf, "rounds %llu turned %llu marked %llu kicked %llu",
			   &rounds, &turned, &marked, &kicked);
		ASSERT_EQ(4, n) {
			TH_LOG("%s: %s", file, buf);
		}
		TH_LOG("%s", buf);
		/* The hook did run on the unlocker's slot... */
		ASSERT_GT(rounds, 0ULL);
		EXPECT_EQ(rounds, turned);
		/*
		 * ...which kicked nothing when no waiter of its lock was
		 * left, and kicked the one that was marked already.
		 */
		EXPECT_EQ(want ? rounds : 0ULL, marked);
		EXPECT_EQ(want ? rounds : 0ULL, kicked);
	}
}

TEST_F(pvlock, unlocker_never_kicks_a_slot_turned_over)
{
	stale_check(_metadata, STALE_KICK, false);
}

/*
 * A registration that ended between find and mark costs no kick (it used
 * to be counted as one and woken if its slot's new waiter halted).
 */
TEST_F(pvlock, unlocker_never_kicks_a_slot_turned_over_before_the_mark)
{
	stale_check(_metadata, STALE_MARK, false);
}

/*
 * The registration found was marked already (by a stale unlocker): it is
 * still the waiter this unlock serves, and is kicked.  A version that
 * skipped it left a halted waiter asleep (reverted in 6210311).
 */
TEST_F(pvlock, unlocker_kicks_its_waiter_marked_by_another)
{
	stale_check(_metadata, STALE_PREMARK, true);
}

/*
 * The three checks again, the slot reached by the scan (no hash entry):
 * hash_probes 0 for the test, put back by the teardown even when a check
 * failed, so that later tests use the hash again.
 */
FIXTURE(scan) {
	char probes[32];
};

FIXTURE_SETUP(scan)
{
	ASSERT_EQ(0, pvlock_sysfs_read(HASH_PROBES, self->probes,
				       sizeof(self->probes)));
	ASSERT_EQ(0, pvlock_sysfs_write(HASH_PROBES, "0"));
}

FIXTURE_TEARDOWN(scan)
{
	if (self->probes[0] && pvlock_sysfs_write(HASH_PROBES, self->probes))
		TH_LOG("could not put hash_probes back to %s", self->probes);
}

TEST_F(scan, scan_never_kicks_a_slot_turned_over)
{
	stale_check(_metadata, STALE_KICK, false);
}

TEST_F(scan, scan_never_kicks_a_slot_turned_over_before_the_mark)
{
	stale_check(_metadata, STALE_MARK, false);
}

TEST_F(scan, scan_kicks_its_waiter_marked_by_another)
{
	stale_check(_metadata, STALE_PREMARK, true);
}

TEST_HARNESS_MAIN
