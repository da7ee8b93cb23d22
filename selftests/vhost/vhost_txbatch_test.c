// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmaccel_vhost_net selftest: batched TX copies (vhost/txbatch.c).
 *
 * Bursts of frames of mixed sizes around the tx_batch_max_len threshold
 * (so batched and per-packet sends interleave) leave through the tap
 * byte-exact and in ring order, and the stats say which went in batches;
 * the virtio-net header (checksum offload, GSO) of a batched frame
 * reaches the tap; a header the backend refuses is dropped the old way
 * without disturbing the frames around it; stopping the backend, removing
 * it and closing the device with batches in flight lose or duplicate
 * nothing (the debug tier's kmemleak/KASAN and the WARN in vh_txb_free()
 * check the page fragments are given back); the knobs are range-checked.
 */
#include "vhost_util.h"

#define WAIT_MS 5000
#define KNOB_LEN VH_SYSFS "tx_batch_max_len"
#define KNOB_PKTS VH_SYSFS "tx_batch_pkts"
#define THRESH 512u

static __u8 got[70000];

FIXTURE(tb) {
	struct vh_vm vm;
	long long old_len, old_pkts;
};

FIXTURE_SETUP(tb)
{
	char v[32];

	self->old_len = -1;
	if (access(vh_dev_path(), F_OK))
		SKIP(return, "%s missing (module not loaded)", vh_dev_path());
	if (!vh_is_ours())
		SKIP(return, "batching knobs are vmaccel's");
	if (access("/dev/net/tun", F_OK))
		SKIP(return, "no /dev/net/tun");
	self->old_len = vh_read_ll(KNOB_LEN);
	self->old_pkts = vh_read_ll(KNOB_PKTS);
	ASSERT_GE(self->old_len, 0);
	ASSERT_GE(self->old_pkts, 1);
	snprintf(v, sizeof(v), "%u", THRESH);
	ASSERT_EQ(0, vh_write_file(KNOB_LEN, v));
	ASSERT_EQ(0, vh_write_file(KNOB_PKTS, "64"));
	ASSERT_EQ(0, vh_vm_start(&self->vm, VH_BASE_FEATURES |
				 (1ull << VIRTIO_NET_F_MRG_RXBUF))) {
		TH_LOG("vm start: %s: %s", vh_step, strerror(errno));
	}
}

FIXTURE_TEARDOWN(tb)
{
	char v[32];

	vh_vm_close(&self->vm);
	if (self->old_len >= 0) {
		snprintf(v, sizeof(v), "%lld", self->old_len);
		vh_write_file(KNOB_LEN, v);
		snprintf(v, sizeof(v), "%lld", self->old_pkts);
		vh_write_file(KNOB_PKTS, v);
	}
}

/* Sizes around the threshold: runs of batched frames and single sends. */
static const unsigned int sizes[] = {
	60, 64, 100, 200, 60, THRESH - 1, THRESH, THRESH + 1, 64, 64, 1500,
	90, 300, 400, 800, 60, 61, 62, 63, 1000, 128, 256, THRESH, 70,
};

static size_t size_of(unsigned int seq)
{
	return sizes[seq % VH_ARRAY_SIZE(sizes)];
}

/* Frame @seq: our pattern with the sequence number after the header. */
static void seq_frame(__u8 *f, size_t len, unsigned int seq)
{
	vh_frame(f, len, seq);
	f[14] = seq >> 8;
	f[15] = seq & 0xff;
}

/*
 * Queue @n (<= 128) frames from @seq0 on, kick once, then check
 * that they arrive in order and byte-exact.  Returns how many frames of
 * at most THRESH bytes were queued.
 */
