// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmaccel_vhost_net selftest: the data path, with the test as the VMM.
 *
 * TX frames appear on the tap byte-exact (several sizes, chains split over
 * several descriptors, a buffer straddling two memory regions, indirect
 * tables); RX frames written to the tap arrive in the ring byte-exact with
 * their virtio-net header; mergeable buffers; too-small buffers drop the
 * packet; the event index and the no-interrupt flag suppress
 * notifications; packets taken from the backend but not yet received go
 * back to it when the backend stops; the dirty log marks exactly the pages
 * written; zero-copy TX returns every buffer; stats, sysfs and debugfs
 * count what happened.
 */
#include "vhost_util.h"

#define WAIT_MS 5000

static __u8 frame[70000], got[70000];

FIXTURE(vm) {
	struct vh_vm vm;
};

FIXTURE_SETUP(vm)
{
	if (access(vh_dev_path(), F_OK))
		SKIP(return, "%s missing (module not loaded)", vh_dev_path());
	if (access("/dev/net/tun", F_OK))
		SKIP(return, "no /dev/net/tun");
	ASSERT_EQ(0, vh_vm_start(&self->vm, VH_BASE_FEATURES |
				 (1ull << VIRTIO_NET_F_MRG_RXBUF))) {
		TH_LOG("vm start: %s: %s", vh_step, strerror(errno));
	}
}

FIXTURE_TEARDOWN(vm)
{
	vh_vm_close(&self->vm);
}

/* For tests that build their own VM (plain TEST() trips -Wunused-parameter). */
FIXTURE(bare) {
	int unused;
};

FIXTURE_SETUP(bare)
{
	self->unused = 0;
}

FIXTURE_TEARDOWN(bare)
{
}

static void tx_one(struct __test_metadata *_metadata, struct vh_vm *vm,
		   size_t flen, unsigned int nseg, unsigned int seed)
{
	static __u8 pkt[70000];
	__u16 target = vm->q[1].avail_idx + 1;
	ssize_t n;

	memset(pkt, 0, VH_HLEN);	/* no offloads */
	vh_frame(pkt + VH_HLEN, flen, seed);
	vh_tx_queue(vm, pkt, VH_HLEN + flen, nseg, true);
	n = vh_capture(vm, got, sizeof(got), WAIT_MS);
	ASSERT_EQ((ssize_t)flen, n);
	ASSERT_EQ(0, memcmp(pkt + VH_HLEN, got, flen));
	ASSERT_TRUE(vh_wait_used(&vm->q[1], target, WAIT_MS));
}

TEST_F(vm, features)
{
	__u64 f = 0, want = (1ull << VIRTIO_F_VERSION_1) |
		(1ull << VIRTIO_NET_F_MRG_RXBUF) |
		(1ull << VIRTIO_RING_F_EVENT_IDX) |
		(1ull << VIRTIO_RING_F_INDIRECT_DESC) |
		(1ull << VIRTIO_F_NOTIFY_ON_EMPTY) | (1ull << VHOST_F_LOG_ALL) |
		(1ull << VHOST_NET_F_VIRTIO_NET_HDR);

	ASSERT_EQ(0, ioctl(self->vm.dev, VHOST_GET_FEATURES, &f));
	ASSERT_EQ(want, f & want);
	if (vh_is_ours()) {
		/* Nothing offered that is not implemented. */
		ASSERT_EQ(0ull, f & ~want);
		f = 0;
		ASSERT_EQ(0, ioctl(self->vm.dev, VHOST_GET_BACKEND_FEATURES, &f));
		ASSERT_EQ(0ull, f);
	}
}

TEST_F(vm, tx_exact)
{
	static const size_t sizes[] = { 60, 64, 500, 1514, 4000, 9000 };
	struct vmaccel_vhost_vq_stats st;
	unsigned int i;

	for (i = 0; i < VH_ARRAY_SIZE(sizes); i++) {
		tx_one(_metadata, &self->vm, sizes[i], 1, i);
		tx_one(_metadata, &self->vm, sizes[i], 3, i + 100);
	}
	if (vh_is_ours()) {
		ASSERT_EQ(0, vh_stats(&self->vm, 1, &st));
		ASSERT_EQ(12u, st.packets);
		ASSERT_GE(st.kicks, 1u);
		ASSERT_EQ(0u, st.errors);
	}
}

TEST_F(vm, tx_straddles_regions)
{
	struct vh_vm *vm = &self->vm;
	struct vh_q *q = &vm->q[1];
	size_t flen = 1514, len = VH_HLEN + flen;
	__u64 gpa = VH_GPA_BASE + VH_REGION_SPLIT - 700;
	__u16 d = vh_desc_alloc(q);

	memset(vh_hva(vm, gpa), 0, VH_HLEN);
	vh_frame(vh_hva(vm, gpa + VH_HLEN), flen, 7);
	q->desc[d].addr = gpa;
	q->desc[d].len = len;
	q->desc[d].flags = 0;
	vh_publish(q, d, true);
	ASSERT_EQ((ssize_t)flen, vh_capture(vm, got, sizeof(got), WAIT_MS));
	ASSERT_EQ(0, memcmp(vh_hva(vm, gpa + VH_HLEN), got, flen));
	ASSERT_TRUE(vh_wait_used(q, q->avail_idx, WAIT_MS));
	ASSERT_EQ(d, q->used->ring[0].id);
}

/*
 * One indirect table holding @order[0..3]: the header, then the frame in
 * three pieces; entry order[k] links to order[k + 1] through next.
 */
static void tx_indirect_frame(struct __test_metadata *_metadata,
			      struct vh_vm *vm, const unsigned int order[4])
{
	struct vh_q *q = &vm->q[1];
	__u64 tbl = vh_alloc(vm, 4 * sizeof(struct vring_desc), 16);
	struct vring_desc *t = vh_hva(vm, tbl);
	__u64 buf = vh_alloc(vm, 2048, 64);
	static const __u32 off[4] = { 0, VH_HLEN, VH_HLEN + 100, VH_HLEN + 500 };
	size_t flen = 1000;
	__u16 d = vh_desc_alloc(q);
	unsigned int i;

	memset(vh_hva(vm, buf), 0, VH_HLEN);
	vh_frame(vh_hva(vm, buf + VH_HLEN), flen, 9);
	for (i = 0; i < 4; i++) {
		struct vring_desc *e = &t[order[i]];

		e->addr = buf + off[i];
		e->len = (i < 3 ? off[i + 1] : VH_HLEN + flen) - off[i];
		e->flags = i < 3 ? VRING_DESC_F_NEXT : 0;
		e->next = i < 3 ? order[i + 1] : 0;
	}
	q->desc[d].addr = tbl;
	q->desc[d].len = 4 * sizeof(struct vring_desc);
	q->desc[d].flags = VRING_DESC_F_INDIRECT;
	vh_publish(q, d, true);
	ASSERT_EQ((ssize_t)flen, vh_capture(vm, got, sizeof(got), WAIT_MS));
	for (i = 0; i < flen; i++)
		ASSERT_EQ(((__u8 *)vh_hva(vm, buf + VH_HLEN))[i], got[i]);
	ASSERT_TRUE(vh_wait_used(q, q->avail_idx, WAIT_MS));
}

