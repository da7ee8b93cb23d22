// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmaccel_balloon: vmaccel-balloond keeps serving its other VMs when one
 * QEMU hangs, dies and comes back.  Runs balloond_robust.py (next to this
 * source file; see it for what is checked): a QMP stand-in for a busy VM
 * under simulated pressure, a real paused QEMU that is stopped, killed and
 * started again, the daemon discovering both in its --qmp-dir.  Skipped
 * where the script is not found (the fault-injection pass runs copies of
 * the binaries).
 */
#include "balloon_util.h"
#include "../lib/vmaccel_srcdir.h"

#include <sys/wait.h>

FIXTURE(balloond) {
	int unused;
};

FIXTURE_SETUP(balloond)
{
}

FIXTURE_TEARDOWN(balloond)
{
}

TEST_F_TIMEOUT(balloond, one_qemu_hangs_dies_and_returns, 300)
{
	char script[600], cmd[700];
	int st;

	ASSERT_EQ(0, vmaccel_src_path(script, sizeof(script),
				      "selftests/balloon/balloond_robust.py"));
	if (access(script, R_OK))
		SKIP(return, "%s: %s", script, strerror(errno));
	snprintf(cmd, sizeof(cmd), "python3 '%s'", script);
	st = system(cmd);
	ASSERT_TRUE(WIFEXITED(st));
	if (WEXITSTATUS(st) == 4)
		SKIP(return, "see the script's SKIP line above");
	EXPECT_EQ(0, WEXITSTATUS(st));
}

TEST_HARNESS_MAIN
