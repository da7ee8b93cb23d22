/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Helpers shared by the vmaccel_vhost_net selftests: a tiny VMM.
 *
 * Guest RAM is a memfd mapped into the test, described to the device as
 * two regions (so that buffers can straddle a region boundary); the split
 * rings of the RX and TX queues are built in it; a tap device (with a
 * virtio-net header) is the backend, and an AF_PACKET socket on the tap
 * sees what the guest sends and injects what the guest should receive.
 *
 * The plain helpers return -1 (errno set) or a result and never assert.
 * VHOST_TEST_DEV selects the device node (default /dev/vmaccel-vhost-net;
 * /dev/vhost-net runs the same tests against upstream vhost-net).
 */
#ifndef VHOST_UTIL_H
#define VHOST_UTIL_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>
#include <linux/sockios.h>
#include <linux/vhost.h>
#include <linux/virtio_net.h>
#include <linux/virtio_ring.h>
#include <linux/vmaccel_vhost.h>

/* The bench uses these helpers without the harness. */
#ifndef VH_NO_HARNESS
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#include "kselftest_harness.h"
#pragma GCC diagnostic pop
#endif

#define VH_DEV_DEFAULT	"/dev/vmaccel-vhost-net"
#define VH_SYSFS	"/sys/class/misc/vmaccel-vhost-net/"
#define VH_DEBUGFS	"/sys/kernel/debug/vmaccel_vhost_net/queues"

#define VH_RAM_SIZE	(8u << 20)
#define VH_GPA_BASE	0x100000ull	/* guest-physical address of RAM */
#define VH_REGION_SPLIT	(4u << 20)	/* second region starts here */
#define VH_RING_OFF(q)	(0x10000u + (q) * 0x10000u)
#define VH_BUF_OFF	0x100000u	/* buffers from 1 MiB into RAM on */
#define VH_NUM		256u
#define VH_ETHERTYPE	0x88b5		/* IEEE local experimental */
#define VH_HLEN		12u		/* virtio_net_hdr_mrg_rxbuf */
#define VH_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define VH_BASE_FEATURES ((1ull << VIRTIO_F_VERSION_1) | \
			  (1ull << VIRTIO_RING_F_INDIRECT_DESC))

/* The step at which the last helper failed, for messages. */
static const char *vh_step = "";
#define VH_TRY(step, expr) ({ vh_step = (step); (expr); })

struct vh_q {
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	__u64 desc_gpa, avail_gpa, used_gpa;
	__u16 avail_idx;	/* next avail index the test publishes */
	__u16 used_seen;	/* used entries the test consumed */
	__u16 next_desc;	/* next free descriptor (simple bump) */
	bool evidx;		/* VIRTIO_RING_F_EVENT_IDX negotiated */
	bool evidx_manual;	/* the test writes used_event itself */
	__u16 armed;		/* used_event last written by vh_arm_call() */
	__u16 used_called;	/* used index covered by a call (see vh_wait_used()) */
	__u64 calls;		/* call signals the wait helpers consumed */
	__u64 calls_unseen;	/* of them, drained by vh_publish() since a wait */
	int kick, call, err;
};

struct vh_vm {
	int dev;
	int tap;
	int pkt;
	int ifindex;
	char ifname[IFNAMSIZ];
	__u8 *ram;
	int memfd;
	__u64 features;
	__u64 buf_next;	/* bump allocator for buffers (RAM offset) */
	struct vh_q q[2];
};

static inline const char *vh_dev_path(void)
{
	const char *p = getenv("VHOST_TEST_DEV");

	return p && *p ? p : VH_DEV_DEFAULT;
}

static inline void *vh_hva(struct vh_vm *vm, __u64 gpa)
{
	return vm->ram + (gpa - VH_GPA_BASE);
}

static inline __u64 vh_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static inline void vh_sleep_ms(unsigned int ms)
{
	usleep(ms * 1000u);
}

static inline int vh_write_file(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, val, strlen(val));
	close(fd);
	return n == (ssize_t)strlen(val) ? 0 : -1;
}

/* Run a shell command built printf-style; system()'s status. */
static inline int vh_sh(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	if (n < 0 || n >= (int)sizeof(cmd))
		return -1;
	return system(cmd);
}