/* An indirect table in order, as every driver writes one. */
TEST_F(vm, tx_indirect)
{
	static const unsigned int order[4] = { 0, 1, 2, 3 };

	tx_indirect_frame(_metadata, &self->vm, order);
}

/*
 * A split ring's indirect descriptors are chained by next (virtio 1.2,
 * 2.7.5.3), so a table may link its entries out of order.  Upstream reads
 * the table in order and ignores next (get_indirect() in
 * drivers/vhost/vhost.c); no driver writes such a table, and the admin
 * guide lists the difference.
 */
TEST_F(vm, tx_indirect_linked_out_of_order)
{
	static const unsigned int order[4] = { 0, 2, 1, 3 };

	if (!vh_is_ours())
		SKIP(return, "upstream reads an indirect table in order, ignoring next");
	tx_indirect_frame(_metadata, &self->vm, order);
}

TEST_F(vm, tx_batch)
{
	struct vh_vm *vm = &self->vm;
	unsigned int i, n = 200, seen = 0;
	__u8 pkt[VH_HLEN + 200];

	memset(pkt, 0, VH_HLEN);
	for (i = 0; i < n; i++) {
		vh_frame(pkt + VH_HLEN, 200, i);
		vh_tx_queue(vm, pkt, sizeof(pkt), 1, false);
	}
	vh_kick(&vm->q[1]);
	while (seen < n && vh_capture(vm, got, sizeof(got), WAIT_MS) == 200)
		seen++;
	ASSERT_EQ(n, seen);
	ASSERT_TRUE(vh_wait_used(&vm->q[1], n, WAIT_MS));
}

static void rx_check(struct __test_metadata *_metadata, struct vh_vm *vm,
		     size_t flen, const __u16 *heads, const __u64 *gpas,
		     __u32 buflen, unsigned int nbufs)
{
	struct vh_q *q = &vm->q[0];
	__u16 first = q->used_seen;
	struct virtio_net_hdr_mrg_rxbuf *h;
	size_t left = VH_HLEN + flen, off = 0;
	unsigned int i;

	ASSERT_TRUE(vh_wait_used(q, first + nbufs, WAIT_MS));
	for (i = 0; i < nbufs; i++) {
		struct vring_used_elem *e = &q->used->ring[(first + i) % VH_NUM];
		__u32 l = left < buflen ? left : buflen;
		unsigned int k;

		ASSERT_EQ(heads[i], e->id);
		ASSERT_EQ(l, e->len);
		for (k = 0; k < l; k++, off++) {
			__u8 b = ((__u8 *)vh_hva(vm, gpas[i]))[k];

			if (off >= VH_HLEN)
				ASSERT_EQ(frame[off - VH_HLEN], b);
		}
		left -= l;
	}
	h = vh_hva(vm, gpas[0]);
	ASSERT_EQ(nbufs, h->num_buffers);
	ASSERT_EQ(VIRTIO_NET_HDR_GSO_NONE, h->hdr.gso_type);
	q->used_seen += nbufs;
}

TEST_F(vm, rx_exact)
{
	static const size_t sizes[] = { 60, 500, 1514 };
	struct vh_vm *vm = &self->vm;
	__u16 heads[1];
	__u64 gpas[1];
	unsigned int i;

	for (i = 0; i < 3; i++) {
		vh_rx_post(vm, 1, 2048, heads, gpas, true);
		vh_frame(frame, sizes[i], i + 1);
		ASSERT_EQ(0, vh_inject(vm, frame, sizes[i]));
		rx_check(_metadata, vm, sizes[i], heads, gpas, 2048, 1);
	}
}

TEST_F(vm, rx_mergeable)
{
	struct vh_vm *vm = &self->vm;
	__u16 heads[16];
	__u64 gpas[16];

	/* 12 + 1514 bytes over 256-byte buffers: 6 buffers. */
	vh_rx_post(vm, 16, 256, heads, gpas, true);
	vh_frame(frame, 1514, 3);
	ASSERT_EQ(0, vh_inject(vm, frame, 1514));
	rx_check(_metadata, vm, 1514, heads, gpas, 256, 6);
	/* The next packet starts with the next buffer. */
	vh_frame(frame, 300, 4);
	ASSERT_EQ(0, vh_inject(vm, frame, 300));
	rx_check(_metadata, vm, 300, heads + 6, gpas + 6, 256, 2);
}

TEST_F(vm, rx_waits_for_buffers)
{
	struct vh_vm *vm = &self->vm;
	__u16 heads[1];
	__u64 gpas[1];

	/* A packet before any buffer waits in the backend. */
	vh_frame(frame, 400, 5);
	ASSERT_EQ(0, vh_inject(vm, frame, 400));
	vh_sleep_ms(100);
	ASSERT_EQ(0, vh_used_idx(&vm->q[0]));
	vh_rx_post(vm, 1, 2048, heads, gpas, true);
	rx_check(_metadata, vm, 400, heads, gpas, 2048, 1);
}

/* Read the next frame of our EtherType from the tap fd (after its header). */
static ssize_t tap_read_frame(struct vh_vm *vm, __u8 *buf, size_t size)
{
	static __u8 raw[VH_HLEN + 2048];
	ssize_t n;

	for (;;) {
		struct pollfd p = { .fd = vm->tap, .events = POLLIN };

		if (poll(&p, 1, WAIT_MS) != 1)
			return -1;
		n = read(vm->tap, raw, sizeof(raw));
		if (n < (ssize_t)VH_HLEN + 14)
			continue;
		if (raw[VH_HLEN + 12] != (VH_ETHERTYPE >> 8) ||
		    raw[VH_HLEN + 13] != (VH_ETHERTYPE & 0xff))
			continue;
		n -= VH_HLEN;
		if ((size_t)n > size)
			return -1;
		memcpy(buf, raw + VH_HLEN, n);
		return n;
	}
}

/*
 * Packets the device has already taken from the backend but not yet
 * received (no guest buffer) are not lost when the backend stops: the
 * VMM's read() of the tap gets them, in order.
 */
