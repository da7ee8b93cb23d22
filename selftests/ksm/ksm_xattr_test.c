// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmaccel_ksm selftest: extended attributes on vmaccelfs (security.*,
 * trusted.*), so that an LSM can label each domain's files (sVirt).
 *
 * - set, get, list, replace and remove security.* and trusted.* on files
 *   and directories, with the XATTR_CREATE / XATTR_REPLACE semantics and
 *   ERANGE for short buffers; values stay across close and reopen.
 * - without CAP_SYS_ADMIN (capability dropped, or uid nobody) trusted.*
 *   cannot be set or removed (EPERM), is neither read nor listed;
 *   security.* is readable and, where the kernel forbids it on tmpfs
 *   (commoncap), cannot be set or removed either (EPERM).
 * - the per-inode bound: one attribute larger than the bound gets E2BIG,
 *   one that does not fit beside the others ENOSPC, and removing frees
 *   the room.
 * - user.* and unknown namespaces get EOPNOTSUPP.
 * - a create + setxattr + unlink loop (kmemleak in the debug tier checks
 *   that the attributes go with the inode).
 *
 * Root in the test VM, where no LSM enforces a label format: security.*
 * values are stored as given.
 */
#define _GNU_SOURCE
#include <grp.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <linux/capability.h>

#include "ksm_util.h"

/* The bound of ksm/xattr.c: header + full name + value, per inode. */
#define XATTR_BOUND	4096

FIXTURE(xa) {
	bool ready;
	char dir[64];
	char file[96];
	char sub[96];
};

