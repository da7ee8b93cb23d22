// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmaccel_balloon: registration lifecycle and accounting measured on the
 * guest-RAM file.
 */
#include "balloon_util.h"

#include <sys/mount.h>
#include <sys/stat.h>

FIXTURE(vm) {
	int dev;
	int mem;
	int efd;
};

FIXTURE_SETUP(vm)
{
	self->dev = balloon_open();
	if (self->dev < 0)
		SKIP(return, "%s: %s (module not loaded?)", BALLOON_DEV,
		     strerror(errno));
	balloon_defaults();
	self->mem = balloon_memfd(128 * MiB);
	ASSERT_LE(0, self->mem);
	self->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	ASSERT_LE(0, self->efd);
}

FIXTURE_TEARDOWN(vm)
{
	if (self->dev < 0)
		return;
	balloon_defaults();
	close(self->efd);
	close(self->mem);
	close(self->dev);
}

TEST_F(vm, register_then_close_unregisters)
{
	long before = balloon_knob("vms");
	struct vmaccel_balloon_target t;
	int vm;

	ASSERT_LE(0, before);
	vm = balloon_register(self->dev, self->mem, self->efd, 128 * MiB,
			      32 * MiB, 96 * MiB);
	ASSERT_LE(0, vm);
	EXPECT_EQ(before + 1, balloon_knob("vms"));
	/* O_CLOEXEC, as documented. */
	EXPECT_EQ(FD_CLOEXEC, fcntl(vm, F_GETFD) & FD_CLOEXEC);
	/* The first target is the ceiling, never changed yet. */
	ASSERT_EQ(0, balloon_target(vm, &t));
	EXPECT_EQ(96 * MiB, t.target_bytes);
	EXPECT_EQ(0ULL, t.seq);
	EXPECT_EQ(0ULL, t.changed_ns);
	close(vm);
	EXPECT_EQ(before, balloon_knob("vms"));
}

TEST_F(vm, many_vms_closed_in_any_order)
{
	long before = balloon_knob("vms");
	int vms[8], i;

	for (i = 0; i < 8; i++) {
		vms[i] = balloon_register(self->dev, self->mem, self->efd,
					  128 * MiB, 16 * MiB, 128 * MiB);
		ASSERT_LE(0, vms[i]);
	}
	EXPECT_EQ(before + 8, balloon_knob("vms"));
	for (i = 0; i < 8; i += 2)
		close(vms[i]);
	EXPECT_EQ(before + 4, balloon_knob("vms"));
	/* The device fd may go first: the VM fds stand alone. */
	close(self->dev);
	self->dev = balloon_open();
	ASSERT_LE(0, self->dev);
	for (i = 1; i < 8; i += 2)
		close(vms[i]);
	EXPECT_EQ(before, balloon_knob("vms"));
}

TEST_F(vm, account_follows_the_file)
{
	struct vmaccel_balloon_account a;
	int vm;

	vm = balloon_register(self->dev, self->mem, self->efd, 128 * MiB,
			      32 * MiB, 128 * MiB);
	ASSERT_LE(0, vm);
	ASSERT_EQ(0, balloon_account(vm, &a));
	EXPECT_EQ(0ULL, a.resident_bytes);
	EXPECT_EQ(128 * MiB, a.target_bytes);

	ASSERT_EQ(0, balloon_touch(self->mem, 0, 64 * MiB));
	ASSERT_EQ(0, balloon_account(vm, &a));
	EXPECT_EQ(64 * MiB, a.resident_bytes);
	EXPECT_EQ(64 * MiB, a.peak_resident_bytes);
	EXPECT_EQ(0ULL, a.released_bytes);

	/* A punched hole is memory given back, measured on the file. */
	ASSERT_EQ(0, balloon_punch(self->mem, 16 * MiB, 32 * MiB));
	ASSERT_EQ(0, balloon_account(vm, &a));
	EXPECT_EQ(32 * MiB, a.resident_bytes);
	EXPECT_EQ(64 * MiB, a.peak_resident_bytes);
	EXPECT_EQ(32 * MiB, a.released_bytes);

	/* Refaulting does not undo what was released. */
	ASSERT_EQ(0, balloon_touch(self->mem, 16 * MiB, 8 * MiB));
	ASSERT_EQ(0, balloon_account(vm, &a));
	EXPECT_EQ(40 * MiB, a.resident_bytes);
	EXPECT_EQ(32 * MiB, a.released_bytes);
	close(vm);
}

