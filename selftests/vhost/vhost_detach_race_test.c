// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmaccel_vhost_net selftest: detaching a backend while the guest kicks.
 *
 * What a VMM may do at any time: attach a tap file to a queue, close its
 * own descriptor of that file (the device then holds the last reference),
 * and detach it with fd -1, which frees the tap's queue and the wait queue
 * the device polled.  Meanwhile a guest thread kicks the queue without a
 * pause, so the queue's handler runs (and re-arms its poll on the backend)
 * at every point of the detach; with traffic, it also keeps the rings full
 * and frames are sent into the tap for the guest.  A handler that re-arms
 * the poll after the detach unhooked it leaves a wait-queue entry on freed
 * memory: the next stop corrupts a list (kernel BUG in the Debian
 * kernel, a KASAN use-after-free in the debug tier).  So that the test
 * fails every time the window is hit, not only when the freed memory is
 * reused, it reads the queue's sock_poll state from debugfs after every
 * detach: a queue with no backend must not wait on any socket.  The RX
 * handler arms its hook whenever the tap runs dry, so the RX cases hit the
 * window (the test logs how often a hook was armed right before a detach).
 * The TX handler arms its hook only when the backend is full, which a tap
 * whose packets the host stack frees at once never is: the TX cases cover
 * the handler sending (copy, batch and zero-copy) while the backend goes,
 * not the TX re-arm.
 *
 * One persistent tap interface serves all iterations: each iteration
 * attaches a new tap file to it (open + TUNSETIFF), so that the file, its
 * socket and its wait queue are freed at every detach without the cost of
 * registering a network device.  After the loop the test checks that a
 * new backend is polled: a frame sent into the tap reaches the guest with
 * no kick.  VH_RACE_ITERS overrides the iteration count (2000 per case,
 * 300 in the debug tier); a case also stops after RACE_SECONDS, having
 * done at least RACE_MIN_ITERS (the KASAN kernel under TCG in make check
 * is slow and its speed varies with the host's load).  The harness's limit
 * is 6 * RACE_SECONDS: on 2026-12-07 the debug tier, beside the other
 * lane's VM and two more, needed 47 s for the 100 cycles of tx_traffic
 * (1.1 million kicks, 470 ms a cycle) and more than the old 60 s for
 * both_traffic's: a slow machine, not a hang, which still fails at 120 s.
 */
#include "vhost_util.h"

#include <pthread.h>

#define WAIT_MS 5000
#define RACE_SECONDS 20
#define RACE_MIN_ITERS 100u

/* One case: the VMM side (main thread) and the guest thread share it. */
struct race {
	struct vh_vm vm;
	char ifname[IFNAMSIZ];
	int ifindex;
	int inject;		/* AF_PACKET, protocol 0: sends only */
	bool rx, tx;		/* queues attached and kicked */
	bool traffic;		/* rings kept full, frames sent to the guest */
	bool stop;		/* tells the guest thread to end (atomic) */
	unsigned long kicks;
	unsigned long frames;
	unsigned int armed;	/* detaches that found a hook armed */
};

FIXTURE(race) {
	struct race r;
	bool persist;
	bool ready;	/* set up completely (the harness runs skipped bodies) */
};

FIXTURE_VARIANT(race) {
	bool rx, tx, traffic;	/* as in struct race */
};

FIXTURE_VARIANT_ADD(race, rx_idle) { .rx = true };
FIXTURE_VARIANT_ADD(race, rx_traffic) { .rx = true, .traffic = true };
FIXTURE_VARIANT_ADD(race, tx_idle) { .tx = true };
FIXTURE_VARIANT_ADD(race, tx_traffic) { .tx = true, .traffic = true };
FIXTURE_VARIANT_ADD(race, both_idle) { .rx = true, .tx = true };
FIXTURE_VARIANT_ADD(race, both_traffic) { .rx = true, .tx = true, .traffic = true };

static void inject(struct race *r, unsigned int seed)
{
	struct sockaddr_ll to = {
		.sll_family = AF_PACKET,
		.sll_ifindex = r->ifindex,
		.sll_halen = ETH_ALEN,
	};
	__u8 frame[600];

	vh_frame(frame, sizeof(frame), seed);
	/* Dropped by the tap while no file is attached: that is fine. */
	sendto(r->inject, frame, sizeof(frame), MSG_DONTWAIT,
	       (struct sockaddr *)&to, sizeof(to));
}

/*
 * The sock_poll field of debugfs for queue @idx of the only open device:
 * 1 while the queue waits on a backend socket; -1 when it cannot be read.
 */
static int sock_polled(unsigned int idx)
{
	const char *q = idx ? " tx " : " rx ";
	char line[1024], *p;
	int v = -1;
	FILE *f = fopen(VH_DEBUGFS, "re");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (!strstr(line, q))
			continue;
		p = strstr(line, " sock_poll ");
		if (p)
			v = atoi(p + strlen(" sock_poll "));
	}
	fclose(f);
	return v;
}

