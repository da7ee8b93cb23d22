// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmaccel_ksm selftest: every bad input gets a clear error and changes
 * nothing: ioctl structures (flags, reserved fields, ranges, pass counts,
 * bad pointers, unknown commands), unsupported fallocate modes,
 * MAP_PRIVATE, access beyond EOF after a truncate below mapped pages,
 * sysfs values out of range, bad mount options, unmount with open files.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <sys/wait.h>

#include "ksm_util.h"
#include "../lib/vmaccel_sysfs.h"

FIXTURE(bad) {
	int dev, fd;
};

FIXTURE_SETUP(bad)
{
	if (!ksm_present())
		SKIP(return, "vmaccel_ksm not loaded");
	ksm_quiet();
	self->dev = open(KSM_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->dev);
	self->fd = ksm_create(16 * KSM_PAGE, 0);
	ASSERT_LE(0, self->fd);
}

FIXTURE_TEARDOWN(bad)
{
	close(self->fd);
	close(self->dev);
	ksm_quiet();
}

TEST_F(bad, create)
{
	struct vmaccel_ksm_create c = { .size = KSM_PAGE };
	int fd;

	c.flags = 1U << 5;
	EXPECT_ERRNO(EINVAL, ioctl(self->dev, VMACCEL_KSM_CREATE, &c));
	c.flags = 0;
	c.reserved[1] = 1;
	EXPECT_ERRNO(EINVAL, ioctl(self->dev, VMACCEL_KSM_CREATE, &c));
	c.reserved[1] = 0;
	c.group = 3;	/* without VMACCEL_KSM_CREATE_GROUP */
	EXPECT_ERRNO(EINVAL, ioctl(self->dev, VMACCEL_KSM_CREATE, &c));
	c.flags = VMACCEL_KSM_CREATE_GROUP;	/* the kernel's groups */
	c.group = VMACCEL_KSM_GROUP_AUTO;
	EXPECT_ERRNO(EINVAL, ioctl(self->dev, VMACCEL_KSM_CREATE, &c));
	c.flags = 0;
	c.group = 0;
	c.size = ~0ULL;
	EXPECT_ERRNO(EINVAL, ioctl(self->dev, VMACCEL_KSM_CREATE, &c));
	EXPECT_ERRNO(EFAULT, ioctl(self->dev, VMACCEL_KSM_CREATE, NULL));
	EXPECT_ERRNO(EFAULT, ioctl(self->dev, VMACCEL_KSM_CREATE, (void *)1));
	EXPECT_ERRNO(ENOTTY, ioctl(self->dev, _IO(VMACCEL_IOCTL_TYPE, 0x4f)));
	EXPECT_ERRNO(ENOTTY, ioctl(self->dev, VMACCEL_KSM_GET_STATS, &c));
	c.size = 0;
	fd = ioctl(self->dev, VMACCEL_KSM_CREATE, &c);
	ASSERT_LE(0, fd);
	EXPECT_EQ(FD_CLOEXEC * 0, fcntl(fd, F_GETFD) & FD_CLOEXEC);
	close(fd);
}