static unsigned int burst(struct __test_metadata *_metadata, struct vh_vm *vm,
			  unsigned int seq0, unsigned int n)
{
	static __u8 pkt[VH_HLEN + 1600], want[1600];
	unsigned int i, small = 0;
	ssize_t len;

	memset(pkt, 0, VH_HLEN);
	for (i = 0; i < n; i++) {
		size_t fl = size_of(seq0 + i);

		seq_frame(pkt + VH_HLEN, fl, seq0 + i);
		/* At most 2 descriptors each: n <= 128 fits the table. */
		vh_tx_queue(vm, pkt, VH_HLEN + fl, 1 + i % 2, false);
		small += fl <= THRESH;
	}
	vh_kick(&vm->q[1]);
	for (i = 0; i < n; i++) {
		size_t fl = size_of(seq0 + i);

		len = vh_capture(vm, got, sizeof(got), WAIT_MS);
		ASSERT_EQ((ssize_t)fl, len) {
			TH_LOG("frame %u: expected %zu bytes (seq %u), got %zd (seq %u)",
			       i, fl, seq0 + i, len,
			       len >= 16 ? (got[14] << 8 | got[15]) : 0);
		}
		seq_frame(want, fl, seq0 + i);
		ASSERT_EQ(0, memcmp(want, got, fl)) {
			TH_LOG("frame %u: seq %u expected, seq %u arrived", i,
			       seq0 + i, got[14] << 8 | got[15]);
		}
	}
	return small;
}

TEST_F(tb, mixed_sizes_in_order_and_exact)
{
	struct vmaccel_vhost_vq_stats st;
	struct vh_vm *vm = &self->vm;
	unsigned int small = 0, r;
	__u16 target = 0;

	for (r = 0; r < 6; r++) {
		small += burst(_metadata, vm, r * 100, 100);
		target += 100;
		ASSERT_TRUE(vh_wait_used(&vm->q[1], target, WAIT_MS));
	}
	ASSERT_EQ(0, vh_stats(vm, 1, &st));
	EXPECT_EQ(600u, st.packets);
	EXPECT_EQ(0u, st.dropped);
	/* Every frame up to the threshold went in a batch, no other one. */
	EXPECT_EQ(small, st.tx_batched);
	EXPECT_GT(st.tx_batch_sends, 0u);
	/* Runs of small frames share a sendmsg(). */
	EXPECT_LT(st.tx_batch_sends, st.tx_batched);
	EXPECT_EQ(600u, st.copies);
}

TEST_F(tb, only_small_frames_fill_64_per_send)
{
	static __u8 pkt[VH_HLEN + 64];
	struct vmaccel_vhost_vq_stats st;
	struct vh_vm *vm = &self->vm;
	unsigned int i;
	ssize_t n;

	memset(pkt, 0, VH_HLEN);
	for (i = 0; i < 192; i++) {
		seq_frame(pkt + VH_HLEN, 64, i);
		vh_tx_queue(vm, pkt, sizeof(pkt), 1, false);
	}
	vh_kick(&vm->q[1]);
	for (i = 0; i < 192; i++) {
		n = vh_capture(vm, got, sizeof(got), WAIT_MS);
		ASSERT_EQ(64, n);
		ASSERT_EQ(i, (unsigned int)(got[14] << 8 | got[15]));
	}
	ASSERT_TRUE(vh_wait_used(&vm->q[1], 192, WAIT_MS));
	ASSERT_EQ(0, vh_stats(vm, 1, &st));
	EXPECT_EQ(192u, st.tx_batched);
	/* At most 64 per send: at least 3 sends. */
	EXPECT_GE(st.tx_batch_sends, 3u);
}

TEST_F(tb, knob_off_sends_per_packet)
{
	struct vmaccel_vhost_vq_stats st;
	struct vh_vm *vm = &self->vm;

	ASSERT_EQ(0, vh_write_file(KNOB_LEN, "0"));
	burst(_metadata, vm, 0, 100);
	ASSERT_TRUE(vh_wait_used(&vm->q[1], 100, WAIT_MS));
	ASSERT_EQ(0, vh_stats(vm, 1, &st));
	EXPECT_EQ(100u, st.packets);
	EXPECT_EQ(0u, st.tx_batched);
	EXPECT_EQ(0u, st.tx_batch_sends);
}