FIXTURE_SETUP(xa)
{
	int fd;

	self->ready = false;
	if (!ksm_present())
		SKIP(return, "vmaccel_ksm not loaded");
	ASSERT_EQ(0, ksm_private_mounts());
	strcpy(self->dir, "/tmp/vmaccelfs-xattr.XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->dir));
	ASSERT_EQ(0, mount("none", self->dir, "vmaccelfs", 0,
			   "dirgroups=1,mode=0777"));
	snprintf(self->sub, sizeof(self->sub), "%s/dom", self->dir);
	ASSERT_EQ(0, mkdir(self->sub, 0777));
	snprintf(self->file, sizeof(self->file), "%s/dom/ram", self->dir);
	fd = open(self->file, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ftruncate(fd, KSM_PAGE));
	close(fd);
	self->ready = true;
}

FIXTURE_TEARDOWN(xa)
{
	if (!self->ready)
		return;
	umount2(self->dir, MNT_DETACH);
	rmdir(self->dir);
}

/* Whether the names listed for @path include @name. */
static bool listed(const char *path, const char *name)
{
	char buf[4096];
	ssize_t n = listxattr(path, buf, sizeof(buf));
	ssize_t i;

	for (i = 0; i < n; i += strlen(buf + i) + 1)
		if (!strcmp(buf + i, name))
			return true;
	return false;
}

static void set_get_list_remove(struct __test_metadata *_metadata,
				const char *path)
{
	char buf[64];
	ssize_t n;

	ASSERT_EQ(0, setxattr(path, "security.vmaccel", "dom1", 4, 0));
	n = getxattr(path, "security.vmaccel", buf, sizeof(buf));
	ASSERT_EQ(4, n);
	EXPECT_EQ(0, memcmp(buf, "dom1", 4));
	/* size 0: the size only */
	EXPECT_EQ(4, getxattr(path, "security.vmaccel", NULL, 0));
	EXPECT_ERRNO(ERANGE, getxattr(path, "security.vmaccel", buf, 3));
	EXPECT_TRUE(listed(path, "security.vmaccel"));

	ASSERT_EQ(0, setxattr(path, "trusted.vmaccel", "t", 1, XATTR_CREATE));
	EXPECT_EQ(1, getxattr(path, "trusted.vmaccel", buf, sizeof(buf)));
	EXPECT_TRUE(listed(path, "trusted.vmaccel"));
	EXPECT_TRUE(listed(path, "security.vmaccel"));
	/* the list's size, then a short buffer */
	n = listxattr(path, NULL, 0);
	EXPECT_LE((ssize_t)(sizeof("security.vmaccel") + sizeof("trusted.vmaccel")), n);
	EXPECT_ERRNO(ERANGE, listxattr(path, buf, 4));

	EXPECT_ERRNO(EEXIST, setxattr(path, "security.vmaccel", "x", 1,
				      XATTR_CREATE));
	EXPECT_EQ(0, setxattr(path, "security.vmaccel", "domain2", 7,
			      XATTR_REPLACE));
	EXPECT_EQ(7, getxattr(path, "security.vmaccel", buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, "domain2", 7));
	EXPECT_ERRNO(ENODATA, setxattr(path, "security.none", "x", 1,
				       XATTR_REPLACE));
	/* an empty value is a value */
	EXPECT_EQ(0, setxattr(path, "security.empty", "", 0, 0));
	EXPECT_EQ(0, getxattr(path, "security.empty", buf, sizeof(buf)));
	EXPECT_TRUE(listed(path, "security.empty"));

	EXPECT_EQ(0, removexattr(path, "security.empty"));
	EXPECT_EQ(0, removexattr(path, "trusted.vmaccel"));
	EXPECT_ERRNO(ENODATA, getxattr(path, "trusted.vmaccel", buf,
				       sizeof(buf)));
	EXPECT_ERRNO(ENODATA, removexattr(path, "trusted.vmaccel"));
	EXPECT_FALSE(listed(path, "trusted.vmaccel"));
	EXPECT_FALSE(listed(path, "security.empty"));
	EXPECT_TRUE(listed(path, "security.vmaccel"));
	EXPECT_EQ(0, removexattr(path, "security.vmaccel"));
	EXPECT_ERRNO(ENODATA, getxattr(path, "security.vmaccel", buf,
				       sizeof(buf)));
}

TEST_F(xa, file)
{
	if (!self->ready)
		return;
	set_get_list_remove(_metadata, self->file);
}

TEST_F(xa, directory)
{
	if (!self->ready)
		return;
	set_get_list_remove(_metadata, self->sub);
	set_get_list_remove(_metadata, self->dir);
}

TEST_F(xa, persists)
{
	char buf[64], to[128];
	int fd;

	if (!self->ready)
		return;
	fd = open(self->file, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, fsetxattr(fd, "security.selinux",
			       "system_u:object_r:svirt_image_t:s0:c1,c2", 41, 0));
	ASSERT_EQ(0, fsetxattr(fd, "trusted.k", "v", 1, 0));
	close(fd);
	/* a new open, and the path */
	fd = open(self->file, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	EXPECT_EQ(41, fgetxattr(fd, "security.selinux", buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, "system_u:object_r:svirt_image_t:s0:c1,c2", 41));
	close(fd);
	EXPECT_EQ(1, getxattr(self->file, "trusted.k", buf, sizeof(buf)));
	/* a rename keeps them (same group directory) */
	snprintf(to, sizeof(to), "%s/ram2", self->sub);
	ASSERT_EQ(0, rename(self->file, to));
	EXPECT_EQ(41, getxattr(to, "security.selinux", buf, sizeof(buf)));
	EXPECT_EQ(0, unlink(to));
}

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

/*
 * The child's exit status: 0 if every check passed; ALLOWED if they passed
 * on a kernel that lets an unprivileged process set security.* on tmpfs
 * (@ctl) as well; else the number of the check that failed.
 */
#define ALLOWED	64

static int unprivileged_checks(const char *path, const char *ctl, bool uid)
{
	bool allowed;
	char buf[64];

	if (uid) {
		if (setgroups(0, NULL) || setresgid(65534, 65534, 65534) ||
		    setresuid(65534, 65534, 65534))
			return 100;
	} else if (drop_cap_sys_admin()) {
		return 101;
	}
	if (setxattr(path, "trusted.x", "v", 1, 0) != -1 || errno != EPERM)
		return 1;
	if (removexattr(path, "trusted.vmaccel") != -1 || errno != EPERM)
		return 2;
	if (getxattr(path, "trusted.vmaccel", buf, sizeof(buf)) != -1 ||
	    errno != ENODATA)
		return 3;
	if (listed(path, "trusted.vmaccel"))
		return 4;
	if (getxattr(path, "security.vmaccel", buf, sizeof(buf)) != 3 ||
	    memcmp(buf, "lbl", 3))
		return 5;
	if (!listed(path, "security.vmaccel"))
		return 6;
	/*
	 * security.*: the LSMs decide (commoncap: CAP_SYS_ADMIN).  6.1 with
	 * the BPF LSM active (Debian's default) skips that check for every
	 * file system; vmaccelfs must then do as tmpfs does.
	 */
	allowed = !setxattr(ctl, "security.x", "v", 1, 0);
	if (allowed) {
		if (removexattr(ctl, "security.x"))
			return 7;
		if (setxattr(path, "security.x", "v", 1, 0) ||
		    removexattr(path, "security.x"))
			return 8;
		return ALLOWED;
	}
	if (errno != EPERM)
		return 9;
	if (setxattr(path, "security.x", "v", 1, 0) != -1 || errno != EPERM)
		return 10;
	if (removexattr(path, "security.vmaccel") != -1 || errno != EPERM)
		return 11;
	return 0;
}

static void unprivileged(struct __test_metadata *_metadata, const char *path,
			 bool uid)
{
	char buf[64], ctl[] = "/tmp/vmaccelfs-xattr-ctl.XXXXXX";
	int status, fd;
	pid_t pid;

	/* the control: a tmpfs file the child may write */
	fd = mkstemp(ctl);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, fchmod(fd, 0666));
	close(fd);
	ASSERT_EQ(0, setxattr(path, "security.vmaccel", "lbl", 3, 0));
	ASSERT_EQ(0, setxattr(path, "trusted.vmaccel", "t", 1, 0));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid)
		_exit(unprivileged_checks(path, ctl, uid));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	unlink(ctl);
	ASSERT_TRUE(WIFEXITED(status));
	if (WEXITSTATUS(status) == ALLOWED)
		TH_LOG("security.* is open to all on tmpfs too (6.1, BPF LSM)");
	else
		EXPECT_EQ(0, WEXITSTATUS(status));
	/* nothing changed */
	EXPECT_EQ(3, getxattr(path, "security.vmaccel", buf, sizeof(buf)));
	EXPECT_EQ(1, getxattr(path, "trusted.vmaccel", buf, sizeof(buf)));
	EXPECT_ERRNO(ENODATA, getxattr(path, "trusted.x", buf, sizeof(buf)));
	EXPECT_ERRNO(ENODATA, getxattr(path, "security.x", buf, sizeof(buf)));
}

