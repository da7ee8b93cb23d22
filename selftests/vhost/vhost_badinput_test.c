// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmaccel_vhost_net selftest: bad input from the VMM and from the guest.
 *
 * VMM errors get a clear errno: calls before VHOST_SET_OWNER or from a
 * process that is not the owner (-EPERM), bad memory tables (overlapping,
 * too many, empty or wrapping regions, kernel addresses), bad queue
 * indices, ring sizes, ring addresses (misaligned, in kernel space),
 * bad eventfds and backends, features after start, unknown ioctls.
 * Guest errors (a descriptor loop, an index out of range, a buffer outside
 * guest memory, a bad indirect table, a writable buffer on TX, a readable
 * one on RX, an avail index that jumps) fire the queue's error eventfd,
 * consume nothing, and the queue works again once the guest fixes its
 * ring.  Oversized packets are dropped and their buffers returned.
 * The sysfs knobs refuse bad values with -EINVAL and keep their value.
 */
#include "vhost_util.h"
#include "../lib/vmaccel_sysfs.h"

#include <sys/wait.h>

#define WAIT_MS 5000

FIXTURE(vm) {
	struct vh_vm vm;
};

FIXTURE_SETUP(vm)
{
	if (access(vh_dev_path(), F_OK))
		SKIP(return, "%s missing (module not loaded)", vh_dev_path());
	ASSERT_EQ(0, vh_vm_start(&self->vm, VH_BASE_FEATURES)) {
		TH_LOG("vm start: %s: %s", vh_step, strerror(errno));
	}
}

FIXTURE_TEARDOWN(vm)
{
	vh_vm_close(&self->vm);
}

/* The call failed with @err (errno is read after the call's value). */
static bool fails_with(int ret, int err, const char *what, int line)
{
	if (ret == -1 && errno == err)
		return true;
	fprintf(stderr, "# line %d: %s: returned %d, errno %d (%s), expected %s\n",
		line, what, ret, errno, strerror(errno), strerror(err));
	return false;
}

#define EXPECT_ERRNO(err, call) \
	ASSERT_TRUE(fails_with((errno = 0, (call)), err, #call, __LINE__))

TEST_F(vm, before_owner_and_twice)
{
	struct vhost_vring_state st = { .index = 0, .num = 256 };
	struct vhost_vring_file vf = { .index = 0, .fd = -1 };
	__u64 f;
	int fd = open(vh_dev_path(), O_RDWR);

	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, ioctl(fd, VHOST_GET_FEATURES, &f));
	EXPECT_ERRNO(EPERM, ioctl(fd, VHOST_SET_VRING_NUM, &st));
	EXPECT_ERRNO(EPERM, ioctl(fd, VHOST_NET_SET_BACKEND, &vf));
	ASSERT_EQ(0, ioctl(fd, VHOST_SET_OWNER));
	EXPECT_ERRNO(EBUSY, ioctl(fd, VHOST_SET_OWNER));
	close(fd);
}

TEST_F(vm, not_the_owner)
{
	struct vmaccel_vhost_zcopy z;
	pid_t pid;
	int status;

	ASSERT_EQ(0, ioctl(self->vm.dev, VMACCEL_VHOST_GET_ZCOPY, &z));
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		struct vhost_vring_state st = { .index = 0, .num = 128 };
		struct vhost_vring_file f = { .index = 1, .fd = -1 };
		__u64 feat = VH_BASE_FEATURES;
		int bad = 0;

		/* A forked child has another mm: not the owner. */
		bad |= !(ioctl(self->vm.dev, VHOST_SET_VRING_NUM, &st) == -1 && errno == EPERM);
		bad |= !(ioctl(self->vm.dev, VHOST_NET_SET_BACKEND, &f) == -1 && errno == EPERM);
		bad |= !(ioctl(self->vm.dev, VHOST_SET_FEATURES, &feat) == -1 && errno == EPERM);
		bad |= !(ioctl(self->vm.dev, VHOST_RESET_OWNER) == -1 && errno == EPERM);
		bad |= !(ioctl(self->vm.dev, VHOST_SET_OWNER) == -1 && errno == EBUSY);
		bad |= !(ioctl(self->vm.dev, VMACCEL_VHOST_SET_ZCOPY, &z) == -1 && errno == EPERM);
		_exit(bad);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));
}