TEST_F(tb, limited_sndbuf_sends_per_packet)
{
	struct vmaccel_vhost_vq_stats st;
	struct vh_vm *vm = &self->vm;
	int sndbuf = 1 << 20;

	/* TUN_MSG_PTR bypasses sk_sndbuf: only for an unlimited backend. */
	ASSERT_EQ(0, ioctl(vm->tap, TUNSETSNDBUF, &sndbuf));
	burst(_metadata, vm, 0, 100);
	ASSERT_TRUE(vh_wait_used(&vm->q[1], 100, WAIT_MS));
	ASSERT_EQ(0, vh_stats(vm, 1, &st));
	EXPECT_EQ(100u, st.packets);
	EXPECT_EQ(0u, st.tx_batched);
}

/* An IPv4/UDP frame of @len bytes, checksum left to the device. */
static void udp_frame(__u8 *f, size_t len, unsigned int seq)
{
	seq_frame(f, len, seq);
	f[12] = 0x08;
	f[13] = 0x00;
	memset(f + 14, 0, 28);
	f[14] = 0x45;
	f[16] = (len - 14) >> 8;
	f[17] = (len - 14) & 0xff;
	f[22] = 64;
	f[23] = 17;
	f[26] = 10; f[29] = 2;
	f[30] = 10; f[33] = 3;
	f[34] = 0x30; f[35] = 0x39;	/* ports */
	f[36] = 0x30; f[37] = 0x3a;
	f[38] = (len - 34) >> 8;
	f[39] = (len - 34) & 0xff;
	f[40] = seq >> 8;		/* the UDP checksum field holds the */
	f[41] = seq & 0xff;		/* pseudo-header sum for the device */
}

static ssize_t recv_vnet(int s, struct virtio_net_hdr *vh, __u8 *buf,
			 size_t size)
{
	struct iovec iov[2] = {
		{ .iov_base = vh, .iov_len = sizeof(*vh) },
		{ .iov_base = buf, .iov_len = size },
	};
	struct msghdr msg = { .msg_iov = iov, .msg_iovlen = 2 };
	unsigned int i;
	ssize_t n;

	for (i = 0; i < 100; i++) {
		struct pollfd p = { .fd = s, .events = POLLIN };

		if (poll(&p, 1, WAIT_MS) != 1)
			return -1;
		n = recvmsg(s, &msg, 0);
		/* Only IPv4 frames of the test. */
		if (n > (ssize_t)sizeof(*vh) + 34 && buf[12] == 0x08 &&
		    buf[13] == 0x00 && buf[26] == 10 && buf[29] == 2)
			return n - sizeof(*vh);
	}
	return -1;
}

