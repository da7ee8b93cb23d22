// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmaccel_vhost_net selftest: live migration with a real VMM.  Two stock
 * QEMUs (TCG), each with vhostfd on /dev/vmaccel-vhost-net; the Linux guest
 * is downloading a 16 MiB file when the source migrates to the
 * destination (qemu-migrate.sh).  The device must mark what it writes in
 * QEMU's dirty log: at the switchover both sides' guest RAM must be the
 * same page for page, and on the destination the download in flight and
 * one more complete with the file's sha256.  The same run on
 * /dev/vhost-net is the control.
 */
#include "vhost_e2e.h"

TEST_F_TIMEOUT(e2e, stock_qemu_live_migration_during_download, 2400)
{
	static const char *const taps[] = { "vhm0", "vhm1" };
	static const char *const nets[] = { "10.77.5", "10.77.6" };

	ASSERT_EQ(0, vmaccel_src_path(self->script, sizeof(self->script),
				      "selftests/vhost/qemu-migrate.sh"));
	if (access(self->script, R_OK))
		SKIP(return, "no qemu-migrate.sh (not run from the build tree)");
	e2e_both(_metadata, self->script, self->dir, "linux", taps, nets);
}

TEST_HARNESS_MAIN
