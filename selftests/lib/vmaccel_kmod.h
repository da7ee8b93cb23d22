/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Loading and unloading vmaccel modules from the selftests (the unload
 * stress tests of every module).
 *
 * The module file of directory MOD is $VMACCEL_KO_DIR/MOD/vmaccel_MOD.ko,
 * or MOD/vmaccel_MOD.ko from the repository root (the current directory)
 * when VMACCEL_KO_DIR is not set.  Every helper returns 0 or -errno and
 * never asserts.
 */
#ifndef VMACCEL_KMOD_H
#define VMACCEL_KMOD_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "vmaccel_sysfs.h"

/* Path of the module file of directory @dir, named @name. */
static inline void vmaccel_kmod_path(char *buf, size_t size, const char *dir,
				     const char *name)
{
	const char *top = getenv("VMACCEL_KO_DIR");

	snprintf(buf, size, "%s/%s/%s.ko", top ? top : ".", dir, name);
}

/* delete_module(2) without waiting: fails while the module is in use. */
static inline int vmaccel_kmod_unload(const char *name)
{
	return syscall(__NR_delete_module, name, O_NONBLOCK) ? -errno : 0;
}

static inline int vmaccel_kmod_load_once(const char *path)
{
	int fd, r;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	r = syscall(__NR_finit_module, fd, "", 0) ? -errno : 0;
	close(fd);
	return r;
}

/* Name length of a module (MODULE_NAME_LEN in the kernel). */
#define VMACCEL_KMOD_NAME_LEN	56

/* Read /sys/module/@name/@attr into @buf: its length, or -errno. */
static inline int vmaccel_kmod_attr(const char *name, const char *attr,
				    char *buf, size_t size)
{
	char path[128];

	snprintf(path, sizeof(path), "/sys/module/%s/%s", name, attr);
	return vmaccel_read_file(path, buf, size);
}

/* References on module @name (/sys/module/NAME/refcnt), or -errno. */
static inline int vmaccel_kmod_refcnt(const char *name)
{
	char buf[32];
	int n = vmaccel_kmod_attr(name, "refcnt", buf, sizeof(buf));

	if (n <= 0)
		return n ? n : -EIO;
	return atoi(buf);
}

/* Whether module @name is loaded and live (/sys/module/NAME/initstate). */
static inline bool vmaccel_kmod_loaded(const char *name)
{
	char buf[32];

	return vmaccel_kmod_attr(name, "initstate", buf, sizeof(buf)) > 0 &&
	       !strcmp(buf, "live\n");
}

/* How many modules depend on module @name (it cannot go while they are). */
static inline int vmaccel_kmod_nr_holders(const char *name)
{
	char path[128];
	struct dirent *d;
	DIR *dir;
	int n = 0;

	snprintf(path, sizeof(path), "/sys/module/%s/holders", name);
	dir = opendir(path);
	if (!dir)
		return 0;
	while ((d = readdir(dir)))
		if (d->d_name[0] != '.')
			n++;
	closedir(dir);
	return n;
}

/* Whether vmaccel_kmod_unload() returned "in use". */
static inline bool vmaccel_kmod_refused(int r)
{
	return r == -EWOULDBLOCK || r == -EBUSY;
}

/*
 * Unload the modules that depend on module @name (its holders), so that an
 * unload test of @name can run while the whole suite is loaded (vhost holds
 * vic).  Only vmaccel modules nobody uses are taken out; their names go to
 * @held (room for @max).  Returns how many were unloaded, or -EBUSY when a
 * holder is not ours, is in use or there are more than @max (the ones
 * already unloaded are in @held all the same: give them back with
 * vmaccel_kmod_reload()).
 */
