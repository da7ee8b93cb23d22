// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmaccel_vhost_net selftest: teardown races at scale (issue 15).
 *
 * - switch: a guest thread keeps both rings full and kicks them, frames
 *   are sent into the taps for the guest, while the VMM moves both queues
 *   between two taps, directly (tap A -> tap B) and through a stop (fd -1),
 *   in copy and zero-copy mode.  The device must move packets between the
 *   switches, never rewind used->idx (the guest thread checks the used
 *   index against what it published at every look), push nothing while
 *   stopped, and report a ring base equal to the used index after a stop.
 *   At the end a TX and an RX frame cross the last backend byte-exact.
 * - close_orders: set up a VM, start TX and RX traffic, then close the tap
 *   file, the device, the kick and the call eventfds in one of the 24
 *   orders, every order over and over: right away or once the device is
 *   under way, with zero-copy on or off.  Packets must have moved during
 *   the close windows, never more than the guest offered, and no device
 *   may be left (stats/devices).
 * - kill_with_held_zcopy: a child VMM sends zero-copy packets through a
 *   bridge to a dummy NIC whose netem qdisc holds them for a second, and
 *   is killed with SIGKILL while sending, while blocked in
 *   SET_BACKEND(-1) or while blocked in close() (both wait for the held
 *   skbs).  Its buffers are orphaned and the skbs pin the module until
 *   netem lets them go.  Without bridge, dummy or netem (the debug kernel)
 *   the packets die in the host stack at once: the kills then race the
 *   zero-copy completions, but no skb outlives its owner.
 * - rmmod: in switch and close_orders a thread keeps calling
 *   delete_module(2) while the test holds a device fd: every attempt must
 *   be refused (EWOULDBLOCK/EBUSY).  In kill_with_held_zcopy the test
 *   tries to unload while the child runs (refused), right after the
 *   SIGKILL (racing the exit: either result), and after the child is
 *   reaped (refused while skbs are held; counted, and it must happen).
 *   Each test ends at a quiet point where the unload must succeed, and
 *   reloads the module.
 *
 * Iterations scale with VMACCEL_TIER (debug: KASAN and lockdep under TCG,
 * fewer); a case also stops after its time budget once it did its minimum,
 * and prints what it did.  Nothing asserts on durations: a hang is caught
 * by the harness timeout, kernel reports by the runner's log scan.
 */
#include "vhost_util.h"
#include "../lib/vmaccel_kmod.h"

#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/wait.h>

#define RACE_MOD	"vmaccel_vhost_net"
#define WAIT_MS		5000
#define REFCNT_WAIT_MS	20000
#define FRAME_LEN	600
#define ZC_FRAME_LEN	1000	/* zero-copy needs 256 bytes or more */
#define SEED_GUEST	0x77
#define SEED_CHECK	0x55
#define SEED_RX		0x42

/* The harness runs each test in a child that ends with _exit(): flush. */
#define race_log(fmt, ...) do {				\
	ksft_print_msg(fmt, ##__VA_ARGS__);		\
	fflush(stdout);					\
} while (0)

/* What one tier does: iterations wanted, a floor, a time budget (s). */
struct race_scale {
	const char *tier;
	unsigned int sw_iters, sw_min, sw_secs;
	unsigned int close_rounds, close_min_rounds, close_secs;
	unsigned int kill_iters, kill_min, kill_secs;
	unsigned int window_us;	/* bound of a watched switch window */
	bool light;		/* the switch test: one tap checked at the end,
				 * fewer frames, no quiet unload of its own
				 */
};

static const struct race_scale scales[] = {
	{ "debug", 1000, 30, 5, 8, 1, 6, 24, 4, 5, 50000, true },
	{ "debian", 3000, 300, 5, 60, 6, 8, 80, 12, 8, 2000, false },
};

static const struct race_scale *race_scale(void)
{
	const char *t = getenv("VMACCEL_TIER");

	return t && !strcmp(t, "debug") ? &scales[0] : &scales[1];
}

/* ---- the module: unload attempts, quiet unload, reload ---- */

static char ko_path[PATH_MAX];

/* Keeps trying delete_module(2) while the test pins the module. */
struct hammer {
	pthread_t th;
	bool running;
	atomic_bool stop;
	atomic_ulong tries, refused, bad;
	atomic_int bad_err;	/* the first unexpected result */
};

static void *hammer_fn(void *p)
{
	struct hammer *h = p;
	int r;

	while (!atomic_load(&h->stop)) {
		r = vmaccel_kmod_unload(RACE_MOD);
		atomic_fetch_add(&h->tries, 1);
		if (vmaccel_kmod_refused(r)) {
			atomic_fetch_add(&h->refused, 1);
		} else {
			/* Unloaded (or failed otherwise) under a pin. */
			if (!atomic_fetch_add(&h->bad, 1))
				atomic_store(&h->bad_err, r);
			if (!r)
				vmaccel_kmod_load(ko_path);
		}
		usleep(2000);
	}
	return NULL;
}

static int hammer_start(struct hammer *h)
{
	memset(h, 0, sizeof(*h));
	if (pthread_create(&h->th, NULL, hammer_fn, h))
		return -1;
	h->running = true;
	return 0;
}

static void hammer_stop(struct hammer *h)
{
	if (!h->running)
		return;
	atomic_store(&h->stop, true);
	pthread_join(h->th, NULL);
	h->running = false;
}

