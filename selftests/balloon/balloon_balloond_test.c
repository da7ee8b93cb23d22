// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmaccel_balloon: vmaccel-balloond keeps serving its other VMs when one
 * QEMU hangs, dies and comes back.  Runs balloond_robust.py (next to this
 * source file; see it for what is checked): a QMP stand-in for a busy VM
 * under simulated pressure, a real paused QEMU that is stopped, killed and
 * started again, the daemon discovering both in its --qmp-dir.  The script
 * gets SIGTERM (and cleans up) if this program dies, e.g. at the harness's
 * timeout.  Skipped where the script is not found (the fault-injection
 * pass runs copies of the binaries).
 */
#include "balloon_util.h"
#include "../lib/vmaccel_srcdir.h"

#include <signal.h>
#include <sys/prctl.h>
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

TEST_F_TIMEOUT(balloond, one_qemu_hangs_dies_and_returns, 400)
{
	char script[600];
	pid_t pid;
	int st;

	ASSERT_EQ(0, vmaccel_src_path(script, sizeof(script),
				      "selftests/balloon/balloond_robust.py"));
	if (access(script, R_OK))
		SKIP(return, "%s: %s", script, strerror(errno));
	fflush(NULL);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		execlp("python3", "python3", script, (char *)NULL);
		_exit(127);
	}
	ASSERT_EQ(pid, waitpid(pid, &st, 0));
	ASSERT_TRUE(WIFEXITED(st));
	if (WEXITSTATUS(st) == 4)
		SKIP(return, "see the script's SKIP line above");
	EXPECT_EQ(0, WEXITSTATUS(st));
}

TEST_HARNESS_MAIN