static int set_mem(int fd, unsigned int n, const struct vhost_memory_region *r,
		   __u32 padding)
{
	struct vhost_memory *m = calloc(1, sizeof(*m) + n * sizeof(*r));
	int ret;

	m->nregions = n;
	m->padding = padding;
	if (r)
		memcpy(m->regions, r, n * sizeof(*r));
	ret = ioctl(fd, VHOST_SET_MEM_TABLE, m);
	free(m);
	return ret;
}

TEST_F(vm, memory_table)
{
	struct vhost_memory_region r[2];
	uintptr_t ram = (uintptr_t)self->vm.ram;
	int fd = self->vm.dev;

	memset(r, 0, sizeof(r));
	r[0].guest_phys_addr = 0;
	r[0].memory_size = 0x200000;
	r[0].userspace_addr = ram;
	r[1] = r[0];
	r[1].guest_phys_addr = 0x100000;	/* overlaps */
	EXPECT_ERRNO(EINVAL, set_mem(fd, 2, r, 0));
	EXPECT_ERRNO(E2BIG, set_mem(fd, 100000, NULL, 0));
	EXPECT_ERRNO(EINVAL, set_mem(fd, 1, r, 1));	/* padding */
	r[1] = r[0];
	r[1].memory_size = 0;
	EXPECT_ERRNO(EINVAL, set_mem(fd, 1, &r[1], 0));
	r[1] = r[0];
	r[1].guest_phys_addr = ~0ull - 0x1000;	/* wraps */
	EXPECT_ERRNO(EFAULT, set_mem(fd, 1, &r[1], 0));
	r[1] = r[0];
	r[1].userspace_addr = 0xffff888000000000ull;	/* kernel */
	EXPECT_ERRNO(EFAULT, set_mem(fd, 1, &r[1], 0));
	r[1] = r[0];
	r[1].flags_padding = 1;
	EXPECT_ERRNO(EINVAL, set_mem(fd, 1, &r[1], 0));
	/* The valid table is still in force: traffic would fail otherwise. */
	ASSERT_EQ(0, vh_set_mem(&self->vm));
}

TEST_F(vm, queue_ioctls)
{
	struct vhost_vring_state st = { .index = 2, .num = 256 };
	struct vhost_vring_addr a;
	struct vhost_vring_file f = { .index = 0 };
	int fd = self->vm.dev, memfd;

	EXPECT_ERRNO(ENOBUFS, ioctl(fd, VHOST_SET_VRING_NUM, &st));
	EXPECT_ERRNO(ENOBUFS, ioctl(fd, VHOST_GET_VRING_BASE, &st));
	/* Running queue: size and base are fixed. */
	st.index = 0;
	EXPECT_ERRNO(EBUSY, ioctl(fd, VHOST_SET_VRING_NUM, &st));
	EXPECT_ERRNO(EBUSY, ioctl(fd, VHOST_SET_VRING_BASE, &st));
	ASSERT_EQ(0, vh_set_backend(&self->vm, 0, -1));
	st.num = 0;
	EXPECT_ERRNO(EINVAL, ioctl(fd, VHOST_SET_VRING_NUM, &st));
	st.num = 100;
	EXPECT_ERRNO(EINVAL, ioctl(fd, VHOST_SET_VRING_NUM, &st));
	st.num = 65536;
	EXPECT_ERRNO(EINVAL, ioctl(fd, VHOST_SET_VRING_NUM, &st));
	st.num = 0x10000;
	EXPECT_ERRNO(EINVAL, ioctl(fd, VHOST_SET_VRING_BASE, &st));

	memset(&a, 0, sizeof(a));
	a.index = 0;
	a.desc_user_addr = (uintptr_t)self->vm.q[0].desc + 8;	/* misaligned */
	a.avail_user_addr = (uintptr_t)self->vm.q[0].avail;
	a.used_user_addr = (uintptr_t)self->vm.q[0].used;
	EXPECT_ERRNO(EINVAL, ioctl(fd, VHOST_SET_VRING_ADDR, &a));
	a.desc_user_addr -= 8;
	a.flags = 0x80;
	EXPECT_ERRNO(EOPNOTSUPP, ioctl(fd, VHOST_SET_VRING_ADDR, &a));
	a.flags = 0;
	a.used_user_addr = 0xffff888000000000ull;	/* kernel address */
	EXPECT_ERRNO(EFAULT, ioctl(fd, VHOST_SET_VRING_ADDR, &a));

	memfd = memfd_create("x", 0);
	f.fd = memfd;
	EXPECT_ERRNO(EINVAL, ioctl(fd, VHOST_SET_VRING_KICK, &f));
	f.fd = 1000;
	EXPECT_ERRNO(EBADF, ioctl(fd, VHOST_SET_VRING_CALL, &f));
	f.fd = memfd;
	EXPECT_ERRNO(ENOTSOCK, ioctl(fd, VHOST_NET_SET_BACKEND, &f));
	f.fd = 1000;
	EXPECT_ERRNO(EBADF, ioctl(fd, VHOST_NET_SET_BACKEND, &f));
	close(memfd);
}