static void hammer_check(struct __test_metadata *_metadata, struct hammer *h)
{
	hammer_stop(h);
	race_log("rmmod: %lu attempts while pinned, %lu refused\n",
		 atomic_load(&h->tries), atomic_load(&h->refused));
	ASSERT_EQ(0ul, atomic_load(&h->bad)) {
		TH_LOG("delete_module under a pin: %s",
		       strerror(-atomic_load(&h->bad_err)));
	}
	ASSERT_LT(0ul, atomic_load(&h->refused));
}

/* Wait until nothing references the module (late callbacks, RCU frees). */
static int refcnt_settle(void)
{
	__u64 end = vh_now_ms() + REFCNT_WAIT_MS;
	int r;

	while ((r = vmaccel_kmod_refcnt(RACE_MOD)) > 0 && vh_now_ms() < end)
		vh_sleep_ms(10);
	return r;
}

/* Wait for the device node of a freshly loaded module. */
static bool dev_node_back(void)
{
	__u64 end = vh_now_ms() + WAIT_MS;

	while (access(vh_dev_path(), F_OK)) {
		if (vh_now_ms() > end)
			return false;
		vh_sleep_ms(5);
	}
	return true;
}

/*
 * At a quiet point (nothing of the test open): the module unloads, and
 * loads again.
 */
static void quiet_unload(struct __test_metadata *_metadata)
{
	int r;

	ASSERT_EQ(0, refcnt_settle()) {
		TH_LOG("module references left with nothing open");
	}
	r = vmaccel_kmod_unload(RACE_MOD);
	ASSERT_EQ(0, r) {
		TH_LOG("unload with nothing open: %s", strerror(-r));
	}
	ASSERT_FALSE(vmaccel_kmod_loaded(RACE_MOD));
	r = vmaccel_kmod_load(ko_path);
	ASSERT_EQ(0, r) {
		TH_LOG("reload %s: %s", ko_path, vmaccel_kmod_load_hint(r));
	}
	ASSERT_TRUE(dev_node_back());
	race_log("quiet point: unloaded and reloaded\n");
}

/* Common setup: our device, the module file; false to skip. */
static const char *race_unready(void)
{
	vmaccel_kmod_path(ko_path, sizeof(ko_path), "vhost", RACE_MOD);
	if (!vh_is_ours())
		return "vmaccel device only (module unload, zero-copy stats)";
	if (access(vh_dev_path(), F_OK) || !vmaccel_kmod_loaded(RACE_MOD))
		return "module not loaded";
	if (access(ko_path, R_OK))
		return "no module file (set VMACCEL_KO_DIR)";
	return NULL;
}

/* Whatever happened, leave the module loaded for the runner. */
static void race_leave_loaded(void)
{
	if (!vmaccel_kmod_loaded(RACE_MOD))
		vmaccel_kmod_load(ko_path);
}

static long long sysfs_total(const char *name)
{
	char path[128];

	snprintf(path, sizeof(path), VH_SYSFS "stats/%s", name);
	return vh_read_ll(path);
}

static void inject_frame(int sock, int ifindex, unsigned int seed)
{
	struct sockaddr_ll to = {
		.sll_family = AF_PACKET,
		.sll_ifindex = ifindex,
		.sll_halen = ETH_ALEN,
	};
	__u8 frame[FRAME_LEN];

	vh_frame(frame, sizeof(frame), seed);
	/* A tap with no file attached, or a full one, drops: fine. */
	sendto(sock, frame, sizeof(frame), MSG_DONTWAIT,
	       (struct sockaddr *)&to, sizeof(to));
}

static int set_zcopy(int dev, __u32 stall_ms)
{
	struct vmaccel_vhost_zcopy z = {
		.flags = VMACCEL_VHOST_ZCOPY_ENABLE, .min_len = 0,
		.max_pending = 256, .fail_pct = 100, .backoff_pkts = 1,
		.stall_ms = stall_ms,
	};

	return ioctl(dev, VMACCEL_VHOST_SET_ZCOPY, &z);
}

static unsigned int in_flight(struct vh_q *q)
{
	return (__u16)(q->avail_idx - vh_used_idx(q));
}

/* ---- switch: SET_BACKEND between two taps and fd -1 under traffic ---- */

/* One switch case: the VMM side (main thread) and the guest thread. */
struct sw {
	struct vh_vm vm;
	struct vh_vm tap[2];	/* only their tap fd, name and index */
	int inject;
	int pin;
	struct hammer h;
	bool stop;		/* tells the guest thread to end (atomic) */
	unsigned long rewinds;	/* used index beyond what was published */
	__u16 bad_used, bad_avail;
	unsigned long kicks, frames;
	unsigned int inject_every;	/* guest loops per frame sent */
};

FIXTURE(sw) {
	struct sw s;
	bool ready;
};

FIXTURE_VARIANT(sw) {
	bool zcopy;
};

FIXTURE_VARIANT_ADD(sw, copy) { .zcopy = false };
FIXTURE_VARIANT_ADD(sw, zcopy) { .zcopy = true };

FIXTURE_SETUP(sw)
{
	const char *why = race_unready();
	int i;

	self->s.inject = -1;
	self->s.pin = -1;
	self->s.vm.dev = -1;
	self->s.vm.tap = -1;
	self->s.vm.pkt = -1;
	self->s.vm.memfd = -1;
	for (i = 0; i < 2; i++) {
		self->s.tap[i].tap = -1;
		self->s.tap[i].pkt = -1;
	}
	if (why)
		SKIP(return, "%s", why);
	ASSERT_EQ(0, vh_vm_init(&self->s.vm, VH_BASE_FEATURES |
				(1ull << VIRTIO_NET_F_MRG_RXBUF))) {
		TH_LOG("vm init: %s: %s", vh_step, strerror(errno));
	}
	if (variant->zcopy)
		ASSERT_EQ(0, set_zcopy(self->s.vm.dev, 60000));
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(0, vh_tap_create(&self->s.tap[i]));
		/* A packet socket would make the stack copy zero-copy pages. */
		close(self->s.tap[i].pkt);
		self->s.tap[i].pkt = -1;
	}
	self->s.inject = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	ASSERT_LE(0, self->s.inject);
	self->s.pin = open(vh_dev_path(), O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->s.pin);
	self->ready = true;
}