static inline int vmaccel_kmod_unload_holders(const char *name,
					      char held[][VMACCEL_KMOD_NAME_LEN],
					      int max)
{
	char path[128];
	struct dirent *d;
	int n = 0, r = 0;
	DIR *dir;

	snprintf(path, sizeof(path), "/sys/module/%s/holders", name);
	dir = opendir(path);
	if (!dir)
		return 0;
	while (!r && (d = readdir(dir))) {
		if (d->d_name[0] == '.')
			continue;
		if (strncmp(d->d_name, "vmaccel_", 8) || n == max ||
		    strlen(d->d_name) >= VMACCEL_KMOD_NAME_LEN ||
		    vmaccel_kmod_refcnt(d->d_name) != 0) {
			r = -EBUSY;
			break;
		}
		r = vmaccel_kmod_unload(d->d_name);
		if (!r)
			strcpy(held[n++], d->d_name);
		else
			r = -EBUSY;
	}
	closedir(dir);
	return r ? r : n;
}

/*
 * Set this thread's fault-injection flag (/proc/thread-self/make-it-fail);
 * returns the previous value, or -1 without fault injection.
 */
static inline int vmaccel_kmod_make_it_fail(int val)
{
	char buf[16];
	ssize_t n;
	int fd, i, old;

	/* Opening may itself fail while failures are injected. */
	for (i = 0, fd = -1; fd < 0 && i < 1000; i++) {
		fd = open("/proc/thread-self/make-it-fail", O_RDWR | O_CLOEXEC);
		if (fd < 0 && errno == ENOENT)
			return -1;
	}
	if (fd < 0)
		return -1;
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	buf[n > 0 ? n : 0] = '\0';
	old = n > 0 ? atoi(buf) : -1;
	if (old >= 0 && pwrite(fd, val ? "1" : "0", 1, 0) != 1)
		old = -1;
	close(fd);
	return old;
}

/*
 * Load a module.  With failures injected into this thread's allocations
 * (the debug tier's fault pass), one try goes through the module's error
 * paths; then a few more with injection off for this thread, so that the
 * module is back for the rest of the test.  -EEXIST when already loaded.
 */
static inline int vmaccel_kmod_load(const char *path)
{
	int r, old, i;

	r = vmaccel_kmod_load_once(path);
	if (!r || r == -EEXIST)
		return r;
	old = vmaccel_kmod_make_it_fail(0);
	if (old != 1)
		return r;
	for (i = 0; i < 5 && r && r != -EEXIST; i++)
		r = vmaccel_kmod_load_once(path);
	vmaccel_kmod_make_it_fail(1);
	return r;
}

/*
 * Load again the @n modules named in @held (taken out by
 * vmaccel_kmod_unload_holders()), from the directory of the module files
 * (VMACCEL_KO_DIR/<any module dir>/NAME.ko).  Returns 0 or the first error.
 */
static inline int vmaccel_kmod_reload(char held[][VMACCEL_KMOD_NAME_LEN],
				      int n)
{
	const char *top = getenv("VMACCEL_KO_DIR");
	char pat[PATH_MAX];
	int i, r, ret = 0;
	glob_t g;

	for (i = 0; i < n; i++) {
		snprintf(pat, sizeof(pat), "%s/*/%s.ko", top ? top : ".",
			 held[i]);
		if (glob(pat, 0, NULL, &g) || g.gl_pathc != 1) {
			r = -ENOENT;
		} else {
			r = vmaccel_kmod_load(g.gl_pathv[0]);
			if (r == -EEXIST)
				r = 0;
		}
		globfree(&g);
		if (r && !ret)
			ret = r;
	}
	return ret;
}

/* What a failed load most likely means. */
static inline const char *vmaccel_kmod_load_hint(int err)
{
	switch (err) {
	case -ENOENT:
		return "no module file there (set VMACCEL_KO_DIR)";
	case -EPERM:
		return "refused: module signature enforced or lockdown?";
	case -EKEYREJECTED:
	case -ENOKEY:
		return "refused: the module is not signed";
	case -ENOEXEC:
		return "not a module for this kernel (built against another KDIR?)";
	case -EEXIST:
		return "already loaded";
	default:
		return strerror(-err);
	}
}

#endif /* VMACCEL_KMOD_H */
