/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Helpers shared by the vmaccel_vic selftests.
 *
 * The plain helpers return a result (-1 and errno on failure) and never
 * assert, so that they can be used from worker threads too; the vic_env_*()
 * fixture helpers at the end assert.  Include this instead of
 * kselftest_harness.h.
 */
#ifndef VIC_UTIL_H
#define VIC_UTIL_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include <linux/vmaccel_vic.h>

#include "../lib/vmaccel_sysfs.h"

/*
 * kselftest_harness.h of 6.1 has an unused parameter in its SIGALRM handler;
 * keep -Wextra quiet about code that is not ours.
 */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#include "kselftest_harness.h"
#pragma GCC diagnostic pop

#define VIC_DEV		"/dev/vmaccel-vic"
#define VIC_SYSFS	"/sys/class/misc/vmaccel-vic/"
#define VIC_DEBUGFS_DIR	"/sys/kernel/debug"
#define VIC_DEBUGFS	VIC_DEBUGFS_DIR "/vmaccel_vic/coalescers"

/*
 * A backstop no test waits for: one second is far longer than any burst of
 * completions a test issues between two deliveries, even under TCG.
 */
#define VIC_LONG_DELAY_US	VMACCEL_VIC_DELAY_US_MAX

/* For comparing __u64 counters with plain constants without sign warnings. */
#define VIC_U64(x)	((__u64)(x))

#define VIC_NSEC_PER_MSEC	1000000ULL
#define VIC_NSEC_PER_SEC	1000000000ULL

#define vic_now_ns	vmaccel_now_ns
#define vic_sleep_ms	vmaccel_sleep_ms

static inline struct vmaccel_vic_params
vic_params(__u32 mode, __u32 fixed_ratio, __u32 cif_threshold,
	   __u32 iops_threshold, __u32 max_delay_us, __u32 max_ratio)
{
	struct vmaccel_vic_params p = {
		.mode = mode,
		.fixed_ratio = fixed_ratio,
		.cif_threshold = cif_threshold,
		.iops_threshold = iops_threshold,
		.max_delay_us = max_delay_us,
		.max_ratio = max_ratio,
	};

	return p;
}

/* Valid parameters of the given mode that never coalesce by themselves. */
static inline struct vmaccel_vic_params vic_params_off(void)
{
	return vic_params(VMACCEL_VIC_MODE_OFF, 4, 4, 0, VIC_LONG_DELAY_US, 32);
}

static inline struct vmaccel_vic_params vic_params_fixed(__u32 ratio,
							 __u32 max_delay_us)
{
	return vic_params(VMACCEL_VIC_MODE_FIXED, ratio, 4, 0, max_delay_us, 32);
}

static inline int vic_open_dev(void)
{
	return open(VIC_DEV, O_RDWR | O_CLOEXEC);
}

static inline int vic_eventfd(void)
{
	return eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
}

/* VMACCEL_VIC_CREATE; @p NULL means "sysfs defaults". */
static inline int vic_create(int dev, int src, int dst,
			     const struct vmaccel_vic_params *p)
{
	struct vmaccel_vic_create c;

	memset(&c, 0, sizeof(c));
	c.src_fd = src;
	c.dst_fd = dst;
	if (p) {
		c.flags = VMACCEL_VIC_CREATE_PARAMS;
		c.params = *p;
	}
	return ioctl(dev, VMACCEL_VIC_CREATE, &c);
}

/* One write to an eventfd: a single call of the engine with @n completions. */
static inline int vic_signal(int efd, __u64 n)
{
	return write(efd, &n, sizeof(n)) == (ssize_t)sizeof(n) ? 0 : -1;
}

/* @count completions, one write (one engine call) each. */
static inline int vic_complete(int src, unsigned int count)
{
	unsigned int i;

	for (i = 0; i < count; i++)
		if (vic_signal(src, 1))
			return -1;
	return 0;
}

/* Read and reset an eventfd counter: 0 when it is zero, -1 on error. */
static inline __s64 vic_take(int efd)
{
	__u64 v;
	ssize_t r;

	r = read(efd, &v, sizeof(v));
	if (r == (ssize_t)sizeof(v))
		return (__s64)v;
	if (r < 0 && errno == EAGAIN)
		return 0;
	return -1;
}

/* poll() for readability: 1 readable, 0 timed out, -1 error. */
static inline int vic_wait_readable(int efd, int timeout_ms)
{
	struct pollfd pfd = { .fd = efd, .events = POLLIN };
	int r;

	do {
		r = poll(&pfd, 1, timeout_ms);
	} while (r < 0 && errno == EINTR);
	return r;
}

