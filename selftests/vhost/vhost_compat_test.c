// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmaccel_vhost_net selftest: what upstream vhost-net accepts, this device
 * accepts too.
 *
 * - VHOST_F_LOG_ALL acked before VHOST_SET_LOG_BASE: QEMU 7.2's
 *   vhost_dev_start() sends the features first when it starts the device
 *   during a migration (a guest that loads virtio-net while migrating).
 *   Logging starts once the base is set: the page of the used ring that a
 *   TX completion writes is then marked.
 * - Rings outside the memory table: the rings are the owner's user
 *   addresses, not guest memory (a VMM may keep them anywhere); buffers
 *   stay in guest memory.
 *
 * VHOST_TEST_DEV=/dev/vhost-net runs the same against upstream.
 */
#include "vhost_util.h"

#define WAIT_MS 5000

FIXTURE(compat) {
	struct vh_vm vm;
	bool ready;	/* set up completely (the harness runs skipped bodies) */
};

FIXTURE_SETUP(compat)
{
	vh_fixture_setup(_metadata, &self->vm, VH_BASE_FEATURES, &self->ready);
}

FIXTURE_TEARDOWN(compat)
{
	vh_vm_close(&self->vm);
}

/* One TX packet out and its buffer back, waiting on the call eventfd. */
static void tx_one(struct __test_metadata *_metadata, struct vh_vm *vm,
		   unsigned int seed)
{
	__u8 pkt[VH_HLEN + 200], got[300];
	struct vh_q *q = &vm->q[1];
	__u16 target = q->avail_idx + 1;

	memset(pkt, 0, VH_HLEN);
	vh_frame(pkt + VH_HLEN, 200, seed);
	vh_tx_queue(vm, pkt, sizeof(pkt), 1, true);
	ASSERT_EQ(200, vh_capture(vm, got, sizeof(got), WAIT_MS));
	ASSERT_EQ(0, memcmp(got, pkt + VH_HLEN, 200));
	ASSERT_TRUE(vh_wait_used(q, target, WAIT_MS));
}

TEST_F(compat, log_all_before_log_base)
{
	struct vh_vm *vm = &self->vm;
	__u64 features = VH_BASE_FEATURES | (1ull << VHOST_F_LOG_ALL);
	size_t npages = (VH_GPA_BASE + VH_RAM_SIZE) / 4096;
	__u8 *log = calloc(npages / 8 + 8, 1);
	__u64 base = (uintptr_t)log, page;
	struct vhost_vring_addr a = { .index = 1 };
	struct vh_q *q = &vm->q[1];

	if (!self->ready)
		return;
	ASSERT_NE(NULL, log);
	/* Features first, with logging and no log base yet. */
	ASSERT_EQ(0, ioctl(vm->dev, VHOST_SET_FEATURES, &features));
	a.desc_user_addr = (uintptr_t)q->desc;
	a.avail_user_addr = (uintptr_t)q->avail;
	a.used_user_addr = (uintptr_t)q->used;
	a.log_guest_addr = q->used_gpa;
	a.flags = 1u << VHOST_VRING_F_LOG;
	ASSERT_EQ(0, ioctl(vm->dev, VHOST_SET_VRING_ADDR, &a));
	ASSERT_EQ(0, vh_set_backend(vm, 1, vm->tap));
	/* Nothing to log into yet: the device still works. */
	tx_one(_metadata, vm, 1);
	ASSERT_EQ(0, ioctl(vm->dev, VHOST_SET_LOG_BASE, &base));
	tx_one(_metadata, vm, 2);
	page = q->used_gpa / 4096;
	ASSERT_NE(0, log[page / 8] & (1 << (page % 8))) {
		TH_LOG("the used ring's page %llu is not marked dirty",
		       (unsigned long long)page);
	}
	ASSERT_EQ(0, vh_set_backend(vm, 1, -1));
	free(log);
}

TEST_F(compat, rings_outside_memory_table)
{
	struct vh_vm *vm = &self->vm;
	struct vhost_vring_addr a = { .index = 1 };
	struct vh_q *q = &vm->q[1];
	void *rings;

	if (!self->ready)
		return;
	/* An anonymous mapping the memory table does not describe. */
	rings = mmap(NULL, 0x3000, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, rings);
	q->desc = rings;
	q->avail = (void *)((char *)rings + 0x1000);
	q->used = (void *)((char *)rings + 0x2000);
	a.desc_user_addr = (uintptr_t)q->desc;
	a.avail_user_addr = (uintptr_t)q->avail;
	a.used_user_addr = (uintptr_t)q->used;
	a.log_guest_addr = q->used_gpa;
	ASSERT_EQ(0, ioctl(vm->dev, VHOST_SET_VRING_ADDR, &a)) {
		TH_LOG("rings outside the memory table refused: %s",
		       strerror(errno));
	}
	ASSERT_EQ(0, vh_set_backend(vm, 1, vm->tap));
	tx_one(_metadata, vm, 3);
	tx_one(_metadata, vm, 4);
	ASSERT_EQ(0, vh_set_backend(vm, 1, -1));
	/* Keep the close from reading a ring that is gone. */
	ASSERT_EQ(0, munmap(rings, 0x3000));
}

TEST_HARNESS_MAIN