TEST_F(bad, file_ioctls)
{
	struct vmaccel_ksm_group g = { .group = 1, .flags = 1 };
	struct vmaccel_ksm_range r = { .offset = 0, .length = KSM_PAGE };
	struct vmaccel_ksm_scan s = { .passes = 1 };
	struct vmaccel_ksm_file_stats st;
	int ro;

	EXPECT_ERRNO(EINVAL, ioctl(self->fd, VMACCEL_KSM_SET_GROUP, &g));
	g.flags = 0;
	g.reserved = 1;
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, VMACCEL_KSM_SET_GROUP, &g));
	EXPECT_ERRNO(EFAULT, ioctl(self->fd, VMACCEL_KSM_SET_GROUP, NULL));
	g.reserved = 0;
	g.group = VMACCEL_KSM_GROUP_AUTO;	/* the kernel's groups */
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, VMACCEL_KSM_SET_GROUP, &g));
	g.group = 1;
	g.reserved = 1;
	EXPECT_ERRNO(EFAULT, ioctl(self->fd, VMACCEL_KSM_GET_STATS, (void *)8));
	EXPECT_ERRNO(ENOTTY, ioctl(self->fd, VMACCEL_KSM_CREATE, &g));
	EXPECT_ERRNO(ENOTTY, ioctl(self->fd, _IO(VMACCEL_IOCTL_TYPE, 0x40)));
	ASSERT_EQ(0, ioctl(self->fd, VMACCEL_KSM_GET_GROUP, &g));
	EXPECT_EQ(0, g.group);	/* nothing changed */
	r.offset = 1;
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, VMACCEL_KSM_UNMERGE_RANGE, &r));
	r.offset = 0;
	r.length = 100;
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, VMACCEL_KSM_UNMERGE_RANGE, &r));
	r.length = 0;
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, VMACCEL_KSM_MERGE_RANGE, &r));
	r.offset = ~0ULL & ~(KSM_PAGE - 1);
	r.length = 2 * KSM_PAGE;
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, VMACCEL_KSM_MERGE_RANGE, &r));
	r.offset = 0;
	r.length = KSM_PAGE;
	r.flags = 1;
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, VMACCEL_KSM_MERGE_RANGE, &r));
	r.flags = 0;
	r.pad = 1;
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, VMACCEL_KSM_MERGE_RANGE, &r));
	s.passes = 0;
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, VMACCEL_KSM_SCAN, &s));
	s.passes = VMACCEL_KSM_SCAN_MAX_PASSES + 1;
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, VMACCEL_KSM_SCAN, &s));
	s.passes = 1;
	s.flags = 2;
	EXPECT_ERRNO(EINVAL, ioctl(self->dev, VMACCEL_KSM_SCAN, &s));
	s.flags = 0;
	s.reserved[0] = 1;
	EXPECT_ERRNO(EINVAL, ioctl(self->dev, VMACCEL_KSM_SCAN, &s));
	/* Changing a file needs it open for writing. */
	{
		char path[64];

		snprintf(path, sizeof(path), "/proc/self/fd/%d", self->fd);
		ro = open(path, O_RDONLY | O_CLOEXEC);
	}
	ASSERT_LE(0, ro);
	g.reserved = 0;
	EXPECT_ERRNO(EBADF, ioctl(ro, VMACCEL_KSM_SET_GROUP, &g));
	r.pad = 0;
	EXPECT_ERRNO(EBADF, ioctl(ro, VMACCEL_KSM_UNMERGE_RANGE, &r));
	/* No per-file merge counts for a reader (ksm_trust_test). */
	EXPECT_ERRNO(EBADF, ioctl(ro, VMACCEL_KSM_GET_STATS, &st));
	EXPECT_EQ(0, ioctl(ro, VMACCEL_KSM_GET_GROUP, &g));
	/* A read-only shared mapping is fine; a writable one is not. */
	EXPECT_NE(MAP_FAILED, mmap(NULL, KSM_PAGE, PROT_READ, MAP_SHARED, ro, 0));
	EXPECT_EQ(MAP_FAILED, mmap(NULL, KSM_PAGE, PROT_READ | PROT_WRITE,
				   MAP_SHARED, ro, 0));
	close(ro);
}

TEST_F(bad, fallocate_and_mmap)
{
	EXPECT_ERRNO(EOPNOTSUPP, fallocate(self->fd, FALLOC_FL_ZERO_RANGE, 0,
					   KSM_PAGE));
	EXPECT_ERRNO(EOPNOTSUPP, fallocate(self->fd, FALLOC_FL_COLLAPSE_RANGE,
					   0, KSM_PAGE));
	EXPECT_ERRNO(EOPNOTSUPP, fallocate(self->fd, FALLOC_FL_INSERT_RANGE,
					   0, KSM_PAGE));
	/* The VFS wants KEEP_SIZE with PUNCH_HOLE. */
	EXPECT_ERRNO(EOPNOTSUPP, fallocate(self->fd, FALLOC_FL_PUNCH_HOLE, 0,
					   KSM_PAGE));
	EXPECT_ERRNO(EINVAL, fallocate(self->fd, FALLOC_FL_PUNCH_HOLE |
				       FALLOC_FL_KEEP_SIZE, -1, KSM_PAGE));
	EXPECT_ERRNO(EINVAL, fallocate(self->fd, 0, 0, 0));
	EXPECT_ERRNO(EFBIG, fallocate(self->fd, 0, 0x7ffffffffffff000LL,
				      0x1000));
	EXPECT_EQ(MAP_FAILED, mmap(NULL, KSM_PAGE, PROT_READ, MAP_PRIVATE,
				   self->fd, 0));
	EXPECT_ERRNO(EINVAL, ftruncate(self->fd, -1));
}