TEST_F(vm, rx_backend_stop_returns_packets)
{
	struct vh_vm *vm = &self->vm;
	unsigned int i;
	__u16 heads[2];
	__u64 gpas[2];
	ssize_t n;

	vh_rx_post(vm, 2, 2048, heads, gpas, true);
	for (i = 0; i < 10; i++) {
		vh_frame(frame, 100 + i, i + 1);
		ASSERT_EQ(0, vh_inject(vm, frame, 100 + i));
	}
	ASSERT_TRUE(vh_wait_used(&vm->q[0], 2, WAIT_MS));
	/* No progress without buffers: not about the interrupt. */
	vh_sleep_ms(100);
	ASSERT_EQ(2, vh_used_idx(&vm->q[0]));
	ASSERT_EQ(0, vh_set_backend(vm, 0, -1));
	for (i = 2; i < 10; i++) {
		n = tap_read_frame(vm, got, sizeof(got));
		ASSERT_EQ((ssize_t)(100 + i), n);
		vh_frame(frame, 100 + i, i + 1);
		ASSERT_EQ(0, memcmp(frame, got, n));
	}
}

/* Same, with the backend set again: the guest gets the rest, in order. */
TEST_F(vm, rx_backend_reset_keeps_order)
{
	struct vh_vm *vm = &self->vm;
	unsigned int i;
	__u16 heads[8];
	__u64 gpas[8];

	vh_rx_post(vm, 2, 2048, heads, gpas, true);
	for (i = 0; i < 8; i++) {
		vh_frame(frame, 200 + i, 20 + i);
		ASSERT_EQ(0, vh_inject(vm, frame, 200 + i));
	}
	ASSERT_TRUE(vh_wait_used(&vm->q[0], 2, WAIT_MS));
	vm->q[0].used_seen = 2;
	ASSERT_EQ(0, vh_set_backend(vm, 0, -1));
	ASSERT_EQ(0, vh_set_backend(vm, 0, vm->tap));
	vh_rx_post(vm, 6, 2048, heads, gpas, true);
	for (i = 2; i < 8; i++) {
		vh_frame(frame, 200 + i, 20 + i);
		rx_check(_metadata, vm, 200 + i, heads + i - 2, gpas + i - 2,
			 2048, 1);
	}
}

/* Closing the device with packets taken but not received frees them. */
TEST_F(bare, rx_close_with_packets_pending)
{
	struct vh_vm vm;
	unsigned int i, round;

	if (access(vh_dev_path(), F_OK))
		SKIP(return, "no device");
	for (round = 0; round < 20; round++) {
		ASSERT_EQ(0, vh_vm_start(&vm, VH_BASE_FEATURES |
					 (1ull << VIRTIO_NET_F_MRG_RXBUF)));
		vh_rx_post(&vm, 1, 2048, NULL, NULL, true);
		for (i = 0; i < 32; i++) {
			vh_frame(frame, 1000, i);
			ASSERT_EQ(0, vh_inject(&vm, frame, 1000));
		}
		ASSERT_TRUE(vh_wait_used(&vm.q[0], 1, WAIT_MS));
		/* The device goes first (its batch back to the tap), then the tap. */
		vh_vm_close(&vm);
	}
}

TEST_F(bare, rx_small_buffer_drops)
{
	struct vh_vm vm;
	struct vmaccel_vhost_vq_stats st;
	__u16 heads[2];
	__u64 gpas[2];

	if (access(vh_dev_path(), F_OK))
		SKIP(return, "no device");
	/* Without mergeable buffers one chain must hold the whole packet. */
	ASSERT_EQ(0, vh_vm_start(&vm, VH_BASE_FEATURES));
	vh_rx_post(&vm, 1, 100, heads, gpas, true);
	vh_frame(frame, 1000, 1);
	ASSERT_EQ(0, vh_inject(&vm, frame, 1000));
	vh_frame(frame, 50, 2);
	ASSERT_EQ(0, vh_inject(&vm, frame, 50));
	/* The big one is dropped, the small one lands in the same buffer. */
	ASSERT_TRUE(vh_wait_used(&vm.q[0], 1, WAIT_MS));
	ASSERT_EQ(heads[0], vm.q[0].used->ring[0].id);
	ASSERT_EQ(VH_HLEN + 50, vm.q[0].used->ring[0].len);
	ASSERT_EQ(0, memcmp(frame, (__u8 *)vh_hva(&vm, gpas[0]) + VH_HLEN, 50));
	if (vh_is_ours()) {
		ASSERT_EQ(0, vh_stats(&vm, 0, &st));
		ASSERT_EQ(1u, st.dropped);
		ASSERT_EQ(1u, st.packets);
	}
	vh_vm_close(&vm);
}

TEST_F(bare, event_idx)
{
	struct vh_vm vm;
	__u16 *used_event;
	__u8 pkt[VH_HLEN + 100];

	if (access(vh_dev_path(), F_OK))
		SKIP(return, "no device");
	ASSERT_EQ(0, vh_vm_start(&vm, VH_BASE_FEATURES |
				 (1ull << VIRTIO_RING_F_EVENT_IDX)));
	used_event = vh_used_event(&vm.q[1]);
	vm.q[1].evidx_manual = true;	/* the test sets used_event */
	memset(pkt, 0, VH_HLEN);
	vh_frame(pkt + VH_HLEN, 100, 1);
	/* Interrupt wanted only after the 3rd used entry. */
	*used_event = 2;
	/*
	 * The device's first notification after SET_VRING_BASE is
	 * unconditional (upstream's signalled_used_valid): entry 1 gets one.
	 */
	vh_tx_queue(&vm, pkt, sizeof(pkt), 1, true);
	ASSERT_TRUE(vh_wait_used(&vm.q[1], 1, WAIT_MS));
	/* Entry 2 does not cross used_event 2: no interrupt. */
	vh_tx_queue(&vm, pkt, sizeof(pkt), 1, true);
	ASSERT_TRUE(vh_wait_used_no_call(&vm.q[1], 2, WAIT_MS));
	/* Entry 3 does. */
	vh_tx_queue(&vm, pkt, sizeof(pkt), 1, true);
	ASSERT_TRUE(vh_wait_used(&vm.q[1], 3, WAIT_MS));
	/* Now used_event stays 2: no more interrupts for entries 4 and 5. */
	vh_tx_queue(&vm, pkt, sizeof(pkt), 1, true);
	vh_tx_queue(&vm, pkt, sizeof(pkt), 1, true);
	ASSERT_TRUE(vh_wait_used_no_call(&vm.q[1], 5, WAIT_MS));
	/* The device publishes avail_event so the guest knows when to kick. */
	ASSERT_EQ(5, vh_avail_event(&vm.q[1]));
	vh_vm_close(&vm);
}

