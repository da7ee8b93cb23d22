/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Small helpers of the vmaccel selftests and benchmarks: reading and
 * writing sysfs (or proc) files, numbers in them, the clock, sleeping, and
 * whether this task runs under fault injection.
 *
 * Every helper returns 0 (or a length) or -errno, never asserts and needs
 * nothing but libc, so that the benchmarks can use it too.
 */
#ifndef VMACCEL_SYSFS_H
#define VMACCEL_SYSFS_H

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <linux/types.h>

static inline __u64 vmaccel_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static inline void vmaccel_sleep_ms(unsigned int ms)
{
	struct timespec ts = {
		.tv_sec = ms / 1000,
		.tv_nsec = (long)(ms % 1000) * 1000000L,
	};

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/*
 * Read file @path into @buf (NUL-terminated, one read() of at most
 * @size - 1 bytes): the length read, or -errno.
 */
static inline int vmaccel_read_file(const char *path, char *buf, size_t size)
{
	ssize_t n;
	int fd, err;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, size - 1);
	err = errno;
	close(fd);
	if (n < 0)
		return -err;
	buf[n] = '\0';
	return (int)n;
}

/* Write @val to file @path in one write(): 0 or -errno (-EIO if short). */
static inline int vmaccel_write_file(const char *path, const char *val)
{
	size_t len = strlen(val);
	ssize_t n;
	int fd, err;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, val, len);
	err = errno;
	close(fd);
	if (n < 0)
		return -err;
	return n == (ssize_t)len ? 0 : -EIO;
}

/*
 * Parse @buf as exactly one unsigned decimal number, with or without a
 * newline after it: 0, or -EPROTO for anything else (or out of range).
 */
static inline int vmaccel_parse_u64(const char *buf, __u64 *val)
{
	char *end;

	if (buf[0] < '0' || buf[0] > '9')
		return -EPROTO;
	errno = 0;
	*val = strtoull(buf, &end, 10);
	if (errno || (*end && strcmp(end, "\n")))
		return -EPROTO;
	return 0;
}

/* Read a file holding one unsigned decimal number: 0 or -errno. */
static inline int vmaccel_read_u64(const char *path, __u64 *val)
{
	char buf[64];
	int r;

	r = vmaccel_read_file(path, buf, sizeof(buf));
	return r < 0 ? r : vmaccel_parse_u64(buf, val);
}

/* Read a file holding a signed decimal number (strtol): 0 or -errno. */
static inline int vmaccel_read_long(const char *path, long *val)
{
	char buf[64], *end;
	int r;

	r = vmaccel_read_file(path, buf, sizeof(buf));
	if (r <= 0)
		return r ? r : -EIO;
	*val = strtol(buf, &end, 10);
	return end == buf ? -EINVAL : 0;
}

/*
 * Read the number after "@key " on a line of a "key value" file such as
 * /proc/vmstat or cgroup.stat: 0, -ENOENT without such a line, or -errno.
 */
static inline int vmaccel_read_keyed(const char *path, const char *key,
				     long *val)
{
	size_t len = strlen(key);
	char line[256];
	int r = -ENOENT;
	FILE *f;

	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, len) && line[len] == ' ') {
			*val = strtol(line + len + 1, NULL, 10);
			r = 0;
			break;
		}
	fclose(f);
	return r;
}

/* Write @val to file @path as a decimal number: 0 or -errno. */
static inline int vmaccel_write_long(const char *path, long val)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%ld", val);
	return vmaccel_write_file(path, buf);
}

/*
 * Whether this task's allocations fail at random: the debug tier's fault
 * injection pass (/proc/self/make-it-fail set).  False without fault
 * injection in the kernel.
 */
static inline bool vmaccel_fault_injected(void)
{
	char buf[16];

	return vmaccel_read_file("/proc/self/make-it-fail", buf,
				 sizeof(buf)) > 0 && atoi(buf) > 0;
}

