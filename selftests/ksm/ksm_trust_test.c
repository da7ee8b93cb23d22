// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmaccel_ksm selftest: the trust model is enforced by the kernel.
 *
 * - A second process holding a writable fd but not CAP_SYS_ADMIN (either
 *   root with CAP_SYS_ADMIN dropped by capset(), or an unprivileged uid)
 *   cannot move a file to another group, nor create a file in a group of
 *   its choice; a file it creates gets a group of its own.
 * - VMACCEL_KSM_SCAN (on a file and on /dev/vmaccel-ksm) and the host-wide
 *   unmerge (run=2) and other knob writes fail with EPERM without
 *   CAP_SYS_ADMIN, and change nothing.
 * - VMACCEL_KSM_GET_STATS on a read-only fd gives no per-file merge counts.
 * - dirgroups=: two "domains" (directories at the group depth, the
 *   libvirt layout libvirt/qemu/<id>-<name>/ included) with identical pages
 *   share nothing while the duplicates inside each merge; the same layout
 *   without dirgroups= merges across them (the control); renames and links
 *   cannot carry a file into another domain; a group number is not reused
 *   while a file of the group is open.
 * - mount -o remount keeps the options it is not given.
 *
 * Counts are exact: run=0 and only VMACCEL_KSM_SCAN merges, and the test
 * expects to be the only vmaccelfs user (as the other ksm selftests).
 */
#define _GNU_SOURCE
#include <grp.h>
#include <limits.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <linux/capability.h>

#include "ksm_util.h"

/* How the child loses CAP_SYS_ADMIN. */
enum { DROP_CAP, DROP_UID };

#define NRES	11
#define NO_RES	LONG_MIN

static int drop_cap_sys_admin(void)
{
	struct __user_cap_header_struct h = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct d[2];

	if (syscall(SYS_capget, &h, d))
		return -1;
	d[CAP_TO_INDEX(CAP_SYS_ADMIN)].effective &= ~CAP_TO_MASK(CAP_SYS_ADMIN);
	d[CAP_TO_INDEX(CAP_SYS_ADMIN)].permitted &= ~CAP_TO_MASK(CAP_SYS_ADMIN);
	d[CAP_TO_INDEX(CAP_SYS_ADMIN)].inheritable &= ~CAP_TO_MASK(CAP_SYS_ADMIN);
	return syscall(SYS_capset, &h, d);
}

static int drop(int how)
{
	if (how == DROP_CAP)
		return drop_cap_sys_admin();
	if (setgroups(0, NULL) || setresgid(65534, 65534, 65534))
		return -1;
	return setresuid(65534, 65534, 65534);	/* clears every capability */
}

/* errno of a call that returned @r (0 when it succeeded). */
static long res(long r)
{
	return r < 0 ? errno : 0;
}

struct fds {
	int dev, fd, fd2;
};

/*
 * Run @fn in a child that dropped CAP_SYS_ADMIN (@how) and return its
 * NRES results in @v; 0, or -1 when the child could not run.
 */
static int in_child(int how, void (*fn)(const struct fds *f, long *v),
		    const struct fds *f, long *v)
{
	long out[NRES];
	int p[2], st, i;
	ssize_t n;
	pid_t pid;

	if (pipe(p))
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (!pid) {
		close(p[0]);
		for (i = 0; i < NRES; i++)
			out[i] = NO_RES;
		if (drop(how))
			out[0] = -1000 - errno;
		else
			fn(f, out);
		n = write(p[1], out, sizeof(out));
		_exit(n == sizeof(out) ? 0 : 1);
	}
	close(p[1]);
	n = read(p[0], v, sizeof(out));
	close(p[0]);
	if (waitpid(pid, &st, 0) != pid)
		return -1;
	return n == sizeof(out) && WIFEXITED(st) && !WEXITSTATUS(st) ? 0 : -1;
}

static long get_group(int fd)
{
	struct vmaccel_ksm_group g = { 0 };

	if (ioctl(fd, VMACCEL_KSM_GET_GROUP, &g))
		return -1;
	return g.group;
}

static int set_group(int fd, __u32 group)
{
	struct vmaccel_ksm_group g = { .group = group };

	return ioctl(fd, VMACCEL_KSM_SET_GROUP, &g);
}