/*
 * Accumulate what an eventfd receives until the total reaches @want or
 * @timeout_ms passes.  Returns the total, or -1 on error.
 */
static inline __s64 vic_collect(int efd, __s64 want, int timeout_ms)
{
	__u64 deadline = vic_now_ns() + timeout_ms * VIC_NSEC_PER_MSEC;
	__s64 total = 0, got;
	__u64 now;

	for (;;) {
		got = vic_take(efd);
		if (got < 0)
			return -1;
		total += got;
		if (total >= want)
			return total;
		now = vic_now_ns();
		if (now >= deadline)
			return total;
		if (vic_wait_readable(efd, (int)((deadline - now) / VIC_NSEC_PER_MSEC) + 1) < 0)
			return -1;
	}
}

static inline int vic_get_stats(int fd, struct vmaccel_vic_stats *st)
{
	memset(st, 0, sizeof(*st));
	return ioctl(fd, VMACCEL_VIC_GET_STATS, st);
}

static inline int vic_get_params(int fd, struct vmaccel_vic_params *p)
{
	memset(p, 0, sizeof(*p));
	return ioctl(fd, VMACCEL_VIC_GET_PARAMS, p);
}

static inline int vic_set_params(int fd, const struct vmaccel_vic_params *p)
{
	return ioctl(fd, VMACCEL_VIC_SET_PARAMS, p);
}

static inline int vic_set_cif(int fd, __u32 cif)
{
	struct vmaccel_vic_cif c = { .flags = 0, .cif = cif };

	return ioctl(fd, VMACCEL_VIC_SET_CIF, &c);
}

static inline int vic_flush(int fd)
{
	return ioctl(fd, VMACCEL_VIC_FLUSH);
}

static inline bool vic_params_equal(const struct vmaccel_vic_params *a,
				    const struct vmaccel_vic_params *b)
{
	return !memcmp(a, b, sizeof(*a));
}

/* Number of open file descriptors of this process (below 4096). */
static inline int vic_count_fds(void)
{
	int fd, n = 0;

	for (fd = 0; fd < 4096; fd++)
		if (fcntl(fd, F_GETFD) >= 0)
			n++;
	return n;
}

/* --- sysfs --- */

/* Read sysfs attribute @name into @buf (NUL-terminated): length or -errno. */
static inline int vic_sysfs_read(const char *name, char *buf, size_t size)
{
	char path[256];

	snprintf(path, sizeof(path), VIC_SYSFS "%s", name);
	return vmaccel_read_file(path, buf, size);
}

/* Write @val to sysfs attribute @name in one write(): 0 or -errno. */
static inline int vic_sysfs_write(const char *name, const char *val)
{
	char path[256];

	snprintf(path, sizeof(path), VIC_SYSFS "%s", name);
	return vmaccel_write_file(path, val);
}

/*
 * Read a numeric attribute: exactly one unsigned decimal number followed by
 * a newline.  0 or -errno (-EPROTO for a malformed value).
 */
static inline int vic_sysfs_u64(const char *name, __u64 *val)
{
	char buf[64];
	int r;

	r = vic_sysfs_read(name, buf, sizeof(buf));
	if (r < 0)
		return r;
	if (!r || buf[r - 1] != '\n')
		return -EPROTO;
	return vmaccel_parse_u64(buf, val);
}

static inline int vic_sysfs_set_u64(const char *name, __u64 val)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%llu\n", val);
	return vic_sysfs_write(name, buf);
}

#define VIC_NR_DEFAULTS	6

static inline const char *vic_default_name(int i)
{
	static const char * const names[VIC_NR_DEFAULTS] = {
		"default_mode", "default_fixed_ratio", "default_cif_threshold",
		"default_iops_threshold", "default_max_delay_us",
		"default_max_ratio",
	};

	return names[i];
}

/* The sysfs defaults as read, for restoring them after a test. */
struct vic_defaults {
	bool saved;
	char val[VIC_NR_DEFAULTS][64];
};

static inline int vic_defaults_save(struct vic_defaults *d)
{
	int i, r;

	d->saved = false;
	for (i = 0; i < VIC_NR_DEFAULTS; i++) {
		r = vic_sysfs_read(vic_default_name(i), d->val[i],
				   sizeof(d->val[i]));
		if (r < 0)
			return r;
	}
	d->saved = true;
	return 0;
}

static inline int vic_defaults_restore(const struct vic_defaults *d)
{
	int i, r, ret = 0;

	if (!d->saved)
		return 0;
	for (i = 0; i < VIC_NR_DEFAULTS; i++) {
		r = vic_sysfs_write(vic_default_name(i), d->val[i]);
		if (r)
			ret = r;
	}
	return ret;
}

