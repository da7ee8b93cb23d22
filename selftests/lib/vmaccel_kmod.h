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

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

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
