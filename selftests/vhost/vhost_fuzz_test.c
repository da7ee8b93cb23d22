// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmaccel_vhost_net selftest: a struct-aware fuzzer.
 *
 * Several threads call every vhost-net and extension ioctl on a few shared
 * device fds with arguments drawn from pools of interesting values (valid
 * and invalid queue indices, ring sizes, ring addresses inside and outside
 * guest RAM, eventfds, the tap, a memfd, -1, closed fds, feature sets,
 * memory tables that overlap, wrap or point into the kernel); one thread
 * scribbles over the rings and descriptors in guest RAM and kicks; one
 * injects frames into the tap; one replaces the device fds under the
 * others (dup2 of a fresh open: close during use).  It prints the calls and
 * errno counts per ioctl.  Pass: no crash, no hang, every errno is one the
 * ABI documents, the kernel log stays clean (checked by the runner), and a
 * fresh device moves a packet afterwards.
 *
 * VMACCEL_FUZZ_SECS sets the duration (default 10).
 */
#include "vhost_util.h"

#include <pthread.h>
#include <stdatomic.h>

#define NSLOTS		3
#define SLOT_FD0	200	/* slot i lives at fd SLOT_FD0 + i */
#define NCMDS		22
#define MAXERR		134

static const struct { unsigned long cmd; const char *name; } cmds[NCMDS] = {
	{ VHOST_GET_FEATURES, "GET_FEATURES" },
	{ VHOST_SET_FEATURES, "SET_FEATURES" },
	{ VHOST_SET_OWNER, "SET_OWNER" },
	{ VHOST_RESET_OWNER, "RESET_OWNER" },
	{ VHOST_SET_MEM_TABLE, "SET_MEM_TABLE" },
	{ VHOST_SET_LOG_BASE, "SET_LOG_BASE" },
	{ VHOST_SET_LOG_FD, "SET_LOG_FD" },
	{ VHOST_SET_VRING_NUM, "SET_VRING_NUM" },
	{ VHOST_SET_VRING_BASE, "SET_VRING_BASE" },
	{ VHOST_GET_VRING_BASE, "GET_VRING_BASE" },
	{ VHOST_SET_VRING_ADDR, "SET_VRING_ADDR" },
	{ VHOST_SET_VRING_KICK, "SET_VRING_KICK" },
	{ VHOST_SET_VRING_CALL, "SET_VRING_CALL" },
	{ VHOST_SET_VRING_ERR, "SET_VRING_ERR" },
	{ VHOST_NET_SET_BACKEND, "NET_SET_BACKEND" },
	{ VHOST_SET_VRING_BUSYLOOP_TIMEOUT, "SET_BUSYLOOP" },
	{ VHOST_GET_BACKEND_FEATURES, "GET_BACKEND_FEATURES" },
	{ VHOST_SET_BACKEND_FEATURES, "SET_BACKEND_FEATURES" },
	{ VMACCEL_VHOST_GET_VQ_STATS, "X_GET_VQ_STATS" },
	{ VMACCEL_VHOST_SET_VIC, "X_SET_VIC" },
	{ VMACCEL_VHOST_SET_ZCOPY, "X_SET_ZCOPY" },
	{ VMACCEL_VHOST_GET_ZCOPY, "X_GET_ZCOPY" },
};

static struct vh_vm gvm;	/* shared guest RAM, tap, eventfds */
static int memfd_other;
static atomic_bool stop;
static atomic_ulong calls[NCMDS], errs[NCMDS][MAXERR + 1];
static atomic_ulong odd_errno, kicks, injected, reopened;

static __thread unsigned long long rs;

static unsigned long long rnd(void)
{
	rs ^= rs << 13;
	rs ^= rs >> 7;
	rs ^= rs << 17;
	return rs;
}

static __u64 pick_u64(void)
{
	static const __u64 pool[] = { 0, 1, 2, 3, 255, 256, 1024, 32768,
		65535, 65536, 0xffffffffull, ~0ull, 0x8000000000000000ull };

	if (rnd() % 4 == 0)
		return rnd();
	return pool[rnd() % VH_ARRAY_SIZE(pool)];
}

static __u32 pick_index(void)
{
	return rnd() % 8 ? rnd() % 2 : (__u32)pick_u64();
}

