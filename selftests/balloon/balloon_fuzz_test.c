// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmaccel_balloon: a struct-aware ioctl fuzzer.  Several threads mutate
 * valid calls (random flags, reserved words, sizes, descriptors of every
 * kind, stat arrays, pointers), close VM descriptors while other threads
 * use them and write random values into the sysfs knobs.  Pass: the
 * kernel survives (the log scan and the unload after the run check that),
 * every call gets a documented errno, the device still works and nothing
 * stays registered.  The calls made and the errors by errno are printed.
 */
#include "balloon_util.h"

#include <pthread.h>

#define THREADS		4
#define SLOTS		16
#define RUN_MS		4000
#define GUEST		(32 * MiB)

static int dev_fd, mem_fd, small_fd, efd, pipe_fds[2], dir_fd;
static int slots[SLOTS];
static pthread_mutex_t slot_lock = PTHREAD_MUTEX_INITIALIZER;
static long calls, errs[256];
static long undocumented;
static pthread_mutex_t count_lock = PTHREAD_MUTEX_INITIALIZER;

static __u64 rnd(unsigned int *seed)
{
	return ((__u64)rand_r(seed) << 33) ^ ((__u64)rand_r(seed) << 11) ^
	       (__u64)rand_r(seed);
}

static void count(int ret, int err)
{
	pthread_mutex_lock(&count_lock);
	calls++;
	if (ret < 0) {
		errs[err & 255]++;
		if (err != EINVAL && err != EBADF && err != EFAULT &&
		    err != ENOTTY && err != ENOMEM && err != ENOSPC &&
		    err != EMFILE && err != ESRCH)
			undocumented++;
	}
	pthread_mutex_unlock(&count_lock);
}

static int any_fd(unsigned int *seed)
{
	static const int *const pool[] = {
		&mem_fd, &small_fd, &efd, &pipe_fds[0], &dir_fd, &dev_fd,
	};
	unsigned int r = rand_r(seed) % 10;

	if (r < 6)
		return *pool[r];
	if (r == 6)
		return slots[rand_r(seed) % SLOTS];
	if (r == 7)
		return -1;
	return rand_r(seed) % 64;
}

static __u64 any_size(unsigned int *seed)
{
	switch (rand_r(seed) % 6) {
	case 0:
		return GUEST;
	case 1:
		return 16 * MiB;
	case 2:
		return rnd(seed);
	case 3:
		return rnd(seed) & ~4095ULL;
	case 4:
		return (rand_r(seed) % 64) * MiB;
	default:
		return 0;
	}
}

static void fuzz_register(unsigned int *seed)
{
	struct vmaccel_balloon_register r =
		balloon_req(mem_fd, efd, GUEST, 16 * MiB, GUEST);
	int i, ret;

	switch (rand_r(seed) % 8) {
	case 0:
		r.flags = 1U << (rand_r(seed) % 32);
		break;
	case 1:
		r.reserved[rand_r(seed) % 4] = rnd(seed) | 1;
		break;
	case 2:
		r.mem_fd = any_fd(seed);
		r.event_fd = any_fd(seed);
		break;
	case 3:
		r.guest_bytes = any_size(seed);
		r.floor_bytes = any_size(seed);
		r.ceiling_bytes = any_size(seed);
		break;
	case 4:
		memset(r.name, 'a' + rand_r(seed) % 26, sizeof(r.name));
		break;
	case 5:
		r.pid = rand_r(seed) % 2 ? (int)rand_r(seed) : getpid();
		break;
	case 6:
		/* A process's anonymous memory, some fields still random. */
		r.flags = VMACCEL_BALLOON_REGISTER_PROCESS;
		r.pid = rand_r(seed) % 4 ? getpid() : (int)rand_r(seed) % 4096 - 1;
		r.mem_fd = rand_r(seed) % 4 ? -1 : any_fd(seed);
		break;
	default:
		break;	/* valid */
	}
	ret = ioctl(dev_fd, VMACCEL_BALLOON_REGISTER, &r);
	count(ret, errno);
	if (ret < 0)
		return;
	pthread_mutex_lock(&slot_lock);
	i = rand_r(seed) % SLOTS;
	if (slots[i] >= 0)
		close(slots[i]);
	slots[i] = ret;
	pthread_mutex_unlock(&slot_lock);
}

