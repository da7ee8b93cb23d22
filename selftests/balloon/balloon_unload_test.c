// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmaccel_balloon: load and unload under use.  While a VM descriptor is
 * open the module cannot go (delete_module fails); once every descriptor
 * is closed it goes and comes back.  The stress case runs several VMM-like
 * users (register, report, read target and accounting, close) on every
 * CPU while another thread keeps trying rmmod and reloading.  The knob
 * case writes sysfs knobs (each write runs a policy tick) on every CPU
 * while rmmod and reload go on: a tick queued by a write during unload
 * would run from freed module text (the debug tier's object debugging
 * reports the pending work as freed while active).
 *
 * The module file is $VMACCEL_KO_DIR/balloon/vmaccel_balloon.ko, or
 * balloon/vmaccel_balloon.ko from the current directory.
 */
#include "balloon_util.h"
#include "../lib/vmaccel_kmod.h"

#include <pthread.h>
#include <sys/syscall.h>

#define UL_MOD		"vmaccel_balloon"
#define GUEST		(32 * MiB)
#define STRESS_MS	6000

static char ko_path[512];

static int ul_load(void)
{
	return vmaccel_kmod_load(ko_path);
}

static bool ul_find_ko(void)
{
	vmaccel_kmod_path(ko_path, sizeof(ko_path), "balloon", UL_MOD);
	return access(ko_path, R_OK) == 0;
}

/* A VMM's whole life on the module: 0, or -errno of the first failure. */
static int vmm_once(int mem, int efd)
{
	struct vmaccel_balloon_account a;
	struct vmaccel_balloon_target t;
	int dev, vm, ret = 0;

	dev = balloon_open();
	if (dev < 0)
		return -errno;
	vm = balloon_register(dev, mem, efd, GUEST, 16 * MiB, GUEST);
	close(dev);
	if (vm < 0)
		return -errno;
	if (balloon_report_avail(vm, GUEST, GUEST) || balloon_target(vm, &t) ||
	    balloon_account(vm, &a))
		ret = -errno;
	close(vm);
	return ret;
}

TEST(refused_while_a_vm_is_registered)
{
	int dev, vm, mem, efd;

	if (!ul_find_ko())
		SKIP(return, "%s: no module file (set VMACCEL_KO_DIR)", ko_path);
	dev = balloon_open();
	if (dev < 0)
		SKIP(return, "%s: %s", BALLOON_DEV, strerror(errno));
	mem = balloon_memfd(GUEST);
	efd = eventfd(0, EFD_CLOEXEC);
	ASSERT_LE(0, mem);
	ASSERT_LE(0, efd);
	vm = balloon_register(dev, mem, efd, GUEST, 16 * MiB, GUEST);
	ASSERT_LE(0, vm);
	close(dev);
	/* Only the VM descriptor holds the module now. */
	EXPECT_NE(0, vmaccel_kmod_unload(UL_MOD));
	EXPECT_TRUE(vmaccel_kmod_loaded(UL_MOD));
	EXPECT_EQ(GUEST, balloon_target_bytes(vm));
	close(vm);
	ASSERT_EQ(0, vmaccel_kmod_unload(UL_MOD));
	EXPECT_FALSE(vmaccel_kmod_loaded(UL_MOD));
	ASSERT_EQ(0, ul_load());
	EXPECT_EQ(0, vmm_once(mem, efd));
	close(efd);
	close(mem);
}

static bool stop;
static long lifecycles, nodev;

static void *vmm_thread(void *arg)
{
	int mem = balloon_memfd(GUEST), efd = eventfd(0, EFD_CLOEXEC);
	long n = 0, gone = 0;
	int r;

	(void)arg;
	while (!__atomic_load_n(&stop, __ATOMIC_RELAXED) && mem >= 0 && efd >= 0) {
		r = vmm_once(mem, efd);
		if (!r)
			n++;
		else if (r == -ENOENT || r == -ENXIO || r == -ENODEV)
			gone++;
	}
	__atomic_add_fetch(&lifecycles, n, __ATOMIC_RELAXED);
	__atomic_add_fetch(&nodev, gone, __ATOMIC_RELAXED);
	close(mem);
	close(efd);
	return NULL;
}