/* @n pages at @fd: page i holds content (@seed, i % @kinds). */
static int fill_file(int fd, unsigned long n, unsigned long seed,
		     unsigned long kinds)
{
	static char page[KSM_PAGE];
	unsigned long i;

	for (i = 0; i < n; i++) {
		ksm_fill(page, seed, i % kinds);
		if (pwrite(fd, page, KSM_PAGE, i * KSM_PAGE) != (ssize_t)KSM_PAGE)
			return -1;
	}
	return 0;
}

/* --- groups: only CAP_SYS_ADMIN chooses them ---------------------------- */

FIXTURE(grp) {
	bool ready;
	char dir[64];
	struct fds f;
};

FIXTURE_VARIANT(grp) {
	int how;
};

FIXTURE_VARIANT_ADD(grp, cap_dropped) { .how = DROP_CAP };
FIXTURE_VARIANT_ADD(grp, unprivileged_uid) { .how = DROP_UID };

FIXTURE_SETUP(grp)
{
	char path[128];

	self->ready = false;
	if (!ksm_present())
		SKIP(return, "vmaccel_ksm not loaded");
	ksm_quiet();
	ASSERT_EQ(0, ksm_private_mounts());
	strcpy(self->dir, "/tmp/vmaccelfs-trust.XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->dir));
	ASSERT_EQ(0, mount("none", self->dir, "vmaccelfs", 0, "group=3,mode=0777"));
	self->f.dev = open(KSM_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->f.dev);
	self->f.fd = ksm_create(4 * KSM_PAGE, 1);
	ASSERT_LE(0, self->f.fd);
	snprintf(path, sizeof(path), "%s/ram", self->dir);
	self->f.fd2 = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
	ASSERT_LE(0, self->f.fd2);
	self->ready = true;
}

FIXTURE_TEARDOWN(grp)
{
	if (!self->ready)
		return;
	close(self->f.fd);
	close(self->f.fd2);
	close(self->f.dev);
	umount(self->dir);
	rmdir(self->dir);
	ksm_quiet();
}

static void grp_child(const struct fds *f, long *v)
{
	struct vmaccel_ksm_create c = {
		.size = KSM_PAGE, .group = 1,
		.flags = VMACCEL_KSM_CREATE_CLOEXEC | VMACCEL_KSM_CREATE_GROUP,
	};
	int fd;

	v[0] = res(set_group(f->fd, 2));
	v[1] = get_group(f->fd);
	v[2] = res(set_group(f->fd2, 1));
	v[3] = get_group(f->fd2);
	v[4] = res(ioctl(f->dev, VMACCEL_KSM_CREATE, &c));
	c.flags = VMACCEL_KSM_CREATE_CLOEXEC;
	c.group = 0;
	fd = ioctl(f->dev, VMACCEL_KSM_CREATE, &c);
	v[5] = res(fd);
	v[6] = fd >= 0 ? get_group(fd) : -1;
}

TEST_F(grp, only_cap_sys_admin_moves_a_file)
{
	long v[NRES];

	if (!self->ready)
		return;
	ASSERT_EQ(1, get_group(self->f.fd));
	ASSERT_EQ(3, get_group(self->f.fd2));
	ASSERT_EQ(0, in_child(variant->how, grp_child, &self->f, v));
	ASSERT_LT(-1000, v[0]) TH_LOG("the child could not drop CAP_SYS_ADMIN");
	EXPECT_EQ(EPERM, v[0]);	/* SET_GROUP on a writable fd */
	EXPECT_EQ(1, v[1]);	/* ... left the group alone */
	EXPECT_EQ(EPERM, v[2]);	/* the same for a file on a mount */
	EXPECT_EQ(3, v[3]);
	EXPECT_EQ(EPERM, v[4]);	/* CREATE into a group of its choice */
	EXPECT_EQ(0, v[5]);	/* CREATE without a group works ... */
	EXPECT_LE((long)VMACCEL_KSM_GROUP_AUTO, v[6]);	/* ... in its own */
	EXPECT_EQ(1, get_group(self->f.fd));
	EXPECT_EQ(3, get_group(self->f.fd2));
	/* The admin may (the positive control), but not into the kernel's range. */
	EXPECT_EQ(0, set_group(self->f.fd, 2));
	EXPECT_EQ(2, get_group(self->f.fd));
	EXPECT_ERRNO(EINVAL, set_group(self->f.fd, VMACCEL_KSM_GROUP_AUTO));
	EXPECT_ERRNO(EINVAL, ksm_create(KSM_PAGE, VMACCEL_KSM_GROUP_AUTO + 5));
}

/* Files created without a group share with nobody, not even each other. */
TEST(create_without_group_is_private)
{
	struct vmaccel_ksm_create c = { .size = 8 * KSM_PAGE };
	struct vmaccel_ksm_file_stats st;
	int dev, fd[2], i;

	if (!ksm_present())
		SKIP(return, "vmaccel_ksm not loaded");
	ksm_quiet();
	dev = open(KSM_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, dev);
	for (i = 0; i < 2; i++) {
		fd[i] = ioctl(dev, VMACCEL_KSM_CREATE, &c);
		ASSERT_LE(0, fd[i]);
		ASSERT_EQ(0, fill_file(fd[i], 8, 21, 2));
	}
	EXPECT_NE(get_group(fd[0]), get_group(fd[1]));
	ASSERT_LE(0, ksm_scan(dev, 2));
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(0, ksm_stats(fd[i], &st));
		EXPECT_EQ(8, st.merged);
		EXPECT_EQ(2, st.shared);
	}
	/* Two contents per file, one merged page each per file. */
	EXPECT_EQ(4, ksm_sys_get("pages_shared"));
	EXPECT_EQ(12, ksm_sys_get("pages_sharing"));
	close(fd[0]);
	close(fd[1]);
	close(dev);
	ksm_quiet();
}

