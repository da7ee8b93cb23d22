// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmaccel_vhost_net selftest: unloading and reloading the module.
 *
 * - An open device fd (with traffic, zero-copy on) pins the module:
 *   delete_module(2) fails with EWOULDBLOCK (or EBUSY) and the device
 *   keeps working.
 * - With nothing open the module unloads and finit_module(2) brings back a
 *   fresh one.
 * - Stress: one worker per CPU (at least two) sets up VMs with a tap
 *   backend and pushes TX and RX traffic, closing in varying orders, over
 *   and over, while another thread keeps trying to unload the module and
 *   reloads it whenever that succeeded.  An unload that succeeds while a
 *   worker held a device fd for the whole call is an error.
 *
 * The runner loads the module before and unloads it after this program;
 * every test leaves it loaded.  The module file is
 * $VMACCEL_KO_DIR/vhost/vmaccel_vhost_net.ko, or vhost/vmaccel_vhost_net.ko
 * from the current directory.  VMACCEL_STRESS_SECS sets the stress length
 * (default 12).
 */
#include "vhost_util.h"

#include <pthread.h>
#include <stdatomic.h>
#include <sys/syscall.h>

#define UL_MOD	"vmaccel_vhost_net"

static char ko_path[512];
static atomic_bool stop;
static atomic_int holding;	/* workers holding an fd right now */
/* Per worker: odd while it holds a device fd; bumped at open and close. */
static atomic_uint hold_seq[64];
static int nworkers;
static atomic_ulong unloads, refused, rounds, bad_unloads;

static int ul_unload(void)
{
	return syscall(__NR_delete_module, UL_MOD, O_NONBLOCK) ? -errno : 0;
}

static int ul_load(void)
{
	int fd = open(ko_path, O_RDONLY | O_CLOEXEC), r;

	if (fd < 0)
		return -errno;
	r = syscall(__NR_finit_module, fd, "", 0) ? -errno : 0;
	close(fd);
	return r == -EEXIST ? 0 : r;
}

static bool ul_loaded(void)
{
	return !access("/sys/module/" UL_MOD "/initstate", F_OK);
}

static void ko_resolve(void)
{
	const char *dir = getenv("VMACCEL_KO_DIR");

	snprintf(ko_path, sizeof(ko_path), "%s/vhost/%s.ko", dir ? dir : ".",
		 UL_MOD);
}

static void *worker(void *arg)
{
	unsigned int seed = (uintptr_t)arg, i, me = seed / 1000;
	__u8 pkt[VH_HLEN + 1400], frame[800];

	memset(pkt, 0, VH_HLEN);
	while (!atomic_load(&stop)) {
		struct vh_vm vm;
		struct vmaccel_vhost_zcopy z;

		atomic_fetch_add(&holding, 1);
		if (vh_vm_start(&vm, VH_BASE_FEATURES |
				(1ull << VIRTIO_NET_F_MRG_RXBUF))) {
			vh_vm_close(&vm);
			atomic_fetch_sub(&holding, 1);
			usleep(2000);
			continue;
		}
		atomic_fetch_add(&hold_seq[me], 1);	/* odd: holding */
		if (!ioctl(vm.dev, VMACCEL_VHOST_GET_ZCOPY, &z)) {
			z.flags = VMACCEL_VHOST_ZCOPY_ENABLE;
			z.min_len = 0;
			ioctl(vm.dev, VMACCEL_VHOST_SET_ZCOPY, &z);
		}
		vh_rx_post(&vm, 32, 2048, NULL, NULL, true);
		for (i = 0; i < 64; i++) {
			vh_frame(pkt + VH_HLEN, 1400, i + seed);
			vh_tx_queue(&vm, pkt, sizeof(pkt), 1 + i % 2, i % 8 == 7);
			if (i % 4 == 0) {
				vh_frame(frame, sizeof(frame), i);
				vh_inject(&vm, frame, sizeof(frame));
			}
		}
		/* Pacing under unload stress, not a check: poll the index. */
		vh_poll_used(&vm.q[1], 64, 2000);
		/* Vary the order in which things go away. */
		if (seed++ % 2) {
			close(vm.tap);
			vm.tap = -1;
		}
		atomic_fetch_add(&hold_seq[me], 1);	/* even: about to close */
		vh_vm_close(&vm);
		atomic_fetch_sub(&holding, 1);
		atomic_fetch_add(&rounds, 1);
	}
	return NULL;
}

