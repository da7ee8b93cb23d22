/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The fixture and helpers of the real-VMM tests: they run qemu-e2e.sh
 * (next to this file in the source tree) on our node and, after a failure
 * or when asked, on /dev/vhost-net as the control.
 */
#ifndef VHOST_E2E_H
#define VHOST_E2E_H

#include "vhost_util.h"
#include "../lib/vmaccel_srcdir.h"

#include <limits.h>
#include <sys/wait.h>

FIXTURE(e2e) {
	char script[PATH_MAX];
	char dir[64];
};

FIXTURE_SETUP(e2e)
{
	ASSERT_EQ(0, vmaccel_src_path(self->script, sizeof(self->script),
				      "selftests/vhost/qemu-e2e.sh"));
	if (access(self->script, R_OK))
		SKIP(return, "no qemu-e2e.sh (not run from the build tree)");
	snprintf(self->dir, sizeof(self->dir), "/tmp/vh-e2e.XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->dir));
}

FIXTURE_TEARDOWN(e2e)
{
	char cmd[128];

	if (self->dir[0]) {
		snprintf(cmd, sizeof(cmd), "rm -rf %s", self->dir);
		if (system(cmd))
			TH_LOG("cleanup failed");
	}
}

/* Runs the script; 0 ok, 1 fail, 4 skip (missing tool), -1 error. */
static int run_e2e(const char *script, const char *node, const char *tap,
		   const char *net, const char *dir, const char *guest)
{
	char cmd[PATH_MAX + 256], line[1024];
	int status, ret = -1;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "sh %s %s %s %s %s %s 2>&1", script, node,
		 tap, net, dir, guest);
	p = popen(cmd, "r");
	if (!p)
		return -1;
	while (fgets(line, sizeof(line), p)) {
		if (!strncmp(line, "E2E-RESULT", 10) || line[0] == '#')
			printf("# %s", line);
		fflush(stdout);
	}
	status = pclose(p);
	if (WIFEXITED(status))
		ret = WEXITSTATUS(status);
	return ret;
}

/*
 * Our node; then the control on /dev/vhost-net, which tells whether a
 * failure is the environment's (nested QEMU, dnsmasq, the guest kernel)
 * or ours.  A pass on our node needs no control, so the control runs only
 * after a failure, or always with VMACCEL_E2E_CONTROL=1 (the nested-QEMU
 * Linux guests take two minutes per run).
 */
static void e2e_both(struct __test_metadata *_metadata, const char *script,
		     const char *dir, const char *guest, const char *const *taps,
		     const char *const *nets)
{
	const char *always = getenv("VMACCEL_E2E_CONTROL");
	int ours, control;

	if (access(VH_DEV_DEFAULT, F_OK))
		SKIP(return, "module not loaded");
	ours = run_e2e(script, VH_DEV_DEFAULT, taps[0], nets[0], dir, guest);
	if (ours == 4)
		SKIP(return, "qemu, dnsmasq, python3, ip, busybox or a kernel missing");
	if (!ours && !(always && !strcmp(always, "1"))) {
		TH_LOG("our device passed; no control run (VMACCEL_E2E_CONTROL=1 runs it)");
		return;
	}
	if (system("modprobe vhost_net 2>/dev/null") == -1)
		TH_LOG("modprobe vhost_net could not run");
	if (access("/dev/vhost-net", F_OK)) {
		TH_LOG("no /dev/vhost-net: no control run");
		ASSERT_EQ(0, ours);
		return;
	}
	control = run_e2e(script, "/dev/vhost-net", taps[1], nets[1], dir, guest);
	if (ours)
		TH_LOG("our device failed; the control on /dev/vhost-net %s",
		       control ? "failed too (environment?)" : "passed");
	ASSERT_EQ(0, control);
	ASSERT_EQ(0, ours);
}

#endif /* VHOST_E2E_H */