/* --- SCAN and the host-wide knobs need CAP_SYS_ADMIN --------------------- */

static void scan_child(const struct fds *f, long *v)
{
	struct vmaccel_ksm_scan s = { .passes = 1 };

	v[0] = res(ioctl(f->fd, VMACCEL_KSM_SCAN, &s));
	v[1] = res(ioctl(f->dev, VMACCEL_KSM_SCAN, &s));
	v[2] = -ksm_sys_set("run", "2");
	v[3] = -ksm_sys_set("run", "1");
	v[4] = -ksm_sys_set("merge_across_groups", "1");
	v[5] = -ksm_sys_set("pages_to_scan", "5");
	/* A bad value is refused as such before the capability check. */
	v[6] = -ksm_sys_set("run", "3");
	v[7] = -ksm_sys_set("use_zero_pages", "2");
	/* Every other knob needs the capability too. */
	v[8] = -ksm_sys_set("sleep_millisecs", "123");
	v[9] = -ksm_sys_set("max_page_sharing", "300");
	v[10] = -ksm_sys_set("use_zero_pages", "0");
}

TEST(scan_and_unmerge_need_cap_sys_admin)
{
	struct vmaccel_ksm_file_stats st;
	struct fds f;
	long v[NRES], sharing, sleep_ms, max_sharing, zero_pages;
	int how;

	if (!ksm_present())
		SKIP(return, "vmaccel_ksm not loaded");
	ksm_quiet();
	f.dev = open(KSM_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, f.dev);
	f.fd = ksm_create(8 * KSM_PAGE, 4);
	ASSERT_LE(0, f.fd);
	f.fd2 = -1;
	ASSERT_EQ(0, fill_file(f.fd, 8, 5, 1));
	ASSERT_EQ(0, ksm_sys_set("pages_to_scan", "100"));
	ASSERT_EQ(0, ksm_sys_set("use_zero_pages", "1"));
	sleep_ms = ksm_sys_get("sleep_millisecs");
	max_sharing = ksm_sys_get("max_page_sharing");
	zero_pages = ksm_sys_get("use_zero_pages");
	ASSERT_NE(123, sleep_ms);
	ASSERT_NE(300, max_sharing);
	ASSERT_EQ(1, zero_pages);
	for (how = DROP_CAP; how <= DROP_UID; how++) {
		ASSERT_EQ(0, in_child(how, scan_child, &f, v));
		ASSERT_LT(-1000, v[0]);
		EXPECT_EQ(EPERM, v[0]);	/* SCAN on a file */
		EXPECT_EQ(EPERM, v[1]);	/* SCAN on /dev/vmaccel-ksm */
		/* Root without CAP_SYS_ADMIN: EPERM; another uid: EACCES. */
		EXPECT_EQ(how == DROP_CAP ? EPERM : EACCES, v[2]);
		EXPECT_EQ(how == DROP_CAP ? EPERM : EACCES, v[3]);
		EXPECT_EQ(how == DROP_CAP ? EPERM : EACCES, v[4]);
		EXPECT_EQ(how == DROP_CAP ? EPERM : EACCES, v[5]);
		EXPECT_EQ(how == DROP_CAP ? EINVAL : EACCES, v[6]);
		EXPECT_EQ(how == DROP_CAP ? EINVAL : EACCES, v[7]);
		EXPECT_EQ(how == DROP_CAP ? EPERM : EACCES, v[8]);
		EXPECT_EQ(how == DROP_CAP ? EPERM : EACCES, v[9]);
		EXPECT_EQ(how == DROP_CAP ? EPERM : EACCES, v[10]);
		EXPECT_EQ(sleep_ms, ksm_sys_get("sleep_millisecs"));
		EXPECT_EQ(max_sharing, ksm_sys_get("max_page_sharing"));
		EXPECT_EQ(zero_pages, ksm_sys_get("use_zero_pages"));
		/* Nothing merged, nothing changed. */
		ASSERT_EQ(0, ksm_stats(f.fd, &st));
		EXPECT_EQ(0, st.merged);
		EXPECT_EQ(0, ksm_sys_get("run"));
		EXPECT_EQ(0, ksm_sys_get("merge_across_groups"));
		EXPECT_EQ(100, ksm_sys_get("pages_to_scan"));
	}
	/* The admin scans; then an unprivileged run=2 must not unmerge. */
	ASSERT_LT(0, ksm_scan(f.dev, 1));
	sharing = ksm_sys_get("pages_sharing");
	EXPECT_EQ(7, sharing);
	ASSERT_EQ(0, in_child(DROP_CAP, scan_child, &f, v));
	EXPECT_EQ(EPERM, v[2]);
	ASSERT_EQ(0, ksm_stats(f.fd, &st));
	EXPECT_EQ(8, st.merged);
	EXPECT_EQ(sharing, ksm_sys_get("pages_sharing"));
	close(f.fd);
	close(f.dev);
	ksm_quiet();
}