TEST_F(vm, stats_report_is_kept)
{
	struct vmaccel_balloon_stat st[3];
	struct vmaccel_balloon_stats s;
	struct vmaccel_balloon_account a;
	int vm;

	vm = balloon_register(self->dev, self->mem, self->efd, 128 * MiB,
			      32 * MiB, 128 * MiB);
	ASSERT_LE(0, vm);
	ASSERT_EQ(0, balloon_account(vm, &a));
	EXPECT_EQ(0ULL, a.stats_age_ns);
	EXPECT_EQ(0ULL, a.actual_bytes);

	memset(st, 0, sizeof(st));
	memset(&s, 0, sizeof(s));
	st[0].tag = TAG_MEMFREE;
	st[0].val = 10 * MiB;
	st[1].tag = TAG_MEMFREE;	/* the last value of a tag counts */
	st[1].val = 20 * MiB;
	st[2].tag = 9;			/* VIRTIO_BALLOON_S_HTLB_PGFAIL */
	s.nr = 3;
	s.actual_bytes = 120 * MiB;
	s.stats_ptr = (__u64)(uintptr_t)st;
	ASSERT_EQ(0, ioctl(vm, VMACCEL_BALLOON_REPORT_STATS, &s));
	balloon_sleep_ms(20);
	ASSERT_EQ(0, balloon_account(vm, &a));
	EXPECT_EQ(120 * MiB, a.actual_bytes);
	EXPECT_LE(20000000ULL, a.stats_age_ns);
	/* An empty report refreshes the age and keeps the values. */
	s.nr = 0;
	s.actual_bytes = 0;
	ASSERT_EQ(0, ioctl(vm, VMACCEL_BALLOON_REPORT_STATS, &s));
	ASSERT_EQ(0, balloon_account(vm, &a));
	EXPECT_GT(20000000ULL, a.stats_age_ns);
	EXPECT_EQ(120 * MiB, a.actual_bytes);
	close(vm);
}

TEST_F(vm, registration_holds_the_files)
{
	struct vmaccel_balloon_account a;
	int vm;

	ASSERT_EQ(0, balloon_touch(self->mem, 0, 8 * MiB));
	vm = balloon_register(self->dev, self->mem, self->efd, 128 * MiB,
			      32 * MiB, 128 * MiB);
	ASSERT_LE(0, vm);
	/* The VMM's own descriptors may go; the VM keeps its references. */
	close(self->mem);
	close(self->efd);
	ASSERT_EQ(0, balloon_account(vm, &a));
	EXPECT_EQ(8 * MiB, a.resident_bytes);
	close(vm);
	self->mem = balloon_memfd(4096);
	self->efd = eventfd(0, EFD_CLOEXEC);
	ASSERT_LE(0, self->mem);
	ASSERT_LE(0, self->efd);
}

/* The same on vmaccelfs (vmaccel_ksm), whose files are guest RAM too. */
TEST_F(vm, account_on_vmaccelfs)
{
	struct vmaccel_balloon_account a;
	char dir[] = "/tmp/balloon-vmaccelfs-XXXXXX", path[64];
	struct stat st;
	int fd, vm;

	ASSERT_NE(NULL, mkdtemp(dir));
	if (mount("none", dir, "vmaccelfs", 0, NULL)) {
		rmdir(dir);
		SKIP(return, "no vmaccelfs: %s (vmaccel_ksm not loaded?)",
		     strerror(errno));
	}
	snprintf(path, sizeof(path), "%s/ram", dir);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ftruncate(fd, 128 * MiB));
	vm = balloon_register(self->dev, fd, self->efd, 128 * MiB, 32 * MiB,
			      128 * MiB);
	ASSERT_LE(0, vm);
	ASSERT_EQ(0, balloon_touch(fd, 0, 64 * MiB));
	ASSERT_EQ(0, balloon_account(vm, &a));
	EXPECT_EQ(64 * MiB, a.resident_bytes);
	/* st_blocks says the same (du, and the e2e test, read it). */
	ASSERT_EQ(0, fstat(fd, &st));
	EXPECT_EQ(64 * MiB, (__u64)st.st_blocks * 512);
	ASSERT_EQ(0, balloon_punch(fd, 0, 32 * MiB));
	ASSERT_EQ(0, balloon_account(vm, &a));
	EXPECT_EQ(32 * MiB, a.resident_bytes);
	EXPECT_EQ(32 * MiB, a.released_bytes);
	close(vm);
	close(fd);
	EXPECT_EQ(0, umount(dir));
	rmdir(dir);
}

TEST_HARNESS_MAIN