/* Interface @ifname up with IPv6 off (no stray frames): its index, or -1. */
static inline int vh_link_up(const char *ifname)
{
	struct ifreq ifr;
	char path[128];
	int s, ret = -1;

	snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/disable_ipv6",
		 ifname);
	vh_write_file(path, "1");
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", ifname);
	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -1;
	if (!ioctl(s, SIOCGIFFLAGS, &ifr)) {
		ifr.ifr_flags |= IFF_UP;
		if (!ioctl(s, SIOCSIFFLAGS, &ifr) && !ioctl(s, SIOCGIFINDEX, &ifr))
			ret = ifr.ifr_ifindex;
	}
	close(s);
	return ret;
}

/*
 * Where a VM's frames leave the host: a bridge with the tap @port and two
 * dummy NICs, as a tap is bridged to a physical NIC (the local stack would
 * copy zero-copy pages).  Frames to 02:00:00:00:00:01 leave through @d1,
 * whose netem qdisc holds each one @hold (their zero-copy buffers complete
 * late); frames to 02:00:00:00:00:02 leave through @d2 at once.
 */
struct vh_holdnet {
	char br[IFNAMSIZ], d1[IFNAMSIZ], d2[IFNAMSIZ];
	bool made;	/* links to delete */
};

/* Add the link @port to the bridge @br: 0 or -1. */
static inline int vh_bridge_addif(const char *br, const char *port)
{
	struct ifreq ifr;
	int s, ret;

	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", br);
	ifr.ifr_ifindex = if_nametoindex(port);
	if (!ifr.ifr_ifindex)
		return -1;
	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -1;
	ret = ioctl(s, SIOCBRADDIF, &ifr);
	close(s);
	return ret ? -1 : 0;
}

/*
 * vh_holdnet_make() - build it; @tag (2 letters) and the pid name the links.
 * Return: 0; 1 when the kernel lacks bridge, dummy or netem; -1 when a
 * later step failed.  vh_holdnet_del() undoes any of them.
 *
 * Two shells in all (ip, tc and bridge in batch mode; ports and links in
 * C): under a debug kernel in TCG each program started costs about a
 * second, and one per step made a fixture's setup take 20 s of the
 * harness's 30 s per test.
 */
static inline int vh_holdnet_make(struct vh_holdnet *h, const char *tag,
				  const char *port, const char *hold)
{
	int id = getpid() % 10000;

	snprintf(h->br, IFNAMSIZ, "%sb%d", tag, id);
	snprintf(h->d1, IFNAMSIZ, "%ss%d", tag, id);
	snprintf(h->d2, IFNAMSIZ, "%sf%d", tag, id);
	h->made = true;
	if (vh_sh("set -e; exec 2>/dev/null; modprobe -qa bridge dummy sch_netem || :; "
		  "printf 'link add %s type bridge\\nlink add %s type dummy\\n"
		  "link add %s type dummy\\n' | ip -b -; "
		  "tc qdisc add dev %s root netem delay %s limit 1000",
		  h->br, h->d1, h->d2, h->d1, hold))
		return 1;
	if (vh_bridge_addif(h->br, port) || vh_bridge_addif(h->br, h->d1) ||
	    vh_bridge_addif(h->br, h->d2) || vh_link_up(h->br) < 0 ||
	    vh_link_up(h->d1) < 0 || vh_link_up(h->d2) < 0 ||
	    vh_sh("printf 'fdb add 02:00:00:00:00:01 dev %s master static\\n"
		  "fdb add 02:00:00:00:00:02 dev %s master static\\n' | bridge -b -",
		  h->d1, h->d2))
		return -1;
	return 0;
}

/* Delete the links (first at teardown: netem frees the frames it holds). */
static inline void vh_holdnet_del(struct vh_holdnet *h)
{
	if (h->made)
		vh_sh("printf 'link del %s\\nlink del %s\\n"
		      "link del %s\\n' | ip -force -b - 2>/dev/null",
		      h->d1, h->d2, h->br);
	h->made = false;
}

static inline long long vh_read_ll(const char *path)
{
	char buf[64];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	return atoll(buf);
}

/* Guest RAM: a memfd, mapped shared. */
static inline int vh_ram_init(struct vh_vm *vm)
{
	vm->memfd = memfd_create("vh-guest-ram", MFD_CLOEXEC);
	if (vm->memfd < 0 || ftruncate(vm->memfd, VH_RAM_SIZE))
		return -1;
	vm->ram = mmap(NULL, VH_RAM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
		       vm->memfd, 0);
	if (vm->ram == MAP_FAILED)
		return -1;
	vm->buf_next = VH_BUF_OFF;
	return 0;
}