static __u64 pick_addr(void)
{
	switch (rnd() % 8) {
	case 0:
		return 0;
	case 1:
		return 0xffff888000000000ull + (rnd() & 0xfff0);
	case 2:
		return rnd() & ~0xfull;
	default:	/* somewhere in guest RAM, mostly aligned */
		return (uintptr_t)gvm.ram + (rnd() % VH_RAM_SIZE & ~(rnd() % 2 ? 0xfull : 0));
	}
}

static int pick_fd(void)
{
	switch (rnd() % 10) {
	case 0:
		return -1;
	case 1:
		return 9999;
	case 2:
		return gvm.tap;
	case 3:
		return memfd_other;
	case 4:
		return SLOT_FD0 + rnd() % NSLOTS;	/* a device: not a socket */
	default:
		return gvm.q[rnd() % 2].call;
	}
}

static __u64 pick_features(void)
{
	__u64 f = VH_BASE_FEATURES;

	if (rnd() % 4 == 0)
		return pick_u64();
	if (rnd() % 2)
		f |= 1ull << VIRTIO_NET_F_MRG_RXBUF;
	if (rnd() % 2)
		f |= 1ull << VIRTIO_RING_F_EVENT_IDX;
	if (rnd() % 4 == 0)
		f |= 1ull << VHOST_F_LOG_ALL;
	if (rnd() % 4 == 0)
		f |= 1ull << VHOST_NET_F_VIRTIO_NET_HDR;
	return f;
}

static int do_ioctl(int fd, unsigned int c)
{
	union {
		__u64 u64;
		int fd;
		struct vhost_vring_state st;
		struct vhost_vring_file f;
		struct vhost_vring_addr a;
		struct vmaccel_vhost_vq_stats s;
		struct vmaccel_vhost_vic v;
		struct vmaccel_vhost_zcopy z;
		struct {
			struct vhost_memory m;
			struct vhost_memory_region r[4];
		} mem;
		__u8 raw[512];
	} u;
	static __u8 logbuf[1 << 16];
	unsigned int i;

	memset(&u, 0, sizeof(u));
	switch (cmds[c].cmd) {
	case VHOST_SET_FEATURES:
		u.u64 = pick_features();
		break;
	case VHOST_SET_MEM_TABLE:
		u.mem.m.nregions = rnd() % 8 ? 1 + rnd() % 4 : (__u32)pick_u64();
		for (i = 0; i < 4; i++) {
			u.mem.r[i].guest_phys_addr = rnd() % 3 ?
				VH_GPA_BASE + i * 0x200000 : pick_u64();
			u.mem.r[i].memory_size = rnd() % 3 ? 0x200000 : pick_u64();
			u.mem.r[i].userspace_addr = rnd() % 3 ?
				(uintptr_t)gvm.ram + i * 0x200000 : pick_addr();
		}
		if (u.mem.m.nregions > 4 && u.mem.m.nregions < 1000)
			u.mem.m.nregions = 4;
		break;
	case VHOST_SET_LOG_BASE:
		u.u64 = rnd() % 2 ? (uintptr_t)logbuf : pick_addr();
		break;
	case VHOST_SET_LOG_FD:
		u.fd = pick_fd();
		break;
	case VHOST_SET_VRING_ADDR:
		u.a.index = pick_index();
		u.a.flags = rnd() % 4 ? 0 : (__u32)pick_u64();
		u.a.desc_user_addr = rnd() % 2 ? (uintptr_t)gvm.q[u.a.index % 2].desc : pick_addr();
		u.a.avail_user_addr = rnd() % 2 ?
			(uintptr_t)gvm.q[u.a.index % 2].avail : pick_addr();
		u.a.used_user_addr = rnd() % 2 ? (uintptr_t)gvm.q[u.a.index % 2].used : pick_addr();
		u.a.log_guest_addr = pick_u64();
		break;
	case VHOST_SET_VRING_KICK:
	case VHOST_SET_VRING_CALL:
	case VHOST_SET_VRING_ERR:
	case VHOST_NET_SET_BACKEND:
		u.f.index = pick_index();
		u.f.fd = pick_fd();
		if (cmds[c].cmd == VHOST_SET_VRING_KICK && rnd() % 2)
			u.f.fd = gvm.q[u.f.index % 2].kick;
		break;
	case VHOST_SET_VRING_NUM:
	case VHOST_SET_VRING_BASE:
	case VHOST_GET_VRING_BASE:
	case VHOST_SET_VRING_BUSYLOOP_TIMEOUT:
		u.st.index = pick_index();
		u.st.num = rnd() % 2 ? 256 : (__u32)pick_u64();
		if (cmds[c].cmd == VHOST_SET_VRING_BUSYLOOP_TIMEOUT)
			u.st.num = rnd() % 4 ? rnd() % 50 : (__u32)pick_u64();
		break;
	case VHOST_SET_BACKEND_FEATURES:
		u.u64 = rnd() % 2 ? 0 : pick_u64();
		break;
	case VMACCEL_VHOST_GET_VQ_STATS:
		u.s.index = pick_index();
		u.s.flags = rnd() % 8 ? 0 : (__u32)rnd();
		break;
	case VMACCEL_VHOST_SET_VIC:
		u.v.params.mode = rnd() % 4;
		u.v.params.fixed_ratio = rnd() % 300;
		u.v.params.max_ratio = rnd() % 300;
		u.v.params.max_delay_us = rnd() % 2000000;
		u.v.params.cif_threshold = rnd() % 70000;
		u.v.flags = rnd() % 8 ? 0 : 1;
		break;
	case VMACCEL_VHOST_SET_ZCOPY:
		u.z.flags = rnd() % 3;
		u.z.min_len = rnd() % 70000;
		u.z.max_pending = rnd() % 1100;
		u.z.fail_pct = rnd() % 110;
		u.z.backoff_pkts = 1 + rnd() % 5000;
		u.z.stall_ms = 1 + rnd() % 100;
		break;
	default:
		break;
	}
	if (rnd() % 64 == 0)
		return ioctl(fd, cmds[c].cmd, (void *)(uintptr_t)pick_addr());
	return ioctl(fd, cmds[c].cmd, &u);
}

