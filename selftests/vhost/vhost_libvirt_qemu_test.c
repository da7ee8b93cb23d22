// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmaccel_vhost_net under libvirt: a KVM domain's <interface type='ethernet'>
 * with <driver name='vhost'/> and <backend vhost='/dev/vmaccel-vhost-net'/>:
 * QEMU holds our node (not /dev/vhost-net), the guest's virtio-net gets a
 * DHCP lease and downloads 16 MiB whose sha256 it prints and that must
 * match, and the device's sysfs totals carry that traffic.
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

TEST_F_TIMEOUT(libvirt, domains_use_our_node_for_dhcp_and_16mib_download, LIBVIRT_E2E_SECS)
{
	const char *unfit = libvirt_e2e_unfit();
	char why[1024];
	int r;

	if (unfit)
		SKIP(return, "%s", unfit);
	r = libvirt_e2e_verdict("vhost", why, sizeof(why));
	TH_LOG("vhost: %s", why);
	if (r == 4)
		SKIP(return, "%s", why);
	ASSERT_EQ(0, r);
}

TEST_HARNESS_MAIN
