// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmaccel_vic selftest: what a Linux guest sees.  bench/vic/vic_e2e.sh -c
 * boots the running kernel in stock QEMU (TCG) with two virtio-net NICs on
 * /dev/vmaccel-vhost-net, one opened with vic off and one with adaptive
 * (with the script's knobs scaled to a nested TCG guest), and runs, one
 * round, a request/response phase (UDP, one transaction in flight), a TCP
 * stream from the host to the guest (it must complete; its numbers are
 * printed, not checked) and a UDP stream to the guest on each NIC (the
 * script's tx phase, a TCP stream from the guest, is left out).  It
 * asserts behaviour only, never time: during the request/response phases
 * of the adaptive NIC, vic deferred no completion and fired no backstop
 * (its deferred and backstop totals, read on the host at the phase's
 * begin and end), vic off deferred nothing anywhere, and on the UDP
 * stream adaptive deferred completions and gave fewer guest interrupts
 * per packet (the guest's /proc/interrupts) than off.  Skips when
 * QEMU, the guest kernel, busybox, cpio, vmaccel_vhost_net or the bench's
 * client are missing.
 */
#include "vic_util.h"
#include "../lib/vmaccel_srcdir.h"

#include <limits.h>
#include <sys/wait.h>

FIXTURE(e2e) {
	char dir[32];
};

FIXTURE_SETUP(e2e)
{
	snprintf(self->dir, sizeof(self->dir), "/tmp/vic-e2e.XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->dir));
}

FIXTURE_TEARDOWN(e2e)
{
	char cmd[64];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", self->dir);
	if (system(cmd))
		TH_LOG("cleanup of %s failed", self->dir);
}

TEST_F_TIMEOUT(e2e, linux_guest_stream_coalesced_cif1_not, 900)
{
	char script[PATH_MAX], cmd[PATH_MAX + 128], line[512];
	const char *tier = getenv("VMACCEL_TIER");
	int status, ret = -1;
	FILE *p;

	if (tier && !strcmp(tier, "debug"))
		SKIP(return, "nested QEMU does not fit the debug tier's time");

	ASSERT_EQ(0, vmaccel_src_path(script, sizeof(script),
				      "bench/vic/vic_e2e.sh"));
	if (access(script, R_OK))
		SKIP(return, "no bench/vic/vic_e2e.sh (not run from the build tree)");
	/* Ends itself (and QEMU) before its target's timeout (settings: 900 s). */
	snprintf(cmd, sizeof(cmd),
		 "E2E_TIMEOUT=780 sh %s -c -r 1 -n 300 -b 1048576 -u 200 -p 100 -s 'rr rx ux' %s 2>&1",
		 script, self->dir);
	p = popen(cmd, "r");
	ASSERT_NE(NULL, p);
	while (fgets(line, sizeof(line), p)) {
		printf("# %s", line);
		fflush(stdout);
	}
	status = pclose(p);
	if (WIFEXITED(status))
		ret = WEXITSTATUS(status);
	if (ret == 4)
		SKIP(return, "qemu, a guest kernel, busybox, cpio or a module missing");
	ASSERT_EQ(0, ret);
}

TEST_HARNESS_MAIN