FIXTURE_TEARDOWN(sw)
{
	int i;

	hammer_stop(&self->s.h);
	vh_vm_close(&self->s.vm);
	for (i = 0; i < 2; i++)
		if (self->s.tap[i].tap >= 0)
			close(self->s.tap[i].tap);
	if (self->s.inject >= 0)
		close(self->s.inject);
	if (self->s.pin >= 0)
		close(self->s.pin);
	race_leave_loaded();
}

/*
 * The guest: keep both rings full, kick, send frames into both taps.  At
 * every look at a used index it checks that the device never used more
 * than was published (a rewound used index shows up so as well: the guest
 * refills against it).
 */
static void *sw_guest(void *p)
{
	struct sw *self = p;
	struct vh_vm *vm = &self->vm;
	__u8 pkt[VH_HLEN + ZC_FRAME_LEN];
	unsigned int i = 0, q;

	memset(pkt, 0, VH_HLEN);
	vh_frame(pkt + VH_HLEN, ZC_FRAME_LEN, SEED_GUEST);
	while (!__atomic_load_n(&self->stop, __ATOMIC_RELAXED)) {
		for (q = 0; q < 2; q++) {
			struct vh_q *vq = &vm->q[q];

			if (in_flight(vq) > VH_NUM) {
				if (!self->rewinds++) {
					self->bad_used = vh_used_idx(vq);
					self->bad_avail = vq->avail_idx;
				}
				continue;
			}
			while (in_flight(vq) < VH_NUM) {
				if (q)
					vh_tx_queue(vm, pkt, sizeof(pkt), 1, false);
				else
					vh_rx_post(vm, 1, 2048, NULL, NULL, false);
			}
			vh_kick(vq);
			self->kicks++;
		}
		if (!(++i % self->inject_every)) {
			inject_frame(self->inject, self->tap[i / 2 % 2].ifindex,
				     SEED_GUEST);
			self->frames++;
		}
	}
	return NULL;
}

static int sw_attach(struct vh_vm *vm, int fd)
{
	/* Alternate the order in which the queues move. */
	static unsigned int n;

	if (n++ % 2)
		return vh_set_backend(vm, 0, fd) ?: vh_set_backend(vm, 1, fd);
	return vh_set_backend(vm, 1, fd) ?: vh_set_backend(vm, 0, fd);
}

/* After the race: a TX frame leaves through tap @t byte-exact. */
static void sw_tx_check(struct __test_metadata *_metadata,
			struct sw *self, int t)
{
	struct vh_vm *vm = &self->vm;
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET,
		.sll_protocol = htons(ETH_P_ALL),
		.sll_ifindex = self->tap[t].ifindex,
	};
	__u8 pkt[VH_HLEN + ZC_FRAME_LEN], got[ZC_FRAME_LEN + 64];
	ssize_t n;

	/* Everything the guest thread queued goes first. */
	ASSERT_TRUE(vh_wait_used(&vm->q[1], vm->q[1].avail_idx, WAIT_MS));
	vm->pkt = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
	ASSERT_LE(0, vm->pkt);
	ASSERT_EQ(0, bind(vm->pkt, (struct sockaddr *)&sll, sizeof(sll)));
	memset(pkt, 0, VH_HLEN);
	vh_frame(pkt + VH_HLEN, ZC_FRAME_LEN, SEED_CHECK);
	vh_tx_queue(vm, pkt, sizeof(pkt), 2, true);
	for (;;) {
		n = vh_capture(vm, got, sizeof(got), WAIT_MS);
		ASSERT_LT(0, n) {
			TH_LOG("no TX frame left tap %d after the race", t);
		}
		if (n == ZC_FRAME_LEN && got[11] == SEED_CHECK)
			break;
	}
	ASSERT_EQ(0, memcmp(got, pkt + VH_HLEN, ZC_FRAME_LEN));
	ASSERT_TRUE(vh_wait_used(&vm->q[1], vm->q[1].avail_idx, WAIT_MS));
}

/* After the race: a frame sent into tap @t reaches a guest buffer. */
static void sw_rx_check(struct __test_metadata *_metadata,
			struct sw *self, int t)
{
	struct vh_vm *vm = &self->vm;
	struct vh_q *q = &vm->q[0];
	__u8 want[FRAME_LEN];
	__u16 seen = vh_used_idx(q);
	__u64 end = vh_now_ms() + WAIT_MS;

	vh_frame(want, sizeof(want), SEED_RX);
	inject_frame(self->inject, self->tap[t].ifindex, SEED_RX);
	/* Frames of the race the tap still queues come first. */
	for (;;) {
		/* Never reuse the descriptor of an entry not looked at yet. */
		if ((__u16)(q->avail_idx - seen) < VH_NUM / 2)
			vh_rx_post(vm, VH_NUM / 2, 2048, NULL, NULL, true);
		while (seen != vh_used_idx(q)) {
			struct vring_used_elem *e = &q->used->ring[seen % VH_NUM];
			__u8 *buf = vh_hva(vm, q->desc[e->id].addr);

			seen++;
			if (e->len == VH_HLEN + FRAME_LEN &&
			    !memcmp(buf + VH_HLEN, want, FRAME_LEN))
				return;
		}
		ASSERT_GT(end, vh_now_ms()) {
			TH_LOG("the frame sent into tap %d never reached the guest", t);
		}
		vh_sleep_ms(1);
	}
}