/*
 * A tap, up, IPv6 off (no stray frames), with a 12-byte virtio-net header
 * unless @plain (then the device adds and strips the header itself:
 * VHOST_NET_F_VIRTIO_NET_HDR).
 */
static inline int vh_tap_create_ex(struct vh_vm *vm, bool plain)
{
	static int seq;
	struct ifreq ifr;
	struct sockaddr_ll sll;
	char path[128];
	int hsz = VH_HLEN, s;

	vm->tap = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (vm->tap < 0)
		return -1;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, IFNAMSIZ, "vht%d.%d", getpid() % 10000, seq++);
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | (plain ? 0 : IFF_VNET_HDR);
	if (ioctl(vm->tap, TUNSETIFF, &ifr))
		return -1;
	if (!plain && ioctl(vm->tap, TUNSETVNETHDRSZ, &hsz))
		return -1;
	snprintf(vm->ifname, sizeof(vm->ifname), "%s", ifr.ifr_name);
	snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/disable_ipv6",
		 vm->ifname);
	vh_write_file(path, "1");
	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -1;
	if (ioctl(s, SIOCGIFFLAGS, &ifr)) {
		close(s);
		return -1;
	}
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(s, SIOCSIFFLAGS, &ifr) || ioctl(s, SIOCGIFINDEX, &ifr)) {
		close(s);
		return -1;
	}
	close(s);
	vm->ifindex = ifr.ifr_ifindex;
	vm->pkt = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
	if (vm->pkt < 0)
		return -1;
	s = 8 << 20;	/* room for bursts of captured frames */
	setsockopt(vm->pkt, SOL_SOCKET, SO_RCVBUFFORCE, &s, sizeof(s));
	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(ETH_P_ALL);
	sll.sll_ifindex = vm->ifindex;
	return bind(vm->pkt, (struct sockaddr *)&sll, sizeof(sll));
}

static inline int vh_tap_create(struct vh_vm *vm)
{
	return vh_tap_create_ex(vm, false);
}

/*
 * A new file on tap @ifname, with a virtio-net header and @flags (e.g.
 * IFF_MULTI_QUEUE) on top: TUNSETIFF creates the interface if it does not
 * exist, attaches the file as a queue otherwise.  The fd, or -1.
 */
static inline int vh_tap_attach(const char *ifname, int flags)
{
	struct ifreq ifr;
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return -1;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", ifname);
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR | flags;
	if (ioctl(fd, TUNSETIFF, &ifr)) {
		close(fd);
		return -1;
	}
	return fd;
}

static inline void vh_tap_persist_delete(const char *ifname)
{
	int fd = vh_tap_attach(ifname, 0);

	if (fd < 0)
		return;
	ioctl(fd, TUNSETPERSIST, 0);
	close(fd);
}

/*
 * A persistent tap interface named @prefix and our pid, up, IPv6 off, with
 * a 12-byte virtio-net header and no file attached: tests attach a new file
 * per iteration (vh_tap_attach()), so that the file, its socket and its
 * wait queue are freed at every detach without the cost of registering a
 * network device.  Its name goes to @ifname; its index, or -1 with no
 * interface left behind.
 */
static inline int vh_tap_persist_create(char *ifname, const char *prefix)
{
	char name[IFNAMSIZ];
	int hsz = VH_HLEN, fd, ret;

	snprintf(name, sizeof(name), "%s%d", prefix, getpid() % 100000);
	fd = vh_tap_attach(name, 0);
	if (fd < 0)
		return -1;
	if (ioctl(fd, TUNSETPERSIST, 1) || ioctl(fd, TUNSETVNETHDRSZ, &hsz)) {
		ioctl(fd, TUNSETPERSIST, 0);
		close(fd);
		return -1;
	}
	close(fd);
	snprintf(ifname, IFNAMSIZ, "%s", name);
	ret = vh_link_up(ifname);
	if (ret < 0)
		vh_tap_persist_delete(ifname);
	return ret;
}

