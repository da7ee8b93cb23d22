// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmaccel_ksm selftest: unloading and reloading the module.
 *
 * - A VMACCEL_KSM_CREATE file, open or only mapped, pins the module; so
 *   does a mounted vmaccelfs.  delete_module(2) fails with EWOULDBLOCK or
 *   EBUSY and the file keeps its content.
 * - With nothing left the module unloads, /dev/vmaccel-ksm and
 *   /sys/kernel/mm/vmaccel_ksm go away, and finit_module(2) brings them
 *   back.
 * - Stress: one worker per CPU (at least two) creates files, maps and
 *   writes them, scans, punches and closes them, over and over, with the
 *   scanner thread running, while another thread keeps trying to unload
 *   and reloads whenever that succeeded.  While the main thread holds a
 *   file every unload must be refused; at the end, with everything closed,
 *   the unload must succeed.
 *
 * The module file is $VMACCEL_KO_DIR/ksm/vmaccel_ksm.ko, or
 * ksm/vmaccel_ksm.ko under the current directory.  The module is left
 * loaded.  VMACCEL_STRESS_SECS sets the stress length (default 8).
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <sys/syscall.h>

#include "ksm_util.h"
#include "../lib/vmaccel_kmod.h"

#define UL_MOD "vmaccel_ksm"

static int ul_unload(void)
{
	return vmaccel_kmod_unload(UL_MOD);
}

/* Load the module (again): 0 when it is there afterwards, else -errno. */
static int ul_load(void)
{
	char path[512];
	int r;

	vmaccel_kmod_path(path, sizeof(path), "ksm", UL_MOD);
	r = vmaccel_kmod_load(path);
	return r == -EEXIST ? 0 : r;
}

/* Unload, retrying a moment for deferred file releases: 0 or -errno. */
static int ul_unload_settled(void)
{
	int i, r = -EBUSY;

	for (i = 0; i < 100 && r; i++) {
		r = ul_unload();
		if (r)
			usleep(20000);
	}
	return r;
}

static bool ul_refused(int r)
{
	return r == -EWOULDBLOCK || r == -EBUSY;
}

TEST(pinned_then_unload)
{
	char dir[] = "/tmp/vmaccelfs-ul.XXXXXX", *p;
	int fd;

	if (!ksm_present())
		SKIP(return, "vmaccel_ksm not loaded");
	fd = ksm_create(4 * KSM_PAGE, 0);
	ASSERT_LE(0, fd);
	p = ksm_map(fd, 4 * KSM_PAGE);
	ASSERT_NE(NULL, p);
	memset(p, 0x77, 4 * KSM_PAGE);
	EXPECT_TRUE(ul_refused(ul_unload()));
	close(fd);
	/* The mapping alone still holds the file. */
	EXPECT_TRUE(ul_refused(ul_unload()));
	EXPECT_EQ(0x77, p[3 * KSM_PAGE]);
	munmap(p, 4 * KSM_PAGE);
	ASSERT_NE(NULL, mkdtemp(dir));
	ASSERT_EQ(0, mount("none", dir, "vmaccelfs", 0, ""));
	EXPECT_TRUE(ul_refused(ul_unload()));
	ASSERT_EQ(0, umount(dir));
	rmdir(dir);
	ASSERT_EQ(0, ul_unload_settled());
	EXPECT_NE(0, access(KSM_DEV, F_OK));
	EXPECT_NE(0, access(KSM_SYSFS "run", F_OK));
	ASSERT_EQ(0, ul_load());
	EXPECT_TRUE(ksm_present());
	/* As upstream KSM, the scanner waits for the admin's run=1. */
	EXPECT_EQ(0, ksm_sys_get("run"));
	ksm_quiet();
}

struct ul {
	atomic_bool stop;
	atomic_long rounds, unloads, refused;
};

static void *ul_worker(void *arg)
{
	struct ul *u = arg;
	unsigned int i = 0;

	while (!atomic_load(&u->stop)) {
		int fd = ksm_create(32 * KSM_PAGE, i % 2);
		char *p;

		if (fd < 0)
			continue;	/* the module is away */
		p = ksm_map(fd, 32 * KSM_PAGE);
		if (p) {
			memset(p, i % 3, 32 * KSM_PAGE);
			ksm_scan(fd, 1);
			p[5] = 1;	/* a COW break */
			fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
				  0, 8 * KSM_PAGE);
			munmap(p, 32 * KSM_PAGE);
		}
		close(fd);
		atomic_fetch_add(&u->rounds, 1);
		i++;
	}
	return NULL;
}

static void *ul_unloader(void *arg)
{
	struct ul *u = arg;

	while (!atomic_load(&u->stop)) {
		int r = ul_unload();

		if (!r) {
			atomic_fetch_add(&u->unloads, 1);
			if (ul_load())
				break;
			ksm_sys_set("run", "1");
		} else if (ul_refused(r)) {
			atomic_fetch_add(&u->refused, 1);
		}
		usleep(1000);
	}
	return NULL;
}

TEST(stress)
{
	const char *env = getenv("VMACCEL_STRESS_SECS");
	int secs = env ? atoi(env) : 8, n, i, held, r;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	pthread_t th[65];
	struct ul u = { 0 };

	if (!ksm_present())
		SKIP(return, "vmaccel_ksm not loaded");
	n = cpus < 2 ? 2 : cpus > 64 ? 64 : cpus;
	ksm_sys_set("run", "1");
	for (i = 0; i < n; i++)
		ASSERT_EQ(0, pthread_create(&th[i], NULL, ul_worker, &u));
	ASSERT_EQ(0, pthread_create(&th[n], NULL, ul_unloader, &u));
	sleep(secs / 2);
	/* Phase with a file held here: every unload is refused. */
	held = -1;
	for (i = 0; i < 200 && held < 0; i++) {
		held = ksm_create(KSM_PAGE, 0);
		if (held < 0)
			usleep(10000);
	}
	ASSERT_LE(0, held);
	for (i = 0; i < 20; i++) {
		r = ul_unload();
		EXPECT_TRUE(ul_refused(r));
		usleep(20000);
	}
	close(held);
	sleep(secs - secs / 2);
	atomic_store(&u.stop, true);
	for (i = 0; i <= n; i++)
		pthread_join(th[i], NULL);
	TH_LOG("rounds %ld, unloads %ld, refused %ld", atomic_load(&u.rounds),
	       atomic_load(&u.unloads), atomic_load(&u.refused));
	EXPECT_LT(0, atomic_load(&u.rounds));
	EXPECT_LT(0, atomic_load(&u.refused));
	/* Quiet point: nothing open, the unload succeeds. */
	if (access(KSM_DEV, F_OK) == 0)
		EXPECT_EQ(0, ul_unload_settled());
	ASSERT_EQ(0, ul_load());
	EXPECT_TRUE(ksm_present());
	ksm_quiet();
}

TEST_HARNESS_MAIN
