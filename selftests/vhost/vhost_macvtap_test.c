// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmaccel_vhost_net selftest: macvtap as the backend.
 *
 * A dummy device carries a macvtap and a macvlan, both in bridge mode, so
 * frames between them stay on the host: the guest's TX (through the
 * macvtap's /dev/tapN) arrives on the macvlan, and a frame sent from the
 * macvlan arrives in the guest's RX ring.  Both byte-exact.  With the
 * macvtap's sndbuf unlimited (what QEMU sets) small TX frames go to it in
 * batches (TUN_MSG_PTR, tap_sendmsg()), interleaved with per-packet sends
 * of larger ones, still in order; with the default sndbuf nothing is
 * batched.  Skips when the dummy, macvlan or macvtap drivers are missing.
 */
#include "vhost_util.h"

#define WAIT_MS 5000

static __u8 frame[2000], got[2000];

#define KNOB_LEN VH_SYSFS "tx_batch_max_len"

FIXTURE(mvt) {
	struct vh_vm vm;
	char lower[IFNAMSIZ], tap[IFNAMSIZ], peer[IFNAMSIZ];
	bool topo;
	bool ready;	/* set up completely (the harness runs skipped bodies) */
};

FIXTURE_SETUP(mvt)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET };
	char path[64];
	int id = getpid() % 10000, hsz = VH_HLEN, idx, i;

	if (access(vh_dev_path(), F_OK))
		SKIP(return, "no device");
	snprintf(self->lower, IFNAMSIZ, "vml%d", id);
	snprintf(self->tap, IFNAMSIZ, "vmt%d", id);
	snprintf(self->peer, IFNAMSIZ, "vmp%d", id);
	/* Few programs: each costs about a second under a debug kernel in TCG. */
	if (vh_sh("modprobe -qa dummy macvlan macvtap; ip link add %s type dummy 2>/dev/null",
		  self->lower))
		SKIP(return, "no dummy");
	self->topo = true;
	if (vh_sh("printf 'link add link %s name %s type macvtap mode bridge\\n"
		  "link add link %s name %s type macvlan mode bridge\\n' | ip -b - 2>/dev/null",
		  self->lower, self->tap, self->lower, self->peer))
		SKIP(return, "no macvtap or macvlan");
	ASSERT_LT(0, vh_link_up(self->lower));
	ASSERT_LT(0, vh_link_up(self->tap));
	ASSERT_LT(0, vh_link_up(self->peer));
	idx = if_nametoindex(self->tap);
	ASSERT_GT(idx, 0);

	ASSERT_EQ(0, vh_vm_init(&self->vm, VH_BASE_FEATURES |
				(1ull << VIRTIO_NET_F_MRG_RXBUF)));
	/* devtmpfs creates /dev/tap<ifindex> shortly after the link. */
	snprintf(path, sizeof(path), "/dev/tap%d", idx);
	for (i = 0; i < 200 && self->vm.tap < 0; i++) {
		self->vm.tap = open(path, O_RDWR | O_CLOEXEC);
		if (self->vm.tap < 0)
			vh_sleep_ms(10);
	}
	ASSERT_GE(self->vm.tap, 0);
	ASSERT_EQ(0, ioctl(self->vm.tap, TUNSETVNETHDRSZ, &hsz));
	/* The packet socket sits on the macvlan peer. */
	self->vm.pkt = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
	ASSERT_GE(self->vm.pkt, 0);
	self->vm.ifindex = if_nametoindex(self->peer);
	sll.sll_protocol = htons(ETH_P_ALL);
	sll.sll_ifindex = self->vm.ifindex;
	ASSERT_EQ(0, bind(self->vm.pkt, (struct sockaddr *)&sll, sizeof(sll)));
	ASSERT_EQ(0, vh_set_backend(&self->vm, 0, self->vm.tap));
	ASSERT_EQ(0, vh_set_backend(&self->vm, 1, self->vm.tap));
	self->ready = true;
}

FIXTURE_TEARDOWN(mvt)
{
	vh_vm_close(&self->vm);
	if (self->topo)
		vh_sh("printf 'link del %s\\nlink del %s\\n"
		      "link del %s\\n' | ip -force -b - 2>/dev/null",
		      self->tap, self->peer, self->lower);
}