static inline int vh_setup_queue(struct vh_vm *vm, unsigned int i)
{
	struct vh_q *q = &vm->q[i];
	__u64 base = VH_GPA_BASE + VH_RING_OFF(i);
	struct vhost_vring_state st = { .index = i, .num = VH_NUM };
	struct vhost_vring_addr a = { .index = i };
	struct vhost_vring_file f = { .index = i };

	q->evidx = !!(vm->features & (1ull << VIRTIO_RING_F_EVENT_IDX));
	q->armed = 0;
	q->used_called = 0;
	q->desc_gpa = base;
	q->avail_gpa = base + 0x1000;
	q->used_gpa = base + 0x2000;
	q->desc = vh_hva(vm, q->desc_gpa);
	q->avail = vh_hva(vm, q->avail_gpa);
	q->used = vh_hva(vm, q->used_gpa);
	q->kick = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	q->call = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	q->err = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (q->kick < 0 || q->call < 0 || q->err < 0)
		return -1;
	if (VH_TRY("SET_VRING_NUM", ioctl(vm->dev, VHOST_SET_VRING_NUM, &st)))
		return -1;
	st.num = 0;
	if (VH_TRY("SET_VRING_BASE", ioctl(vm->dev, VHOST_SET_VRING_BASE, &st)))
		return -1;
	a.desc_user_addr = (uintptr_t)q->desc;
	a.avail_user_addr = (uintptr_t)q->avail;
	a.used_user_addr = (uintptr_t)q->used;
	a.log_guest_addr = q->used_gpa;
	if (VH_TRY("SET_VRING_ADDR", ioctl(vm->dev, VHOST_SET_VRING_ADDR, &a)))
		return -1;
	f.fd = q->kick;
	if (VH_TRY("SET_VRING_KICK", ioctl(vm->dev, VHOST_SET_VRING_KICK, &f)))
		return -1;
	f.fd = q->call;
	if (VH_TRY("SET_VRING_CALL", ioctl(vm->dev, VHOST_SET_VRING_CALL, &f)))
		return -1;
	f.fd = q->err;
	return VH_TRY("SET_VRING_ERR", ioctl(vm->dev, VHOST_SET_VRING_ERR, &f));
}

static inline int vh_set_mem(struct vh_vm *vm)
{
	struct {
		struct vhost_memory m;
		struct vhost_memory_region r[2];
	} mem;

	memset(&mem, 0, sizeof(mem));
	mem.m.nregions = 2;
	mem.r[0].guest_phys_addr = VH_GPA_BASE;
	mem.r[0].memory_size = VH_REGION_SPLIT;
	mem.r[0].userspace_addr = (uintptr_t)vm->ram;
	mem.r[1].guest_phys_addr = VH_GPA_BASE + VH_REGION_SPLIT;
	mem.r[1].memory_size = VH_RAM_SIZE - VH_REGION_SPLIT;
	mem.r[1].userspace_addr = (uintptr_t)vm->ram + VH_REGION_SPLIT;
	return ioctl(vm->dev, VHOST_SET_MEM_TABLE, &mem);
}

/* Everything a VMM does before starting the device; no backend yet. */
static inline int vh_vm_init(struct vh_vm *vm, __u64 features)
{
	memset(vm, 0, sizeof(*vm));
	vm->dev = -1;
	vm->tap = -1;
	vm->pkt = -1;
	vm->memfd = -1;
	vm->features = features;
	if (vh_ram_init(vm))
		return -1;
	vm->dev = VH_TRY("open", open(vh_dev_path(), O_RDWR | O_CLOEXEC));
	if (vm->dev < 0)
		return -1;
	if (VH_TRY("SET_OWNER", ioctl(vm->dev, VHOST_SET_OWNER)))
		return -1;
	if (VH_TRY("SET_FEATURES", ioctl(vm->dev, VHOST_SET_FEATURES, &features)))
		return -1;
	if (VH_TRY("SET_MEM_TABLE", vh_set_mem(vm)))
		return -1;
	if (vh_setup_queue(vm, 0) || vh_setup_queue(vm, 1))
		return -1;
	return 0;
}

static inline int vh_set_backend(struct vh_vm *vm, unsigned int i, int fd)
{
	struct vhost_vring_file f = { .index = i, .fd = fd };

	return ioctl(vm->dev, VHOST_NET_SET_BACKEND, &f);
}

/* vh_vm_init() + tap + both backends. */
static inline int vh_vm_start(struct vh_vm *vm, __u64 features)
{
	if (vh_vm_init(vm, features) || VH_TRY("tap", vh_tap_create(vm)))
		return -1;
	if (VH_TRY("SET_BACKEND", vh_set_backend(vm, 0, vm->tap)) ||
	    vh_set_backend(vm, 1, vm->tap))
		return -1;
	return 0;
}