TEST_F(bare, no_interrupt_flag)
{
	struct vh_vm vm;
	__u8 pkt[VH_HLEN + 100];

	if (access(vh_dev_path(), F_OK))
		SKIP(return, "no device");
	ASSERT_EQ(0, vh_vm_start(&vm, VH_BASE_FEATURES));
	memset(pkt, 0, VH_HLEN);
	vh_frame(pkt + VH_HLEN, 100, 1);
	vm.q[1].avail->flags = VRING_AVAIL_F_NO_INTERRUPT;
	vh_tx_queue(&vm, pkt, sizeof(pkt), 1, true);
	ASSERT_TRUE(vh_wait_used_no_call(&vm.q[1], 1, WAIT_MS));
	vm.q[1].avail->flags = 0;
	vh_tx_queue(&vm, pkt, sizeof(pkt), 1, true);
	ASSERT_TRUE(vh_wait_used(&vm.q[1], 2, WAIT_MS));
	vh_vm_close(&vm);
}

TEST_F(bare, dirty_log)
{
	struct vh_vm vm;
	__u64 features = VH_BASE_FEATURES | (1ull << VIRTIO_NET_F_MRG_RXBUF) |
		(1ull << VHOST_F_LOG_ALL);
	size_t npages = (VH_GPA_BASE + VH_RAM_SIZE) / 4096;
	__u8 *log = calloc(npages / 8 + 8, 1);
	__u64 base = (uintptr_t)log, gpa, p;
	struct vhost_vring_addr a = { .index = 0 };
	struct vh_q *q;
	__u16 d;
	int logfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	size_t flen = 6000;

	if (access(vh_dev_path(), F_OK))
		SKIP(return, "no device");
	ASSERT_NE(NULL, log);
	ASSERT_EQ(0, vh_vm_init(&vm, VH_BASE_FEATURES |
				(1ull << VIRTIO_NET_F_MRG_RXBUF)));
	ASSERT_EQ(0, ioctl(vm.dev, VHOST_SET_LOG_BASE, &base));
	ASSERT_EQ(0, ioctl(vm.dev, VHOST_SET_LOG_FD, &logfd));
	ASSERT_EQ(0, ioctl(vm.dev, VHOST_SET_FEATURES, &features));
	q = &vm.q[0];
	a.desc_user_addr = (uintptr_t)q->desc;
	a.avail_user_addr = (uintptr_t)q->avail;
	a.used_user_addr = (uintptr_t)q->used;
	a.log_guest_addr = q->used_gpa;
	a.flags = 1u << VHOST_VRING_F_LOG;
	ASSERT_EQ(0, ioctl(vm.dev, VHOST_SET_VRING_ADDR, &a));
	ASSERT_EQ(0, vh_tap_create(&vm));
	ASSERT_EQ(0, vh_set_backend(&vm, 0, vm.tap));
	ASSERT_EQ(0, vh_set_backend(&vm, 1, vm.tap));

	/* One 16 KiB buffer starting mid-page; the packet fills 12 + 6000 bytes. */
	gpa = VH_GPA_BASE + 0x300000 + 0x800;
	d = vh_desc_alloc(q);
	q->desc[d].addr = gpa;
	q->desc[d].len = 16384;
	q->desc[d].flags = VRING_DESC_F_WRITE;
	vh_publish(q, d, true);
	vh_frame(frame, flen, 1);
	/* 6000 bytes exceed the tap's MTU: raise it for the injection. */
	{
		struct ifreq ifr = { 0 };
		int s = socket(AF_INET, SOCK_DGRAM, 0);

		snprintf(ifr.ifr_name, IFNAMSIZ, "%s", vm.ifname);
		ifr.ifr_mtu = 9000;
		ASSERT_EQ(0, ioctl(s, SIOCSIFMTU, &ifr));
		close(s);
	}
	ASSERT_EQ(0, vh_inject(&vm, frame, flen));
	ASSERT_TRUE(vh_wait_used(q, 1, WAIT_MS));
	ASSERT_GE(vh_wait_efd(logfd, WAIT_MS), 1u);
	for (p = 0; p < npages; p++) {
		__u64 pa = p * 4096;
		bool data = pa + 4095 >= gpa && pa < gpa + VH_HLEN + flen;
		bool used = pa + 4095 >= q->used_gpa &&
			    pa < q->used_gpa + 6 + 8 * VH_NUM;
		bool set = log[p / 8] & (1u << (p % 8));

		if (set != (data || used))
			TH_LOG("page %#llx: logged %d, expected %d",
			       (unsigned long long)pa, set, data || used);
		ASSERT_EQ(data || used, set);
	}
	vh_vm_close(&vm);
	close(logfd);
	free(log);
}

TEST_F(bare, zero_copy_tx)
{
	struct vmaccel_vhost_zcopy z = {
		.flags = VMACCEL_VHOST_ZCOPY_ENABLE, .min_len = 0,
		.max_pending = 64, .fail_pct = 100, .backoff_pkts = 1,
		.stall_ms = 1000,
	};
	struct vmaccel_vhost_vq_stats st;
	struct vh_vm vm;
	unsigned int i, n = 100, seen = 0;
	__u8 pkt[VH_HLEN + 1514];

	if (!vh_is_ours() || access(vh_dev_path(), F_OK))
		SKIP(return, "vmaccel only");
	ASSERT_EQ(0, vh_vm_init(&vm, VH_BASE_FEATURES));
	ASSERT_EQ(0, ioctl(vm.dev, VMACCEL_VHOST_SET_ZCOPY, &z));
	ASSERT_EQ(0, vh_tap_create(&vm));
	ASSERT_EQ(0, vh_set_backend(&vm, 0, vm.tap));
	ASSERT_EQ(0, vh_set_backend(&vm, 1, vm.tap));
	memset(pkt, 0, VH_HLEN);
	for (i = 0; i < n; i++) {
		vh_frame(pkt + VH_HLEN, 1514, i);
		vh_tx_queue(&vm, pkt, sizeof(pkt), 2, i % 10 == 9);
	}
	while (seen < n && vh_capture(&vm, got, sizeof(got), WAIT_MS) == 1514) {
		vh_frame(pkt + VH_HLEN, 1514, seen);
		ASSERT_EQ(0, memcmp(pkt + VH_HLEN, got, 1514));
		seen++;
	}
	ASSERT_EQ(n, seen);
	/* Every buffer comes back, whatever the order. */
	ASSERT_TRUE(vh_wait_used(&vm.q[1], n, WAIT_MS));
	ASSERT_EQ(0, vh_stats(&vm, 1, &st));
	TH_LOG("zcopy_sent %llu failed %llu fallback %llu copies %llu",
	       (unsigned long long)st.zcopy_sent,
	       (unsigned long long)st.zcopy_failed,
	       (unsigned long long)st.zcopy_fallback,
	       (unsigned long long)st.copies);
	TH_LOG("pending %u max_pending %u worst completion %llu ns",
	       st.pending, st.max_pending,
	       (unsigned long long)st.worst_completion_ns);
	ASSERT_GT(st.zcopy_sent, 0u);
	ASSERT_EQ((__u64)n, st.zcopy_sent + st.copies);
	ASSERT_EQ(0u, st.pending);
	/* Local delivery (our packet socket) copies the pages: failures. */
	ASSERT_GT(st.zcopy_failed, 0u);
	vh_vm_close(&vm);
}

