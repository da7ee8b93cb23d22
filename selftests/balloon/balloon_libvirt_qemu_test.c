// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmaccel_balloon under libvirt: <memballoon model='virtio'> with stats,
 * tools/vmaccel-balloond on a second QMP socket of the domain: under host
 * pressure the guest inflates and its vmaccelfs RAM file gives back at
 * least half of what the target asks, then deflates when the pressure is
 * gone; the domain destroyed, the bridge unregisters it.
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

TEST_F_TIMEOUT(libvirt, domain_inflates_under_host_pressure, LIBVIRT_E2E_SECS)
{
	const char *unfit = libvirt_e2e_unfit();
	char why[1024];
	int r;

	if (unfit)
		SKIP(return, "%s", unfit);
	r = libvirt_e2e_verdict("balloon", why, sizeof(why));
	TH_LOG("balloon: %s", why);
	if (r == 4)
		SKIP(return, "%s", why);
	ASSERT_EQ(0, r);
}

TEST_HARNESS_MAIN