/*
 * Give the worker a chance on the new backend: until both used indexes
 * moved, at most about @us (a bound, not an expectation; the test counts
 * the windows in which packets moved).
 */
static void sw_window(struct vh_vm *vm, const __u16 *at_attach,
		      unsigned int us)
{
	__u64 end = vmaccel_now_ns() + us * 1000ull;

	while (vmaccel_now_ns() < end &&
	       (vh_used_idx(&vm->q[0]) == at_attach[0] ||
		vh_used_idx(&vm->q[1]) == at_attach[1]))
		sched_yield();
}

/*
 * An attachment ended (the switch or stop returned, so the old backend's
 * last entries are published): did packets move on it since its attach?
 */
static void sw_window_end(struct vh_vm *vm, const __u16 *at_attach,
			  unsigned int *moved, unsigned int *windows)
{
	unsigned int q;

	(*windows)++;
	for (q = 0; q < 2; q++)
		if (vh_used_idx(&vm->q[q]) != at_attach[q])
			moved[q]++;
}

TEST_F_TIMEOUT(sw, switch_under_traffic, 240)
{
	const struct race_scale *sc = race_scale();
	struct vh_vm *vm = &self->s.vm;
	struct vhost_vring_state st;
	unsigned int i, q, stops = 0, moved[2] = { 0, 0 }, windows = 0;
	unsigned int still = 0;
	__u16 at_attach[2], at_stop[2];
	struct vmaccel_vhost_vq_stats s[2];
	const char *failed = NULL;
	__u64 t0 = vh_now_ms(), ti = t0, worst = 0;
	bool stopped = false, was_attached;
	pthread_t th;
	int cur = 0, err = 0;

	if (!self->ready)
		return;
	race_log("tier %s: up to %u switches (at least %u, %u s budget), %s\n",
		 sc->tier, sc->sw_iters, sc->sw_min, sc->sw_secs,
		 variant->zcopy ? "zero-copy" : "copy");
	ASSERT_EQ(0, sw_attach(vm, self->s.tap[cur].tap));
	for (q = 0; q < 2; q++)
		at_attach[q] = vh_used_idx(&vm->q[q]);
	self->s.inject_every = sc->light ? 8 : 2;
	ASSERT_EQ(0, hammer_start(&self->s.h));
	ASSERT_EQ(0, pthread_create(&th, NULL, sw_guest, &self->s));
	for (i = 0; i < sc->sw_iters; i++) {
		if (i && vh_now_ms() - ti > worst)
			worst = vh_now_ms() - ti;
		ti = vh_now_ms();
		if (i >= sc->sw_min && ti - t0 > sc->sw_secs * 1000ull)
			break;
		was_attached = !stopped;
		if (!stopped && i % 3 == 2) {
			/* Stop both queues: nothing is pushed until restart. */
			if (sw_attach(vm, -1)) {
				failed = "SET_BACKEND -1";
				break;
			}
			sw_window_end(vm, at_attach, moved, &windows);
			stopped = true;
			stops++;
			for (q = 0; q < 2; q++) {
				at_stop[q] = vh_used_idx(&vm->q[q]);
				st.index = q;
				if (ioctl(vm->dev, VHOST_GET_VRING_BASE, &st)) {
					failed = "GET_VRING_BASE";
					break;
				}
				if ((__u16)st.num != at_stop[q]) {
					failed = q ? "TX ring base != used index after stop"
						   : "RX ring base != used index after stop";
					TH_LOG("queue %u: base %u used %u", q,
					       st.num, at_stop[q]);
					break;
				}
			}
			if (failed)
				break;
			continue;
		}
		if (stopped) {
			for (q = 0; q < 2; q++) {
				if (vh_used_idx(&vm->q[q]) != at_stop[q]) {
					failed = "used index moved while stopped";
					TH_LOG("queue %u: %u -> %u", q, at_stop[q],
					       vh_used_idx(&vm->q[q]));
				} else {
					still++;
				}
			}
			if (failed)
				break;
		}
		/* Restart on, or switch directly to, the other tap. */
		cur = !cur;
		if (sw_attach(vm, self->s.tap[cur].tap)) {
			failed = "SET_BACKEND to the other tap";
			break;
		}
		if (was_attached)
			sw_window_end(vm, at_attach, moved, &windows);
		stopped = false;
		for (q = 0; q < 2; q++)
			at_attach[q] = vh_used_idx(&vm->q[q]);
		/* Every fourth attach waits a little for packets to move. */
		if (i % 4 == 1)
			sw_window(vm, at_attach, sc->window_us);
	}
	if (failed)
		err = errno;
	__atomic_store_n(&self->s.stop, true, __ATOMIC_RELAXED);
	pthread_join(th, NULL);
	ASSERT_EQ(NULL, failed) {
		TH_LOG("switch %u: %s: %s", i, failed, strerror(err));
	}
	ASSERT_EQ(0ul, self->s.rewinds) {
		TH_LOG("used index %u beyond avail %u", self->s.bad_used,
		       self->s.bad_avail);
	}
	ASSERT_EQ(0, vh_stats(vm, 0, &s[0]));
	ASSERT_EQ(0, vh_stats(vm, 1, &s[1]));
	race_log("%u switches (%u through a stop) in %llu ms, the slowest %llu ms\n",
		 i, stops, (unsigned long long)(vh_now_ms() - t0),
		 (unsigned long long)worst);
	race_log("%u/%u attachments moved RX, %u/%u TX; %u stopped checks\n",
		 moved[0], windows, moved[1], windows, still);
	race_log("device: RX %llu TX %llu packets, zero-copy %llu; guest: %lu kicks, %lu frames\n",
		 (unsigned long long)s[0].packets,
		 (unsigned long long)s[1].packets,
		 (unsigned long long)s[1].zcopy_sent, self->s.kicks,
		 self->s.frames);
	ASSERT_LE(sc->sw_min, i);
	ASSERT_LT(0u, stops);
	/* Traffic flowed during the races, not only before or after. */
	ASSERT_LT(0u, moved[0]);
	ASSERT_LT(0u, moved[1]);
	if (variant->zcopy)
		ASSERT_LT(0ull, (unsigned long long)s[1].zcopy_sent);

	/* The last backend works both ways; so does the other after a switch. */
	if (stopped)
		ASSERT_EQ(0, sw_attach(vm, self->s.tap[cur].tap));
	sw_tx_check(_metadata, &self->s, cur);
	sw_rx_check(_metadata, &self->s, cur);
	if (!sc->light) {
		cur = !cur;
		close(vm->pkt);
		vm->pkt = -1;
		ASSERT_EQ(0, sw_attach(vm, self->s.tap[cur].tap));
		sw_tx_check(_metadata, &self->s, cur);
		sw_rx_check(_metadata, &self->s, cur);
	}

	/* rmmod was refused throughout; with everything closed it works. */
	hammer_check(_metadata, &self->s.h);
	vh_vm_close(vm);
	for (i = 0; i < 2; i++) {
		close(self->s.tap[i].tap);
		self->s.tap[i].tap = -1;
	}
	close(self->s.pin);
	self->s.pin = -1;
	/* Reloads are slow under KASAN: the other tests do theirs. */
	if (!sc->light)
		quiet_unload(_metadata);
}