static inline void vh_vm_close(struct vh_vm *vm)
{
	int i;

	if (vm->dev >= 0)
		close(vm->dev);
	if (vm->pkt >= 0)
		close(vm->pkt);
	if (vm->tap >= 0)
		close(vm->tap);
	for (i = 0; i < 2; i++) {
		if (vm->q[i].kick > 0)
			close(vm->q[i].kick);
		if (vm->q[i].call > 0)
			close(vm->q[i].call);
		if (vm->q[i].err > 0)
			close(vm->q[i].err);
	}
	if (vm->ram && vm->ram != MAP_FAILED)
		munmap(vm->ram, VH_RAM_SIZE);
	if (vm->memfd >= 0)
		close(vm->memfd);
	memset(vm, 0, sizeof(*vm));
	vm->dev = -1;
	vm->tap = -1;
	vm->pkt = -1;
	vm->memfd = -1;
}

/* Guest buffer allocation (RAM offsets -> guest-physical addresses). */
static inline __u64 vh_alloc(struct vh_vm *vm, __u64 len, __u64 align)
{
	__u64 off = (vm->buf_next + align - 1) & ~(align - 1);

	if (off + len > VH_RAM_SIZE)
		off = (VH_BUF_OFF + align - 1) & ~(align - 1);
	vm->buf_next = off + len;
	return VH_GPA_BASE + off;
}

static inline __u16 vh_desc_alloc(struct vh_q *q)
{
	__u16 d = q->next_desc;

	q->next_desc = (q->next_desc + 1) % VH_NUM;
	return d;
}

static inline void vh_kick(struct vh_q *q)
{
	__u64 one = 1;

	if (write(q->kick, &one, sizeof(one)) != sizeof(one))
		abort();
}

static inline __u16 vh_used_idx(struct vh_q *q)
{
	return __atomic_load_n(&q->used->idx, __ATOMIC_ACQUIRE);
}

/* Has used index @idx reached @target (modulo 2^16)? */
static inline bool vh_idx_reached(__u16 idx, __u16 target)
{
	return (__u16)(idx - target) <= 0x8000u;
}

/* The guest's used_event field (after the avail ring). */
static inline __u16 *vh_used_event(struct vh_q *q)
{
	return &q->avail->ring[VH_NUM];
}

/*
 * Ask for an interrupt on the next used entry, as a guest re-enabling its
 * callbacks does: with the event index, used_event = the used index seen,
 * then (full barrier) the index is read again; the device reads used_event
 * after writing the index, so either it sees the new value and must
 * signal the push past it, or the re-read sees that push and the guest
 * arms again.  Without the event index (or when the test writes used_event
 * itself) every push is signalled unless VRING_AVAIL_F_NO_INTERRUPT.
 *
 * Once the push past the previous arming point was signalled (a call
 * covered it: @q->used_called), the entries pushed after that push owed
 * no interrupt (used_event was already crossed): a guest sees them when
 * it re-arms, and so does vh_wait_used() (@q->used_called moves on to
 * them).  An arming point not yet covered by a call credits nothing.
 */
static inline void vh_arm_call(struct vh_q *q)
{
	__u16 seen;

	if (!q->evidx || q->evidx_manual)
		return;
	do {
		seen = vh_used_idx(q);
		__atomic_store_n(vh_used_event(q), seen, __ATOMIC_RELEASE);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
	} while (vh_used_idx(q) != seen);
	if (vh_idx_reached(q->used_called, (__u16)(q->armed + 1)))
		q->used_called = seen;
	q->armed = seen;
}

/* Consume a pending call; returns its count (0: none pending). */
static inline __u64 vh_call_take(struct vh_q *q)
{
	__u64 v = 0;

	if (read(q->call, &v, sizeof(v)) != sizeof(v))
		return 0;
	q->calls += v;
	q->used_called = vh_used_idx(q);
	return v;
}

/*
 * Consume a pending call that the test knows is due (before a suppression
 * check, vh_wait_used_no_call()); returns its count.
 */
static inline __u64 vh_call_drain(struct vh_q *q)
{
	q->calls_unseen = 0;
	return vh_call_take(q);
}

/*
 * Make the chain starting at @head available and kick.  The interrupt for
 * its used entry is armed first (vh_arm_call()).  vh_publish() is this for
 * the tests; the bench, which never waits on a call, uses it alone.
 */
static inline void vh_offer(struct vh_q *q, __u16 head, bool kick)
{
	vh_arm_call(q);
	q->avail->ring[q->avail_idx % VH_NUM] = head;
	__atomic_thread_fence(__ATOMIC_RELEASE);
	q->avail_idx++;
	__atomic_store_n(&q->avail->idx, q->avail_idx, __ATOMIC_RELEASE);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (kick)
		vh_kick(q);
}