TEST_F(bare, stats_sysfs_debugfs)
{
	struct vh_vm vm;
	long long before, after;
	__u8 pkt[VH_HLEN + 100];
	char buf[4096];
	ssize_t n;
	int fd;

	if (!vh_is_ours() || access(vh_dev_path(), F_OK))
		SKIP(return, "vmaccel only");
	before = vh_read_ll(VH_SYSFS "stats/tx_packets");
	ASSERT_GE(before, 0);
	ASSERT_EQ(0, vh_vm_start(&vm, VH_BASE_FEATURES));
	ASSERT_GE(vh_read_ll(VH_SYSFS "stats/devices"), 1);
	memset(pkt, 0, VH_HLEN);
	vh_frame(pkt + VH_HLEN, 100, 1);
	vh_tx_queue(&vm, pkt, sizeof(pkt), 1, true);
	ASSERT_TRUE(vh_wait_used(&vm.q[1], 1, WAIT_MS));
	after = vh_read_ll(VH_SYSFS "stats/tx_packets");
	ASSERT_GE(after, before + 1);
	fd = open(VH_DEBUGFS, O_RDONLY);
	if (fd >= 0) {
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		ASSERT_GT(n, 0);
		buf[n] = 0;
		ASSERT_NE(NULL, strstr(buf, " tx "));
		ASSERT_NE(NULL, strstr(buf, "packets"));
	}
	/* Knobs are range-checked. */
	ASSERT_NE(0, vh_write_file(VH_SYSFS "zcopy_fail_pct", "101"));
	ASSERT_NE(0, vh_write_file(VH_SYSFS "tx_weight", "0"));
	ASSERT_NE(0, vh_write_file(VH_SYSFS "zcopy_enable", "2"));
	/* Decimal only: "010" is ten (not octal eight), hex is refused. */
	ASSERT_EQ(0, vh_write_file(VH_SYSFS "tx_weight", "010"));
	EXPECT_EQ(10, vh_read_ll(VH_SYSFS "tx_weight"));
	EXPECT_NE(0, vh_write_file(VH_SYSFS "tx_weight", "0x10"));
	ASSERT_EQ(0, vh_write_file(VH_SYSFS "tx_weight", "256"));
	vh_vm_close(&vm);
}

TEST_F(bare, vic_coalescing_ioctl)
{
	struct vmaccel_vhost_vic v, r;
	struct vh_vm vm;

	if (!vh_is_ours() || access(vh_dev_path(), F_OK))
		SKIP(return, "vmaccel only");
	ASSERT_EQ(0, vh_vm_init(&vm, VH_BASE_FEATURES));
	memset(&v, 0, sizeof(v));
	ASSERT_EQ(0, ioctl(vm.dev, VMACCEL_VHOST_GET_VIC, &v));
	ASSERT_EQ((__u32)VMACCEL_VIC_MODE_ADAPTIVE, v.params.mode);
	v.params.mode = VMACCEL_VIC_MODE_FIXED;
	v.params.fixed_ratio = 4;
	ASSERT_EQ(0, ioctl(vm.dev, VMACCEL_VHOST_SET_VIC, &v));
	ASSERT_EQ(0, ioctl(vm.dev, VMACCEL_VHOST_GET_VIC, &r));
	ASSERT_EQ(4u, r.params.fixed_ratio);
	v.params.fixed_ratio = 0;
	ASSERT_EQ(-1, ioctl(vm.dev, VMACCEL_VHOST_SET_VIC, &v));
	ASSERT_EQ(EINVAL, errno);
	v.params.fixed_ratio = 4;
	v.flags = 1;
	ASSERT_EQ(-1, ioctl(vm.dev, VMACCEL_VHOST_SET_VIC, &v));
	ASSERT_EQ(EINVAL, errno);
	vh_vm_close(&vm);
}

TEST_F(bare, fixed_ratio_coalesces_with_backstop)
{
	struct vmaccel_vhost_vic v;
	struct vh_vm vm;
	__u8 pkt[VH_HLEN + 100];
	unsigned int i;

	if (!vh_is_ours() || access(vh_dev_path(), F_OK))
		SKIP(return, "vmaccel only");
	ASSERT_EQ(0, vh_vm_init(&vm, VH_BASE_FEATURES));
	ASSERT_EQ(0, ioctl(vm.dev, VMACCEL_VHOST_GET_VIC, &v));
	v.params.mode = VMACCEL_VIC_MODE_FIXED;
	v.params.fixed_ratio = 256;
	v.params.max_delay_us = 20000;
	ASSERT_EQ(0, ioctl(vm.dev, VMACCEL_VHOST_SET_VIC, &v));
	ASSERT_EQ(0, vh_tap_create(&vm));
	ASSERT_EQ(0, vh_set_backend(&vm, 1, vm.tap));
	memset(pkt, 0, VH_HLEN);
	vh_frame(pkt + VH_HLEN, 100, 1);
	/*
	 * One completion per batch, far fewer than the ratio: only the
	 * backstop delivers each interrupt, and every wait needs one.
	 */
	for (i = 0; i < 5; i++) {
		vh_tx_queue(&vm, pkt, sizeof(pkt), 1, true);
		ASSERT_TRUE(vh_wait_used(&vm.q[1], i + 1, WAIT_MS));
	}
	ASSERT_GE(vm.q[1].calls, 5u);
	vh_vm_close(&vm);
}

/* vic's module-wide totals: the tests run one at a time in their VM. */
#define VIC_TOTALS "/sys/class/misc/vmaccel-vic/"

struct vic_totals {
	long long deferred, backstop;
};

static struct vic_totals vic_totals(void)
{
	struct vic_totals t = {
		.deferred = vh_read_ll(VIC_TOTALS "deferred"),
		.backstop = vh_read_ll(VIC_TOTALS "backstop"),
	};

	return t;
}

/*
 * Adaptive coalescing at any rate (iops_threshold 0), CIF threshold 1 (so
 * that a stream's ratio is the completions expected within the backstop,
 * even at a slow VM's rate), a backstop of @delay_us: what the device
 * reports as commands in flight alone decides.
 */