TEST_F(tb, vnet_header_csum_and_gso_honoured)
{
	static __u8 pkt[VH_HLEN + 1200];
	struct virtio_net_hdr_mrg_rxbuf *h = (void *)pkt;
	struct vmaccel_vhost_vq_stats st;
	struct vh_vm *vm = &self->vm;
	struct virtio_net_hdr vh;
	__u8 *f = pkt + VH_HLEN;
	ssize_t n;
	int s;

	ASSERT_EQ(0, vh_write_file(KNOB_LEN, "1200"));
	s = vh_vnet_capture(vm);
	ASSERT_LE(0, s);

	/* Checksum offload, hdr_len 0: the device must make it reach the field. */
	memset(pkt, 0, sizeof(pkt));
	udp_frame(f, 300, 1);
	f[24] = 0; /* IP header checksum: not checked on this path */
	h->hdr.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	h->hdr.csum_start = 34;
	h->hdr.csum_offset = 6;
	vh_tx_queue(vm, pkt, VH_HLEN + 300, 2, true);
	n = recv_vnet(s, &vh, got, sizeof(got));
	ASSERT_EQ(300, n);
	ASSERT_EQ(0, memcmp(f, got, 300));
	ASSERT_EQ(VIRTIO_NET_HDR_F_NEEDS_CSUM, vh.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM);
	ASSERT_EQ(34, vh.csum_start);
	ASSERT_EQ(6, vh.csum_offset);
	ASSERT_EQ(VIRTIO_NET_HDR_GSO_NONE, vh.gso_type);
	ASSERT_TRUE(vh_wait_used(&vm->q[1], 1, WAIT_MS));

	/* TCP GSO frame of 1054 bytes, 3 segments of 400 or less. */
	memset(pkt, 0, sizeof(pkt));
	vh_tcp4_frame(f, 1054, 7, 0);
	h->hdr.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	h->hdr.gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
	h->hdr.gso_size = 400;
	h->hdr.hdr_len = 54;
	h->hdr.csum_start = 34;
	h->hdr.csum_offset = 16;
	vh_tx_queue(vm, pkt, VH_HLEN + 1054, 3, true);
	n = recv_vnet(s, &vh, got, sizeof(got));
	ASSERT_EQ(1054, n);
	ASSERT_EQ(0, memcmp(f, got, 1054));
	ASSERT_EQ(VIRTIO_NET_HDR_GSO_TCPV4, vh.gso_type);
	ASSERT_EQ(400, vh.gso_size);
	ASSERT_EQ(34, vh.csum_start);
	ASSERT_EQ(16, vh.csum_offset);
	ASSERT_TRUE(vh_wait_used(&vm->q[1], 2, WAIT_MS));
	close(s);

	ASSERT_EQ(0, vh_stats(vm, 1, &st));
	EXPECT_EQ(2u, st.tx_batched);
	EXPECT_EQ(2u, st.packets);
}

TEST_F(tb, refused_header_dropped_between_batched_frames)
{
	static __u8 pkt[VH_HLEN + 200];
	struct virtio_net_hdr_mrg_rxbuf *h = (void *)pkt;
	struct vmaccel_vhost_vq_stats st;
	struct vh_vm *vm = &self->vm;
	unsigned int i;
	ssize_t n;

	for (i = 0; i < 9; i++) {
		memset(pkt, 0, VH_HLEN);
		seq_frame(pkt + VH_HLEN, 200, i);
		if (i == 4) {
			/* Checksum field beyond the frame: tun refuses it. */
			h->hdr.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
			h->hdr.csum_start = 190;
			h->hdr.csum_offset = 20;
		}
		vh_tx_queue(vm, pkt, sizeof(pkt), 1, false);
	}
	vh_kick(&vm->q[1]);
	for (i = 0; i < 9; i++) {
		if (i == 4)
			continue;
		n = vh_capture(vm, got, sizeof(got), WAIT_MS);
		ASSERT_EQ(200, n);
		ASSERT_EQ(i, (unsigned int)(got[14] << 8 | got[15]));
	}
	ASSERT_TRUE(vh_wait_used(&vm->q[1], 9, WAIT_MS));
	ASSERT_EQ(0, vh_stats(vm, 1, &st));
	EXPECT_EQ(1u, st.dropped);
	EXPECT_EQ(8u, st.packets);
	EXPECT_EQ(8u, st.tx_batched);
	/* The bad frame split the run: two sends at least. */
	EXPECT_GE(st.tx_batch_sends, 2u);
}

