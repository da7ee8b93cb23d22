// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmaccel_vhost_net selftest: zero-copy TX completes out of order, stalls
 * are bounded, the policy backs off and recovers.
 *
 * Topology in the test VM: the tap is a port of a bridge with two dummy
 * devices; static FDB entries send MAC ...:01 to d1, whose qdisc (netem)
 * holds every packet for a while, and MAC ...:02 to d2, which frees it at
 * once.  Nothing on that path copies the guest pages, so zero-copy
 * completions succeed, and a packet to d2 sent after one to d1 completes
 * first: its buffer must come back to the guest first.  A held packet's
 * buffer comes back only after netem released its skb, also when the
 * backend is detached meanwhile (the detach waits); a packet held longer
 * than stall_ms makes the queue copy new packets; a VMM killed while a
 * packet is held (with dirty logging on) exits at once without the device
 * touching its vanished address space, and the module stays pinned
 * (refcnt) until the skb is gone.
 * Local delivery (a packet socket on the tap) makes the stack copy the
 * pages: those completions fail and the queue falls back to copying.
 *
 * Needs the bridge, dummy and sch_netem modules and iproute2 (ip, tc,
 * bridge); skips without them.
 */
#include "vhost_util.h"

#include <signal.h>
#include <sys/wait.h>

#define WAIT_MS 5000
#define VH_REFCNT "/sys/module/vmaccel_vhost_net/refcnt"
#define VH_ORPHANED VH_SYSFS "stats/zcopy_orphaned"

FIXTURE(zc) {
	struct vh_vm vm;
	struct vh_holdnet hn;
	bool ready;	/* set up completely (the harness runs skipped bodies) */
};

FIXTURE_SETUP(zc)
{
	struct vmaccel_vhost_zcopy z = {
		.flags = VMACCEL_VHOST_ZCOPY_ENABLE, .min_len = 0,
		.max_pending = 256, .fail_pct = 50, .backoff_pkts = 16,
		.stall_ms = 300,
	};
	int ret;

	if (!vh_is_ours() || access(vh_dev_path(), F_OK))
		SKIP(return, "vmaccel device only");
	ASSERT_EQ(0, vh_vm_init(&self->vm, VH_BASE_FEATURES));
	ASSERT_EQ(0, ioctl(self->vm.dev, VMACCEL_VHOST_SET_ZCOPY, &z));
	ASSERT_EQ(0, vh_tap_create(&self->vm));
	ret = vh_holdnet_make(&self->hn, "vz", self->vm.ifname, "1500ms");
	if (ret > 0)
		SKIP(return, "no bridge, dummy or netem");
	ASSERT_EQ(0, ret);
	/* No packet socket on the path: it would copy the pages. */
	close(self->vm.pkt);
	self->vm.pkt = -1;
	ASSERT_EQ(0, vh_set_backend(&self->vm, 1, self->vm.tap));
	self->ready = true;
}

FIXTURE_TEARDOWN(zc)
{
	/* Links first: a packet netem holds is freed, so close need not wait. */
	vh_holdnet_del(&self->hn);
	vh_vm_close(&self->vm);
}

/* A 1000-byte frame to MAC 02:00:00:00:00:<to>; returns its head. */
static __u16 send_to(struct vh_vm *vm, __u8 to, bool kick)
{
	__u8 pkt[VH_HLEN + 1000];

	memset(pkt, 0, VH_HLEN);
	vh_frame(pkt + VH_HLEN, 1000, to);
	memcpy(pkt + VH_HLEN, "\x02\x00\x00\x00\x00", 5);
	pkt[VH_HLEN + 5] = to;
	/* A source MAC the bridge learns on the tap, unlike 01 and 02. */
	memcpy(pkt + VH_HLEN + 6, "\x02\x00\x00\x00\x01\x00", 6);
	return vh_tx_queue(vm, pkt, sizeof(pkt), 2, kick);
}