TEST_F(xa, no_cap_sys_admin)
{
	if (!self->ready)
		return;
	unprivileged(_metadata, self->file, false);
	unprivileged(_metadata, self->sub, false);
}

TEST_F(xa, nobody)
{
	if (!self->ready)
		return;
	unprivileged(_metadata, self->file, true);
	unprivileged(_metadata, self->sub, true);
}

/* errno of the first of many small attributes that fails; *count: set */
static int fill_small(const char *path, int *count)
{
	char name[32];
	int i;

	for (i = 0; i < 1000; i++) {
		snprintf(name, sizeof(name), "security.s%d", i);
		if (setxattr(path, name, "v", 1, 0))
			break;
	}
	*count = i;
	return i < 1000 ? errno : 0;
}

TEST_F(xa, bounded)
{
	static char big[65536 + 1];
	char buf[64];
	int n;

	if (!self->ready)
		return;
	memset(big, 'b', sizeof(big));
	/* one attribute that can never fit */
	EXPECT_ERRNO(E2BIG, setxattr(self->file, "security.big", big,
				     XATTR_BOUND, 0));
	/* above XATTR_SIZE_MAX: the VFS's own E2BIG */
	EXPECT_ERRNO(E2BIG, setxattr(self->file, "security.big", big,
				     sizeof(big), 0));
	/* two that fit alone but not together */
	ASSERT_EQ(0, setxattr(self->file, "security.a", big,
			      XATTR_BOUND / 2, 0));
	EXPECT_ERRNO(ENOSPC, setxattr(self->file, "trusted.b", big,
				      XATTR_BOUND / 2, 0));
	EXPECT_ERRNO(ENODATA, getxattr(self->file, "trusted.b", buf,
				       sizeof(buf)));
	/* a replacement is counted without the value it replaces */
	EXPECT_EQ(0, setxattr(self->file, "security.a", big,
			      XATTR_BOUND / 2 + 16, XATTR_REPLACE));
	EXPECT_EQ(XATTR_BOUND / 2 + 16,
		  getxattr(self->file, "security.a", NULL, 0));
	/* a failed replacement keeps the old value */
	EXPECT_ERRNO(E2BIG, setxattr(self->file, "security.a", big,
				     XATTR_BOUND, 0));
	EXPECT_EQ(XATTR_BOUND / 2 + 16,
		  getxattr(self->file, "security.a", NULL, 0));
	/* removing frees the room */
	EXPECT_EQ(0, removexattr(self->file, "security.a"));
	EXPECT_EQ(0, setxattr(self->file, "trusted.b", big, XATTR_BOUND / 2, 0));
	/* the bound is per inode: the directory has its own */
	EXPECT_EQ(0, setxattr(self->sub, "security.a", big, XATTR_BOUND / 2, 0));
	/* many small ones end in ENOSPC too */
	EXPECT_EQ(ENOSPC, fill_small(self->dir, &n));
	EXPECT_LT(10, n);
}

