// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmaccel_vhost_net selftest: a real VMM.  Stock QEMU (TCG) with
 * -netdev tap,...,vhost=on,vhostforce=on,vhostfd=N on /dev/vmaccel-vhost-net
 * boots iPXE, whose real virtio-net driver gets a DHCP lease from dnsmasq
 * and downloads a 16 MiB file over HTTP (see qemu-e2e.sh).  The same run on
 * the stock /dev/vhost-net is the control: if it fails, the environment is
 * broken and the test says so instead of blaming our device.
 * vhost_linux_qemu_test does the same with a Linux guest.
 */
#include "vhost_e2e.h"

TEST_F_TIMEOUT(e2e, stock_qemu_ipxe_dhcp_and_16mib_download, 1800)
{
	static const char *const taps[] = { "vhe0", "vhe1" };
	static const char *const nets[] = { "10.77.1", "10.77.2" };

	e2e_both(_metadata, self->script, self->dir, "ipxe", taps, nets);
}

TEST_HARNESS_MAIN