TEST_F(zc, out_of_order_completion)
{
	struct vmaccel_vhost_vq_stats st;
	struct vh_q *q = &self->vm.q[1];
	__u16 slow, fast[8];
	unsigned int i;

	if (!self->ready)
		SKIP(return, "no bridge, dummy or netem");

	slow = send_to(&self->vm, 1, true);
	if (getenv("VH_ZC_DEBUG"))
		vh_sh("sleep 0.5; bridge link; bridge fdb show br %s; tc -s qdisc show dev %s; "
		      "ip -s link show %s; ip -s link show %s; ip -s link show %s",
		      self->hn.br, self->hn.d1, self->hn.d1, self->hn.d2, self->vm.ifname);
	for (i = 0; i < 8; i++)
		fast[i] = send_to(&self->vm, 2, true);
	/* The eight fast ones come back while the slow one is still held. */
	ASSERT_TRUE(vh_wait_used(q, 8, WAIT_MS));
	for (i = 0; i < 8; i++) {
		ASSERT_NE(slow, q->used->ring[i].id);
		ASSERT_EQ(fast[i], q->used->ring[i].id);
	}
	ASSERT_EQ(0, vh_stats(&self->vm, 1, &st));
	ASSERT_EQ(1u, st.pending);
	/* Then the slow one, after netem lets it go. */
	ASSERT_TRUE(vh_wait_used(q, 9, WAIT_MS));
	ASSERT_EQ(slow, q->used->ring[8].id);
	ASSERT_EQ(0, vh_stats(&self->vm, 1, &st));
	ASSERT_EQ(9u, st.zcopy_sent);
	ASSERT_EQ(0u, st.zcopy_failed);
	ASSERT_EQ(0u, st.pending);
	ASSERT_GE(st.worst_completion_ns, 1000000000ull);
}

TEST_F(zc, held_buffer_returned_only_after_release)
{
	struct vhost_vring_state s = { .index = 1 };
	struct vh_q *q = &self->vm.q[1];
	__u64 t0;
	__u16 slow;

	if (!self->ready)
		SKIP(return, "no bridge, dummy or netem");

	slow = send_to(&self->vm, 1, true);
	vh_sleep_ms(100);
	ASSERT_EQ(0, vh_used_idx(q));
	/*
	 * Detach while netem holds the skb (1.5 s): the guest must not get
	 * the buffer back while the skb still references its pages, so the
	 * detach waits for netem.
	 */
	t0 = vh_now_ms();
	ASSERT_EQ(0, vh_set_backend(&self->vm, 1, -1));
	TH_LOG("detach took %llu ms", (unsigned long long)(vh_now_ms() - t0));
	ASSERT_GE(vh_now_ms() - t0, 1000ull);
	ASSERT_EQ(1, vh_used_idx(q));
	ASSERT_EQ(slow, q->used->ring[0].id);
	ASSERT_EQ(0, ioctl(self->vm.dev, VHOST_GET_VRING_BASE, &s));
	ASSERT_EQ(1u, s.num);
}

TEST_F(zc, stalled_buffer_makes_queue_copy)
{
	struct vmaccel_vhost_vq_stats st;
	struct vh_q *q = &self->vm.q[1];
	__u16 slow;
	unsigned int i;

	if (!self->ready)
		SKIP(return, "no bridge, dummy or netem");

	/* Held for a minute: far beyond stall_ms (300). */
	ASSERT_EQ(0, vh_sh("tc qdisc change dev %s root netem delay 60s limit 1000",
			   self->hn.d1));
	slow = send_to(&self->vm, 1, true);
	vh_sleep_ms(700);
	for (i = 0; i < 8; i++)
		send_to(&self->vm, 2, true);
	ASSERT_TRUE(vh_wait_used(q, 8, WAIT_MS));
	vh_sleep_ms(100);
	ASSERT_EQ(8, vh_used_idx(q));
	for (i = 0; i < 8; i++)
		ASSERT_NE(slow, q->used->ring[i].id);
	ASSERT_EQ(0, vh_stats(&self->vm, 1, &st));
	TH_LOG("zero-copy sent %llu, fell back %llu, copies %llu, pending %u",
	       (unsigned long long)st.zcopy_sent,
	       (unsigned long long)st.zcopy_fallback,
	       (unsigned long long)st.copies, st.pending);
	/* The stalled slot stays in flight; the packets after it were copied. */
	ASSERT_EQ(1u, st.pending);
	ASSERT_EQ(1u, st.zcopy_sent);
	ASSERT_LE(7u, st.zcopy_fallback);
	/* The teardown deletes the links first: netem frees the skb. */
}