/* ---- close_orders: tap, device, kicks, calls closed in every order ---- */

enum { C_TAP, C_DEV, C_KICK, C_CALL, C_N };
static const char *const c_name[C_N] = { "tap", "dev", "kick", "call" };

FIXTURE(co) {
	struct vh_vm vm;	/* RAM kept across iterations */
	char ifname[IFNAMSIZ];
	int ifindex;
	bool persist;
	int inject;
	int pin;
	struct hammer h;
	bool ready;
};

FIXTURE_SETUP(co)
{
	const char *why = race_unready();

	memset(&self->vm, 0, sizeof(self->vm));
	self->vm.dev = -1;
	self->vm.tap = -1;
	self->vm.pkt = -1;
	self->vm.memfd = -1;
	self->inject = -1;
	self->pin = -1;
	if (why)
		SKIP(return, "%s", why);
	ASSERT_EQ(0, vh_ram_init(&self->vm));
	self->ifindex = vh_tap_persist_create(self->ifname, "vhc");
	ASSERT_LT(0, self->ifindex);
	self->persist = true;
	self->vm.ifindex = self->ifindex;
	self->inject = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	ASSERT_LE(0, self->inject);
	self->pin = open(vh_dev_path(), O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->pin);
	self->ready = true;
}

FIXTURE_TEARDOWN(co)
{
	hammer_stop(&self->h);
	vh_vm_close(&self->vm);
	if (self->inject >= 0)
		close(self->inject);
	if (self->pin >= 0)
		close(self->pin);
	if (self->persist)
		vh_tap_persist_delete(self->ifname);
	race_leave_loaded();
}

/* Permutation @n (0..23) of the four closes, in @o. */
static void nth_order(unsigned int n, int o[C_N])
{
	int left[C_N] = { C_TAP, C_DEV, C_KICK, C_CALL };
	unsigned int k, f, j, nleft = C_N;

	for (k = 0; k < C_N; k++) {
		f = 1;
		for (j = 2; j < nleft; j++)
			f *= j;
		j = n / f;
		n %= f;
		o[k] = left[j];
		for (; j + 1 < nleft; j++)
			left[j] = left[j + 1];
		nleft--;
	}
}

/* A device on the kept RAM, rings reset, both queues on a new tap file. */
static int co_open(struct vh_vm *vm, const char *ifname, bool zcopy)
{
	__u64 f = VH_BASE_FEATURES | (1ull << VIRTIO_NET_F_MRG_RXBUF);

	memset(vm->ram + VH_RING_OFF(0), 0, 2 * 0x10000);
	memset(vm->q, 0, sizeof(vm->q));
	vm->buf_next = VH_BUF_OFF;
	vm->dev = VH_TRY("open", open(vh_dev_path(), O_RDWR | O_CLOEXEC));
	if (vm->dev < 0 ||
	    VH_TRY("SET_OWNER", ioctl(vm->dev, VHOST_SET_OWNER)) ||
	    VH_TRY("SET_FEATURES", ioctl(vm->dev, VHOST_SET_FEATURES, &f)) ||
	    VH_TRY("SET_MEM_TABLE", vh_set_mem(vm)) ||
	    vh_setup_queue(vm, 0) || vh_setup_queue(vm, 1))
		return -1;
	if (zcopy && VH_TRY("SET_ZCOPY", set_zcopy(vm->dev, 60000)))
		return -1;
	vm->tap = VH_TRY("tap", vh_tap_attach(ifname, 0));
	if (vm->tap < 0)
		return -1;
	return VH_TRY("SET_BACKEND", vh_set_backend(vm, 0, vm->tap) ?:
		      vh_set_backend(vm, 1, vm->tap));
}