static void vic_adaptive(struct __test_metadata *_metadata, struct vh_vm *vm,
			 __u32 delay_us)
{
	struct vmaccel_vhost_vic v;

	memset(&v, 0, sizeof(v));
	ASSERT_EQ(0, ioctl(vm->dev, VMACCEL_VHOST_GET_VIC, &v));
	v.params.mode = VMACCEL_VIC_MODE_ADAPTIVE;
	v.params.cif_threshold = 1;
	v.params.iops_threshold = 0;
	v.params.max_delay_us = delay_us;
	v.params.max_ratio = 32;
	ASSERT_EQ(0, ioctl(vm->dev, VMACCEL_VHOST_SET_VIC, &v));
}

/* Fixed mode at 1 in @ratio, the longest backstop (1 s). */
static void vic_fixed(struct __test_metadata *_metadata, struct vh_vm *vm,
		      __u32 ratio)
{
	struct vmaccel_vhost_vic v;

	memset(&v, 0, sizeof(v));
	ASSERT_EQ(0, ioctl(vm->dev, VMACCEL_VHOST_GET_VIC, &v));
	v.params.mode = VMACCEL_VIC_MODE_FIXED;
	v.params.fixed_ratio = ratio;
	v.params.max_delay_us = VMACCEL_VIC_DELAY_US_MAX;
	ASSERT_EQ(0, ioctl(vm->dev, VMACCEL_VHOST_SET_VIC, &v));
}

/* The guest answers: one packet on TX, its buffer back with a call. */
static void vic_answer(struct __test_metadata *_metadata, struct vh_vm *vm,
		       __u16 target)
{
	__u8 pkt[VH_HLEN + 100];

	memset(pkt, 0, VH_HLEN);
	vh_frame(pkt + VH_HLEN, 100, target);
	vh_tx_queue(vm, pkt, sizeof(pkt), 1, true);
	ASSERT_TRUE(vh_wait_used(&vm->q[1], target, WAIT_MS));
}

/*
 * Request/response, one transaction in flight: each packet the guest
 * receives is answered before the next one comes.  The RX queue reports
 * CIF 1 and every packet is an interrupt at once, none deferred.
 */
TEST_F(vm, vic_request_response_is_not_coalesced)
{
	struct vmaccel_vhost_vq_stats rx, tx;
	struct vh_vm *vm = &self->vm;
	const unsigned int n = 32;
	unsigned int i;

	struct vic_totals t0, t1;

	if (!vh_is_ours() || access(VIC_TOTALS "deferred", R_OK))
		SKIP(return, "vmaccel only");
	vic_adaptive(_metadata, vm, 500000);
	vh_rx_post(vm, n, 2048, NULL, NULL, true);
	t0 = vic_totals();
	for (i = 1; i <= n; i++) {
		vh_frame(frame, 100, i);
		ASSERT_EQ(0, vh_inject(vm, frame, 100));
		ASSERT_TRUE(vh_wait_used(&vm->q[0], i, WAIT_MS));
		vic_answer(_metadata, vm, i);
	}
	t1 = vic_totals();
	ASSERT_EQ(0, vh_stats(vm, VMACCEL_VHOST_VQ_RX, &rx));
	ASSERT_EQ(0, vh_stats(vm, VMACCEL_VHOST_VQ_TX, &tx));
	/* Nothing held back, so no backstop either: each call was at once. */
	EXPECT_EQ(t0.deferred, t1.deferred);
	EXPECT_EQ(t0.backstop, t1.backstop);
	EXPECT_EQ(n, rx.notify_sent);
	EXPECT_EQ(n, tx.notify_sent);
	/* Suppressed counts vic's deferrals too: none. */
	EXPECT_EQ(0ULL, rx.notify_suppressed);
	EXPECT_EQ(0ULL, tx.notify_suppressed);
}

/*
 * A stream: packets keep coming and the guest sends nothing back.  The RX
 * queue's CIF grows with the packets since the guest's last one, so vic
 * coalesces: far fewer interrupts than packets, the last ones delivered
 * by the backstop.  Once the guest answers, the next packet is an
 * interrupt at once again.
 */
TEST_F(vm, vic_stream_is_coalesced)
{
	struct vmaccel_vhost_vq_stats before, after;
	struct vh_vm *vm = &self->vm;
	const unsigned int n = 160;
	unsigned int i;

	struct vic_totals t0, t1;

	if (!vh_is_ours() || access(VIC_TOTALS "deferred", R_OK))
		SKIP(return, "vmaccel only");
	vic_adaptive(_metadata, vm, VMACCEL_VIC_DELAY_US_MAX);
	vh_rx_post(vm, n + 1, 2048, NULL, NULL, true);
	/* One packet per handler run: each reaches vic on its own. */
	for (i = 1; i <= n; i++) {
		vh_frame(frame, 100, i);
		ASSERT_EQ(0, vh_inject(vm, frame, 100));
		ASSERT_TRUE(vh_poll_used(&vm->q[0], i, WAIT_MS));
	}
	/* A call covers the last ones (the backstop, if nothing else). */
	ASSERT_TRUE(vh_wait_used(&vm->q[0], n, WAIT_MS));
	/* Past any backstop still armed (1 s), with its call taken. */
	vh_sleep_ms(VMACCEL_VIC_DELAY_US_MAX / 1000 + 200);
	vh_call_take(&vm->q[0]);
	ASSERT_EQ(0, vh_stats(vm, VMACCEL_VHOST_VQ_RX, &before));
	TH_LOG("%u packets: %llu interrupts, %llu deferred", n,
	       (unsigned long long)before.notify_sent,
	       (unsigned long long)before.notify_suppressed);
	EXPECT_GT(n / 2, before.notify_sent);
	EXPECT_LT(0ULL, before.notify_suppressed);

	t0 = vic_totals();
	vic_answer(_metadata, vm, 1);
	vh_frame(frame, 100, 0);
	ASSERT_EQ(0, vh_inject(vm, frame, 100));
	ASSERT_TRUE(vh_wait_used(&vm->q[0], n + 1, WAIT_MS));
	t1 = vic_totals();
	ASSERT_EQ(0, vh_stats(vm, VMACCEL_VHOST_VQ_RX, &after));
	EXPECT_EQ(before.notify_sent + 1, after.notify_sent);
	EXPECT_EQ(before.notify_suppressed, after.notify_suppressed);
	/* The answer and the packet after it: neither held back. */
	EXPECT_EQ(t0.deferred, t1.deferred);
	EXPECT_EQ(t0.backstop, t1.backstop);
}

