// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmaccel_balloon: the real-VMM test.  Runs balloon_qemu_e2e.sh (next to
 * this source file): a Linux guest under QEMU with virtio-balloon and its
 * RAM on vmaccelfs, tools/vmaccel-balloond as the bridge, real host
 * pressure; see the script for what is checked.  Slow under TCG (a few
 * minutes); skipped in the debug tier, whose KASAN kernel makes a nested
 * TCG guest too slow to be a fair test, and where the script is not found
 * (the fault-injection pass runs copies of the binaries).
 */
#include "balloon_util.h"
#include "../lib/vmaccel_srcdir.h"

#include <sys/wait.h>

FIXTURE(e2e) {
	int unused;
};

FIXTURE_SETUP(e2e)
{
}

FIXTURE_TEARDOWN(e2e)
{
}

/* Booting the guest alone takes one to two minutes under TCG. */
TEST_F_TIMEOUT(e2e, guest_gives_memory_back_under_host_pressure, 1200)
{
	char script[600], cmd[700];
	const char *tier = getenv("VMACCEL_TIER");
	int st;

	if (tier && !strcmp(tier, "debug"))
		SKIP(return, "nested QEMU under the KASAN kernel: too slow");
	ASSERT_EQ(0, vmaccel_src_path(script, sizeof(script),
				      "selftests/balloon/balloon_qemu_e2e.sh"));
	if (access(script, X_OK))
		SKIP(return, "%s: %s", script, strerror(errno));
	snprintf(cmd, sizeof(cmd), "sh '%s'", script);
	st = system(cmd);
	ASSERT_TRUE(WIFEXITED(st));
	if (WEXITSTATUS(st) == 4)
		SKIP(return, "see the script's SKIP line above");
	EXPECT_EQ(0, WEXITSTATUS(st));
}

TEST_HARNESS_MAIN