TEST_F(mvt, tx_and_rx_exact)
{
	struct vh_vm *vm = &self->vm;
	__u8 pkt[VH_HLEN + 700];
	__u16 heads[4];
	__u64 gpas[4];
	ssize_t n;

	if (!self->ready)
		SKIP(return, "no dummy, macvlan or macvtap");

	memset(pkt, 0, VH_HLEN);
	vh_frame(pkt + VH_HLEN, 700, 3);
	vh_tx_queue(vm, pkt, sizeof(pkt), 2, true);
	n = vh_capture(vm, got, sizeof(got), WAIT_MS);
	ASSERT_EQ(700, n);
	ASSERT_EQ(0, memcmp(pkt + VH_HLEN, got, 700));
	ASSERT_TRUE(vh_wait_used(&vm->q[1], 1, WAIT_MS));

	vh_rx_post(vm, 4, 512, heads, gpas, true);
	vh_frame(frame, 1000, 4);
	ASSERT_EQ(0, vh_inject(vm, frame, 1000));
	/* 12 + 1000 bytes over 512-byte buffers: 2 mergeable buffers. */
	ASSERT_TRUE(vh_wait_used(&vm->q[0], 2, WAIT_MS));
	ASSERT_EQ(heads[0], vm->q[0].used->ring[0].id);
	ASSERT_EQ(512u, vm->q[0].used->ring[0].len);
	ASSERT_EQ(VH_HLEN + 1000 - 512, vm->q[0].used->ring[1].len);
	ASSERT_EQ(2, ((struct virtio_net_hdr_mrg_rxbuf *)vh_hva(vm, gpas[0]))->num_buffers);
	ASSERT_EQ(0, memcmp(frame, (__u8 *)vh_hva(vm, gpas[0]) + VH_HLEN, 500));
	ASSERT_EQ(0, memcmp(frame + 500, vh_hva(vm, gpas[1]), 500));
}

/* 120 frames of 60 to 1000 bytes around a 512-byte threshold, one kick. */
static void mixed_burst(struct __test_metadata *_metadata, struct vh_vm *vm,
			unsigned int *small)
{
	static const unsigned int sz[] = { 60, 64, 511, 512, 513, 1000, 64, 200 };
	static __u8 pkt[VH_HLEN + 1000], want[1000];
	unsigned int i, n = 120;
	ssize_t len;

	*small = 0;
	memset(pkt, 0, VH_HLEN);
	for (i = 0; i < n; i++) {
		size_t fl = sz[i % 8];

		vh_frame(pkt + VH_HLEN, fl, i);
		pkt[VH_HLEN + 14] = i;
		vh_tx_queue(vm, pkt, VH_HLEN + fl, 1, false);
		*small += fl <= 512;
	}
	vh_kick(&vm->q[1]);
	for (i = 0; i < n; i++) {
		size_t fl = sz[i % 8];

		len = vh_capture(vm, got, sizeof(got), WAIT_MS);
		ASSERT_EQ((ssize_t)fl, len) {
			TH_LOG("frame %u: %zd bytes, seq %u", i, len, got[14]);
		}
		vh_frame(want, fl, i);
		want[14] = i;
		ASSERT_EQ(0, memcmp(want, got, fl)) {
			TH_LOG("frame %u: seq %u arrived", i, got[14]);
		}
	}
	ASSERT_TRUE(vh_wait_used(&vm->q[1], n, WAIT_MS));
}

TEST_F(mvt, tx_batched_in_order_with_unlimited_sndbuf)
{
	struct vmaccel_vhost_vq_stats st;
	struct vh_vm *vm = &self->vm;
	int sndbuf = 0x7fffffff;
	unsigned int small;
	long long old;
	char v[32];

	if (!self->ready)
		SKIP(return, "no dummy, macvlan or macvtap");
	if (!vh_is_ours())
		SKIP(return, "batching is vmaccel's");
	old = vh_read_ll(KNOB_LEN);
	ASSERT_GE(old, 0);
	ASSERT_EQ(0, vh_write_file(KNOB_LEN, "512"));
	ASSERT_EQ(0, ioctl(vm->tap, TUNSETSNDBUF, &sndbuf));
	mixed_burst(_metadata, vm, &small);
	snprintf(v, sizeof(v), "%lld", old);
	vh_write_file(KNOB_LEN, v);
	ASSERT_EQ(0, vh_stats(vm, 1, &st));
	EXPECT_EQ(120u, st.packets);
	EXPECT_EQ(small, st.tx_batched);
	EXPECT_LT(st.tx_batch_sends, st.tx_batched);
}

TEST_F(mvt, tx_default_sndbuf_not_batched)
{
	struct vmaccel_vhost_vq_stats st;
	struct vh_vm *vm = &self->vm;
	unsigned int small;
	long long old;
	char v[32];

	if (!self->ready)
		SKIP(return, "no dummy, macvlan or macvtap");
	if (!vh_is_ours())
		SKIP(return, "batching is vmaccel's");
	old = vh_read_ll(KNOB_LEN);
	ASSERT_GE(old, 0);
	ASSERT_EQ(0, vh_write_file(KNOB_LEN, "512"));
	mixed_burst(_metadata, vm, &small);
	snprintf(v, sizeof(v), "%lld", old);
	vh_write_file(KNOB_LEN, v);
	ASSERT_EQ(0, vh_stats(vm, 1, &st));
	EXPECT_EQ(120u, st.packets);
	EXPECT_EQ(0u, st.tx_batched);
}

TEST_HARNESS_MAIN