static void co_close(struct vh_vm *vm, int what)
{
	unsigned int q;

	switch (what) {
	case C_TAP:
		close(vm->tap);
		vm->tap = -1;
		break;
	case C_DEV:
		close(vm->dev);
		vm->dev = -1;
		break;
	default:
		for (q = 0; q < 2; q++) {
			int *fd = what == C_KICK ? &vm->q[q].kick : &vm->q[q].call;

			close(*fd);
			*fd = -1;
		}
		break;
	}
}

TEST_F_TIMEOUT(co, close_orders, 240)
{
	const struct race_scale *sc = race_scale();
	struct vh_vm *vm = &self->vm;
	__u8 pkt[VH_HLEN + ZC_FRAME_LEN];
	unsigned long tx_used = 0, rx_used = 0, in_flight_at_close = 0;
	unsigned int perm_busy[24] = { 0 }, rounds, n, i, p, k, least;
	long long dev0, tx0, rx0, tx1, rx1;
	__u64 t0 = vh_now_ms();
	int o[C_N];

	if (!self->ready)
		return;
	race_log("tier %s: up to %u rounds of the 24 close orders (at least %u, %u s budget)\n",
		 sc->tier, sc->close_rounds, sc->close_min_rounds,
		 sc->close_secs);
	dev0 = sysfs_total("devices");
	tx0 = sysfs_total("tx_packets");
	rx0 = sysfs_total("rx_packets");
	ASSERT_LE(0, dev0);
	ASSERT_EQ(0, hammer_start(&self->h));
	memset(pkt, 0, VH_HLEN);
	vh_frame(pkt + VH_HLEN, ZC_FRAME_LEN, SEED_GUEST);
	n = 0;
	for (rounds = 0; rounds < sc->close_rounds; rounds++) {
		if (rounds >= sc->close_min_rounds &&
		    vh_now_ms() - t0 > sc->close_secs * 1000ull)
			break;
		for (p = 0; p < 24; p++, n++) {
			ASSERT_EQ(0, co_open(vm, self->ifname, (p / 2 + rounds) % 2)) {
				TH_LOG("iteration %u: %s: %s", n, vh_step,
				       strerror(errno));
			}
			/* Traffic: buffers, packets and frames in flight. */
			vh_rx_post(vm, 32, 2048, NULL, NULL, true);
			for (i = 0; i < 32; i++)
				vh_tx_queue(vm, pkt, sizeof(pkt), 1 + i % 2,
					    i % 8 == 7);
			for (i = 0; i < 4; i++)
				inject_frame(self->inject, self->ifindex, i);
			/*
			 * Every other sequence closes mid-stream, once the
			 * device is under way (a bound, not a check); the
			 * others before the worker may even have run.  Each
			 * order gets both kinds in two rounds.
			 */
			if ((p + rounds) % 2)
				vh_wait_used(&vm->q[1], 1, 500);
			if (vh_used_idx(&vm->q[1]) != vm->q[1].avail_idx) {
				in_flight_at_close++;
				perm_busy[p]++;
			}
			nth_order(p, o);
			for (k = 0; k < C_N; k++)
				co_close(vm, o[k]);
			/* The device is gone: its last words are in RAM. */
			for (i = 0; i < 2; i++) {
				ASSERT_LE(vh_used_idx(&vm->q[i]), vm->q[i].avail_idx) {
					TH_LOG("order %s %s %s %s: queue %u used %u of %u",
					       c_name[o[0]], c_name[o[1]],
					       c_name[o[2]], c_name[o[3]], i,
					       vh_used_idx(&vm->q[i]),
					       vm->q[i].avail_idx);
				}
			}
			tx_used += vh_used_idx(&vm->q[1]);
			rx_used += vh_used_idx(&vm->q[0]);
			close(vm->q[0].err);
			close(vm->q[1].err);
			vm->q[0].err = -1;
			vm->q[1].err = -1;
		}
	}
	tx1 = sysfs_total("tx_packets");
	rx1 = sysfs_total("rx_packets");
	race_log("%u close sequences (%u rounds x 24 orders) in %llu ms; %lu with TX in flight\n",
		 n, rounds, (unsigned long long)(vh_now_ms() - t0),
		 in_flight_at_close);
	race_log("guest saw %lu TX and %lu RX buffers used; module totals +%lld TX +%lld RX\n",
		 tx_used, rx_used, tx1 - tx0, rx1 - rx0);
	ASSERT_LE(sc->close_min_rounds, rounds);
	/* Not vacuous: packets moved and some were in flight at the closes. */
	ASSERT_LT(0ul, tx_used);
	ASSERT_LT(0ul, rx_used);
	ASSERT_LT(0ul, in_flight_at_close);
	ASSERT_LE((long long)tx_used, tx1 - tx0);
	for (p = 0, least = 0; p < 24; p++)
		if (perm_busy[p] < perm_busy[least])
			least = p;
	nth_order(least, o);
	race_log("TX in flight at the first close: >= %u times in every order (%s %s %s %s)\n",
		 perm_busy[least], c_name[o[0]], c_name[o[1]], c_name[o[2]],
		 c_name[o[3]]);
	/* No device left behind. */
	ASSERT_EQ(dev0, sysfs_total("devices"));

	/* A fresh device on the same tap still works both ways. */
	ASSERT_EQ(0, co_open(vm, self->ifname, false));
	vh_rx_post(vm, 8, 2048, NULL, NULL, true);
	vh_tx_queue(vm, pkt, sizeof(pkt), 1, true);
	ASSERT_TRUE(vh_wait_used(&vm->q[1], 1, WAIT_MS));
	inject_frame(self->inject, self->ifindex, SEED_RX);
	ASSERT_TRUE(vh_wait_used(&vm->q[0], 1, WAIT_MS));

	hammer_check(_metadata, &self->h);
	vh_vm_close(vm);
	close(self->pin);
	self->pin = -1;
	quiet_unload(_metadata);
}

