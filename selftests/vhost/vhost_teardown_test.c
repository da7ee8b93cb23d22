// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmaccel_vhost_net selftest: teardown in every order, and the stop/start
 * sequence of a VMM.
 *
 * Close the device with traffic in flight; close the tap before the
 * device; detach the backend (fd -1), read the ring base, re-attach and go
 * on where the guest left off (QEMU's stop/cont and migration); reset the
 * owner and set the device up again on the same fd (also without setting
 * the features again); exit the owner without closing anything; unmap
 * guest RAM under a running device.  The kernel log check of the runner
 * catches any report; each test also checks that the device still moves
 * packets where that is expected.
 */
#include "vhost_util.h"

#include <sys/wait.h>

#define WAIT_MS 5000

FIXTURE(vm) {
	struct vh_vm vm;
};

FIXTURE_SETUP(vm)
{
	if (access(vh_dev_path(), F_OK))
		SKIP(return, "%s missing (module not loaded)", vh_dev_path());
	ASSERT_EQ(0, vh_vm_start(&self->vm, VH_BASE_FEATURES |
				 (1ull << VIRTIO_NET_F_MRG_RXBUF))) {
		TH_LOG("vm start: %s: %s", vh_step, strerror(errno));
	}
}

FIXTURE_TEARDOWN(vm)
{
	vh_vm_close(&self->vm);
}

static void traffic(struct vh_vm *vm, unsigned int n, bool kick)
{
	__u8 pkt[VH_HLEN + 1000], frame[600];
	unsigned int i;

	memset(pkt, 0, VH_HLEN);
	vh_rx_post(vm, n < 32 ? n : 32, 2048, NULL, NULL, kick);
	for (i = 0; i < n; i++) {
		vh_frame(pkt + VH_HLEN, 1000, i);
		vh_tx_queue(vm, pkt, sizeof(pkt), 1 + i % 3, kick);
		vh_frame(frame, sizeof(frame), i);
		vh_inject(vm, frame, sizeof(frame));
	}
}

static void tx_works(struct __test_metadata *_metadata, struct vh_vm *vm)
{
	__u8 pkt[VH_HLEN + 100], got[200];
	__u16 target = vm->q[1].avail_idx + 1;

	memset(pkt, 0, VH_HLEN);
	vh_frame(pkt + VH_HLEN, 100, 0x55);
	vh_tx_queue(vm, pkt, sizeof(pkt), 1, true);
	for (;;) {
		ssize_t n = vh_capture(vm, got, sizeof(got), WAIT_MS);

		ASSERT_GT(n, 0);
		if (n == 100 && got[11] == 0x55)
			break;
	}
	ASSERT_TRUE(vh_wait_used(&vm->q[1], target, WAIT_MS));
}

TEST_F(vm, close_device_with_traffic)
{
	traffic(&self->vm, 100, true);
	close(self->vm.dev);
	self->vm.dev = -1;
}

TEST_F(vm, close_tap_first)
{
	traffic(&self->vm, 50, true);
	close(self->vm.pkt);
	close(self->vm.tap);
	self->vm.pkt = -1;
	self->vm.tap = -1;
	/* The device still holds the socket: more kicks must be harmless. */
	traffic(&self->vm, 20, true);
	vh_sleep_ms(100);
}

TEST_F(vm, stop_and_restart_like_a_vmm)
{
	struct vhost_vring_state st = { .index = 1 };
	struct vh_q *q = &self->vm.q[1];
	__u8 pkt[VH_HLEN + 100];
	unsigned int i;

	for (i = 0; i < 3; i++)
		tx_works(_metadata, &self->vm);
	ASSERT_EQ(0, vh_set_backend(&self->vm, 1, -1));
	ASSERT_EQ(0, vh_set_backend(&self->vm, 0, -1));
	ASSERT_EQ(0, ioctl(self->vm.dev, VHOST_GET_VRING_BASE, &st));
	ASSERT_EQ(3u, st.num);
	/* Stopped: a kick does nothing. */
	memset(pkt, 0, VH_HLEN);
	vh_frame(pkt + VH_HLEN, 100, 1);
	vh_tx_queue(&self->vm, pkt, sizeof(pkt), 1, true);
	vh_sleep_ms(100);
	ASSERT_EQ(3, vh_used_idx(q));
	/* Restart from the saved base: the queued packet goes out. */
	st.num = 3;
	ASSERT_EQ(0, ioctl(self->vm.dev, VHOST_SET_VRING_BASE, &st));
	ASSERT_EQ(0, vh_set_backend(&self->vm, 1, self->vm.tap));
	ASSERT_EQ(0, vh_set_backend(&self->vm, 0, self->vm.tap));
	ASSERT_TRUE(vh_wait_used(q, 4, WAIT_MS));
	tx_works(_metadata, &self->vm);
	/* Same backend twice is fine. */
	ASSERT_EQ(0, vh_set_backend(&self->vm, 1, self->vm.tap));
	tx_works(_metadata, &self->vm);
}

/*
 * After RESET_OWNER: set the device up again on the same fd, as a new
 * owner does, with the features @f (none if NULL).
 */
static void reown(struct __test_metadata *_metadata, struct vh_vm *vm,
		  const __u64 *f)
{
	ASSERT_EQ(0, ioctl(vm->dev, VHOST_SET_OWNER));
	if (f)
		ASSERT_EQ(0, ioctl(vm->dev, VHOST_SET_FEATURES, f));
	ASSERT_EQ(0, vh_set_mem(vm));
	memset(vm->ram + VH_RING_OFF(0), 0, 0x20000);
	memset(&vm->q[0], 0, sizeof(vm->q[0]));
	memset(&vm->q[1], 0, sizeof(vm->q[1]));
	ASSERT_EQ(0, vh_setup_queue(vm, 0));
	ASSERT_EQ(0, vh_setup_queue(vm, 1));
	ASSERT_EQ(0, vh_set_backend(vm, 0, vm->tap));
	ASSERT_EQ(0, vh_set_backend(vm, 1, vm->tap));
}

TEST_F(vm, reset_owner_and_reuse)
{
	struct vh_vm *vm = &self->vm;
	__u64 f = VH_BASE_FEATURES;

	traffic(vm, 10, true);
	ASSERT_EQ(0, ioctl(vm->dev, VHOST_RESET_OWNER));
	/* Everything is gone: set it all up again on the same fd. */
	reown(_metadata, vm, &f);
	tx_works(_metadata, vm);
}

/*
 * RESET_OWNER forgets the negotiated header lengths with the features: a
 * VMM that negotiated VHOST_NET_F_VIRTIO_NET_HDR (the device strips the
 * header) and then hands the fd on without SET_FEATURES gets the device
 * of a fresh open(), with no header on either side: the guest's buffer is
 * the frame, as on upstream's /dev/vhost-net.  The lengths used to
 * survive, and the device went on stripping 12 bytes of the frame.
 */
TEST_F(vm, reset_owner_forgets_header_length)
{
	struct vh_vm *vm = &self->vm;
	__u64 f = VH_BASE_FEATURES | (1ull << VHOST_NET_F_VIRTIO_NET_HDR);
	__u8 frame[100], got[200];

	ASSERT_EQ(0, ioctl(vm->dev, VHOST_RESET_OWNER));
	ASSERT_EQ(0, ioctl(vm->dev, VHOST_SET_OWNER));
	ASSERT_EQ(0, ioctl(vm->dev, VHOST_SET_FEATURES, &f));
	ASSERT_EQ(0, ioctl(vm->dev, VHOST_RESET_OWNER));
	/* The next owner sets everything up again but the features. */
	reown(_metadata, vm, NULL);
	/* No header on either side: the buffer is the frame. */
	vh_frame(frame, sizeof(frame), 0x66);
	vh_tx_queue(vm, frame, sizeof(frame), 1, true);
	for (;;) {
		ssize_t n = vh_capture(vm, got, sizeof(got), WAIT_MS);

		ASSERT_GT(n, 0) {
			TH_LOG("the frame never reached the tap whole");
		}
		if (n == sizeof(frame) && !memcmp(got, frame, n))
			break;
	}
	ASSERT_TRUE(vh_wait_used(&vm->q[1], 1, WAIT_MS));
}

TEST_F(vm, owner_exits_without_closing)
{
	pid_t pid = fork();
	int status;

	ASSERT_GE(pid, 0);
	if (pid == 0) {
		struct vh_vm vm2;

		if (vh_vm_start(&vm2, VH_BASE_FEATURES))
			_exit(1);
		traffic(&vm2, 50, true);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));
	tx_works(_metadata, &self->vm);
}

TEST_F(vm, guest_ram_unmapped_under_the_device)
{
	struct vh_q *q = &self->vm.q[1];

	tx_works(_metadata, &self->vm);
	/* The VMM loses its RAM mapping; the next kick faults cleanly. */
	ASSERT_EQ(0, munmap(self->vm.ram, VH_RAM_SIZE));
	self->vm.ram = NULL;
	vh_kick(q);
	ASSERT_GE(vh_wait_efd(q->err, WAIT_MS), 1u);
}

TEST_HARNESS_MAIN
