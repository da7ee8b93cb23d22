// SPDX-License-Identifier: GPL-2.0-only
/*
 * The libvirt tests of vhost, ksm and balloon: this one source is built
 * once per module, as build/selftests/<mod>/<mod>_libvirt_qemu_test, with
 * -DLIBVIRT_E2E_PART=<mod> (see the Makefile's selftests rules).  Each
 * program asserts its module's verdict of the one libvirt run:
 *
 * vhost: a KVM domain's <interface type='ethernet'> with
 *   <driver name='vhost'/> and <backend vhost='/dev/vmaccel-vhost-net'/>:
 *   QEMU holds our node (not /dev/vhost-net), the guest's virtio-net gets
 *   a DHCP lease and downloads 16 MiB whose sha256 it prints and that must
 *   match, and the device's sysfs totals carry that traffic.
 * ksm: qemu.conf's memory_backing_dir on a vmaccelfs mount and
 *   <memoryBacking><source type='file'/><access mode='shared'/>: each
 *   domain's RAM is a resident file there, mapped by QEMU; nothing is
 *   merged with the scanner stopped, a forced pass merges the two domains'
 *   duplicate memory (pages_sharing), and both guests keep running.
 * balloon: <memballoon model='virtio'> with stats, tools/vmaccel-balloond
 *   on a second QMP socket of the domain: under host pressure the guest
 *   inflates and its vmaccelfs RAM file gives back at least half of what
 *   the target asks, then deflates when the pressure is gone; the domain
 *   destroyed, the bridge unregisters it.
 *
 * See selftests/lib/libvirt_e2e.sh (what is run and checked) and
 * selftests/lib/libvirt_e2e.h (how the verdicts are shared).
 */
#include "libvirt_e2e.h"

#ifndef LIBVIRT_E2E_PART
#error "build with -DLIBVIRT_E2E_PART=vhost, ksm or balloon"
#endif

/* The test of each part, as its TAP lines have always named it. */
#define LIBVIRT_E2E_TEST_vhost	domains_use_our_node_for_dhcp_and_16mib_download
#define LIBVIRT_E2E_TEST_ksm	domain_ram_on_vmaccelfs_is_merged
#define LIBVIRT_E2E_TEST_balloon domain_inflates_under_host_pressure

#define LIBVIRT_E2E_PASTE(a, b)		a##b
#define LIBVIRT_E2E_NAME(part)		LIBVIRT_E2E_PASTE(LIBVIRT_E2E_TEST_, part)
#define LIBVIRT_E2E_STR(x)		#x
#define LIBVIRT_E2E_XSTR(x)		LIBVIRT_E2E_STR(x)

FIXTURE(libvirt) {
	int unused;
};

FIXTURE_SETUP(libvirt)
{
}

FIXTURE_TEARDOWN(libvirt)
{
}

TEST_F_TIMEOUT(libvirt, LIBVIRT_E2E_NAME(LIBVIRT_E2E_PART), LIBVIRT_E2E_SECS)
{
	const char *part = LIBVIRT_E2E_XSTR(LIBVIRT_E2E_PART);
	const char *unfit = libvirt_e2e_unfit();
	char why[1024];
	int r;

	if (unfit)
		SKIP(return, "%s", unfit);
	r = libvirt_e2e_verdict(part, why, sizeof(why));
	TH_LOG("%s: %s", part, why);
	if (r == 4)
		SKIP(return, "%s", why);
	ASSERT_EQ(0, r);
}

TEST_HARNESS_MAIN