TEST(stress_rmmod_while_vmms_run)
{
	int i, r, mem, efd, nr = 2 * (int)sysconf(_SC_NPROCESSORS_ONLN);
	long unloads = 0, refused = 0, reloads = 0;
	__u64 end;
	pthread_t th[64];

	if (!ul_find_ko())
		SKIP(return, "%s: no module file (set VMACCEL_KO_DIR)", ko_path);
	ASSERT_TRUE(vmaccel_kmod_loaded(UL_MOD) || ul_load() == 0);
	if (nr > 64)
		nr = 64;
	if (nr < 2)
		nr = 2;
	for (i = 0; i < nr; i++)
		ASSERT_EQ(0, pthread_create(&th[i], NULL, vmm_thread, NULL));
	end = balloon_now_ns() + STRESS_MS * 1000000ULL;
	while (balloon_now_ns() < end) {
		if (vmaccel_kmod_unload(UL_MOD) == 0) {
			unloads++;
			balloon_sleep_ms(5);
			if (ul_load() == 0)
				reloads++;
		} else {
			refused++;
		}
		balloon_sleep_ms(1);
	}
	__atomic_store_n(&stop, true, __ATOMIC_RELAXED);
	for (i = 0; i < nr; i++)
		pthread_join(th[i], NULL);
	ASSERT_TRUE(vmaccel_kmod_loaded(UL_MOD) || ul_load() == 0);
	TH_LOG("%d VMM threads: %ld lifecycles, %ld without a device",
	       nr, lifecycles, nodev);
	TH_LOG("rmmod: %ld refused, %ld unloads, %ld reloads", refused,
	       unloads, reloads);
	EXPECT_LT(0, lifecycles);
	EXPECT_LT(0, refused);
	EXPECT_EQ(unloads, reloads);
	/* The module is back and works. */
	mem = balloon_memfd(GUEST);
	efd = eventfd(0, EFD_CLOEXEC);
	r = vmm_once(mem, efd);
	close(mem);
	close(efd);
	EXPECT_EQ(0, r);
}

static long knob_writes;

static void *knob_thread(void *arg)
{
	const char *name = arg;
	long n = 0;

	while (!__atomic_load_n(&stop, __ATOMIC_RELAXED)) {
		/* The load-time default: a tick, and nothing else changes. */
		if (balloon_set(name, !strcmp(name, "enabled") ? "1" : "1000") == 0)
			n++;
	}
	__atomic_add_fetch(&knob_writes, n, __ATOMIC_RELAXED);
	return NULL;
}

TEST(stress_rmmod_while_knobs_written)
{
	static const char * const knobs[] = { "enabled", "interval_ms" };
	int i, nr = 2 * (int)sysconf(_SC_NPROCESSORS_ONLN);
	long unloads = 0, reloads = 0;
	pthread_t th[64];
	__u64 end;

	if (!ul_find_ko())
		SKIP(return, "%s: no module file (set VMACCEL_KO_DIR)", ko_path);
	ASSERT_TRUE(vmaccel_kmod_loaded(UL_MOD) || ul_load() == 0);
	if (nr > 64)
		nr = 64;
	if (nr < 2)
		nr = 2;
	__atomic_store_n(&stop, false, __ATOMIC_RELAXED);
	for (i = 0; i < nr; i++)
		ASSERT_EQ(0, pthread_create(&th[i], NULL, knob_thread,
					    (void *)knobs[i % 2]));
	end = balloon_now_ns() + STRESS_MS * 1000000ULL;
	while (balloon_now_ns() < end) {
		if (vmaccel_kmod_unload(UL_MOD) == 0) {
			unloads++;
			if (ul_load() == 0)
				reloads++;
		}
	}
	__atomic_store_n(&stop, true, __ATOMIC_RELAXED);
	for (i = 0; i < nr; i++)
		pthread_join(th[i], NULL);
	ASSERT_TRUE(vmaccel_kmod_loaded(UL_MOD) || ul_load() == 0);
	TH_LOG("%d knob writers: %ld writes; %ld unloads, %ld reloads", nr,
	       knob_writes, unloads, reloads);
	EXPECT_LT(0, knob_writes);
	EXPECT_LT(0, unloads);
	EXPECT_EQ(unloads, reloads);
	EXPECT_EQ(1, balloon_knob("enabled"));
}

TEST_HARNESS_MAIN