static unsigned int in_flight(struct vh_q *q)
{
	return (__u16)(q->avail_idx - vh_used_idx(q));
}

/* The guest: kick without a pause; with traffic, keep both rings full. */
static void *guest(void *p)
{
	struct race *r = p;
	struct vh_vm *vm = &r->vm;
	__u8 pkt[VH_HLEN + 600];
	unsigned int i = 0;

	memset(pkt, 0, VH_HLEN);
	vh_frame(pkt + VH_HLEN, 600, 0x77);
	while (!__atomic_load_n(&r->stop, __ATOMIC_RELAXED)) {
		if (r->rx) {
			while (r->traffic && in_flight(&vm->q[0]) < VH_NUM)
				vh_rx_post(vm, 1, 2048, NULL, NULL, false);
			vh_kick(&vm->q[0]);
			r->kicks++;
		}
		if (r->tx) {
			while (r->traffic && in_flight(&vm->q[1]) < VH_NUM)
				vh_tx_queue(vm, pkt, sizeof(pkt), 1, false);
			vh_kick(&vm->q[1]);
			r->kicks++;
		}
		if (r->traffic && r->rx && !(++i % 4)) {
			inject(r, i);
			r->frames++;
		}
	}
	return NULL;
}

FIXTURE_SETUP(race)
{
	struct race *r = &self->r;

	r->inject = -1;
	r->vm.dev = -1;
	r->vm.tap = -1;
	r->vm.pkt = -1;
	r->vm.memfd = -1;
	r->rx = variant->rx;
	r->tx = variant->tx;
	r->traffic = variant->traffic;
	if (access(vh_dev_path(), F_OK))
		SKIP(return, "%s missing (module not loaded)", vh_dev_path());
	ASSERT_EQ(0, vh_vm_init(&r->vm, VH_BASE_FEATURES |
				(1ull << VIRTIO_NET_F_MRG_RXBUF))) {
		TH_LOG("vm init: %s: %s", vh_step, strerror(errno));
	}
	r->inject = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	ASSERT_LE(0, r->inject);
	r->ifindex = vh_tap_persist_create(r->ifname, "vhr");
	ASSERT_LT(0, r->ifindex) {
		TH_LOG("persistent tap: %s", strerror(errno));
	}
	self->persist = true;
	self->ready = true;
}

FIXTURE_TEARDOWN(race)
{
	vh_vm_close(&self->r.vm);
	if (self->r.inject >= 0)
		close(self->r.inject);
	if (self->persist)
		vh_tap_persist_delete(self->r.ifname);
}

static unsigned int iterations(void)
{
	const char *s = getenv("VH_RACE_ITERS");
	const char *tier = getenv("VMACCEL_TIER");

	if (s && atoi(s) > 0)
		return atoi(s);
	return tier && !strcmp(tier, "debug") ? 300 : 2000;
}

static int set_backend(struct race *r, int fd)
{
	if (r->rx && vh_set_backend(&r->vm, 0, fd))
		return -1;
	if (r->tx && vh_set_backend(&r->vm, 1, fd))
		return -1;
	return 0;
}

/* Is either attached queue waiting on a socket (debugfs)? */
static bool any_polled(struct race *r)
{
	return (r->rx && sock_polled(0) == 1) || (r->tx && sock_polled(1) == 1);
}