/* --- GET_STATS: per-file merge counts only for a writer ------------------ */

TEST(stats_need_a_writer)
{
	char dir[] = "/tmp/vmaccelfs-trust.XXXXXX", path[128];
	struct vmaccel_ksm_file_stats st;
	int rw, ro, dev;

	if (!ksm_present())
		SKIP(return, "vmaccel_ksm not loaded");
	ksm_quiet();
	ASSERT_EQ(0, ksm_private_mounts());
	ASSERT_NE(NULL, mkdtemp(dir));
	ASSERT_EQ(0, mount("none", dir, "vmaccelfs", 0, "group=6"));
	snprintf(path, sizeof(path), "%s/ram", dir);
	rw = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	ASSERT_LE(0, rw);
	ASSERT_EQ(0, fill_file(rw, 8, 9, 2));
	dev = open(KSM_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, dev);
	ASSERT_LT(0, ksm_scan(dev, 1));
	/* The writer sees its merged pages (the control). */
	ASSERT_EQ(0, ksm_stats(rw, &st));
	EXPECT_EQ(8, st.merged);
	ro = open(path, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, ro);
	memset(&st, 0xa5, sizeof(st));
	EXPECT_ERRNO(EBADF, ksm_stats(ro, &st));
	EXPECT_NE(8, st.merged);	/* nothing was copied out */
	/* The host-wide counters stay readable, as upstream's. */
	EXPECT_EQ(6, ksm_sys_get("pages_sharing"));
	close(ro);
	close(rw);
	close(dev);
	ASSERT_EQ(0, umount(dir));
	rmdir(dir);
	ksm_quiet();
}

/* --- dirgroups=: one group per domain directory -------------------------- */

FIXTURE(dg) {
	bool ready;
	char dir[64];
	int dev;
};