TEST_F(bad, truncate_below_mapping)
{
	char *p = ksm_map(self->fd, 16 * KSM_PAGE);
	int status, i;
	pid_t pid;

	ASSERT_NE(NULL, p);
	memset(p, 0x5a, 16 * KSM_PAGE);
	ASSERT_EQ(0, ftruncate(self->fd, 0));
	for (i = 0; i < 2; i++) {
		pid = fork();
		ASSERT_LE(0, pid);
		if (!pid) {
			if (i)
				p[KSM_PAGE * 15] = 1;
			_exit(__atomic_load_n(&p[0], __ATOMIC_RELAXED));
		}
		ASSERT_EQ(pid, waitpid(pid, &status, 0));
		EXPECT_TRUE(WIFSIGNALED(status));
		EXPECT_EQ(SIGBUS, WTERMSIG(status));
	}
	ASSERT_EQ(0, ftruncate(self->fd, 16 * KSM_PAGE));
	EXPECT_EQ(0, p[5 * KSM_PAGE]);	/* what came back is zero */
	munmap(p, 16 * KSM_PAGE);
}

TEST_F(bad, sysfs_ranges)
{
	static const struct { const char *name, *val; } bad[] = {
		{ "run", "3" }, { "run", "-1" }, { "run", "x" },
		{ "pages_to_scan", "0" }, { "pages_to_scan", "1000001" },
		{ "pages_to_scan", "99999999999999999999" },
		{ "sleep_millisecs", "3600001" }, { "sleep_millisecs", "1ms" },
		{ "max_page_sharing", "1" }, { "max_page_sharing", "1048577" },
		{ "use_zero_pages", "2" }, { "merge_across_groups", "2" },
	};
	static const char *const ro[] = {
		"pages_shared", "pages_sharing", "pages_unshared",
		"pages_volatile", "full_scans", "pages_scanned",
		"general_profit", "zero_pages_sharing", "cow_breaks",
		"scanner_pid",
	};
	long before[5];
	unsigned int i;

	before[0] = ksm_sys_get("run");
	before[1] = ksm_sys_get("pages_to_scan");
	before[2] = ksm_sys_get("sleep_millisecs");
	before[3] = ksm_sys_get("max_page_sharing");
	before[4] = ksm_sys_get("use_zero_pages");
	for (i = 0; i < ARRAY_SIZE(bad); i++)
		EXPECT_EQ(-EINVAL, ksm_sys_set(bad[i].name, bad[i].val));
	for (i = 0; i < ARRAY_SIZE(ro); i++) {
		EXPECT_NE(0, ksm_sys_set(ro[i], "0"));
		EXPECT_LE(0, ksm_sys_get(ro[i]) + (i == 6 ? 1L << 40 : 0));
	}
	EXPECT_EQ(before[0], ksm_sys_get("run"));
	EXPECT_EQ(before[1], ksm_sys_get("pages_to_scan"));
	EXPECT_EQ(before[2], ksm_sys_get("sleep_millisecs"));
	EXPECT_EQ(before[3], ksm_sys_get("max_page_sharing"));
	EXPECT_EQ(before[4], ksm_sys_get("use_zero_pages"));
	/* Limits are accepted. */
	EXPECT_EQ(0, ksm_sys_set("pages_to_scan", "1000000"));
	EXPECT_EQ(0, ksm_sys_set("pages_to_scan", "1"));
	EXPECT_EQ(0, ksm_sys_set("sleep_millisecs", "0"));
	EXPECT_EQ(0, ksm_sys_set("max_page_sharing", "2"));
	ksm_sys_set("pages_to_scan", "100");
	ksm_sys_set("sleep_millisecs", "20");
}

/* The counters are also under stats/, as in every module of the suite. */
TEST_F(bad, counters_also_under_stats)
{
	static const char * const names[] = {
		"pages_shared", "pages_sharing", "pages_unshared",
		"pages_volatile", "full_scans", "pages_scanned",
		"general_profit", "zero_pages_sharing", "cow_breaks",
		"pages_pinned", "pages_migrated",
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(names); i++) {
		const char *n = names[i];

		ASSERT_EQ(0, vmaccel_stats_alias(KSM_SYSFS, n))
			TH_LOG("%sstats/%s", KSM_SYSFS, n);
	}
}