TEST_F(vm, backend_before_ring)
{
	struct vhost_vring_state st = { .index = 0, .num = 256 };
	struct vhost_vring_file f = { .index = 0, .fd = self->vm.tap };
	int fd = open(vh_dev_path(), O_RDWR);

	ASSERT_EQ(0, ioctl(fd, VHOST_SET_OWNER));
	ASSERT_EQ(0, ioctl(fd, VHOST_SET_VRING_NUM, &st));
	/* Ring size but no addresses yet. */
	EXPECT_ERRNO(EFAULT, ioctl(fd, VHOST_NET_SET_BACKEND, &f));
	close(fd);
}

TEST_F(vm, features)
{
	__u64 f = 1ull << 50;
	int fd = self->vm.dev;

	EXPECT_ERRNO(EOPNOTSUPP, ioctl(fd, VHOST_SET_FEATURES, &f));
	if (!vh_is_ours())
		return;
	/* Running: only dirty logging may change. */
	f = VH_BASE_FEATURES | (1ull << VIRTIO_RING_F_EVENT_IDX);
	EXPECT_ERRNO(EBUSY, ioctl(fd, VHOST_SET_FEATURES, &f));
	/* No log base yet: accepted, as upstream (vhost_compat_test.c). */
	f = VH_BASE_FEATURES | (1ull << VHOST_F_LOG_ALL);
	EXPECT_EQ(0, ioctl(fd, VHOST_SET_FEATURES, &f));
	f = 1;
	EXPECT_ERRNO(EOPNOTSUPP, ioctl(fd, VHOST_SET_BACKEND_FEATURES, &f));
	f = VH_BASE_FEATURES;
	ASSERT_EQ(0, ioctl(fd, VHOST_SET_FEATURES, &f));
}

TEST_F(vm, unknown_and_extension_ioctls)
{
	struct vmaccel_vhost_vq_stats st;
	struct vmaccel_vhost_zcopy z;
	int fd = self->vm.dev;

	EXPECT_ERRNO(ENOTTY, ioctl(fd, _IO(VHOST_VIRTIO, 0x7f)));
	if (!vh_is_ours())
		return;
	EXPECT_ERRNO(ENOTTY, ioctl(fd, _IO(VMACCEL_IOCTL_TYPE, 0x2f)));
	memset(&st, 0, sizeof(st));
	st.index = 2;
	EXPECT_ERRNO(EINVAL, ioctl(fd, VMACCEL_VHOST_GET_VQ_STATS, &st));
	st.index = 0;
	st.flags = 1;
	EXPECT_ERRNO(EINVAL, ioctl(fd, VMACCEL_VHOST_GET_VQ_STATS, &st));
	st.flags = 0;
	st.reserved[1] = 1;
	EXPECT_ERRNO(EINVAL, ioctl(fd, VMACCEL_VHOST_GET_VQ_STATS, &st));
	ASSERT_EQ(0, ioctl(fd, VMACCEL_VHOST_GET_ZCOPY, &z));
	z.max_pending = 0;
	EXPECT_ERRNO(EINVAL, ioctl(fd, VMACCEL_VHOST_SET_ZCOPY, &z));
	z.max_pending = 64;
	z.flags = 0x10;
	EXPECT_ERRNO(EINVAL, ioctl(fd, VMACCEL_VHOST_SET_ZCOPY, &z));
	z.flags = 0;
	z.reserved[1] = 1;
	EXPECT_ERRNO(EINVAL, ioctl(fd, VMACCEL_VHOST_SET_ZCOPY, &z));
	z.reserved[1] = 0;
	z.fail_pct = 101;
	EXPECT_ERRNO(EINVAL, ioctl(fd, VMACCEL_VHOST_SET_ZCOPY, &z));
	EXPECT_ERRNO(EFAULT, ioctl(fd, VMACCEL_VHOST_GET_VQ_STATS, (void *)8));
}