static void fuzz_vm(unsigned int *seed)
{
	struct vmaccel_balloon_stat st[VMACCEL_BALLOON_MAX_STATS + 2];
	struct vmaccel_balloon_account a;
	struct vmaccel_balloon_target t;
	struct vmaccel_balloon_stats s;
	int fd = slots[rand_r(seed) % SLOTS], ret, i;
	unsigned int cmd;

	if (fd < 0)
		fd = any_fd(seed);
	switch (rand_r(seed) % 4) {
	case 0:
		memset(&t, 0, sizeof(t));
		if (rand_r(seed) % 4 == 0)
			t.flags = rand_r(seed);
		ret = ioctl(fd, VMACCEL_BALLOON_GET_TARGET, &t);
		break;
	case 1:
		memset(&a, 0, sizeof(a));
		if (rand_r(seed) % 4 == 0)
			a.flags = rand_r(seed);
		ret = ioctl(fd, VMACCEL_BALLOON_GET_ACCOUNT,
			    rand_r(seed) % 8 ? &a : (void *)8);
		break;
	case 2:
		memset(&s, 0, sizeof(s));
		s.nr = rand_r(seed) % 8 ? (__u32)(rand_r(seed) % 12) :
			(unsigned int)rnd(seed);
		for (i = 0; i < VMACCEL_BALLOON_MAX_STATS + 2; i++) {
			st[i].tag = rand_r(seed) % 12;
			memset(st[i].reserved, 0, sizeof(st[i].reserved));
			if (rand_r(seed) % 16 == 0)
				st[i].reserved[rand_r(seed) % 3] = 1;
			st[i].val = rnd(seed);
		}
		s.actual_bytes = any_size(seed);
		s.stats_ptr = rand_r(seed) % 8 ? (__u64)(uintptr_t)st :
			rnd(seed);
		if (rand_r(seed) % 8 == 0)
			s.flags = rand_r(seed);
		ret = ioctl(fd, VMACCEL_BALLOON_REPORT_STATS, &s);
		break;
	default:
		cmd = rand_r(seed) % 2 ? _IOC(rand_r(seed) % 4,
					      VMACCEL_IOCTL_TYPE,
					      0x50 + rand_r(seed) % 32,
					      rand_r(seed) % 256) :
			(unsigned int)rnd(seed);
		ret = ioctl(fd, cmd, st);
		break;
	}
	count(ret, errno);
}

static void fuzz_close(unsigned int *seed)
{
	int i = rand_r(seed) % SLOTS;

	pthread_mutex_lock(&slot_lock);
	if (slots[i] >= 0)
		close(slots[i]);
	slots[i] = -1;
	pthread_mutex_unlock(&slot_lock);
}

static void fuzz_sysfs(unsigned int *seed)
{
	static const char *const knobs[] = {
		"enabled", "interval_ms", "low_pct", "high_pct", "step_pct",
		"guest_free_pct", "stall_ms", "stats_max_age_ms",
		"test_available_pct",
	};
	char val[32];

	snprintf(val, sizeof(val), "%lld",
		 (long long)(rand_r(seed) % 4 ? rand_r(seed) % 120 - 2 :
			     (long long)rnd(seed)));
	balloon_set(knobs[rand_r(seed) % ARRAY_SIZE(knobs)], val);
}

static void *fuzzer(void *arg)
{
	unsigned int seed = (unsigned int)(uintptr_t)arg;
	__u64 end = balloon_now_ns() + RUN_MS * 1000000ULL;

	while (balloon_now_ns() < end) {
		switch (rand_r(&seed) % 10) {
		case 0: case 1: case 2:
			fuzz_register(&seed);
			break;
		case 3:
			fuzz_close(&seed);
			break;
		case 4:
			fuzz_sysfs(&seed);
			break;
		default:
			fuzz_vm(&seed);
			break;
		}
	}
	return NULL;
}

TEST(fuzz_all_ioctls_from_threads)
{
	pthread_t th[THREADS];
	long before;
	int i, vm;

	dev_fd = balloon_open();
	if (dev_fd < 0)
		SKIP(return, "%s: %s", BALLOON_DEV, strerror(errno));
	balloon_defaults();
	before = balloon_knob("vms");
	mem_fd = balloon_memfd(GUEST);
	small_fd = balloon_memfd(4096);
	efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	ASSERT_EQ(0, pipe(pipe_fds));
	dir_fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ASSERT_LE(0, mem_fd);
	ASSERT_LE(0, small_fd);
	ASSERT_LE(0, efd);
	ASSERT_LE(0, dir_fd);
	ASSERT_EQ(0, balloon_touch(mem_fd, 0, 4 * MiB));
	for (i = 0; i < SLOTS; i++)
		slots[i] = -1;

	for (i = 0; i < THREADS; i++)
		ASSERT_EQ(0, pthread_create(&th[i], NULL, fuzzer,
					    (void *)(uintptr_t)(i * 7919 + 1)));
	for (i = 0; i < THREADS; i++)
		pthread_join(th[i], NULL);
	balloon_defaults();

	TH_LOG("%ld calls; errors by errno:", calls);
	for (i = 0; i < 256; i++)
		if (errs[i])
			TH_LOG("  %s: %ld", strerror(i), errs[i]);
	EXPECT_EQ(0, undocumented);
	EXPECT_LT(1000, calls);

	/* Still works; nothing left registered once the slots are closed. */
	vm = balloon_register(dev_fd, mem_fd, efd, GUEST, 16 * MiB, GUEST);
	EXPECT_LE(0, vm);
	close(vm);
	for (i = 0; i < SLOTS; i++)
		if (slots[i] >= 0)
			close(slots[i]);
	EXPECT_EQ(before, balloon_knob("vms"));
	close(dir_fd);
	close(pipe_fds[0]);
	close(pipe_fds[1]);
	close(efd);
	close(small_fd);
	close(mem_fd);
	close(dev_fd);
}

TEST_HARNESS_MAIN
