// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmaccel_ksm selftest: a fuzzer that knows the ioctl structures.
 *
 * KF_THREADS threads call every vmaccel_ksm ioctl, and neighbouring ioctl
 * numbers, on a shared pool of fds (the device, VMACCEL_KSM_CREATE files,
 * other kinds of fds) with structures mutated from valid ones: random bits
 * in flags and reserved fields, boundary and random sizes, groups, offsets,
 * lengths and pass counts, and bad pointers (NULL, 1, a kernel address, an
 * unmapped page, a read-only page).  They also map, write, read, punch and
 * truncate the files, while one more thread closes pool fds and replaces
 * them under the others (close during use).  Every result must be success
 * or an errno documented for the call; the counts per call and errno are
 * printed.  At the end run=2 must leave nothing merged.
 * VMACCEL_FUZZ_SECS sets the length (default 8).
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "ksm_util.h"

#define KF_THREADS	4
#define KF_POOL		8
#define KF_CMDS		9
#define KF_ERRNOS	136

static const char *const kf_names[KF_CMDS] = {
	"CREATE", "SET_GROUP", "GET_GROUP", "MERGE_RANGE", "UNMERGE_RANGE",
	"GET_STATS", "SCAN", "neighbour", "file-op",
};

struct kf {
	atomic_int pool[KF_POOL];
	atomic_bool stop;
	atomic_long counts[KF_CMDS][KF_ERRNOS];
	atomic_long unexpected;
	char msg[200];
	void *unmapped, *rdonly;
};

static unsigned long kf_rand(unsigned long *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static __u64 kf_u64(unsigned long *s)
{
	static const __u64 edge[] = {
		0, 1, KSM_PAGE - 1, KSM_PAGE, KSM_PAGE + 1, 16 * KSM_PAGE,
		1ULL << 31, 1ULL << 32, ~0ULL, ~0ULL - KSM_PAGE + 1,
		0x7ffffffffffff000ULL,
	};
	unsigned long r = kf_rand(s);

	if (r & 1)
		return edge[(r >> 1) % ARRAY_SIZE(edge)];
	return (r & 2) ? ((r >> 8) % 64) * KSM_PAGE : r;
}

static void *kf_ptr(struct kf *k, unsigned long *s, void *good)
{
	switch (kf_rand(s) % 12) {
	case 0: return NULL;
	case 1: return (void *)1;
	case 2: return (void *)0xffffffff81000000UL;
	case 3: return k->unmapped;
	case 4: return k->rdonly;
	default: return good;
	}
}

static int kf_fd(struct kf *k, unsigned long *s)
{
	if (kf_rand(s) % 16 == 0)
		return kf_rand(s) % 2 ? -1 : 4000;
	return atomic_load(&k->pool[kf_rand(s) % KF_POOL]);
}

static void kf_count(struct kf *k, int cmd, long ret, const int *ok_errnos)
{
	int e = ret < 0 ? errno : 0, i;

	if (e >= KF_ERRNOS)
		e = KF_ERRNOS - 1;
	atomic_fetch_add(&k->counts[cmd][e], 1);
	if (!e)
		return;
	for (i = 0; ok_errnos[i]; i++)
		if (ok_errnos[i] == e)
			return;
	if (atomic_fetch_add(&k->unexpected, 1) == 0)
		snprintf(k->msg, sizeof(k->msg), "%s: unexpected %s",
			 kf_names[cmd], strerror(e));
}

/* Everything any call may return on a fuzzed input or a raced fd. */
static const int kf_ok[] = {
	EINVAL, EFAULT, ENOTTY, EBADF, ENOMEM, EINTR, EMFILE, ENOSPC,
	EOPNOTSUPP, EFBIG, EACCES, EPERM, ENODEV, ESPIPE, EISDIR, ENOTDIR,
	EIO, EAGAIN, 0,
};

static void kf_one(struct kf *k, unsigned long *s)
{
	union {
		struct vmaccel_ksm_create c;
		struct vmaccel_ksm_group g;
		struct vmaccel_ksm_range r;
		struct vmaccel_ksm_file_stats st;
		struct vmaccel_ksm_scan sc;
		char raw[128];
	} u;
	int fd = kf_fd(k, s), cmd = kf_rand(s) % KF_CMDS;
	unsigned int nr;
	char buf[256] = { 0 };
	long ret;

	memset(&u, 0, sizeof(u));
	if (kf_rand(s) % 8 == 0)
		for (nr = 0; nr < sizeof(u.raw); nr++)
			u.raw[nr] = kf_rand(s);
	switch (cmd) {
	case 0:
		u.c.size = kf_u64(s) % (kf_rand(s) % 4 ? 1 << 20 : ~0ULL);
		if (kf_rand(s) % 3 == 0)
			u.c.flags = kf_rand(s) % 8;
		else
			u.c.flags = VMACCEL_KSM_CREATE_CLOEXEC;
		ret = ioctl(fd, VMACCEL_KSM_CREATE, kf_ptr(k, s, &u));
		if (ret >= 0)
			close(ret);
		break;
	case 1:
		u.g.group = kf_rand(s) % 4;
		ret = ioctl(fd, VMACCEL_KSM_SET_GROUP, kf_ptr(k, s, &u));
		break;
	case 2:
		ret = ioctl(fd, VMACCEL_KSM_GET_GROUP, kf_ptr(k, s, &u));
		break;
	case 3:
	case 4:
		u.r.offset = kf_u64(s);
		u.r.length = kf_u64(s);
		ret = ioctl(fd, cmd == 3 ? VMACCEL_KSM_MERGE_RANGE :
			    VMACCEL_KSM_UNMERGE_RANGE, kf_ptr(k, s, &u));
		break;
	case 5:
		ret = ioctl(fd, VMACCEL_KSM_GET_STATS, kf_ptr(k, s, &u));
		break;
	case 6:
		u.sc.passes = kf_rand(s) % 3 ? 1 : kf_rand(s) % 20;
		ret = ioctl(fd, VMACCEL_KSM_SCAN, kf_ptr(k, s, &u));
		break;
	case 7:
		nr = 0x30 + kf_rand(s) % 0x20;
		ret = ioctl(fd, _IOC(kf_rand(s) % 4, VMACCEL_IOCTL_TYPE, nr,
				     kf_rand(s) % 80), kf_ptr(k, s, &u));
		break;
	default: {
		__u64 off = kf_u64(s) % (64 * KSM_PAGE);
		char *p;

		switch (kf_rand(s) % 6) {
		case 0:
			ret = pwrite(fd, buf, sizeof(buf), off);
			break;
		case 1:
			ret = pread(fd, buf, sizeof(buf), off);
			break;
		case 2:
			ret = fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
					off, kf_u64(s) % (32 * KSM_PAGE) + 1);
			break;
		case 3:
			/* Only growing: a mapping's memset must not SIGBUS. */
			ret = ftruncate(fd, 64 * KSM_PAGE +
					kf_u64(s) % (64 * KSM_PAGE));
			break;
		default:
			p = mmap(NULL, 16 * KSM_PAGE, PROT_READ | PROT_WRITE,
				 MAP_SHARED, fd, 0);
			ret = p == MAP_FAILED ? -1 : 0;
			if (!ret) {
				struct stat sb;

				/* Pool files never shrink below 64 pages. */
				if (!fstat(fd, &sb) && sb.st_size >= 64 * (off_t)KSM_PAGE)
					memset(p, kf_rand(s) % 3, 64);
				munmap(p, 16 * KSM_PAGE);
			}
			break;
		}
		if (ret > 0)
			ret = 0;
	}
	}
	kf_count(k, cmd, ret, kf_ok);
}

