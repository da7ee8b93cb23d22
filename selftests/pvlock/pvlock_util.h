/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Helpers shared by the vmaccel_pvlock selftests.
 *
 * The plain helpers return a result (-1 and errno on failure) and never
 * assert; the pvlock_must_*() helpers assert.  Include this instead of
 * kselftest_harness.h.
 */
#ifndef PVLOCK_UTIL_H
#define PVLOCK_UTIL_H

#include <cpuid.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include <linux/vmaccel_pvlock.h>

#include "../lib/vmaccel_sysfs.h"

/*
 * kselftest_harness.h of 6.1 has an unused parameter in its SIGALRM handler;
 * keep -Wextra quiet about code that is not ours.
 */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#include "kselftest_harness.h"
#pragma GCC diagnostic pop

#define PVLOCK_DEV	"/dev/vmaccel-pvlock"
#define PVLOCK_SYSFS	"/sys/class/misc/vmaccel-pvlock/"
#define PVLOCK_DEBUGFS	"/sys/kernel/debug/vmaccel_pvlock/"

/* For comparing __u64 counters with plain constants without sign warnings. */
#define PVLOCK_U64(x)	((__u64)(x))

#define pvlock_now_ns		vmaccel_now_ns
#define pvlock_sleep_ms		vmaccel_sleep_ms

static inline int pvlock_nr_cpus(void)
{
	return (int)sysconf(_SC_NPROCESSORS_ONLN);
}

/* More threads than CPUs, so that some always wait; at least 3. */
static inline __u32 pvlock_crowd(void)
{
	int n = 2 * pvlock_nr_cpus() + 1;

	if (n < 3)
		n = 3;
	if (n > VMACCEL_PVLOCK_MAX_THREADS)
		n = VMACCEL_PVLOCK_MAX_THREADS;
	return (__u32)n;
}

static inline struct vmaccel_pvlock_run
pvlock_params(__u32 kind, __u32 nr_threads, __u32 duration_ms, __u32 cs_ns,
	      __u32 outside_ns, __u32 flags)
{
	struct vmaccel_pvlock_run p = {
		.flags = flags,
		.kind = kind,
		.nr_threads = nr_threads,
		.duration_ms = duration_ms,
		.cs_ns = cs_ns,
		.outside_ns = outside_ns,
	};

	return p;
}

static inline int pvlock_open(void)
{
	return open(PVLOCK_DEV, O_RDWR | O_CLOEXEC);
}

static inline int pvlock_start(int fd, const struct vmaccel_pvlock_run *p)
{
	return ioctl(fd, VMACCEL_PVLOCK_RUN_START, p);
}

static inline int pvlock_result(int fd, struct vmaccel_pvlock_result *r,
				__u32 flags)
{
	memset(r, 0, sizeof(*r));
	r->flags = flags;
	return ioctl(fd, VMACCEL_PVLOCK_RUN_RESULT, r);
}

static inline int pvlock_stop(int fd)
{
	return ioctl(fd, VMACCEL_PVLOCK_RUN_STOP);
}

/* Start a run on a new fd, wait for the results, close. */
static inline int pvlock_run(const struct vmaccel_pvlock_run *p,
			     struct vmaccel_pvlock_result *r)
{
	int fd = pvlock_open();
	int ret, err;

	if (fd < 0)
		return -1;
	ret = pvlock_start(fd, p);
	if (!ret)
		ret = pvlock_result(fd, r, 0);
	err = errno;
	close(fd);
	errno = err;
	return ret;
}

/* Read a file, without its trailing newline; 0, or -1 and errno. */
static inline int pvlock_sysfs_read(const char *path, char *buf, size_t size)
{
	int n = vmaccel_read_file(path, buf, size);

	if (n < 0) {
		errno = -n;
		return -1;
	}
	if (n && buf[n - 1] == '\n')
		buf[n - 1] = '\0';
	return 0;
}

/* Write a value; 0 or -errno. */
#define pvlock_sysfs_write	vmaccel_write_file

/* Read a number; 0, or -1 and errno (EINVAL for a malformed value). */
static inline int pvlock_sysfs_u64(const char *path, __u64 *val)
{
	int r = vmaccel_read_u64(path, val);

	if (r) {
		errno = r == -EPROTO ? EINVAL : -r;
		return -1;
	}
	return 0;
}

/* Whether the word @w is in the space-separated list @list. */
static inline bool pvlock_word_in(const char *list, const char *w)
{
	size_t n = strlen(w);
	const char *p = list;

	while ((p = strstr(p, w))) {
		if ((p == list || p[-1] == ' ') && (p[n] == ' ' || !p[n]))
			return true;
		p += n;
	}
	return false;
}

/*
 * What CPUID says about KVM: false if this is not a KVM guest; else true,
 * with the KVM_CPUID_FEATURES leaf's features (eax) and hints (edx).
 */
