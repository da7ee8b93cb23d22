// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmaccel_vhost_net selftest: a hostile or merely busy guest against the
 * used ring's bounds.  (A full TX ring and one kick getting its interrupt
 * is in the upstream-semantics suite, vhost_compat_test.c.)
 *
 * - A guest with a small RX ring that re-offers each buffer as soon as
 *   the device has written it (before the device published it as used)
 *   makes the device take more heads than the ring holds in one pass:
 *   the device must publish in pieces of at most the ring size.  The used
 *   ring ends 122 bytes before a PROT_NONE guard page; the bytes between
 *   hold a canary that must stay intact (one flush of more than the ring
 *   size used to write past the ring).
 * - A zero-copy send that the backend refuses for good (a virtio-net
 *   header with an unknown GSO type) still returns its buffer.
 * - An avail index more than the ring size ahead is a guest error also
 *   when it appears while the worker busy-polls.
 */
#include "vhost_util.h"

#include <pthread.h>

#define WAIT_MS 5000
#define SMALL_NUM 16u
#define SMALL_BUF 2048u
#define CANARY 0xa5

FIXTURE(ring) {
	struct vh_vm vm;
	bool ready;	/* set up completely (the harness runs skipped bodies) */
};

FIXTURE_SETUP(ring)
{
	vh_fixture_setup(_metadata, &self->vm, VH_BASE_FEATURES, &self->ready);
}

FIXTURE_TEARDOWN(ring)
{
	vh_vm_close(&self->vm);
}

/* The RX queue re-laid with SMALL_NUM entries and a guard page. */
struct small_rx {
	struct vh_vm *vm;
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	__u8 *canary;
	size_t canary_len;
	__u8 *buf[SMALL_NUM];
	__u16 avail_idx;
	bool stop;		/* atomic */
	unsigned int reoffers;
	unsigned int max_ahead;	/* most heads offered beyond used->idx */
};

static void small_rx_offer(struct small_rx *s, __u16 head)
{
	memset(s->buf[head], 0xee, 16);
	s->avail->ring[s->avail_idx % SMALL_NUM] = head;
	s->avail_idx++;
	__atomic_store_n(&s->avail->idx, s->avail_idx, __ATOMIC_RELEASE);
}

/* The hostile guest: give every buffer back as soon as it was written. */
static void *reoffer(void *p)
{
	struct small_rx *s = p;
	unsigned int j, ahead, n;

	while (!__atomic_load_n(&s->stop, __ATOMIC_RELAXED)) {
		for (j = 0, n = 0; j < SMALL_NUM; j++) {
			if (__atomic_load_n(&s->buf[j][0], __ATOMIC_ACQUIRE) == 0xee)
				continue;
			small_rx_offer(s, j);
			s->reoffers++;
			n++;
			ahead = (__u16)(s->avail_idx -
				__atomic_load_n(&s->used->idx, __ATOMIC_ACQUIRE));
			if (ahead > s->max_ahead)
				s->max_ahead = ahead;
		}
		/* As a guest does when it adds buffers (no event index). */
		if (n)
			vh_kick(&s->vm->q[0]);
	}
	return NULL;
}