static void *unloader(void *arg)
{
	unsigned int before[64];
	int i, r;

	(void)arg;
	while (!atomic_load(&stop)) {
		for (i = 0; i < nworkers; i++)
			before[i] = atomic_load(&hold_seq[i]);
		r = ul_unload();
		if (!r) {
			atomic_fetch_add(&unloads, 1);
			/* A worker that held its fd across the whole call. */
			for (i = 0; i < nworkers; i++) {
				if ((before[i] & 1) &&
				    atomic_load(&hold_seq[i]) == before[i]) {
					fprintf(stderr, "# unload while worker %d held an fd\n",
						i);
					atomic_fetch_add(&bad_unloads, 1);
				}
			}
			if (ul_load())
				atomic_fetch_add(&bad_unloads, 1);
		} else if (r == -EWOULDBLOCK || r == -EBUSY) {
			atomic_fetch_add(&refused, 1);
		}
		usleep(3000);
	}
	return NULL;
}

FIXTURE(unload) {
	int unused;
};

FIXTURE_SETUP(unload)
{
	self->unused = 0;
	ko_resolve();
	if (!ul_loaded())
		SKIP(return, "module not loaded");
	if (access(ko_path, R_OK))
		SKIP(return, "no %s (set VMACCEL_KO_DIR)", UL_MOD ".ko");
}

FIXTURE_TEARDOWN(unload)
{
	if (!ul_loaded())
		ul_load();
}

TEST_F(unload, refused_while_open_then_reload)
{
	struct vh_vm vm;
	__u8 pkt[VH_HLEN + 100], got[200];
	int r;

	ASSERT_EQ(0, vh_vm_start(&vm, VH_BASE_FEATURES));
	r = ul_unload();
	ASSERT_TRUE(r == -EWOULDBLOCK || r == -EBUSY);
	ASSERT_TRUE(ul_loaded());
	memset(pkt, 0, VH_HLEN);
	vh_frame(pkt + VH_HLEN, 100, 1);
	vh_tx_queue(&vm, pkt, sizeof(pkt), 1, true);
	ASSERT_EQ(100, vh_capture(&vm, got, sizeof(got), 5000));
	vh_vm_close(&vm);

	ASSERT_EQ(0, ul_unload());
	ASSERT_FALSE(ul_loaded());
	ASSERT_NE(0, access(VH_SYSFS, F_OK));
	ASSERT_EQ(0, ul_load());
	ASSERT_TRUE(ul_loaded());
	ASSERT_EQ(0, vh_vm_start(&vm, VH_BASE_FEATURES));
	vh_vm_close(&vm);
}

TEST_F_TIMEOUT(unload, stress_traffic_while_unloading, 300)
{
	const char *env = getenv("VMACCEL_STRESS_SECS");
	int secs = env ? atoi(env) : 12, n, i;
	pthread_t th[64], ut;

	n = (int)sysconf(_SC_NPROCESSORS_ONLN);
	if (n < 2)
		n = 2;
	if (n > 63)
		n = 63;
	nworkers = n;
	for (i = 0; i < n; i++)
		ASSERT_EQ(0, pthread_create(&th[i], NULL, worker,
					    (void *)(uintptr_t)(i * 1000)));
	ASSERT_EQ(0, pthread_create(&ut, NULL, unloader, NULL));
	sleep(secs);
	atomic_store(&stop, true);
	for (i = 0; i < n; i++)
		pthread_join(th[i], NULL);
	pthread_join(ut, NULL);
	printf("# %d workers: %lu VM rounds, %lu unloads refused, %lu unloads+reloads\n",
	       n, atomic_load(&rounds), atomic_load(&refused),
	       atomic_load(&unloads));
	ASSERT_EQ(0u, atomic_load(&bad_unloads));
	ASSERT_GT(atomic_load(&rounds), 0u);
	ASSERT_GT(atomic_load(&refused), 0u);
	/* Quiet point: nothing open, the unload must succeed. */
	if (!ul_loaded())
		ASSERT_EQ(0, ul_load());
	ASSERT_EQ(0, ul_unload());
	ASSERT_EQ(0, ul_load());
}

TEST_HARNESS_MAIN
