// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmaccel_ksm under libvirt: qemu.conf's memory_backing_dir on a vmaccelfs
 * mount and <memoryBacking><source type='file'/><access mode='shared'/>:
 * each domain's RAM is a resident file there, mapped by QEMU; nothing is
 * merged with the scanner stopped, a forced pass merges the two domains'
 * duplicate memory (pages_sharing), and both guests keep running.
 * One libvirt run checks vhost, ksm and balloon together: see
 * selftests/lib/libvirt_e2e.sh (what is run and checked) and
 * selftests/lib/libvirt_e2e.h (how the verdicts are shared).
 */
#include "../lib/libvirt_e2e.h"

FIXTURE(libvirt) {
	int unused;
};

FIXTURE_SETUP(libvirt)
{
}

FIXTURE_TEARDOWN(libvirt)
{
}

TEST_F_TIMEOUT(libvirt, domain_ram_on_vmaccelfs_is_merged, LIBVIRT_E2E_SECS)
{
	const char *unfit = libvirt_e2e_unfit();
	char why[1024];
	int r;

	if (unfit)
		SKIP(return, "%s", unfit);
	r = libvirt_e2e_verdict("ksm", why, sizeof(why));
	TH_LOG("ksm: %s", why);
	if (r == 4)
		SKIP(return, "%s", why);
	ASSERT_EQ(0, r);
}

TEST_HARNESS_MAIN
