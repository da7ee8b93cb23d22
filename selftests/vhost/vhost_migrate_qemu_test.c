// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmaccel_vhost_net selftest: live migration with a real VMM.  Two stock
 * QEMUs (TCG) with vhostfd on /dev/vmaccel-vhost-net; the Linux guest keeps
 * downloading a 16 MiB file and checking its sha256 while the source
 * migrates to the destination on the same host (qemu-migrate.sh).  QEMU
 * refuses to migrate a vhost device without VHOST_F_LOG_ALL, and what the
 * device writes into guest memory during the migration reaches the
 * destination only through its dirty log: the download in flight must end
 * on the destination with the right checksum.  The same run on
 * /dev/vhost-net is the control.
 */
#include "vhost_e2e.h"

TEST_F_TIMEOUT(e2e, stock_qemu_live_migration_during_download, 2400)
{
	static const char *const taps[] = { "vhm0", "vhm1" };
	static const char *const nets[] = { "10.77.5", "10.77.6" };
	char script[PATH_MAX];

	ASSERT_EQ(0, vmaccel_src_path(script, sizeof(script),
				      "selftests/vhost/qemu-migrate.sh"));
	ASSERT_EQ(0, access(script, R_OK));
	e2e_both(_metadata, script, self->dir, "migrate", taps, nets);
}

TEST_HARNESS_MAIN