/* The module-wide counters in sysfs. */
struct vic_totals {
	__u64 coalescers;
	__u64 completions;
	__u64 interrupts;
	__u64 deferred;
	__u64 backstop;
};

static inline int vic_totals_read(struct vic_totals *t)
{
	int r;

	r = vic_sysfs_u64("coalescers", &t->coalescers);
	if (!r)
		r = vic_sysfs_u64("completions", &t->completions);
	if (!r)
		r = vic_sysfs_u64("interrupts", &t->interrupts);
	if (!r)
		r = vic_sysfs_u64("deferred", &t->deferred);
	if (!r)
		r = vic_sysfs_u64("backstop", &t->backstop);
	return r;
}

/* --- fixture helpers (they assert) --- */

/* The device, a source and a target eventfd, and (once created) a coalescer. */
struct vic_env {
	int dev;
	int src;
	int dst;
	int fd;
};

static inline void vic_env_open(struct __test_metadata *_metadata,
				struct vic_env *e)
{
	e->dev = -1;
	e->src = -1;
	e->dst = -1;
	e->fd = -1;
	e->dev = vic_open_dev();
	ASSERT_LE(0, e->dev)
		TH_LOG("open %s: %s (is vmaccel_vic loaded?)", VIC_DEV,
		       strerror(errno));
	e->src = vic_eventfd();
	ASSERT_LE(0, e->src);
	e->dst = vic_eventfd();
	ASSERT_LE(0, e->dst);
}

static inline void vic_env_close(struct vic_env *e)
{
	if (e->fd >= 0)
		close(e->fd);
	if (e->src >= 0)
		close(e->src);
	if (e->dst >= 0)
		close(e->dst);
	if (e->dev >= 0)
		close(e->dev);
	e->fd = -1;
	e->src = -1;
	e->dst = -1;
	e->dev = -1;
}

/* Create the coalescer of @e with parameters @p (NULL: sysfs defaults). */
static inline void vic_env_create(struct __test_metadata *_metadata,
				  struct vic_env *e,
				  const struct vmaccel_vic_params *p)
{
	e->fd = vic_create(e->dev, e->src, e->dst, p);
	ASSERT_LE(0, e->fd)
		TH_LOG("VMACCEL_VIC_CREATE: %s", strerror(errno));
}

/*
 * Expect @want interrupts on the target of @e since the last check.
 *
 * On a 6.1 kernel write() to the source runs its wake-up with nested eventfd
 * signalling forbidden, so the coalescer signals the target from an
 * irq_work, which runs when the CPU re-enables interrupts, i.e. before
 * write() returns.  The engine's counters (GET_STATS) are exact at once;
 * the target may lag.  Wait up to 2 s for what is missing and log a lag, so
 * that a late interrupt is visible in the output and a lost one fails.
 */
static inline void vic_env_expect(struct __test_metadata *_metadata,
				  struct vic_env *e, __s64 want)
{
	__u64 t0 = vic_now_ns();
	__s64 got, rest;

	got = vic_take(e->dst);
	ASSERT_LE(0, got);
	if (got < want) {
		rest = vic_collect(e->dst, want - got, 2000);
		ASSERT_LE(0, rest);
		TH_LOG("target lag: %lld of %lld at once, %lld more within %llu us",
		       (long long)got, (long long)want, (long long)rest,
		       (vic_now_ns() - t0) / 1000);
		got += rest;
	}
	ASSERT_EQ(want, got);
}

/* Stats of the coalescer of @e, asserting that the ioctl succeeds. */
static inline struct vmaccel_vic_stats
vic_env_stats(struct __test_metadata *_metadata, struct vic_env *e)
{
	struct vmaccel_vic_stats st;

	memset(&st, 0, sizeof(st));
	ASSERT_EQ(0, vic_get_stats(e->fd, &st))
		TH_LOG("VMACCEL_VIC_GET_STATS: %s", strerror(errno));
	return st;
}

/*
 * Wait (up to @timeout_ms) until nothing is pending, i.e. until any armed
 * backstop has fired, and return the stats at that point.
 */
static inline struct vmaccel_vic_stats
vic_env_settle(struct __test_metadata *_metadata, struct vic_env *e,
	       int timeout_ms)
{
	__u64 deadline = vic_now_ns() + timeout_ms * VIC_NSEC_PER_MSEC;
	struct vmaccel_vic_stats st;

	for (;;) {
		st = vic_env_stats(_metadata, e);
		if (!st.pending || vic_now_ns() > deadline)
			break;
		vic_sleep_ms(2);
	}
	ASSERT_EQ(0U, st.pending)
		TH_LOG("still pending after %d ms", timeout_ms);
	return st;
}

#endif /* VIC_UTIL_H */