/*
 * A guest error on TX: the error eventfd fires, nothing is consumed; the
 * guest then replaces the bad chain with a good packet, which goes out.
 */
static void guest_error(struct __test_metadata *_metadata, struct vh_vm *vm,
			unsigned int qi, void (*make_bad)(struct vh_vm *, __u16))
{
	struct vh_q *q = &vm->q[qi];
	__u8 pkt[VH_HLEN + 100], got[200];
	__u16 d = vh_desc_alloc(q);
	__u16 before = vh_used_idx(q);

	make_bad(vm, d);
	vh_publish(q, d, true);
	ASSERT_GE(vh_wait_efd(q->err, WAIT_MS), 1u);
	vh_sleep_ms(50);
	ASSERT_EQ(before, vh_used_idx(q));
	if (qi != 1)
		return;
	/* Fix the guest's ring: the slot now holds a good packet. */
	memset(pkt, 0, VH_HLEN);
	vh_frame(pkt + VH_HLEN, 100, 3);
	memcpy(vh_hva(vm, VH_GPA_BASE + 0x200000), pkt, sizeof(pkt));
	q->desc[d].addr = VH_GPA_BASE + 0x200000;
	q->desc[d].len = sizeof(pkt);
	q->desc[d].flags = 0;
	q->desc[d].next = 0;
	q->avail->ring[(q->avail_idx - 1) % VH_NUM] = d;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	vh_kick(q);
	ASSERT_EQ(100, vh_capture(vm, got, sizeof(got), WAIT_MS));
	ASSERT_TRUE(vh_wait_used(q, before + 1, WAIT_MS));
}

static void bad_loop(struct vh_vm *vm, __u16 d)
{
	struct vh_q *q = &vm->q[1];
	__u16 e = vh_desc_alloc(q);

	q->desc[d].addr = VH_GPA_BASE + 0x200000;
	q->desc[d].len = 10;
	q->desc[d].flags = VRING_DESC_F_NEXT;
	q->desc[d].next = e;
	q->desc[e] = q->desc[d];
	q->desc[e].next = d;
}

static void bad_outside(struct vh_vm *vm, __u16 d)
{
	vm->q[1].desc[d].addr = VH_GPA_BASE + VH_RAM_SIZE - 10;	/* runs off */
	vm->q[1].desc[d].len = 100;
	vm->q[1].desc[d].flags = 0;
}

static void bad_next(struct vh_vm *vm, __u16 d)
{
	vm->q[1].desc[d].addr = VH_GPA_BASE + 0x200000;
	vm->q[1].desc[d].len = 100;
	vm->q[1].desc[d].flags = VRING_DESC_F_NEXT;
	vm->q[1].desc[d].next = VH_NUM + 5;
}

static void bad_writable_tx(struct vh_vm *vm, __u16 d)
{
	vm->q[1].desc[d].addr = VH_GPA_BASE + 0x200000;
	vm->q[1].desc[d].len = 100;
	vm->q[1].desc[d].flags = VRING_DESC_F_WRITE;
}