/* ---- kill_with_held_zcopy: SIGKILL with skbs held in netem ---- */

FIXTURE(kz) {
	struct vh_holdnet hn;
	char tap[IFNAMSIZ];
	int tapfd;	/* keeps the multi-queue tap (and its carrier) up */
	bool netem;	/* skbs held: bridge, dummy and netem are there */
	bool ready;
};

FIXTURE_SETUP(kz)
{
	const char *why = race_unready();
	int id = getpid() % 10000, hsz = VH_HLEN, ret;

	self->tapfd = -1;
	if (why)
		SKIP(return, "%s", why);
	snprintf(self->tap, IFNAMSIZ, "vkt%d", id);
	/* Multi-queue: each child VMM attaches its own queue to it. */
	self->tapfd = vh_tap_attach(self->tap, IFF_MULTI_QUEUE);
	ASSERT_LE(0, self->tapfd);
	ASSERT_EQ(0, ioctl(self->tapfd, TUNSETVNETHDRSZ, &hsz));
	ASSERT_LT(0, vh_link_up(self->tap));
	ret = vh_holdnet_make(&self->hn, "vk", self->tap, "1s");
	ASSERT_LE(0, ret);
	self->netem = !ret;
	/* The debug kernel has them: the kills under KASAN must hold skbs. */
	if (race_scale() == &scales[0])
		ASSERT_TRUE(self->netem);
	/*
	 * Without bridge, dummy or netem the tap's packets die in the host
	 * stack at once: the kills race zero-copy completions, but no skb
	 * outlives its owner.
	 */
	if (!self->netem)
		TH_LOG("no bridge, dummy or netem: no skb is held at the kills");
	self->ready = true;
}

FIXTURE_TEARDOWN(kz)
{
	/* Links first: netem frees what it holds, the module is let go. */
	vh_holdnet_del(&self->hn);
	if (self->tapfd >= 0)
		close(self->tapfd);
	race_leave_loaded();
}

/* A zero-copy-sized frame to MAC 02:00:00:00:00:<to> (1: held, 2: fast). */
static void kz_send(struct vh_vm *vm, __u8 to, bool kick)
{
	__u8 pkt[VH_HLEN + ZC_FRAME_LEN];

	memset(pkt, 0, VH_HLEN);
	vh_frame(pkt + VH_HLEN, ZC_FRAME_LEN, to);
	memcpy(pkt + VH_HLEN, "\x02\x00\x00\x00\x00", 5);
	pkt[VH_HLEN + 5] = to;
	memcpy(pkt + VH_HLEN + 6, "\x02\x00\x00\x00\x01\x00", 6);
	vh_tx_queue(vm, pkt, sizeof(pkt), 2, kick);
}

enum { KZ_SENDING, KZ_IN_DETACH, KZ_IN_CLOSE, KZ_MODES };
static const char *const kz_mode[KZ_MODES] = {
	"sending", "in SET_BACKEND(-1)", "in close()",
};

/* The child VMM: send until killed; tell the parent once skbs are held. */
static void kz_child(const char *tap, int mode, bool held, int ready_fd)
{
	struct vmaccel_vhost_vq_stats st;
	struct vh_vm vm;
	bool told = false;
	unsigned int i = 0;

	if (vh_vm_init(&vm, VH_BASE_FEATURES) || set_zcopy(vm.dev, 60000))
		_exit(10);
	vm.tap = vh_tap_attach(tap, IFF_MULTI_QUEUE);
	if (vm.tap < 0 || vh_set_backend(&vm, 1, vm.tap))
		_exit(11);
	for (;;) {
		while (in_flight(&vm.q[1]) < VH_NUM)
			kz_send(&vm, 1 + (i++ % 2), false);
		vh_kick(&vm.q[1]);
		if (!told && !vh_stats(&vm, 1, &st) &&
		    (held ? st.pending : st.zcopy_sent) > 0) {
			__u32 n = held ? st.pending : (__u32)st.zcopy_sent;

			told = true;
			if (write(ready_fd, &n, sizeof(n)) != sizeof(n))
				_exit(12);
			/* Both wait for the held skbs (or a fatal signal). */
			if (mode == KZ_IN_DETACH)
				vh_set_backend(&vm, 1, -1);
			else if (mode == KZ_IN_CLOSE)
				close(vm.dev);
			if (mode != KZ_SENDING)
				for (;;)
					pause();
		}
	}
}