/*
 * Counter @name of a module's sysfs directory @dir (with a trailing '/')
 * is also @dir/stats/@name, read-only, with the same value: 0 once the
 * stats/ file read between two equal readings of the top-level one gave
 * that value; -errno when a file is missing or unreadable; -EACCES when
 * the stats/ file is writable; -EBADE when that did not happen in 100
 * tries (a value that moves and comes back is read again).
 */
static inline int vmaccel_stats_alias(const char *dir, const char *name)
{
	char top[256], st[256];
	long a, s, b;
	struct stat sb;
	int i, r;

	snprintf(top, sizeof(top), "%s%s", dir, name);
	snprintf(st, sizeof(st), "%sstats/%s", dir, name);
	if (stat(st, &sb))
		return -errno;
	if (sb.st_mode & 0222)
		return -EACCES;
	for (i = 0; i < 100; i++) {
		r = vmaccel_read_long(top, &a);
		if (!r)
			r = vmaccel_read_long(st, &s);
		if (!r)
			r = vmaccel_read_long(top, &b);
		if (r)
			return r;
		if (a == b && s == a)
			return 0;
	}
	return -EBADE;
}

/*
 * One numeric sysfs file @dir@name (dir with a trailing '/'): its mode is
 * exactly @mode, and it reads as one decimal number (a leading '-' only
 * with @sign, no leading zero but for "0") and one newline.  0, -errno
 * when it is missing or unreadable, -EACCES for another mode, -EBADMSG for
 * another format.
 */
static inline int vmaccel_sysfs_number(const char *dir, const char *name,
				       unsigned int mode, bool sign)
{
	char path[256], buf[64];
	struct stat sb;
	const char *p;
	int n;

	snprintf(path, sizeof(path), "%s%s", dir, name);
	if (stat(path, &sb))
		return -errno;
	if ((sb.st_mode & 07777) != mode)
		return -EACCES;
	n = vmaccel_read_file(path, buf, sizeof(buf));
	if (n < 0)
		return n;
	p = buf;
	if (sign && *p == '-')
		p++;
	if (*p < '0' || *p > '9' || (*p == '0' && p[1] != '\n'))
		return -EBADMSG;
	while (*p >= '0' && *p <= '9')
		p++;
	return strcmp(p, "\n") ? -EBADMSG : 0;
}

/*
 * The numeric files of a module's sysfs directory @dir, as the suite's
 * knob helper (include/vmaccel/knob.h) declares them: each of @knobs is
 * 0644, each of @counters 0444 (a name may hold "stats/"), each reads as
 * one number and a newline; a name in @signed_names may be negative.
 * NULL-terminated lists.  0, or the first failure of
 * vmaccel_sysfs_number() with the file's name in @bad.
 */
static inline int vmaccel_sysfs_numbers(const char *dir,
					const char * const *knobs,
					const char * const *counters,
					const char * const *signed_names,
					const char **bad)
{
	const char * const *l, * const *s;
	unsigned int pass;
	bool sign;
	int r;

	for (pass = 0; pass < 2; pass++) {
		for (l = pass ? counters : knobs; *l; l++) {
			sign = false;
			for (s = signed_names; s && *s; s++)
				sign |= !strcmp(*s, *l);
			r = vmaccel_sysfs_number(dir, *l, pass ? 0444 : 0644,
						 sign);
			if (r) {
				*bad = *l;
				return r;
			}
		}
	}
	return 0;
}

#define VMACCEL_TRACEFS "/sys/kernel/tracing"

/*
 * Whether tracepoint @event of trace system @system exists (tracefs
 * mounted at VMACCEL_TRACEFS, mounted here if it is not): 0, -ENODEV
 * without tracefs, or -errno of access().
 */
static inline int vmaccel_tracepoint(const char *system, const char *event)
{
	char path[256];

	if (access(VMACCEL_TRACEFS "/events", F_OK) &&
	    mount("tracefs", VMACCEL_TRACEFS, "tracefs", 0, NULL))
		return -ENODEV;
	snprintf(path, sizeof(path), VMACCEL_TRACEFS "/events/%s/%s",
		 system, event);
	return access(path, F_OK) ? -errno : 0;
}

#endif /* VMACCEL_SYSFS_H */