static void bad_indirect_len(struct vh_vm *vm, __u16 d)
{
	vm->q[1].desc[d].addr = VH_GPA_BASE + 0x200000;
	vm->q[1].desc[d].len = 20;	/* not a multiple of 16 */
	vm->q[1].desc[d].flags = VRING_DESC_F_INDIRECT;
}

static void bad_indirect_nested(struct vh_vm *vm, __u16 d)
{
	struct vring_desc *t = vh_hva(vm, VH_GPA_BASE + 0x210000);

	t[0].addr = VH_GPA_BASE + 0x210000;
	t[0].len = 16;
	t[0].flags = VRING_DESC_F_INDIRECT;
	vm->q[1].desc[d].addr = VH_GPA_BASE + 0x210000;
	vm->q[1].desc[d].len = 16;
	vm->q[1].desc[d].flags = VRING_DESC_F_INDIRECT;
}

static void bad_indirect_loop(struct vh_vm *vm, __u16 d)
{
	struct vring_desc *t = vh_hva(vm, VH_GPA_BASE + 0x210000);

	t[0].addr = VH_GPA_BASE + 0x200000;
	t[0].len = 16;
	t[0].flags = VRING_DESC_F_NEXT;
	t[0].next = 1;
	t[1] = t[0];
	t[1].next = 0;
	vm->q[1].desc[d].addr = VH_GPA_BASE + 0x210000;
	vm->q[1].desc[d].len = 32;
	vm->q[1].desc[d].flags = VRING_DESC_F_INDIRECT;
}

static void bad_too_many_segments(struct vh_vm *vm, __u16 d)
{
	struct vring_desc *t = vh_hva(vm, VH_GPA_BASE + 0x220000);
	unsigned int i, n = 2000;

	for (i = 0; i < n; i++) {
		t[i].addr = VH_GPA_BASE + 0x200000 + i;
		t[i].len = 1;
		t[i].flags = i + 1 < n ? VRING_DESC_F_NEXT : 0;
		t[i].next = i + 1;
	}
	vm->q[1].desc[d].addr = VH_GPA_BASE + 0x220000;
	vm->q[1].desc[d].len = n * 16;
	vm->q[1].desc[d].flags = VRING_DESC_F_INDIRECT;
}

TEST_F(vm, guest_descriptor_loop)
{
	guest_error(_metadata, &self->vm, 1, bad_loop);
}

TEST_F(vm, guest_buffer_outside_memory)
{
	guest_error(_metadata, &self->vm, 1, bad_outside);
}

TEST_F(vm, guest_next_out_of_range)
{
	guest_error(_metadata, &self->vm, 1, bad_next);
}

TEST_F(vm, guest_writable_buffer_on_tx)
{
	guest_error(_metadata, &self->vm, 1, bad_writable_tx);
}

TEST_F(vm, guest_indirect_bad_length)
{
	guest_error(_metadata, &self->vm, 1, bad_indirect_len);
}

TEST_F(vm, guest_indirect_nested)
{
	guest_error(_metadata, &self->vm, 1, bad_indirect_nested);
}

TEST_F(vm, guest_indirect_loop)
{
	guest_error(_metadata, &self->vm, 1, bad_indirect_loop);
}

TEST_F(vm, guest_too_many_segments)
{
	guest_error(_metadata, &self->vm, 1, bad_too_many_segments);
}

TEST_F(vm, guest_head_out_of_range)
{
	struct vh_q *q = &self->vm.q[1];

	q->avail->ring[q->avail_idx % VH_NUM] = VH_NUM + 1;
	q->avail_idx++;
	__atomic_store_n(&q->avail->idx, q->avail_idx, __ATOMIC_RELEASE);
	vh_kick(q);
	ASSERT_GE(vh_wait_efd(q->err, WAIT_MS), 1u);
	ASSERT_EQ(0, vh_used_idx(q));
}

TEST_F(vm, guest_avail_index_jumps)
{
	struct vh_q *q = &self->vm.q[1];

	__atomic_store_n(&q->avail->idx, VH_NUM + 10, __ATOMIC_RELEASE);
	vh_kick(q);
	ASSERT_GE(vh_wait_efd(q->err, WAIT_MS), 1u);
	ASSERT_EQ(0, vh_used_idx(q));
}

