/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Helpers shared by the vmaccel_balloon selftests.
 *
 * The plain helpers return a result (-1 and errno on failure) and never
 * assert.  Include this instead of kselftest_harness.h.
 */
#ifndef BALLOON_UTIL_H
#define BALLOON_UTIL_H

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <linux/vmaccel_balloon.h>

#include "../lib/vmaccel_sysfs.h"

/*
 * kselftest_harness.h of 6.1 has an unused parameter in its SIGALRM handler;
 * keep -Wextra quiet about code that is not ours.
 */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#include "kselftest_harness.h"
#pragma GCC diagnostic pop
/* TEST() expands to a function with a parameter it does not use. */
#pragma GCC diagnostic ignored "-Wunused-parameter"

#define BALLOON_DEV	"/dev/vmaccel-balloon"
#define BALLOON_SYSFS	"/sys/kernel/mm/vmaccel_balloon/"
#define MiB		(1024ULL * 1024)

/* virtio-balloon statistic tags (<linux/virtio_balloon.h>). */
#define TAG_MEMFREE	4
#define TAG_MEMTOT	5
#define TAG_AVAIL	6
#define TAG_CACHES	7

#define balloon_now_ns		vmaccel_now_ns
#define balloon_sleep_ms	vmaccel_sleep_ms

/*
 * vmaccel_fault_injected() is true in the debug tier's fault-injection
 * pass.  Tests skip what would make other tasks' allocations run in this
 * context there: dropping caches evicts the shared root's 9p inodes, and a
 * failed 9p clunk leaves that root unusable for the run.
 */

static inline int balloon_open(void)
{
	return open(BALLOON_DEV, O_RDWR | O_CLOEXEC);
}

/* Read a sysfs knob of the module as a long; -1 with errno on failure. */
static inline long balloon_knob(const char *name)
{
	char path[128];
	long v;
	int r;

	snprintf(path, sizeof(path), BALLOON_SYSFS "%s", name);
	r = vmaccel_read_long(path, &v);
	if (r) {
		errno = -r;
		return -1;
	}
	return v;
}

/* Write a sysfs knob; 0, or -errno of the write. */
static inline int balloon_set(const char *name, const char *val)
{
	char path[128];

	snprintf(path, sizeof(path), BALLOON_SYSFS "%s", name);
	return vmaccel_write_file(path, val);
}

static inline int balloon_setl(const char *name, long v)
{
	char path[128];

	snprintf(path, sizeof(path), BALLOON_SYSFS "%s", name);
	return vmaccel_write_long(path, v);
}

/* The knobs a test may change, restored to their defaults by the next. */
static inline void balloon_defaults(void)
{
	balloon_set("test_available_pct", "-1");
	balloon_set("enabled", "1");
	balloon_set("high_pct", "30");
	balloon_set("low_pct", "20");
	balloon_set("high_pct", "30");
	balloon_set("interval_ms", "1000");
	balloon_set("step_pct", "5");
	balloon_set("guest_free_pct", "10");
	balloon_set("stall_ms", "10000");
	balloon_set("stats_max_age_ms", "30000");
}

/* A memfd guest-RAM file of @bytes; -1 on failure. */
static inline int balloon_memfd(__u64 bytes)
{
	int fd = memfd_create("balloon-test-ram", MFD_CLOEXEC);

	if (fd < 0)
		return -1;
	if (ftruncate(fd, (off_t)bytes)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Write one byte in every page of [off, off + len) of @fd. */
static inline int balloon_touch(int fd, __u64 off, __u64 len)
{
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		       (off_t)off);
	__u64 i;

	if (p == MAP_FAILED)
		return -1;
	for (i = 0; i < len; i += 4096)
		p[i] = 1;
	munmap(p, len);
	return 0;
}

static inline int balloon_punch(int fd, __u64 off, __u64 len)
{
	return fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			 (off_t)off, (off_t)len);
}

static inline struct vmaccel_balloon_register
balloon_req(int mem_fd, int event_fd, __u64 guest, __u64 floor, __u64 ceiling)
{
	struct vmaccel_balloon_register r;

	memset(&r, 0, sizeof(r));
	r.mem_fd = mem_fd;
	r.event_fd = event_fd;
	r.guest_bytes = guest;
	r.floor_bytes = floor;
	r.ceiling_bytes = ceiling;
	strcpy(r.name, "selftest");
	return r;
}

static inline int balloon_register(int dev, int mem_fd, int event_fd,
				   __u64 guest, __u64 floor, __u64 ceiling)
{
	struct vmaccel_balloon_register r =
		balloon_req(mem_fd, event_fd, guest, floor, ceiling);

	return ioctl(dev, VMACCEL_BALLOON_REGISTER, &r);
}

/* Register and close at once: 0, or the errno of the registration. */
static inline int balloon_reg_errno(int dev, struct vmaccel_balloon_register *r)
{
	int fd = ioctl(dev, VMACCEL_BALLOON_REGISTER, r);

	if (fd >= 0) {
		close(fd);
		return 0;
	}
	return errno;
}

static inline int balloon_target(int vm, struct vmaccel_balloon_target *t)
{
	memset(t, 0, sizeof(*t));
	return ioctl(vm, VMACCEL_BALLOON_GET_TARGET, t);
}

static inline __u64 balloon_target_bytes(int vm)
{
	struct vmaccel_balloon_target t;

	if (balloon_target(vm, &t))
		return 0;
	return t.target_bytes;
}

static inline int balloon_account(int vm, struct vmaccel_balloon_account *a)
{
	memset(a, 0, sizeof(*a));
	return ioctl(vm, VMACCEL_BALLOON_GET_ACCOUNT, a);
}

/* Report two statistics (virtio-balloon tags) of the guest. */
static inline int balloon_report2(int vm, __u16 tag0, __u64 val0, __u16 tag1,
				  __u64 val1)
{
	struct vmaccel_balloon_stat st[2];
	struct vmaccel_balloon_stats s;

	memset(st, 0, sizeof(st));
	memset(&s, 0, sizeof(s));
	st[0].tag = tag0;
	st[0].val = val0;
	st[1].tag = tag1;
	st[1].val = val1;
	s.nr = 2;
	s.stats_ptr = (__u64)(uintptr_t)st;
	return ioctl(vm, VMACCEL_BALLOON_REPORT_STATS, &s);
}

/* Report the guest's available memory (and its total) as its statistics. */
static inline int balloon_report_avail(int vm, __u64 avail, __u64 total)
{
	return balloon_report2(vm, TAG_AVAIL, avail, TAG_MEMTOT, total);
}

/* Wait up to @ms for @efd to be signalled; its counter, or 0 on timeout. */
static inline __u64 balloon_wait_event(int efd, int ms)
{
	struct pollfd p = { .fd = efd, .events = POLLIN };
	__u64 v = 0;

	if (poll(&p, 1, ms) != 1)
		return 0;
	if (read(efd, &v, sizeof(v)) != sizeof(v))
		return 0;
	return v;
}

#endif /* BALLOON_UTIL_H */