/*
 * An interrupt vic holds back is delivered when the VMM stops the backend
 * (SET_BACKEND -1), not by the backstop a second later: QEMU reads the
 * call eventfd once after the stop and then stops watching it.  Likewise
 * at GET_VRING_BASE.
 */
TEST_F(bare, vic_backend_stop_delivers_what_is_held_back)
{
	__u8 pkt[VH_HLEN + 100];
	struct vhost_vring_state st = { .index = 1 };
	struct vic_totals v0, v1;
	struct pollfd p;
	struct vh_vm vm;
	__u64 t0, c;

	if (!vh_is_ours() || access(VIC_TOTALS "backstop", R_OK))
		SKIP(return, "vmaccel only");
	ASSERT_EQ(0, vh_vm_start(&vm, VH_BASE_FEATURES));
	vic_fixed(_metadata, &vm, 256);
	memset(pkt, 0, VH_HLEN);
	vh_frame(pkt + VH_HLEN, 100, 1);
	v0 = vic_totals();
	t0 = vh_now_ms();
	/* 1 of 256: held back. */
	vh_tx_queue(&vm, pkt, sizeof(pkt), 1, true);
	ASSERT_TRUE(vh_poll_used(&vm.q[1], 1, WAIT_MS));
	ASSERT_EQ(0, vh_set_backend(&vm, 1, -1));
	p.fd = vm.q[1].call;
	p.events = POLLIN;
	c = poll(&p, 1, 0) == 1 ? vh_call_take(&vm.q[1]) : 0;
	if (!c && vh_now_ms() - t0 >= VMACCEL_VIC_DELAY_US_MAX / 1000 - 100) {
		vh_vm_close(&vm);
		SKIP(return, "slower than the backstop");
	}
	EXPECT_EQ(1ULL, c);
	/* Delivered by the stop, not by a backstop that came first. */
	v1 = vic_totals();
	EXPECT_EQ(v0.backstop, v1.backstop);
	/* Again, stopped by GET_VRING_BASE this time. */
	ASSERT_EQ(0, vh_set_backend(&vm, 1, vm.tap));
	t0 = vh_now_ms();
	vh_tx_queue(&vm, pkt, sizeof(pkt), 1, true);
	ASSERT_TRUE(vh_poll_used(&vm.q[1], 2, WAIT_MS));
	ASSERT_EQ(0, ioctl(vm.dev, VHOST_GET_VRING_BASE, &st));
	c = poll(&p, 1, 0) == 1 ? vh_call_take(&vm.q[1]) : 0;
	if (!c && vh_now_ms() - t0 >= VMACCEL_VIC_DELAY_US_MAX / 1000 - 100) {
		vh_vm_close(&vm);
		SKIP(return, "slower than the backstop");
	}
	EXPECT_EQ(1ULL, c);
	EXPECT_EQ(v1.backstop, vic_totals().backstop);
	vh_vm_close(&vm);
}

/*
 * Packets keep coming and the guest's RX buffers run out: it posts more
 * when it handles its interrupt, so the interrupt vic holds back goes out
 * then, not at the backstop (1 s).  Before, the guest got its buffers'
 * interrupt only from the backstop, every time its ring filled.
 */
TEST_F(bare, vic_rx_out_of_buffers_delivers_what_is_held_back)
{
	const __u64 backstop_ms = VMACCEL_VIC_DELAY_US_MAX / 1000;
	struct vic_totals v0, v1;
	__u64 t0, t_out, t_call;
	struct pollfd p;
	struct vh_vm vm;
	unsigned int i;
	__u64 c;

	if (!vh_is_ours() || access(VIC_TOTALS "backstop", R_OK))
		SKIP(return, "vmaccel only");
	ASSERT_EQ(0, vh_vm_start(&vm, VH_BASE_FEATURES));
	vic_fixed(_metadata, &vm, 256);
	vh_rx_post(&vm, 2, 2048, NULL, NULL, true);
	v0 = vic_totals();
	t0 = vh_now_ms();
	/* Two fill the ring (2 of 256: held back), the third finds no room. */
	for (i = 1; i <= 2; i++) {
		vh_frame(frame, 100, i);
		ASSERT_EQ(0, vh_inject(&vm, frame, 100));
		ASSERT_TRUE(vh_poll_used(&vm.q[0], i, WAIT_MS));
	}
	/* Each handler run turned kicks off (no event index: used->flags). */
	ASSERT_EQ(VRING_USED_F_NO_NOTIFY,
		  __atomic_load_n(&vm.q[0].used->flags, __ATOMIC_ACQUIRE));
	vh_frame(frame, 100, 3);
	ASSERT_EQ(0, vh_inject(&vm, frame, 100));
	/* The handler found no buffer when it asks for a kick again. */
	while (__atomic_load_n(&vm.q[0].used->flags, __ATOMIC_ACQUIRE) &&
	       vh_now_ms() - t0 < WAIT_MS)
		vh_sleep_ms(1);
	t_out = vh_now_ms() - t0;
	ASSERT_EQ(0, __atomic_load_n(&vm.q[0].used->flags, __ATOMIC_ACQUIRE));
	p.fd = vm.q[0].call;
	p.events = POLLIN;
	c = poll(&p, 1, backstop_ms * 2) == 1 ? vh_call_take(&vm.q[0]) : 0;
	t_call = vh_now_ms() - t0;
	v1 = vic_totals();
	TH_LOG("ring out of buffers after %llu ms, call after %llu ms, backstops %lld",
	       (unsigned long long)t_out, (unsigned long long)t_call,
	       v1.backstop - v0.backstop);
	ASSERT_EQ(1ULL, c);
	if (v1.backstop != v0.backstop && t_out + 100 >= backstop_ms) {
		vh_vm_close(&vm);
		SKIP(return, "the ring ran out only after the backstop was due");
	}
	/* Delivered because the ring ran out, not by the backstop. */
	EXPECT_EQ(v0.backstop, v1.backstop);
	EXPECT_EQ(2, vh_used_idx(&vm.q[0]));
	vh_vm_close(&vm);
}

/*
 * Under the event index the guest asks for one interrupt, at an entry;
 * the entries after it need none of their own.  When vic defers that
 * interrupt, they join its batch: fixed ratio 8 delivers it with the 8th
 * entry, not at the backstop (1 s).  Before, they were dropped as not
 * needed and only the backstop delivered.
 */