static void *ioctl_thread(void *arg)
{
	rs = (uintptr_t)arg * 0x9e3779b97f4a7c15ull + 1;
	while (!atomic_load(&stop)) {
		unsigned int c = rnd() % NCMDS;
		int fd = SLOT_FD0 + rnd() % NSLOTS, r, e;

		/* Mostly set-up calls first, so that data paths get exercised. */
		r = do_ioctl(fd, c);
		e = r < 0 ? errno : 0;
		atomic_fetch_add(&calls[c], 1);
		atomic_fetch_add(&errs[c][e > MAXERR ? MAXERR : e], 1);
		switch (e) {
		case 0: case EPERM: case EBUSY: case EINVAL: case EFAULT:
		case ENOBUFS: case E2BIG: case EOPNOTSUPP: case EBADF:
		case ENOTSOCK: case ENOMEM: case ENOTTY:
			break;
		default:
			atomic_fetch_add(&odd_errno, 1);
			fprintf(stderr, "# unexpected errno %d from %s\n", e, cmds[c].name);
		}
	}
	return NULL;
}

static void *scribble_thread(void *arg)
{
	(void)arg;
	rs = 0x1234567;
	while (!atomic_load(&stop)) {
		struct vh_q *q = &gvm.q[rnd() % 2];
		unsigned int i = rnd() % VH_NUM;

		switch (rnd() % 5) {
		case 0:
			q->desc[i].addr = rnd() % 2 ?
				VH_GPA_BASE + (rnd() % VH_RAM_SIZE) : pick_u64();
			q->desc[i].len = rnd() % 2 ? rnd() % 4096 : (__u32)pick_u64();
			q->desc[i].flags = rnd() % 8;
			q->desc[i].next = rnd() % 2 ? rnd() % VH_NUM : (__u16)rnd();
			break;
		case 1:
			q->avail->ring[i] = rnd() % 8 ? rnd() % VH_NUM : (__u16)rnd();
			break;
		case 2:
			__atomic_store_n(&q->avail->idx,
					 rnd() % 8 ? q->avail->idx + 1 : (__u16)rnd(),
					 __ATOMIC_RELEASE);
			break;
		case 3:
			q->avail->flags = rnd() % 2;
			break;
		default:
			vh_kick(q);
			atomic_fetch_add(&kicks, 1);
		}
		if (rnd() % 64 == 0)
			usleep(100);
	}
	return NULL;
}

static void *inject_thread(void *arg)
{
	__u8 f[1600];

	(void)arg;
	rs = 0x7654321;
	while (!atomic_load(&stop)) {
		size_t len = 14 + rnd() % (sizeof(f) - 14);

		vh_frame(f, len, (unsigned int)rnd());
		if (!vh_inject(&gvm, f, len))
			atomic_fetch_add(&injected, 1);
		usleep(200);
	}
	return NULL;
}