TEST_F_TIMEOUT(race, detach_while_kicked, 6 * RACE_SECONDS)
{
	struct race *r = &self->r;
	unsigned int n = iterations(), i, stale = 0;
	struct vh_q *rxq = &r->vm.q[0];
	const char *failed = NULL;
	bool dbg;
	pthread_t th;
	__u64 t0 = vh_now_ms();
	__u16 used;
	int fd, err = 0;

	if (!self->ready)
		return;
	/* The sock_poll check needs our device and debugfs. */
	dbg = vh_is_ours() && sock_polled(0) >= 0;
	if (!dbg)
		TH_LOG("no sock_poll in %s: the kernel log check alone decides",
		       VH_DEBUGFS);
	ASSERT_EQ(0, pthread_create(&th, NULL, guest, r));
	for (i = 0; i < n; i++) {
		if (i >= RACE_MIN_ITERS &&
		    vh_now_ms() - t0 > RACE_SECONDS * 1000ull)
			break;
		fd = vh_tap_attach(r->ifname, 0);
		if (fd < 0) {
			failed = "attach a tap file";
			break;
		}
		if (set_backend(r, fd)) {
			err = errno;
			close(fd);
			failed = "SET_BACKEND";
			break;
		}
		/* The device now holds the last reference to the file. */
		close(fd);
		if (dbg && any_polled(r))
			r->armed++;
		if (set_backend(r, -1)) {
			failed = "SET_BACKEND -1";
			break;
		}
		/* No backend: no queue may still wait on the freed socket. */
		if (dbg && any_polled(r)) {
			stale++;
			failed = "a queue still polls the detached socket";
			break;
		}
	}
	if (failed && !err)
		err = errno;
	__atomic_store_n(&r->stop, true, __ATOMIC_RELAXED);
	pthread_join(th, NULL);
	ASSERT_EQ(NULL, failed) {
		TH_LOG("iteration %u: %s: %s", i, failed, strerror(err));
	}
	ASSERT_LE(n < RACE_MIN_ITERS ? n : RACE_MIN_ITERS, i);
	ASSERT_EQ(0u, stale);
	TH_LOG("%u attach/close/detach cycles in %llu ms, %lu kicks, %lu frames sent to the guest",
	       i, (unsigned long long)(vh_now_ms() - t0), r->kicks,
	       r->frames);
	TH_LOG("a socket hook was armed just before %u of the detaches", r->armed);
	/* RX arms its hook when the tap runs dry: the window was open. */
	if (dbg && r->rx)
		EXPECT_LT(0u, r->armed);
	if (vh_is_ours()) {
		struct vmaccel_vhost_vq_stats rx, tx;

		ASSERT_EQ(0, vh_stats(&r->vm, 0, &rx));
		ASSERT_EQ(0, vh_stats(&r->vm, 1, &tx));
		TH_LOG("device moved %llu RX and %llu TX packets meanwhile",
		       (unsigned long long)rx.packets,
		       (unsigned long long)tx.packets);
		/* With traffic, packets really moved between the detaches. */
		if (r->traffic && r->rx)
			EXPECT_LT(0ull, (unsigned long long)rx.packets);
		if (r->traffic && r->tx)
			EXPECT_LT(0ull, (unsigned long long)tx.packets);
	}

	/*
	 * A new backend must be polled: with RX buffers posted and the
	 * handler idle, a frame sent into the tap reaches the guest with no
	 * kick after it.
	 */
	fd = vh_tap_attach(r->ifname, 0);
	ASSERT_LE(0, fd);
	err = vh_set_backend(&r->vm, 0, fd);
	close(fd);	/* the device holds it */
	ASSERT_EQ(0, err);
	if (!in_flight(rxq))
		vh_rx_post(&r->vm, 4, 2048, NULL, NULL, true);
	vh_sleep_ms(100);
	used = vh_used_idx(rxq);
	inject(r, 0x42);
	EXPECT_TRUE(vh_wait_used(rxq, used + 1, WAIT_MS)) {
		TH_LOG("a frame sent into the new backend never reached the guest (used %u)",
		       vh_used_idx(rxq));
	}
	ASSERT_EQ(0, vh_set_backend(&r->vm, 0, -1));
}

TEST_HARNESS_MAIN