TEST_F_TIMEOUT(kz, kill_with_held_zcopy, 240)
{
	const struct race_scale *sc = race_scale();
	unsigned long refused_alive = 0, refused_dead = 0, raced[3] = { 0 };
	unsigned long unloaded_dead = 0, orphaned = 0, bad = 0, pending = 0;
	unsigned int i, seed = (unsigned int)getpid(), modes[KZ_MODES] = { 0 };
	long long orph0, orph1, held0, held1;
	__u64 t0 = vh_now_ms(), t;
	char path[128];
	int r, status;

	if (!self->ready)
		return;
	race_log("tier %s: up to %u kills (at least %u, %u s budget)\n",
		 sc->tier, sc->kill_iters, sc->kill_min, sc->kill_secs);
	snprintf(path, sizeof(path), "/sys/class/net/%s/statistics/tx_packets",
		 self->hn.d1);
	held0 = vh_read_ll(path);
	for (i = 0; i < sc->kill_iters; i++) {
		struct pollfd pfd;
		int fds[2], mode = i % KZ_MODES;
		bool reloaded = false;
		__u32 pend = 0;
		pid_t pid;

		if (i >= sc->kill_min && vh_now_ms() - t0 > sc->kill_secs * 1000ull)
			break;
		if (!vmaccel_kmod_loaded(RACE_MOD)) {
			r = vmaccel_kmod_load(ko_path);
			ASSERT_EQ(0, r) {
				TH_LOG("reload: %s", vmaccel_kmod_load_hint(r));
			}
			ASSERT_TRUE(dev_node_back());
		}
		orph0 = sysfs_total("zcopy_orphaned");
		ASSERT_EQ(0, pipe2(fds, O_CLOEXEC));
		pid = fork();
		ASSERT_LE(0, pid);
		if (!pid) {
			close(fds[0]);
			kz_child(self->tap, mode, self->netem, fds[1]);
		}
		close(fds[1]);
		pfd.fd = fds[0];
		pfd.events = POLLIN;
		if (poll(&pfd, 1, 20000) != 1 ||
		    read(fds[0], &pend, sizeof(pend)) != sizeof(pend)) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			close(fds[0]);
			ASSERT_TRUE(false) {
				TH_LOG("kill %u: the child never held a zero-copy skb (status %#x)",
				       i, status);
			}
		}
		close(fds[0]);
		pending += pend;
		/* The child holds its device: the unload must be refused. */
		r = vmaccel_kmod_unload(RACE_MOD);
		if (vmaccel_kmod_refused(r))
			refused_alive++;
		else
			bad++;
		if (!r) {
			reloaded = true;
			vmaccel_kmod_load(ko_path);
		}
		usleep(rand_r(&seed) % 4000);
		ASSERT_EQ(0, kill(pid, SIGKILL));
		/* Racing the exit's teardown: any clean answer. */
		r = vmaccel_kmod_unload(RACE_MOD);
		if (vmaccel_kmod_refused(r)) {
			raced[0]++;
		} else if (!r) {
			raced[1]++;
			reloaded = true;
			vmaccel_kmod_load(ko_path);
		} else {
			raced[2]++;
		}
		t = vh_now_ms();
		ASSERT_EQ(pid, waitpid(pid, &status, 0));
		ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) {
			TH_LOG("kill %u (%s): child status %#x", i,
			       kz_mode[mode], status);
		}
		modes[mode]++;
		if (vh_now_ms() - t > 900)
			TH_LOG("kill %u (%s): the exit took %llu ms",
			       i, kz_mode[mode],
			       (unsigned long long)(vh_now_ms() - t));
		/*
		 * Reaped: only the held skbs can hold the module now.  (With
		 * nothing held the unload succeeds; the reload costs seconds
		 * in the debug kernel: the quiet point at the end does it.)
		 */
		orph1 = sysfs_total("zcopy_orphaned");
		if (!self->netem)
			continue;
		r = vmaccel_kmod_unload(RACE_MOD);
		if (vmaccel_kmod_refused(r)) {
			refused_dead++;
		} else if (!r) {
			unloaded_dead++;
			r = vmaccel_kmod_load(ko_path);
			ASSERT_EQ(0, r);
		} else {
			bad++;
		}
		/* The counter restarts with a reloaded module. */
		if (orph0 >= 0 && orph1 >= orph0 && !reloaded)
			orphaned += orph1 - orph0;
	}
	held1 = vh_read_ll(path);
	race_log("%u kills in %llu ms (%u sending, %u in detach, %u in close); %lu %s\n",
		 i, (unsigned long long)(vh_now_ms() - t0),
		 modes[KZ_SENDING], modes[KZ_IN_DETACH],
		 modes[KZ_IN_CLOSE], pending,
		 self->netem ? "skbs held at the signals" : "zero-copy sends before them");
	race_log("rmmod: %lu refused, child alive; after the reap %lu refused, %lu unloaded\n",
		 refused_alive, refused_dead, unloaded_dead);
	race_log("rmmod racing the kill: %lu refused, %lu unloaded, %lu other\n",
		 raced[0], raced[1], raced[2]);
	race_log("%lu buffers orphaned; netem let %lld packets go meanwhile\n",
		 orphaned, held1 - held0);
	ASSERT_LE(sc->kill_min, i);
	ASSERT_EQ(0ul, bad);
	ASSERT_EQ(0ul, raced[2]);
	ASSERT_EQ((unsigned long)i, refused_alive);
	/* Not vacuous: zero-copy sends, held skbs pinned the module. */
	ASSERT_LT(0ul, pending);
	if (!self->netem) {
		quiet_unload(_metadata);
		return;
	}
	ASSERT_LT(0ul, refused_dead);
	ASSERT_LT(0ul, orphaned);
	ASSERT_LT(0ll, held1 - held0);

	/* netem gone: the skbs are freed, the late callbacks let go. */
	ASSERT_EQ(0, vh_sh("tc qdisc del dev %s root", self->hn.d1));
	quiet_unload(_metadata);
}

TEST_HARNESS_MAIN