TEST_F(ring, rx_reoffered_heads_stay_in_used_ring)
{
	struct vh_vm *vm = &self->vm;
	const unsigned int frames = 300;
	const size_t used_len = 4 + 8 * SMALL_NUM + 2;
	__u64 base = VH_GPA_BASE + VH_RING_OFF(0);
	struct vhost_vring_state st = { .index = 0, .num = SMALL_NUM };
	struct vhost_vring_addr a = { .index = 0 };
	struct small_rx s = { .vm = vm };
	__u8 frame[1000], *guard;
	unsigned int j, bad = 0;
	pthread_t th;
	size_t k;

	if (!self->ready)
		return;
	/* desc at +0, avail at +0x1000, used in the last 256 bytes of +0x2000. */
	s.desc = vh_hva(vm, base);
	s.avail = vh_hva(vm, base + 0x1000);
	s.used = vh_hva(vm, base + 0x3000 - 256);
	s.canary = (__u8 *)s.used + used_len;
	s.canary_len = 256 - used_len;
	guard = vh_hva(vm, base + 0x3000);
	memset(vh_hva(vm, base), 0, 0x3000);
	memset(s.canary, CANARY, s.canary_len);
	ASSERT_EQ(0, mprotect(guard, 0x1000, PROT_NONE));
	ASSERT_EQ(0, ioctl(vm->dev, VHOST_SET_VRING_NUM, &st));
	st.num = 0;
	ASSERT_EQ(0, ioctl(vm->dev, VHOST_SET_VRING_BASE, &st));
	a.desc_user_addr = (uintptr_t)s.desc;
	a.avail_user_addr = (uintptr_t)s.avail;
	a.used_user_addr = (uintptr_t)s.used;
	a.log_guest_addr = base + 0x3000 - 256;
	ASSERT_EQ(0, ioctl(vm->dev, VHOST_SET_VRING_ADDR, &a));
	for (j = 0; j < SMALL_NUM; j++) {
		__u64 gpa = vh_alloc(vm, SMALL_BUF, 64);

		s.buf[j] = vh_hva(vm, gpa);
		s.desc[j].addr = gpa;
		s.desc[j].len = SMALL_BUF;
		s.desc[j].flags = VRING_DESC_F_WRITE;
		small_rx_offer(&s, j);
	}
	/* Frames wait in the tap until the backend is attached. */
	for (j = 0; j < frames; j++) {
		vh_frame(frame, sizeof(frame), j);
		ASSERT_EQ(0, vh_inject(vm, frame, sizeof(frame)));
	}
	ASSERT_EQ(0, pthread_create(&th, NULL, reoffer, &s));
	ASSERT_EQ(0, vh_set_backend(vm, 0, vm->tap));
	/*
	 * Polled, not waited for on the call eventfd: the hostile guest's
	 * ring is the test's own (not a struct vh_q) and the case is about
	 * where the device writes, not about its interrupts.
	 */
	for (j = 0; j < 10 * WAIT_MS; j++) {
		if (__atomic_load_n(&s.used->idx, __ATOMIC_ACQUIRE) >= frames)
			break;
		usleep(100);
	}
	__atomic_store_n(&s.stop, true, __ATOMIC_RELAXED);
	pthread_join(th, NULL);
	ASSERT_EQ(0, vh_set_backend(vm, 0, -1));
	for (k = 0; k < s.canary_len; k++)
		bad += s.canary[k] != CANARY;
	TH_LOG("used index %u of %u frames, %u re-offers", s.used->idx, frames,
	       s.reoffers);
	TH_LOG("at most %u heads offered beyond the used index", s.max_ahead);
	/* Nothing written after the used ring (its avail_event included). */
	ASSERT_EQ(0u, bad) {
		TH_LOG("%u of %zu bytes after the used ring were overwritten",
		       bad, s.canary_len);
	}
	ASSERT_EQ(0u, vh_wait_efd(vm->q[0].err, 0));
	ASSERT_EQ(frames, s.used->idx);
	ASSERT_EQ(0, mprotect(guard, 0x1000, PROT_READ | PROT_WRITE));
}

/*
 * The avail index jumps more than the ring size ahead while the worker
 * busy-polls the empty TX ring: that is a guest error (error eventfd,
 * nothing consumed), exactly as without busy polling.  The poll used to
 * cache the index, and the next vh_ring_get() trusted the cached value
 * without the check: the device went on sending entries the guest never
 * offered.  Nor may a later pass: the bad index used to be kept after the
 * first error, and the next kick then consumed the entries.
 *
 * The worker is known to poll when the bad index appears: the guest sends
 * one good packet, and the device hands it to the tap just before it
 * starts polling the then empty ring (for 300 ms).  An error that comes
 * without another kick was read by the poll.
 */