static inline bool pvlock_cpuid_kvm(unsigned int *features,
				    unsigned int *hints)
{
	unsigned int a, b, c, d, base;
	char sig[13];

	__cpuid(1, a, b, c, d);
	if (!(c & (1U << 31)))	/* no hypervisor */
		return false;
	for (base = 0x40000000; base < 0x40010000; base += 0x100) {
		__cpuid(base, a, b, c, d);
		memcpy(sig + 0, &b, 4);
		memcpy(sig + 4, &c, 4);
		memcpy(sig + 8, &d, 4);
		sig[12] = '\0';
		if (!memcmp(sig, "KVMKVMKVM\0\0\0", 12)) {
			__cpuid(base + 1, a, b, c, d);
			*features = a;
			*hints = d;
			return true;
		}
	}
	return false;
}

/* A KVM hypervisor with KVM_FEATURE_PV_UNHALT (bit 7). */
static inline bool pvlock_cpuid_kvm_pv_unhalt(void)
{
	unsigned int features, hints;

	return pvlock_cpuid_kvm(&features, &hints) && features & (1U << 7);
}

/* A KVM hypervisor with KVM_HINTS_REALTIME (bit 0 of the hints). */
static inline bool pvlock_cpuid_kvm_realtime(void)
{
	unsigned int features, hints;

	return pvlock_cpuid_kvm(&features, &hints) && hints & 1U;
}

/* Whether the kernel command line has the word @w. */
static inline bool pvlock_cmdline_has(const char *w)
{
	char buf[4096];
	char *nl;

	if (pvlock_sysfs_read("/proc/cmdline", buf, sizeof(buf)))
		return false;
	nl = strchr(buf, '\n');
	if (nl)
		*nl = '\0';
	return pvlock_word_in(buf, w);
}

/* The counters of stats/, in the order of enum pvlock_stat. */
#define PVLOCK_NR_STATS	11
static const char *const pvlock_stat_files[PVLOCK_NR_STATS] = {
	"taken_fast", "taken_slow", "taken_slow_pickup", "blocked", "halts",
	"spurious_wakeups", "irqs_off_spins", "released_slow",
	"released_slow_kicked", "wakeups_sent", "time_blocked_ns",
};

enum {
	ST_TAKEN_FAST, ST_TAKEN_SLOW, ST_PICKUP, ST_BLOCKED, ST_HALTS,
	ST_SPURIOUS, ST_IRQS_OFF, ST_RELEASED_SLOW, ST_KICKED, ST_WAKEUPS,
	ST_TIME,
};

static inline int pvlock_stats_read(__u64 *v)
{
	char path[256];
	int i;

	for (i = 0; i < PVLOCK_NR_STATS; i++) {
		snprintf(path, sizeof(path), PVLOCK_SYSFS "stats/%s",
			 pvlock_stat_files[i]);
		if (pvlock_sysfs_u64(path, &v[i]))
			return -1;
	}
	return 0;
}

/* Run and assert success of the ioctls. */
static inline void pvlock_must_run(struct __test_metadata *_metadata,
				   const struct vmaccel_pvlock_run *p,
				   struct vmaccel_pvlock_result *r)
{
	ASSERT_EQ(0, pvlock_run(p, r)) {
		TH_LOG("run of kind %u failed: %s", p->kind, strerror(errno));
	}
}

/* Checks every finished run must pass; @r from a run of @p. */
static inline void pvlock_expect_sane(struct __test_metadata *_metadata,
				      const struct vmaccel_pvlock_run *p,
				      const struct vmaccel_pvlock_result *r)
{
	__u64 sum = 0, min = ~0ULL, max = 0;
	__u32 i;

	ASSERT_EQ(p->kind, r->run.kind);
	ASSERT_EQ(p->nr_threads, r->run.nr_threads);
	ASSERT_EQ(p->duration_ms, r->run.duration_ms);
	ASSERT_EQ((__u32)pvlock_nr_cpus(), r->nr_cpus);
	ASSERT_GE(r->elapsed_ns, PVLOCK_U64(p->duration_ms) * 1000000ULL);
	for (i = 0; i < VMACCEL_PVLOCK_MAX_THREADS; i++) {
		if (i >= p->nr_threads) {
			ASSERT_EQ(PVLOCK_U64(0), r->per_thread[i]);
			continue;
		}
		sum += r->per_thread[i];
		if (r->per_thread[i] < min)
			min = r->per_thread[i];
		if (r->per_thread[i] > max)
			max = r->per_thread[i];
	}
	ASSERT_EQ(sum, r->acquisitions);
	ASSERT_EQ(min, r->acquisitions_min);
	ASSERT_EQ(max, r->acquisitions_max);
	ASSERT_EQ(PVLOCK_U64(0), r->reserved[0]);
	ASSERT_EQ(PVLOCK_U64(0), r->reserved[1]);
	ASSERT_LE(r->blocked, r->taken_slow);
	ASSERT_LE(r->blocked, r->halts);
	ASSERT_LE(r->spurious_wakeups, r->halts);
	ASSERT_LE(r->taken_slow, r->acquisitions);
	ASSERT_LE(r->kicks, r->acquisitions);
	ASSERT_LE(r->wakeups, r->kicks);
}

/*
 * A fixture for tests without state of their own (the harness's plain
 * TEST() trips -Wunused-parameter).
 */
FIXTURE(pvlock) {
	int unused;
};

FIXTURE_SETUP(pvlock)
{
	self->unused = 0;
}

FIXTURE_TEARDOWN(pvlock)
{
}

#endif /* PVLOCK_UTIL_H */
