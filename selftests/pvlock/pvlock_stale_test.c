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
 * kicked the new registration.
 */
#include "pvlock_util.h"

#define STALE_KICK	PVLOCK_DEBUGFS "stale_kick"

TEST_F(pvlock, unlocker_never_kicks_a_slot_turned_over)
{
	unsigned long long rounds, turned, marked, kicked;
	char buf[256];
	int i, n;

	for (i = 0; i < 4; i++) {
		ASSERT_EQ(0, pvlock_sysfs_read(STALE_KICK, buf, sizeof(buf))) {
			TH_LOG("%s: %s", STALE_KICK, strerror(errno));
		}
		n = sscanf(buf, "rounds %llu turned %llu marked %llu kicked %llu",
			   &rounds, &turned, &marked, &kicked);
		ASSERT_EQ(4, n) {
			TH_LOG("%s: %s", STALE_KICK, buf);
		}
		TH_LOG("%s", buf);
		/* The hook did turn the slot over under the unlocker... */
		ASSERT_GT(rounds, 0ULL);
		EXPECT_EQ(rounds, turned);
		/* ...which kicked nothing: no waiter of its lock existed. */
		EXPECT_EQ(0ULL, marked);
		EXPECT_EQ(0ULL, kicked);
	}
}

TEST_HARNESS_MAIN