TEST_F(xa, unsupported_namespaces)
{
	char buf[64];

	if (!self->ready)
		return;
	EXPECT_ERRNO(EOPNOTSUPP, setxattr(self->file, "user.x", "v", 1, 0));
	EXPECT_ERRNO(EOPNOTSUPP, getxattr(self->file, "user.x", buf,
					  sizeof(buf)));
	EXPECT_ERRNO(EOPNOTSUPP, setxattr(self->sub, "user.x", "v", 1, 0));
	EXPECT_ERRNO(EOPNOTSUPP, setxattr(self->file, "vmaccel.x", "v", 1, 0));
	EXPECT_ERRNO(EOPNOTSUPP, getxattr(self->file, "vmaccel.x", buf,
					  sizeof(buf)));
}

/*
 * The attributes go with the inode: kmemleak (debug tier) finds nothing.
 * One leaked attribute is enough for kmemleak: a few hundred rounds (2000
 * did not end within the default 30 s on the debug kernel under TCG).
 */
#define ROUNDS	300

TEST_F_TIMEOUT(xa, create_unlink_loop, 300)
{
	static char val[1024];
	char path[128];
	int i, fd;

	if (!self->ready)
		return;
	memset(val, 'v', sizeof(val));
	snprintf(path, sizeof(path), "%s/tmp", self->sub);
	for (i = 0; i < ROUNDS; i++) {
		fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		ASSERT_LE(0, fd);
		ASSERT_EQ(0, fsetxattr(fd, "security.a", val, sizeof(val), 0));
		ASSERT_EQ(0, setxattr(path, "trusted.b", val, 100, 0));
		ASSERT_EQ(0, setxattr(path, "security.a", val, 10, XATTR_REPLACE));
		/* unlinked while open: freed at the last close */
		ASSERT_EQ(0, unlink(path));
		ASSERT_EQ(10, fgetxattr(fd, "security.a", NULL, 0));
		close(fd);
		snprintf(path, sizeof(path), "%s/d", self->sub);
		ASSERT_EQ(0, mkdir(path, 0700));
		ASSERT_EQ(0, setxattr(path, "security.a", val, sizeof(val), 0));
		ASSERT_EQ(0, rmdir(path));
		snprintf(path, sizeof(path), "%s/tmp", self->sub);
	}
}

TEST_HARNESS_MAIN
