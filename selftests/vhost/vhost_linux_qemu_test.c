// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmaccel_vhost_net selftest: a real VMM with a Linux guest.  Stock QEMU
 * (TCG) with -netdev tap,...,vhost=on,vhostforce=on,vhostfd=N on
 * /dev/vmaccel-vhost-net boots the running kernel with a busybox initramfs
 * holding virtio_net; the guest's real virtio-net driver gets a lease from
 * dnsmasq with udhcpc, downloads a 16 MiB file with wget and computes its
 * sha256 itself, which must match the file's (qemu-e2e.sh ... linux).  The
 * same run on /dev/vhost-net is the control.
 */
#include "vhost_e2e.h"

TEST_F_TIMEOUT(e2e, stock_qemu_linux_guest_udhcpc_wget_sha256, 1800)
{
	static const char *const taps[] = { "vhe2", "vhe3" };
	static const char *const nets[] = { "10.77.3", "10.77.4" };

	e2e_both(_metadata, self->script, self->dir, "linux", taps, nets);
}

TEST_HARNESS_MAIN