/*
 * Every numeric file as the knob helper declares it: knobs 0644, counters
 * 0444 (also under stats/), one decimal number and a newline each.
 */
TEST_F(bad, numbers_modes_and_format)
{
	static const char * const knobs[] = {
		"run", "pages_to_scan", "sleep_millisecs", "max_page_sharing",
		"use_zero_pages", "merge_across_groups",
		NULL,
	};
	static const char * const counters[] = {
		"pages_shared", "pages_sharing", "pages_unshared",
		"pages_volatile", "full_scans", "pages_scanned",
		"general_profit", "zero_pages_sharing", "cow_breaks",
		"pages_pinned", "stats/pages_shared", "stats/pages_sharing",
		"stats/pages_unshared", "stats/pages_volatile",
		"stats/full_scans", "stats/pages_scanned",
		"stats/general_profit", "stats/zero_pages_sharing",
		"stats/cow_breaks", "stats/pages_pinned",
		"pages_migrated", "stats/pages_migrated",
		"scanner_pid",
		NULL,
	};
	static const char * const sign[] = {
		"general_profit", "stats/general_profit",
		NULL,
	};
	const char *bad = NULL;
	int r;

	r = vmaccel_sysfs_numbers(KSM_SYSFS, knobs, counters, sign, &bad);
	ASSERT_EQ(0, r) TH_LOG("%s%s: %s", KSM_SYSFS, bad, strerror(-r));
}

TEST_F(bad, mount_options)
{
	char dir[] = "/tmp/vmaccelfs-bad.XXXXXX", path[128];
	int fd;

	ASSERT_EQ(0, ksm_private_mounts());
	ASSERT_NE(NULL, mkdtemp(dir));
	EXPECT_ERRNO(EINVAL, mount("none", dir, "vmaccelfs", 0, "size=12q"));
	EXPECT_ERRNO(EINVAL, mount("none", dir, "vmaccelfs", 0, "group=-1"));
	/* Groups from VMACCEL_KSM_GROUP_AUTO up are the kernel's. */
	EXPECT_ERRNO(EINVAL, mount("none", dir, "vmaccelfs", 0,
				   "group=2147483648"));
	EXPECT_ERRNO(EINVAL, mount("none", dir, "vmaccelfs", 0, "dirgroups=17"));
	EXPECT_ERRNO(EINVAL, mount("none", dir, "vmaccelfs", 0, "dirgroups=-1"));
	EXPECT_ERRNO(EINVAL, mount("none", dir, "vmaccelfs", 0, "bogus=1"));
	ASSERT_EQ(0, mount("none", dir, "vmaccelfs", 0, "size=1m"));
	snprintf(path, sizeof(path), "%s/f", dir);
	fd = open(path, O_RDWR | O_CREAT, 0600);
	ASSERT_LE(0, fd);
	/* Only files and directories. */
	snprintf(path, sizeof(path), "%s/fifo", dir);
	EXPECT_ERRNO(EPERM, mknod(path, S_IFIFO | 0600, 0));
	EXPECT_ERRNO(EBUSY, umount(dir));
	close(fd);
	EXPECT_EQ(0, umount(dir));
	rmdir(dir);
}

/* The tracepoints: system named after the module, events after its prefix. */
TEST(tracepoints_named_after_the_module)
{
	static const char * const ev[] = {
		"vk_merge", "vk_cow_break", "vk_pass",
	};
	unsigned int i;
	int r;

	r = vmaccel_tracepoint("vmaccel_ksm", ev[0]);
	if (r == -ENODEV)
		SKIP(return, "no tracefs");
	for (i = 0; i < ARRAY_SIZE(ev); i++) {
		const char *n = ev[i];

		ASSERT_EQ(0, vmaccel_tracepoint("vmaccel_ksm", n))
			TH_LOG("%s", n);
	}
	ASSERT_EQ(-ENOENT,
		  vmaccel_tracepoint("vmaccel_ksm", "vmaccel_ksm_merge"));
}

TEST_HARNESS_MAIN