/*
 * vh_offer() after consuming a call already pending (it covers only
 * entries pushed before this one), so that a call vh_wait_used() credits
 * to the new entry came after it was offered.  Such calls are counted in
 * @q->calls_unseen until a wait accounts for them: a suppression check
 * (vh_wait_used_no_call()) fails on one.
 */
static inline void vh_publish(struct vh_q *q, __u16 head, bool kick)
{
	q->calls_unseen += vh_call_take(q);
	vh_offer(q, head, kick);
}

/*
 * One direct TX descriptor holding @data (@len bytes: virtio-net header +
 * frame), not offered; returns its index.
 */
static inline __u16 vh_tx_desc(struct vh_vm *vm, const void *data,
			       size_t len)
{
	struct vh_q *q = &vm->q[1];
	__u64 gpa = vh_alloc(vm, len, 64);
	__u16 d = vh_desc_alloc(q);

	memcpy(vh_hva(vm, gpa), data, len);
	q->desc[d].addr = gpa;
	q->desc[d].len = len;
	q->desc[d].flags = 0;
	q->desc[d].next = 0;
	return d;
}

/*
 * Queue one TX packet (@data, @len bytes: virtio-net header + frame) split
 * into @nseg direct descriptors; returns the head.
 */
static inline __u16 vh_tx_queue(struct vh_vm *vm, const void *data,
				size_t len, unsigned int nseg, bool kick)
{
	struct vh_q *q = &vm->q[1];
	__u64 gpa = vh_alloc(vm, len, 64);
	size_t per = (len + nseg - 1) / nseg, off = 0;
	__u16 head = 0, prev = 0;
	unsigned int i;

	memcpy(vh_hva(vm, gpa), data, len);
	for (i = 0; i < nseg && off < len; i++) {
		__u16 d = vh_desc_alloc(q);
		size_t l = len - off < per ? len - off : per;

		q->desc[d].addr = gpa + off;
		q->desc[d].len = l;
		q->desc[d].flags = 0;
		q->desc[d].next = 0;
		if (i == 0) {
			head = d;
		} else {
			q->desc[prev].flags |= VRING_DESC_F_NEXT;
			q->desc[prev].next = d;
		}
		prev = d;
		off += l;
	}
	vh_publish(q, head, kick);
	return head;
}

/* Post @n device-writable buffers of @len bytes on the RX queue. */
static inline void vh_rx_post(struct vh_vm *vm, unsigned int n, __u32 len,
			      __u16 *heads, __u64 *gpas, bool kick)
{
	struct vh_q *q = &vm->q[0];
	unsigned int i;

	for (i = 0; i < n; i++) {
		__u16 d = vh_desc_alloc(q);
		__u64 gpa = vh_alloc(vm, len, 64);

		memset(vh_hva(vm, gpa), 0xee, len);
		q->desc[d].addr = gpa;
		q->desc[d].len = len;
		q->desc[d].flags = VRING_DESC_F_WRITE;
		q->desc[d].next = 0;
		if (heads)
			heads[i] = d;
		if (gpas)
			gpas[i] = gpa;
		vh_publish(q, d, kick && i == n - 1);
	}
}