TEST_F(vm, guest_readable_buffer_on_rx)
{
	struct vh_q *q = &self->vm.q[0];
	__u8 frame[200];
	__u16 d = vh_desc_alloc(q);

	q->desc[d].addr = VH_GPA_BASE + 0x200000;
	q->desc[d].len = 2048;
	q->desc[d].flags = 0;	/* device-readable: wrong for RX */
	vh_publish(q, d, true);
	vh_frame(frame, sizeof(frame), 1);
	ASSERT_EQ(0, vh_inject(&self->vm, frame, sizeof(frame)));
	ASSERT_GE(vh_wait_efd(q->err, WAIT_MS), 1u);
	ASSERT_EQ(0, vh_used_idx(q));
}

TEST_F(vm, oversized_packet_dropped)
{
	struct vmaccel_vhost_vq_stats st;
	static __u8 pkt[VH_HLEN + 100000];
	struct vh_q *q = &self->vm.q[1];

	memset(pkt, 0, VH_HLEN);
	vh_frame(pkt + VH_HLEN, 100000, 1);
	vh_tx_queue(&self->vm, pkt, sizeof(pkt), 4, true);
	ASSERT_TRUE(vh_wait_used(q, 1, WAIT_MS));
	ASSERT_EQ(0u, q->used->ring[0].len);
	if (vh_is_ours()) {
		ASSERT_EQ(0, vh_stats(&self->vm, 1, &st));
		ASSERT_EQ(1u, st.dropped);
		ASSERT_EQ(0u, st.packets);
	}
}

static const char * const vh_knobs[] = {
	"zcopy_enable", "zcopy_min_len", "zcopy_max_pending", "zcopy_fail_pct",
	"zcopy_backoff_pkts", "zcopy_stall_ms", "tx_weight", "rx_weight",
	"tx_batch_max_len", "tx_batch_pkts",
};

/*
 * The knobs' values before a test, restored after it.  The 6.1 harness
 * runs the body and the teardown after a SKIP in the setup: both do
 * nothing unless @ready (every value saved).
 */
FIXTURE(knobs) {
	long long saved[ARRAY_SIZE(vh_knobs)];
	bool ready;
};

FIXTURE_SETUP(knobs)
{
	char path[128];
	unsigned int i;

	self->ready = false;
	if (!vh_is_ours() || access(VH_SYSFS "tx_weight", F_OK))
		SKIP(return, "vmaccel only");
	for (i = 0; i < ARRAY_SIZE(vh_knobs); i++) {
		snprintf(path, sizeof(path), VH_SYSFS "%s", vh_knobs[i]);
		self->saved[i] = vh_read_ll(path);
		ASSERT_GE(self->saved[i], 0) TH_LOG("%s", path);
	}
	self->ready = true;
}

FIXTURE_TEARDOWN(knobs)
{
	char path[128];
	unsigned int i;

	if (!self->ready)
		return;
	for (i = 0; i < ARRAY_SIZE(vh_knobs); i++) {
		snprintf(path, sizeof(path), VH_SYSFS "%s", vh_knobs[i]);
		if (self->saved[i] >= 0 && vh_read_ll(path) != self->saved[i])
			EXPECT_EQ(0, vmaccel_write_long(path, self->saved[i]));
	}
}

/*
 * Every knob refuses what is not a decimal number in its range with
 * -EINVAL, and keeps its value.  The zero-copy policy is checked as a
 * whole (vh_zpol_check); the weights and batch knobs alone.
 */