static void *kf_worker(void *arg)
{
	struct kf *k = arg;
	unsigned long s = (unsigned long)pthread_self() | 1;

	while (!atomic_load(&k->stop))
		kf_one(k, &s);
	return NULL;
}

static int kf_new_fd(unsigned long r)
{
	switch (r % 4) {
	case 0:
		return open(KSM_DEV, O_RDWR | O_CLOEXEC);
	case 1:
		return open("/dev/null", O_RDWR | O_CLOEXEC);
	default:
		/* Small files: writes through a mapping stay inside. */
		return ksm_create(64 * KSM_PAGE, r % 3);
	}
}

static void *kf_closer(void *arg)
{
	struct kf *k = arg;
	unsigned long s = 99;

	while (!atomic_load(&k->stop)) {
		int i = kf_rand(&s) % KF_POOL, fd = kf_new_fd(kf_rand(&s));
		int old = atomic_exchange(&k->pool[i], fd);

		if (old >= 0)
			close(old);
		usleep(2000);
	}
	return NULL;
}

TEST(fuzz)
{
	const char *env = getenv("VMACCEL_FUZZ_SECS");
	int secs = env ? atoi(env) : 8, i, e;
	pthread_t th[KF_THREADS + 1];
	long total = 0;
	struct kf *k;

	if (!ksm_present())
		SKIP(return, "vmaccel_ksm not loaded");
	ksm_quiet();
	k = calloc(1, sizeof(*k));
	ASSERT_NE(NULL, k);
	k->unmapped = mmap(NULL, KSM_PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
			   -1, 0);
	k->rdonly = mmap(NULL, KSM_PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS,
			 -1, 0);
	ASSERT_NE(MAP_FAILED, k->unmapped);
	ASSERT_EQ(0, munmap(k->unmapped, KSM_PAGE));
	for (i = 0; i < KF_POOL; i++)
		atomic_store(&k->pool[i], kf_new_fd(i));
	ASSERT_EQ(0, ksm_sys_set("run", "1"));
	ASSERT_EQ(0, ksm_sys_set("sleep_millisecs", "1"));
	for (i = 0; i < KF_THREADS; i++)
		ASSERT_EQ(0, pthread_create(&th[i], NULL, kf_worker, k));
	ASSERT_EQ(0, pthread_create(&th[KF_THREADS], NULL, kf_closer, k));
	sleep(secs);
	atomic_store(&k->stop, true);
	for (i = 0; i <= KF_THREADS; i++)
		pthread_join(th[i], NULL);
	for (i = 0; i < KF_CMDS; i++) {
		char line[1024];
		int n = 0;

		for (e = 0; e < KF_ERRNOS; e++) {
			long c = atomic_load(&k->counts[i][e]);

			if (!c)
				continue;
			total += c;
			n += snprintf(line + n, sizeof(line) - n, " %s=%ld",
				      e ? strerrorname_np(e) ?: "?" : "ok", c);
			if (n >= (int)sizeof(line) - 40)
				break;
		}
		printf("# fuzz: %s:%s\n", kf_names[i], line);
	}
	printf("# fuzz: %ld calls\n", total);
	fflush(stdout);
	EXPECT_EQ(0, atomic_load(&k->unexpected)) TH_LOG("%s", k->msg);
	EXPECT_LT(1000, total);
	for (i = 0; i < KF_POOL; i++)
		close(atomic_load(&k->pool[i]));
	ASSERT_EQ(0, ksm_sys_set("run", "2"));
	EXPECT_EQ(0, ksm_sys_get("pages_shared"));
	EXPECT_EQ(0, ksm_sys_get("pages_sharing"));
	ksm_sys_set("sleep_millisecs", "20");
	ksm_quiet();
	free(k);
}

TEST_HARNESS_MAIN