TEST_F(ring, avail_jump_during_busy_poll)
{
	struct vhost_vring_state st = { .index = 1, .num = 300000 };
	struct vh_vm *vm = &self->vm;
	struct vh_q *q = &vm->q[1];
	__u8 pkt[VH_HLEN + 100], got[200];
	unsigned int tries, i;
	__u16 bait;

	if (!self->ready)
		return;
	memset(pkt, 0, VH_HLEN);
	/*
	 * Bait: every avail entry the guest does not offer names a valid
	 * packet, so a device that trusts the bad index sends it.
	 */
	vh_frame(pkt + VH_HLEN, 100, 7);
	bait = vh_tx_desc(vm, pkt, sizeof(pkt));
	for (i = 0; i < VH_NUM; i++)
		q->avail->ring[i] = bait;
	vh_frame(pkt + VH_HLEN, 100, 9);
	ASSERT_EQ(0, ioctl(vm->dev, VHOST_SET_VRING_BUSYLOOP_TIMEOUT, &st));
	ASSERT_EQ(0, vh_set_backend(vm, 1, vm->tap));
	for (tries = 1; ; tries++) {
		vh_tx_queue(vm, pkt, sizeof(pkt), 1, true);
		ASSERT_EQ(100, vh_capture(vm, got, sizeof(got), WAIT_MS));
		__atomic_store_n(&q->avail->idx, q->avail_idx + VH_NUM + 10,
				 __ATOMIC_RELEASE);
		if (vh_wait_efd(q->err, 1000) >= 1)
			break;
		/*
		 * The poll also ends when another task wants the CPU: then
		 * the worker re-enabled notifications before the index moved
		 * and, without a kick, nothing reads it.  Nothing more than
		 * the good packets may have been taken either way: take the
		 * index back and try again.
		 */
		ASSERT_EQ(q->avail_idx, vh_used_idx(q));
		ASSERT_EQ(-1, vh_capture(vm, got, sizeof(got), 10));
		if (tries == 8)
			SKIP(return,
			     "the busy poll never saw the index in %u tries: other tasks took the CPU",
			     tries);
		__atomic_store_n(&q->avail->idx, q->avail_idx, __ATOMIC_RELEASE);
	}
	TH_LOG("guest error seen on try %u", tries);
	/* Another pass (another kick) must not take the entries either. */
	vh_kick(q);
	ASSERT_GE(vh_wait_efd(q->err, WAIT_MS), 1u);
	ASSERT_EQ(-1, vh_capture(vm, got, sizeof(got), 200));
	ASSERT_EQ(q->avail_idx, vh_used_idx(q));
}

TEST_F(ring, refused_zerocopy_send_returns_buffer)
{
	struct vmaccel_vhost_zcopy z = {
		.flags = VMACCEL_VHOST_ZCOPY_ENABLE, .min_len = 0,
		.max_pending = 256, .fail_pct = 50, .backoff_pkts = 16,
		.stall_ms = 300,
	};
	struct vh_vm *vm = &self->vm;
	struct vh_q *q = &vm->q[1];
	struct vmaccel_vhost_vq_stats st;
	struct virtio_net_hdr_mrg_rxbuf *h;
	__u8 pkt[VH_HLEN + 1000], got[1100];

	if (!self->ready)
		return;
	if (!vh_is_ours())
		SKIP(return, "vmaccel zero-copy policy only");
	ASSERT_EQ(0, ioctl(vm->dev, VMACCEL_VHOST_SET_ZCOPY, &z));
	ASSERT_EQ(0, vh_set_backend(vm, 1, vm->tap));
	memset(pkt, 0, VH_HLEN);
	h = (void *)pkt;
	h->hdr.gso_type = 0x7f;		/* no such GSO type: tun says -EINVAL */
	h->hdr.gso_size = 100;
	vh_frame(pkt + VH_HLEN, 1000, 1);
	vh_tx_queue(vm, pkt, sizeof(pkt), 2, true);
	ASSERT_TRUE(vh_wait_used(q, 1, WAIT_MS)) {
		TH_LOG("the refused zero-copy buffer never came back");
	}
	ASSERT_EQ(0, vh_stats(vm, 1, &st));
	ASSERT_EQ(1u, st.dropped);
	ASSERT_EQ(0u, st.pending);
	/* The queue goes on: a good packet leaves and comes back. */
	h->hdr.gso_type = VIRTIO_NET_HDR_GSO_NONE;
	h->hdr.gso_size = 0;
	vh_frame(pkt + VH_HLEN, 1000, 2);
	vh_tx_queue(vm, pkt, sizeof(pkt), 2, true);
	ASSERT_EQ(1000, vh_capture(vm, got, sizeof(got), WAIT_MS));
	ASSERT_TRUE(vh_wait_used(q, 2, WAIT_MS));
}

TEST_HARNESS_MAIN