TEST_F(knobs, refuse_bad_values)
{
	/* Out of range: two values of each knob, in vh_knobs' order. */
	static const char * const range[][2] = {
		{ "2", "3" }, { "65537", "4294967295" }, { "0", "1025" },
		{ "0", "101" }, { "0", "1000001" }, { "0", "60001" },
		{ "0", "65537" }, { "0", "65537" }, { "65536", "4294967295" },
		{ "0", "65" },
	};
	static const char * const junk[] = {
		"-1", "abc", "12abc", "0x10", "4294967296", "1 2", "\n", "-0",
	};
	const unsigned int nr = ARRAY_SIZE(range[0]);
	const char *val;
	char path[128];
	unsigned int i, j;
	int r;

	if (!self->ready)
		return;
	for (i = 0; i < ARRAY_SIZE(vh_knobs); i++) {
		snprintf(path, sizeof(path), VH_SYSFS "%s", vh_knobs[i]);
		for (j = 0; j < nr + ARRAY_SIZE(junk); j++) {
			val = j < nr ? range[i][j] : junk[j - nr];
			r = vmaccel_write_file(path, val);
			if (r != -EINVAL)
				fprintf(stderr, "# %s <- \"%s\": %d\n", path, val, r);
			EXPECT_EQ(-EINVAL, r);
		}
		EXPECT_EQ(self->saved[i], vh_read_ll(path)) TH_LOG("%s", path);
	}
}

/* The limits themselves are accepted, in decimal ("010" is ten). */
TEST_F(knobs, limits_and_decimal_accepted)
{
	if (!self->ready)
		return;
	ASSERT_EQ(0, vmaccel_write_file(VH_SYSFS "zcopy_max_pending", "1024"));
	EXPECT_EQ(1024, vh_read_ll(VH_SYSFS "zcopy_max_pending"));
	ASSERT_EQ(0, vmaccel_write_file(VH_SYSFS "rx_weight", "65536\n"));
	EXPECT_EQ(65536, vh_read_ll(VH_SYSFS "rx_weight"));
	ASSERT_EQ(0, vmaccel_write_file(VH_SYSFS "zcopy_min_len", "0"));
	EXPECT_EQ(0, vh_read_ll(VH_SYSFS "zcopy_min_len"));
	ASSERT_EQ(0, vmaccel_write_file(VH_SYSFS "tx_batch_pkts", "010"));
	EXPECT_EQ(10, vh_read_ll(VH_SYSFS "tx_batch_pkts"));
}

/*
 * Every numeric file as the knob helper declares it: knobs 0644, the
 * totals under stats/ 0444, one decimal number and a newline each.
 */
TEST_F(knobs, numbers_modes_and_format)
{
	static const char * const counters[] = {
		"stats/devices", "stats/tx_packets", "stats/tx_bytes",
		"stats/rx_packets", "stats/rx_bytes", "stats/dropped",
		"stats/zcopy_sent", "stats/zcopy_failed", "stats/notify_sent",
		"stats/errors", "stats/tx_batched", "stats/tx_batch_sends",
		"stats/log_pages", "stats/zcopy_orphaned",
		NULL,
	};
	const char *knobs[ARRAY_SIZE(vh_knobs) + 1] = { NULL };
	const char *bad = NULL;
	unsigned int i;
	int r;

	if (!self->ready)
		return;
	for (i = 0; i < ARRAY_SIZE(vh_knobs); i++)
		knobs[i] = vh_knobs[i];
	r = vmaccel_sysfs_numbers(VH_SYSFS, knobs, counters, NULL, &bad);
	ASSERT_EQ(0, r) TH_LOG("%s%s: %s", VH_SYSFS, bad, strerror(-r));
}

/* The tracepoints: system named after the module, events after its prefix. */
TEST_F(vm, tracepoints_named_after_the_module)
{
	static const char * const ev[] = {
		"vh_kick", "vh_tx", "vh_rx", "vh_zc_done", "vh_tx_batch",
		"vh_notify", "vh_error",
	};
	unsigned int i;
	int r;

	r = vmaccel_tracepoint("vmaccel_vhost_net", ev[0]);
	if (r == -ENODEV)
		SKIP(return, "no tracefs");
	for (i = 0; i < ARRAY_SIZE(ev); i++) {
		const char *n = ev[i];

		ASSERT_EQ(0, vmaccel_tracepoint("vmaccel_vhost_net", n))
			TH_LOG("%s", n);
	}
	ASSERT_EQ(-ENOENT, vmaccel_tracepoint("vmaccel_vhost", ""));
}

TEST_HARNESS_MAIN