/* Stop and restart the TX backend under a running burst: nothing is lost. */
TEST_F(tb, backend_stop_and_restart_under_batches)
{
	static __u8 pkt[VH_HLEN + 1600], want[1600];
	struct vh_vm *vm = &self->vm;
	unsigned int i, r, seen = 0, n = 240;
	bool have[240] = { false };
	ssize_t len;

	memset(pkt, 0, VH_HLEN);
	for (i = 0; i < n; i++) {
		size_t fl = size_of(i);

		seq_frame(pkt + VH_HLEN, fl, i);
		vh_tx_queue(vm, pkt, VH_HLEN + fl, 1, false);
	}
	vh_kick(&vm->q[1]);
	for (r = 0; r < 4; r++) {
		ASSERT_EQ(0, vh_set_backend(vm, 1, -1));
		ASSERT_EQ(0, vh_set_backend(vm, 1, vm->tap));
		vh_kick(&vm->q[1]);
	}
	/* Every frame once, byte-exact; order within the tap's view. */
	while (seen < n) {
		unsigned int seq;

		len = vh_capture(vm, got, sizeof(got), WAIT_MS);
		ASSERT_GT(len, 15);
		seq = got[14] << 8 | got[15];
		ASSERT_LT(seq, n);
		ASSERT_FALSE(have[seq]);
		ASSERT_EQ((ssize_t)size_of(seq), len);
		seq_frame(want, len, seq);
		ASSERT_EQ(0, memcmp(want, got, len));
		/* A backend restart never reorders: frames come in ring order. */
		ASSERT_EQ(seen, seq);
		have[seq] = true;
		seen++;
	}
	ASSERT_TRUE(vh_wait_used(&vm->q[1], n, WAIT_MS));
}

/* Remove the backend, reset the owner, close: with batches in flight. */
TEST_F(tb, teardown_with_batches_in_flight)
{
	static __u8 pkt[VH_HLEN + 64];
	struct vh_vm *vm = &self->vm;
	unsigned int i, k;

	memset(pkt, 0, VH_HLEN);
	for (k = 0; k < 3; k++) {
		for (i = 0; i < 200; i++) {
			seq_frame(pkt + VH_HLEN, 64, i);
			vh_tx_queue(vm, pkt, sizeof(pkt), 1, false);
		}
		vh_kick(&vm->q[1]);
		if (k == 0) {
			ASSERT_EQ(0, vh_set_backend(vm, 1, -1));
		} else if (k == 1) {
			ASSERT_EQ(0, ioctl(vm->dev, VHOST_RESET_OWNER));
		} else {
			close(vm->dev);
			vm->dev = -1;
			break;
		}
		vh_vm_close(vm);
		ASSERT_EQ(0, vh_vm_start(vm, VH_BASE_FEATURES |
					 (1ull << VIRTIO_NET_F_MRG_RXBUF)));
	}
}

TEST_F(tb, knobs_range_checked)
{
	EXPECT_NE(0, vh_write_file(KNOB_LEN, "4096"));	/* beyond a page */
	EXPECT_NE(0, vh_write_file(KNOB_LEN, "-1"));
	EXPECT_NE(0, vh_write_file(KNOB_LEN, "abc"));
	EXPECT_EQ(0, vh_write_file(KNOB_LEN, "1500"));
	EXPECT_EQ(1500, vh_read_ll(KNOB_LEN));
	EXPECT_EQ(0, vh_write_file(KNOB_LEN, "0"));
	EXPECT_EQ(0, vh_read_ll(KNOB_LEN));
	EXPECT_NE(0, vh_write_file(KNOB_PKTS, "0"));
	EXPECT_NE(0, vh_write_file(KNOB_PKTS, "65"));
	EXPECT_EQ(0, vh_write_file(KNOB_PKTS, "1"));
	EXPECT_EQ(1, vh_read_ll(KNOB_PKTS));
	EXPECT_EQ(0, vh_write_file(KNOB_PKTS, "64"));
	EXPECT_EQ(64, vh_read_ll(KNOB_PKTS));
	/* Totals exist and read. */
	EXPECT_GE(vh_read_ll(VH_SYSFS "stats/tx_batched"), 0);
	EXPECT_GE(vh_read_ll(VH_SYSFS "stats/tx_batch_sends"), 0);
}

TEST_HARNESS_MAIN