/* The device's avail_event field (after the used ring). */
static inline __u16 vh_avail_event(struct vh_q *q)
{
	__u16 *p = (__u16 *)((char *)q->used + 4 + 8 * VH_NUM);

	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static inline bool vh_used_reached(struct vh_q *q, __u16 target)
{
	return vh_idx_reached(vh_used_idx(q), target);
}

/*
 * Slack added to every wait for a call: a vic coalescer (vmaccel_vic) may
 * hold an interrupt back for up to its max_delay_us, at most
 * VMACCEL_VIC_DELAY_US_MAX (one second), before its backstop delivers it.
 */
#define VH_BACKSTOP_MS	(VMACCEL_VIC_DELAY_US_MAX / 1000 + 1000)

/*
 * vh_wait_used() - wait for the device as a guest does: on the call
 * eventfd.  Sleeps in poll() on @q->call (timeout_ms + VH_BACKSTOP_MS),
 * reads the used index after each call (re-arming the event index while
 * it is short of @target) and succeeds only when a call covered @target:
 * the index read right after consuming a call (in this wait or an earlier
 * one: a guest handles every entry it sees after an interrupt, batches
 * need no call per entry) reached it, or with the event index the entries
 * owed no call (vh_arm_call()).  A device that advances used->idx without
 * signalling fails here after the timeout; a slow one does not (the
 * timeout only bounds a missing signal).  Nothing else may read @q->call;
 * each queue has its own call eventfd.
 *
 * For waits where no interrupt is due (VRING_AVAIL_F_NO_INTERRUPT, a
 * used_event the entries do not cross) use vh_wait_used_no_call(); where
 * only the index matters (a hostile guest, a device that must not make
 * progress) vh_poll_used().
 *
 * Return: true on success; false (reason printed as a TAP comment).
 */
static inline bool vh_wait_used(struct vh_q *q, __u16 target,
				unsigned int timeout_ms)
{
	__u64 end = vh_now_ms() + timeout_ms + VH_BACKSTOP_MS, now;
	unsigned int calls = 0;
	__u64 v;

	for (;;) {
		struct pollfd p = { .fd = q->call, .events = POLLIN };

		if (!vh_used_reached(q, target))
			vh_arm_call(q);
		if (vh_idx_reached(q->used_called, target)) {
			q->calls_unseen = 0;
			return true;
		}
		now = vh_now_ms();
		if (now >= end)
			break;
		if (poll(&p, 1, (int)(end - now)) == 1 &&
		    read(q->call, &v, sizeof(v)) == sizeof(v)) {
			calls++;
			q->calls += v;
			q->used_called = vh_used_idx(q);
		}
	}
	fprintf(stderr, "# vh_wait_used: used %u (%u at a call) target %u, %u call(s), %u ms%s\n",
		vh_used_idx(q), q->used_called, target, calls,
		timeout_ms + VH_BACKSTOP_MS,
		vh_used_reached(q, target) ? ": no interrupt for these entries" : "");
	return false;
}

/*
 * vh_poll_used() - poll the used index until it reaches @target, ignoring
 * the call eventfd: for hostile-guest code and for waits that are not
 * about the interrupt.  Return: false on timeout.
 */
static inline bool vh_poll_used(struct vh_q *q, __u16 target,
				unsigned int timeout_ms)
{
	__u64 end = vh_now_ms() + timeout_ms;

	while (!vh_used_reached(q, target)) {
		if (vh_now_ms() > end)
			return false;
		vh_sleep_ms(1);
	}
	return true;
}

/*
 * vh_wait_used_no_call() - a suppression check: poll the used index until
 * it reaches @target, then keep watching the call eventfd for
 * VH_QUIET_MS (more than the longest vic backstop): true only if the index
 * got there and no call arrived at all since the last wait (none during
 * this one, none that vh_publish() drained meanwhile).  Drain calls that
 * are due before the suppressed entries (vh_call_drain()) first.
 */
#define VH_QUIET_MS	(VMACCEL_VIC_DELAY_US_MAX / 1000 + 300)
static inline bool vh_wait_used_no_call(struct vh_q *q, __u16 target,
					unsigned int timeout_ms)
{
	struct pollfd p = { .fd = q->call, .events = POLLIN };
	bool reached = vh_poll_used(q, target, timeout_ms);
	__u64 got = q->calls_unseen;

	q->calls_unseen = 0;
	if (poll(&p, 1, VH_QUIET_MS) == 1)
		got += vh_call_take(q);
	if (!reached || got)
		fprintf(stderr, "# vh_wait_used_no_call: used index %u, target %u, %llu %s\n",
			vh_used_idx(q), target, (unsigned long long)got,
			"unexpected call(s)");
	return reached && !got;
}

/* Wait for an eventfd to fire; returns its count, 0 on timeout. */
static inline __u64 vh_wait_efd(int fd, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	__u64 v = 0;

	if (poll(&p, 1, timeout_ms) != 1)
		return 0;
	if (read(fd, &v, sizeof(v)) != sizeof(v))
		return 0;
	return v;
}

/* Receive one frame of our EtherType that entered the tap (guest TX). */
static inline ssize_t vh_capture(struct vh_vm *vm, void *buf, size_t size,
				 int timeout_ms)
{
	__u64 end = vh_now_ms() + timeout_ms;
	struct sockaddr_ll from;
	socklen_t fl;
	ssize_t n;

	for (;;) {
		struct pollfd p = { .fd = vm->pkt, .events = POLLIN };
		int left = (int)(end - vh_now_ms());

		if (left <= 0 || poll(&p, 1, left) != 1)
			return -1;
		fl = sizeof(from);
		n = recvfrom(vm->pkt, buf, size, MSG_DONTWAIT,
			     (struct sockaddr *)&from, &fl);
		if (n < 0)
			continue;
		if (from.sll_pkttype == PACKET_OUTGOING)
			continue;
		if (n >= 14 && ((__u8 *)buf)[12] == (VH_ETHERTYPE >> 8) &&
		    ((__u8 *)buf)[13] == (VH_ETHERTYPE & 0xff))
			return n;
	}
}

/*
 * A packet socket bound to the tap that reads each frame with the
 * virtio-net header the stack gives it (PACKET_VNET_HDR): GSO and checksum
 * offload as the device passed them.  Returns the socket or -1.
 */
static inline int vh_vnet_capture(struct vh_vm *vm)
{
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET,
		.sll_protocol = htons(ETH_P_ALL),
		.sll_ifindex = vm->ifindex,
	};
	int s = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
	unsigned int one = 1;

	if (s < 0)
		return -1;
	if (setsockopt(s, SOL_PACKET, PACKET_VNET_HDR, &one, sizeof(one)) ||
	    bind(s, (struct sockaddr *)&sll, sizeof(sll))) {
		close(s);
		return -1;
	}
	return s;
}