TEST_F(bare, vic_event_idx_entries_join_a_deferred_interrupt)
{
	long long c0, i0, b0, c1, i1, b1;
	struct vh_vm vm;
	unsigned int i;
	__u64 t0;

	if (!vh_is_ours() || access(VIC_TOTALS "completions", R_OK))
		SKIP(return, "vmaccel only");
	ASSERT_EQ(0, vh_vm_start(&vm, VH_BASE_FEATURES |
				 (1ull << VIRTIO_RING_F_EVENT_IDX)));
	vic_fixed(_metadata, &vm, 8);
	vm.q[0].evidx_manual = true;	/* the test sets used_event */
	vh_rx_post(&vm, 9, 2048, NULL, NULL, true);
	c0 = vh_read_ll(VIC_TOTALS "completions");
	i0 = vh_read_ll(VIC_TOTALS "interrupts");
	b0 = vh_read_ll(VIC_TOTALS "backstop");
	t0 = vh_now_ms();
	/* Entry 1: the first notification is unconditional; 1 of 8. */
	vh_frame(frame, 100, 1);
	ASSERT_EQ(0, vh_inject(&vm, frame, 100));
	ASSERT_TRUE(vh_poll_used(&vm.q[0], 1, WAIT_MS));
	/* An interrupt wanted when entry 2 is used (used_event 1). */
	*vh_used_event(&vm.q[0]) = 1;
	for (i = 2; i <= 8; i++) {
		vh_frame(frame, 100, i);
		ASSERT_EQ(0, vh_inject(&vm, frame, 100));
		ASSERT_TRUE(vh_poll_used(&vm.q[0], i, WAIT_MS));
	}
	if (vh_now_ms() - t0 >= VMACCEL_VIC_DELAY_US_MAX / 1000 - 100) {
		vh_vm_close(&vm);
		SKIP(return, "the entries took longer than the backstop");
	}
	ASSERT_TRUE(vh_wait_used(&vm.q[0], 8, WAIT_MS));
	c1 = vh_read_ll(VIC_TOTALS "completions");
	i1 = vh_read_ll(VIC_TOTALS "interrupts");
	b1 = vh_read_ll(VIC_TOTALS "backstop");
	TH_LOG("8 entries: %lld completions, %lld interrupts, %lld backstop",
	       c1 - c0, i1 - i0, b1 - b0);
	/* Entries 3-8 needed no interrupt, but joined the deferred one. */
	EXPECT_EQ(8, c1 - c0);
	EXPECT_EQ(1, i1 - i0);
	EXPECT_EQ(0, b1 - b0);
	vh_vm_close(&vm);
}

/* A 64 KiB IPv4/TCP frame with a GSO header: out on the tap as one GSO skb. */
TEST_F(vm, tx_gso_exact)
{
	struct vh_vm *vm = &self->vm;
	static __u8 pkt[VH_HLEN + 14 + 65000];
	struct virtio_net_hdr_mrg_rxbuf *h = (void *)pkt;
	struct virtio_net_hdr vh;
	size_t flen = 14 + 65000;
	__u8 *f = pkt + VH_HLEN;
	struct iovec iov[2];
	struct msghdr msg = { .msg_iov = iov, .msg_iovlen = 2 };
	ssize_t n = -1;
	unsigned int i;
	int s;

	s = vh_vnet_capture(vm);
	ASSERT_LE(0, s);

	memset(pkt, 0, sizeof(pkt));
	vh_tcp4_frame(f, flen, 5, 99);
	h->hdr.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	h->hdr.gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
	h->hdr.hdr_len = 54;
	h->hdr.gso_size = 1448;
	h->hdr.csum_start = 34;
	h->hdr.csum_offset = 16;
	vh_tx_queue(vm, pkt, sizeof(pkt), 5, true);
	iov[0].iov_base = &vh;
	iov[0].iov_len = sizeof(vh);
	iov[1].iov_base = got;
	iov[1].iov_len = sizeof(got);
	for (i = 0; i < 50; i++) {
		struct pollfd p = { .fd = s, .events = POLLIN };

		ASSERT_EQ(1, poll(&p, 1, WAIT_MS));
		n = recvmsg(s, &msg, 0);
		if (n == (ssize_t)(sizeof(vh) + flen))
			break;
	}
	ASSERT_EQ((ssize_t)(sizeof(vh) + flen), n);
	ASSERT_EQ(0, memcmp(f, got, flen));
	ASSERT_EQ(VIRTIO_NET_HDR_GSO_TCPV4, vh.gso_type);
	ASSERT_EQ(1448, vh.gso_size);
	ASSERT_EQ(VIRTIO_NET_HDR_F_NEEDS_CSUM, vh.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM);
	ASSERT_EQ(34, vh.csum_start);
	ASSERT_EQ(16, vh.csum_offset);
	close(s);
	ASSERT_TRUE(vh_wait_used(&vm->q[1], 1, WAIT_MS));
}

/* VHOST_NET_F_VIRTIO_NET_HDR: the tap has no header, the device handles it. */
TEST_F(bare, device_adds_and_strips_the_header)
{
	struct vh_vm vm;
	__u8 pkt[VH_HLEN + 300];
	struct virtio_net_hdr_mrg_rxbuf *h;
	__u16 heads[1];
	__u64 gpas[1];

	if (access(vh_dev_path(), F_OK))
		SKIP(return, "no device");
	ASSERT_EQ(0, vh_vm_init(&vm, VH_BASE_FEATURES |
				(1ull << VIRTIO_NET_F_MRG_RXBUF) |
				(1ull << VHOST_NET_F_VIRTIO_NET_HDR)));
	ASSERT_EQ(0, vh_tap_create_ex(&vm, true));
	ASSERT_EQ(0, vh_set_backend(&vm, 0, vm.tap));
	ASSERT_EQ(0, vh_set_backend(&vm, 1, vm.tap));
	memset(pkt, 0x77, VH_HLEN);	/* stripped, whatever it holds */
	vh_frame(pkt + VH_HLEN, 300, 8);
	vh_tx_queue(&vm, pkt, sizeof(pkt), 2, true);
	ASSERT_EQ(300, vh_capture(&vm, got, sizeof(got), WAIT_MS));
	ASSERT_EQ(0, memcmp(pkt + VH_HLEN, got, 300));
	vh_rx_post(&vm, 1, 2048, heads, gpas, true);
	vh_frame(frame, 200, 9);
	ASSERT_EQ(0, vh_inject(&vm, frame, 200));
	ASSERT_TRUE(vh_wait_used(&vm.q[0], 1, WAIT_MS));
	ASSERT_EQ(VH_HLEN + 200, vm.q[0].used->ring[0].len);
	h = vh_hva(&vm, gpas[0]);
	ASSERT_EQ(1, h->num_buffers);
	ASSERT_EQ(0, h->hdr.flags);
	ASSERT_EQ(VIRTIO_NET_HDR_GSO_NONE, h->hdr.gso_type);
	ASSERT_EQ(0, memcmp(frame, (__u8 *)h + VH_HLEN, 200));
	vh_vm_close(&vm);
}

TEST_HARNESS_MAIN