static void *reopen_thread(void *arg)
{
	(void)arg;
	rs = 0xabcdef;
	while (!atomic_load(&stop)) {
		int fd = open(vh_dev_path(), O_RDWR | O_CLOEXEC);

		if (fd >= 0) {
			if (rnd() % 2)
				ioctl(fd, VHOST_SET_OWNER);
			dup2(fd, SLOT_FD0 + rnd() % NSLOTS);
			close(fd);
			atomic_fetch_add(&reopened, 1);
		}
		usleep(20000 + rnd() % 50000);
	}
	return NULL;
}

FIXTURE(fuzz) {
	int unused;
};

FIXTURE_SETUP(fuzz)
{
	self->unused = 0;
}

FIXTURE_TEARDOWN(fuzz)
{
}

TEST_F_TIMEOUT(fuzz, ioctls_rings_and_close_during_use, 600)
{
	const char *env = getenv("VMACCEL_FUZZ_SECS");
	int secs = env ? atoi(env) : 10, i, e, nthr = 4;
	pthread_t th[8];
	unsigned long total = 0;
	struct vh_vm check;
	__u8 pkt[VH_HLEN + 100], got[200];

	if (access(vh_dev_path(), F_OK))
		SKIP(return, "%s missing", vh_dev_path());
	ASSERT_EQ(0, vh_vm_start(&gvm, VH_BASE_FEATURES)) {
		TH_LOG("%s: %s", vh_step, strerror(errno));
	}
	memfd_other = memfd_create("other", MFD_CLOEXEC);
	for (i = 0; i < NSLOTS; i++) {
		int fd = open(vh_dev_path(), O_RDWR | O_CLOEXEC);

		ASSERT_GE(fd, 0);
		ASSERT_EQ(SLOT_FD0 + i, dup2(fd, SLOT_FD0 + i));
		close(fd);
	}
	/* Slot 0 starts as a working device over the shared RAM. */
	ASSERT_EQ(SLOT_FD0, dup2(gvm.dev, SLOT_FD0));

	for (i = 0; i < nthr; i++)
		ASSERT_EQ(0, pthread_create(&th[i], NULL, ioctl_thread,
					    (void *)(uintptr_t)(i + 1)));
	ASSERT_EQ(0, pthread_create(&th[nthr], NULL, scribble_thread, NULL));
	ASSERT_EQ(0, pthread_create(&th[nthr + 1], NULL, inject_thread, NULL));
	ASSERT_EQ(0, pthread_create(&th[nthr + 2], NULL, reopen_thread, NULL));
	sleep(secs);
	atomic_store(&stop, true);
	for (i = 0; i < nthr + 3; i++)
		pthread_join(th[i], NULL);

	for (i = 0; i < NCMDS; i++) {
		char line[512];
		int n = snprintf(line, sizeof(line), "# %-21s %8lu calls:",
				 cmds[i].name, atomic_load(&calls[i]));

		total += atomic_load(&calls[i]);
		for (e = 0; e <= MAXERR; e++) {
			unsigned long k = atomic_load(&errs[i][e]);

			if (k && n < (int)sizeof(line) - 32)
				n += snprintf(line + n, sizeof(line) - n, " %s=%lu",
					      e ? strerrorname_np(e) ?: "?" : "ok", k);
		}
		printf("%s\n", line);
	}
	printf("# total %lu ioctls, %lu kicks, %lu frames injected, %lu fds replaced under use\n",
	       total, atomic_load(&kicks), atomic_load(&injected),
	       atomic_load(&reopened));
	ASSERT_EQ(0u, atomic_load(&odd_errno));
	ASSERT_GT(total, 1000u);
	for (i = 0; i < NSLOTS; i++)
		close(SLOT_FD0 + i);
	vh_vm_close(&gvm);
	close(memfd_other);

	/* The module still works for a fresh VM. */
	ASSERT_EQ(0, vh_vm_start(&check, VH_BASE_FEATURES));
	memset(pkt, 0, VH_HLEN);
	vh_frame(pkt + VH_HLEN, 100, 0x42);
	vh_tx_queue(&check, pkt, sizeof(pkt), 1, true);
	ASSERT_EQ(100, vh_capture(&check, got, sizeof(got), 5000));
	ASSERT_TRUE(vh_wait_used(&check.q[1], 1, 5000));
	vh_vm_close(&check);
}

TEST_HARNESS_MAIN