/* Send a frame out of the tap: the guest receives it. */
static inline int vh_inject(struct vh_vm *vm, const void *frame, size_t len)
{
	struct sockaddr_ll to = {
		.sll_family = AF_PACKET,
		.sll_ifindex = vm->ifindex,
		.sll_halen = ETH_ALEN,
	};

	return sendto(vm->pkt, frame, len, 0, (struct sockaddr *)&to,
		      sizeof(to)) == (ssize_t)len ? 0 : -1;
}

/* An Ethernet frame of @len bytes with our EtherType and a pattern. */
static inline void vh_frame(__u8 *f, size_t len, unsigned int seed)
{
	size_t i;

	memset(f, 0xff, 6);			/* broadcast */
	f[6] = 0x02; f[7] = 0x00; f[8] = 0x00;	/* locally administered */
	f[9] = 0x00; f[10] = 0x00; f[11] = seed & 0xff;
	f[12] = VH_ETHERTYPE >> 8;
	f[13] = VH_ETHERTYPE & 0xff;
	for (i = 14; i < len; i++)
		f[i] = (__u8)(i * 7 + seed);
}

/*
 * An IPv4/TCP frame of @len bytes (@len >= 54): vh_frame()'s addresses and
 * payload pattern, 10.0.0.2 -> 10.@net.0.3, a valid IP header checksum,
 * a 20-byte TCP header with ACK set, the TCP checksum left to the device.
 */
static inline void vh_tcp4_frame(__u8 *f, size_t len, unsigned int seed,
				 __u8 net)
{
	unsigned int sum = 0, i;

	vh_frame(f, len, seed);
	f[12] = 0x08;
	f[13] = 0x00;
	memset(f + 14, 0, 40);
	f[14] = 0x45;
	f[16] = (len - 14) >> 8;
	f[17] = (len - 14) & 0xff;
	f[22] = 64;
	f[23] = 6;
	f[26] = 10; f[29] = 2;
	f[30] = 10; f[31] = net; f[33] = 3;
	for (i = 14; i < 34; i += 2)
		sum += (f[i] << 8) | f[i + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	f[24] = ~sum >> 8;
	f[25] = ~sum & 0xff;
	f[46] = 0x50;
	f[47] = 0x10;
}

static inline int vh_stats(struct vh_vm *vm, unsigned int idx,
			   struct vmaccel_vhost_vq_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->index = idx;
	return ioctl(vm->dev, VMACCEL_VHOST_GET_VQ_STATS, st);
}

static inline bool vh_is_ours(void)
{
	return !strcmp(vh_dev_path(), VH_DEV_DEFAULT);
}

#ifndef VH_NO_HARNESS
/*
 * The setup of a fixture that is a struct vh_vm and a ready flag: the
 * device initialised with @features, a tap, no backend attached yet.
 * Skips without the device node; sets *@ready only when everything is set
 * up (the harness runs the body of a skipped test too).
 */
static inline void vh_fixture_setup(struct __test_metadata *_metadata,
				    struct vh_vm *vm, __u64 features,
				    bool *ready)
{
	if (access(vh_dev_path(), F_OK))
		SKIP(return, "%s missing (module not loaded)", vh_dev_path());
	ASSERT_EQ(0, vh_vm_init(vm, features)) {
		TH_LOG("vm init: %s: %s", vh_step, strerror(errno));
	}
	ASSERT_EQ(0, vh_tap_create(vm));
	*ready = true;
}
#endif

#endif /* VHOST_UTIL_H */