FIXTURE_VARIANT(dg) {
	const char *opts;
	const char *dom[2];	/* the two domains' directories */
	const char *above;	/* a directory above the group level */
	bool isolated;		/* dirgroups= in @opts */
};

/* libvirt: <memory_backing_dir>/libvirt/qemu/<id>-<name>/pc.ram */
FIXTURE_VARIANT_ADD(dg, libvirt_layout) {
	.opts = "dirgroups=3,group=5",
	.dom = { "libvirt/qemu/1-vm-a", "libvirt/qemu/2-vm-b" },
	.above = "libvirt/qemu",
	.isolated = true,
};

FIXTURE_VARIANT_ADD(dg, top_level) {
	.opts = "dirgroups=1,group=5",
	.dom = { "vm-a", "vm-b" },
	.above = "",
	.isolated = true,
};

/* The control: without dirgroups= the same files share. */
FIXTURE_VARIANT_ADD(dg, no_dirgroups) {
	.opts = "group=5",
	.dom = { "libvirt/qemu/1-vm-a", "libvirt/qemu/2-vm-b" },
	.above = "libvirt/qemu",
	.isolated = false,
};

FIXTURE_SETUP(dg)
{
	self->ready = false;
	if (!ksm_present())
		SKIP(return, "vmaccel_ksm not loaded");
	ksm_quiet();
	ASSERT_EQ(0, ksm_private_mounts());
	strcpy(self->dir, "/tmp/vmaccelfs-dg.XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->dir));
	ASSERT_EQ(0, mount("none", self->dir, "vmaccelfs", 0, variant->opts));
	self->dev = open(KSM_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->dev);
	self->ready = true;
}

FIXTURE_TEARDOWN(dg)
{
	if (!self->ready)
		return;
	close(self->dev);
	/* The files go with the mount (no program is run: see run-tests). */
	umount2(self->dir, MNT_DETACH);
	rmdir(self->dir);
	ksm_quiet();
}

static int mkdirs(const char *top, const char *rel)
{
	char path[256], *p;

	snprintf(path, sizeof(path), "%s/%s", top, rel);
	for (p = path + strlen(top) + 1; ; p++) {
		if (*p == '/' || !*p) {
			char c = *p;

			*p = '\0';
			if (mkdir(path, 0755) && errno != EEXIST)
				return -1;
			*p = c;
			if (!c)
				return 0;
		}
	}
}

#define DG_PAGES 16

TEST_F(dg, domains_do_not_share)
{
	char path[2][256], sub[256], other[256], shallow[256];
	struct vmaccel_ksm_file_stats st;
	long group[2];
	int fd[2], fsub, fsh, i;

	if (!self->ready)
		return;
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(0, mkdirs(self->dir, variant->dom[i]));
		snprintf(path[i], sizeof(path[i]), "%s/%s/pc.ram", self->dir,
			 variant->dom[i]);
		fd[i] = open(path[i], O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		ASSERT_LE(0, fd[i]);
		/* The same 4 contents, 4 copies each, in both domains. */
		ASSERT_EQ(0, fill_file(fd[i], DG_PAGES, 33, 4));
		group[i] = get_group(fd[i]);
	}
	/* A file in a subdirectory of a domain is in the domain's group. */
	snprintf(sub, sizeof(sub), "%s/%s/sub", self->dir, variant->dom[0]);
	ASSERT_EQ(0, mkdir(sub, 0755));
	strcat(sub, "/f");
	fsub = open(sub, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	ASSERT_LE(0, fsub);
	EXPECT_EQ(group[0], get_group(fsub));
	/* A file above the group level is in the mount's group. */
	snprintf(shallow, sizeof(shallow), "%s/%s/f", self->dir, variant->above);
	fsh = open(shallow, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	ASSERT_LE(0, fsh);
	EXPECT_EQ(5, get_group(fsh));
	if (variant->isolated) {
		EXPECT_LE((long)VMACCEL_KSM_GROUP_AUTO, group[0]);
		EXPECT_LE((long)VMACCEL_KSM_GROUP_AUTO, group[1]);
		EXPECT_NE(group[0], group[1]);
	} else {
		EXPECT_EQ(5, group[0]);
		EXPECT_EQ(5, group[1]);
	}

	ASSERT_LE(0, ksm_scan(self->dev, 2));
	/* Inside each domain the duplicates merge: 4 merged pages each. */
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(0, ksm_stats(fd[i], &st));
		EXPECT_EQ(DG_PAGES, st.merged);
		EXPECT_EQ(4, st.shared);
	}
	/*
	 * Between them nothing: 4 merged pages per domain.  Shared across
	 * (the control), both files use the same 4.
	 */
	if (variant->isolated) {
		EXPECT_EQ(8, ksm_sys_get("pages_shared"));
		EXPECT_EQ(2 * DG_PAGES - 8, ksm_sys_get("pages_sharing"));
	} else {
		EXPECT_EQ(4, ksm_sys_get("pages_shared"));
		EXPECT_EQ(2 * DG_PAGES - 4, ksm_sys_get("pages_sharing"));
	}

	/* Neither rename nor link carries a file into the other domain. */
	snprintf(other, sizeof(other), "%s/%s/moved", self->dir, variant->dom[1]);
	if (variant->isolated) {
		EXPECT_ERRNO(EXDEV, rename(path[0], other));
		EXPECT_ERRNO(EXDEV, link(path[0], other));
		EXPECT_ERRNO(EXDEV, rename(sub, other));
		EXPECT_ERRNO(EXDEV, rename(path[0], shallow));
	} else {
		EXPECT_EQ(0, link(path[0], other));
		EXPECT_EQ(0, unlink(other));
	}
	/* Inside a domain they work. */
	snprintf(other, sizeof(other), "%s/%s/renamed", self->dir,
		 variant->dom[0]);
	EXPECT_EQ(0, rename(path[0], other));
	EXPECT_EQ(0, rename(other, path[0]));
	EXPECT_EQ(0, link(path[0], other));
	EXPECT_EQ(0, unlink(other));
	EXPECT_EQ(group[0], get_group(fd[0]));

	/*
	 * A domain directory removed and made again gets a new group while
	 * a file of the old one is still open.
	 */
	ASSERT_EQ(0, unlink(sub));
	snprintf(other, sizeof(other), "%s/%s/sub", self->dir, variant->dom[0]);
	ASSERT_EQ(0, rmdir(other));
	ASSERT_EQ(0, unlink(path[0]));
	snprintf(other, sizeof(other), "%s/%s", self->dir, variant->dom[0]);
	ASSERT_EQ(0, rmdir(other));
	ASSERT_EQ(0, mkdir(other, 0755));
	close(fsub);
	i = open(path[0], O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	ASSERT_LE(0, i);
	if (variant->isolated) {
		EXPECT_NE(group[0], get_group(i));
		EXPECT_NE(group[1], get_group(i));
	}
	EXPECT_EQ(group[0], get_group(fd[0]));
	close(i);
	close(fsh);
	close(fd[0]);
	close(fd[1]);
}

/* --- remount keeps what it is not told ---------------------------------- */

/* The superblock options of the mount at @dir in @buf; 0 or -1. */
static int super_opts(const char *dir, char *buf, size_t len)
{
	char line[1024], mnt[256];
	FILE *f = fopen("/proc/self/mountinfo", "r");
	int ret = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char *dash = strstr(line, " - vmaccelfs ");

		if (!dash || sscanf(line, "%*s %*s %*s %*s %255s", mnt) != 1 ||
		    strcmp(mnt, dir))
			continue;
		dash = strchr(dash + strlen(" - vmaccelfs "), ' ');
		if (!dash)
			break;
		snprintf(buf, len, "%s", dash + 1);
		buf[strcspn(buf, "\n")] = '\0';
		ret = 0;
	}
	fclose(f);
	return ret;
}

static long new_file_group(const char *dir)
{
	char path[128];
	long g;
	int fd;

	snprintf(path, sizeof(path), "%s/probe", dir);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	g = get_group(fd);
	close(fd);
	unlink(path);
	return g;
}

TEST(remount_keeps_options)
{
	char dir[] = "/tmp/vmaccelfs-rm.XXXXXX", opts[512], path[128];
	struct statfs sf;
	struct stat sb;
	int fd;

	if (!ksm_present())
		SKIP(return, "vmaccel_ksm not loaded");
	ASSERT_EQ(0, ksm_private_mounts());
	ASSERT_NE(NULL, mkdtemp(dir));
	ASSERT_EQ(0, mount("none", dir, "vmaccelfs", 0,
			   "size=1m,group=5,mode=0700"));
	ASSERT_EQ(0, statfs(dir, &sf));
	EXPECT_EQ(256, sf.f_blocks);

	/* size= alone: group and mode stay. */
	ASSERT_EQ(0, mount("none", dir, "vmaccelfs", MS_REMOUNT, "size=2m"));
	ASSERT_EQ(0, statfs(dir, &sf));
	EXPECT_EQ(512, sf.f_blocks);
	EXPECT_EQ(5, new_file_group(dir));
	ASSERT_EQ(0, super_opts(dir, opts, sizeof(opts)));
	TH_LOG("after remount,size=2m: %s", opts);
	EXPECT_NE(NULL, strstr(opts, "size=2048k"));
	EXPECT_NE(NULL, strstr(opts, "group=5,"));
	EXPECT_NE(NULL, strstr(opts, "mode=700"));
	ASSERT_EQ(0, stat(dir, &sb));
	EXPECT_EQ(0700, sb.st_mode & 07777);

	/* group= alone: the size stays; new files take the new group. */
	ASSERT_EQ(0, mount("none", dir, "vmaccelfs", MS_REMOUNT, "group=6"));
	ASSERT_EQ(0, statfs(dir, &sf));
	EXPECT_EQ(512, sf.f_blocks);
	EXPECT_EQ(6, new_file_group(dir));

	/* Nothing given: nothing changes. */
	ASSERT_EQ(0, mount("none", dir, "vmaccelfs", MS_REMOUNT, ""));
	ASSERT_EQ(0, statfs(dir, &sf));
	EXPECT_EQ(512, sf.f_blocks);
	EXPECT_EQ(6, new_file_group(dir));
	ASSERT_EQ(0, super_opts(dir, opts, sizeof(opts)));
	EXPECT_NE(NULL, strstr(opts, "mode=700"));

	/* The kernel's group range is not the admin's. */
	EXPECT_ERRNO(EINVAL, mount("none", dir, "vmaccelfs", MS_REMOUNT,
				   "group=2147483648"));
	/* size= below what the files hold is refused. */
	snprintf(path, sizeof(path), "%s/ram", dir);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, fill_file(fd, 4, 1, 4));
	EXPECT_ERRNO(EINVAL, mount("none", dir, "vmaccelfs", MS_REMOUNT,
				   "size=8k"));
	ASSERT_EQ(0, statfs(dir, &sf));
	EXPECT_EQ(512, sf.f_blocks);
	EXPECT_EQ(6, new_file_group(dir));
	close(fd);
	unlink(path);
	EXPECT_EQ(0, umount(dir));

	/* dirgroups= stays, and is fixed at mount, as mode= is. */
	ASSERT_EQ(0, mount("none", dir, "vmaccelfs", 0, "dirgroups=2,group=4"));
	ASSERT_EQ(0, mount("none", dir, "vmaccelfs", MS_REMOUNT, "size=1m"));
	ASSERT_EQ(0, super_opts(dir, opts, sizeof(opts)));
	TH_LOG("after remount,size=1m: %s", opts);
	EXPECT_NE(NULL, strstr(opts, "dirgroups=2"));
	EXPECT_NE(NULL, strstr(opts, "group=4,"));
	EXPECT_ERRNO(EINVAL, mount("none", dir, "vmaccelfs", MS_REMOUNT,
				   "dirgroups=3"));
	EXPECT_ERRNO(EINVAL, mount("none", dir, "vmaccelfs", MS_REMOUNT,
				   "dirgroups=0"));
	EXPECT_ERRNO(EINVAL, mount("none", dir, "vmaccelfs", MS_REMOUNT,
				   "mode=0700"));
	EXPECT_EQ(0, mount("none", dir, "vmaccelfs", MS_REMOUNT,
			   "dirgroups=2,mode=0755"));
	ASSERT_EQ(0, super_opts(dir, opts, sizeof(opts)));
	EXPECT_NE(NULL, strstr(opts, "dirgroups=2"));
	EXPECT_EQ(0, umount(dir));
	rmdir(dir);
}

TEST_HARNESS_MAIN