/*
 * A child VMM: its own device and tap on the bridge, dirty logging on (as
 * during a migration: used-ring writes are logged), one packet held.
 */
static void held_packet_child(const char *br, int ready_fd)
{
	struct vmaccel_vhost_zcopy z = {
		.flags = VMACCEL_VHOST_ZCOPY_ENABLE, .min_len = 0,
		.max_pending = 256, .fail_pct = 50, .backoff_pkts = 16,
		.stall_ms = 300,
	};
	__u64 features = VH_BASE_FEATURES | (1ull << VHOST_F_LOG_ALL);
	static __u8 log[(VH_GPA_BASE + VH_RAM_SIZE) / 4096 / 8 + 8];
	struct vhost_vring_addr a = { .index = 1 };
	__u64 base = (uintptr_t)log;
	struct vmaccel_vhost_vq_stats st;
	struct vh_vm vm;
	unsigned int i;

	if (vh_vm_init(&vm, VH_BASE_FEATURES) ||
	    ioctl(vm.dev, VMACCEL_VHOST_SET_ZCOPY, &z) || vh_tap_create(&vm))
		_exit(1);
	a.desc_user_addr = (uintptr_t)vm.q[1].desc;
	a.avail_user_addr = (uintptr_t)vm.q[1].avail;
	a.used_user_addr = (uintptr_t)vm.q[1].used;
	a.log_guest_addr = vm.q[1].used_gpa;
	a.flags = 1u << VHOST_VRING_F_LOG;
	if (ioctl(vm.dev, VHOST_SET_LOG_BASE, &base) ||
	    ioctl(vm.dev, VHOST_SET_FEATURES, &features) ||
	    ioctl(vm.dev, VHOST_SET_VRING_ADDR, &a))
		_exit(4);
	close(vm.pkt);	/* it would copy the pages */
	if (vh_sh("ip link set %s master %s", vm.ifname, br) ||
	    vh_set_backend(&vm, 1, vm.tap))
		_exit(2);
	send_to(&vm, 1, true);
	for (i = 0; i < 200; i++) {
		if (!vh_stats(&vm, 1, &st) && st.pending == 1)
			break;
		vh_sleep_ms(10);
	}
	if (write(ready_fd, "x", 1) != 1)
		_exit(3);
	for (;;)
		pause();
}

TEST_F(zc, owner_killed_with_held_packet)
{
	long long ref0, orph0, ref;
	struct pollfd p;
	int fds[2], status;
	__u64 t0;
	pid_t pid;
	char c;

	if (!self->ready)
		SKIP(return, "no bridge, dummy or netem");

	ASSERT_EQ(0, vh_sh("tc qdisc change dev %s root netem delay 60s limit 1000",
			   self->hn.d1));
	ref0 = vh_read_ll(VH_REFCNT);
	orph0 = vh_read_ll(VH_ORPHANED);
	ASSERT_LE(0, ref0);
	ASSERT_EQ(0, pipe(fds));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid)
		held_packet_child(self->hn.br, fds[1]);
	p.fd = fds[0];
	p.events = POLLIN;
	ASSERT_EQ(1, poll(&p, 1, 20000));
	ASSERT_EQ(1, read(fds[0], &c, 1));
	/* Killed with the packet in netem: the exit must not wait a minute. */
	t0 = vh_now_ms();
	ASSERT_EQ(0, kill(pid, SIGKILL));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	TH_LOG("killed VMM gone after %llu ms", (unsigned long long)(vh_now_ms() - t0));
	ASSERT_LT(vh_now_ms() - t0, 5000ull);
	ASSERT_TRUE(WIFSIGNALED(status));
	/* Its buffer is orphaned; the skb pins the module (rmmod refused). */
	ASSERT_LE(0, orph0);
	ASSERT_EQ(orph0 + 1, vh_read_ll(VH_ORPHANED));
	ASSERT_EQ(ref0 + 1, vh_read_ll(VH_REFCNT));
	/* netem gone: the skb is freed, the late callback lets go. */
	ASSERT_EQ(0, vh_sh("tc qdisc del dev %s root", self->hn.d1));
	for (t0 = vh_now_ms(); vh_now_ms() - t0 < WAIT_MS; vh_sleep_ms(10)) {
		ref = vh_read_ll(VH_REFCNT);
		if (ref == ref0)
			break;
	}
	ASSERT_EQ(ref0, vh_read_ll(VH_REFCNT));
	close(fds[0]);
	close(fds[1]);
}

/*
 * A backend switch without fd -1 while a zero-copy packet is held: the
 * stop of the old backend publishes that buffer, and the new backend must
 * go on from the used index after it, not from the one read before the
 * stop (which would rewind used->idx: the next completion overwrites
 * entry 0 and the guest never sees a second one).
 */
TEST_F(zc, backend_switch_keeps_used_idx)
{
	struct vh_q *q = &self->vm.q[1];
	struct vh_vm other;
	__u16 slow, next;

	if (!self->ready)
		SKIP(return, "no bridge, dummy or netem");

	memset(&other, 0, sizeof(other));
	ASSERT_EQ(0, vh_tap_create(&other));
	slow = send_to(&self->vm, 1, true);
	vh_sleep_ms(100);
	ASSERT_EQ(0, vh_used_idx(q));
	ASSERT_EQ(0, vh_set_backend(&self->vm, 1, other.tap));
	/* The held buffer came back while the old backend stopped. */
	ASSERT_TRUE(vh_wait_used(q, 1, WAIT_MS));
	ASSERT_EQ(slow, q->used->ring[0].id);
	next = send_to(&self->vm, 2, true);
	ASSERT_TRUE(vh_wait_used(q, 2, WAIT_MS)) {
		TH_LOG("used index %u after the switch: rewound", vh_used_idx(q));
	}
	ASSERT_EQ(next, q->used->ring[1].id);
	ASSERT_EQ(0, vh_set_backend(&self->vm, 1, -1));
	close(other.pkt);
	close(other.tap);
}

TEST_F(zc, local_delivery_fails_then_backs_off)
{
	struct vmaccel_vhost_vq_stats st, st2;
	struct vh_q *q = &self->vm.q[1];
	struct sockaddr_ll sll = { .sll_family = AF_PACKET };
	unsigned int i;
	int s;

	if (!self->ready)
		SKIP(return, "no bridge, dummy or netem");

	/* A packet socket on the tap sees every frame: the stack copies. */
	s = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
	ASSERT_GE(s, 0);
	sll.sll_protocol = htons(ETH_P_ALL);
	sll.sll_ifindex = self->vm.ifindex;
	ASSERT_EQ(0, bind(s, (struct sockaddr *)&sll, sizeof(sll)));
	for (i = 0; i < 100; i++) {
		send_to(&self->vm, 2, i % 10 == 9);
		if (i % 10 == 9)
			ASSERT_TRUE(vh_wait_used(q, i + 1, WAIT_MS));
	}
	ASSERT_EQ(0, vh_stats(&self->vm, 1, &st));
	TH_LOG("sent %llu failed %llu fallback %llu copies %llu",
	       (unsigned long long)st.zcopy_sent,
	       (unsigned long long)st.zcopy_failed,
	       (unsigned long long)st.zcopy_fallback,
	       (unsigned long long)st.copies);
	ASSERT_GT(st.zcopy_failed, 0u);
	/* After a window of failures the queue copied instead. */
	ASSERT_GT(st.zcopy_fallback, 0u);
	ASSERT_GT(st.copies, 0u);
	ASSERT_EQ(100u, st.zcopy_sent + st.copies);
	close(s);
	/* Without the packet socket zero-copy succeeds again after back-off. */
	for (i = 100; i < 200; i++) {
		send_to(&self->vm, 2, i % 10 == 9);
		if (i % 10 == 9)
			ASSERT_TRUE(vh_wait_used(q, i + 1, WAIT_MS));
	}
	ASSERT_EQ(0, vh_stats(&self->vm, 1, &st2));
	ASSERT_GT(st2.zcopy_sent, st.zcopy_sent);
	ASSERT_EQ(st.zcopy_failed, st2.zcopy_failed);
}

TEST_HARNESS_MAIN
