// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmaccel_vic selftest: unloading and reloading the module.
 *
 * - An open device or coalescer fd pins the module: delete_module(2) fails
 *   with EWOULDBLOCK (or EBUSY) and the coalescer keeps working.
 * - With nothing open the module unloads, its device and sysfs directory go
 *   away, and finit_module(2) brings back a fresh one.
 * - Stress: one "VMM" thread per CPU (at least two) opens the device,
 *   creates coalescers, pushes completions through them and closes
 *   everything, over and over, while another thread keeps trying to unload
 *   the module and reloads it whenever that succeeded.  Each round has a
 *   phase in which a pinning coalescer is open (every unload must be
 *   refused), a free phase, and a quiet point at which nothing is open (the
 *   unload must succeed).  An unload that succeeds while some fd was open
 *   for the whole call is an error.
 *
 * The runner loads the module before and unloads it after this program;
 * every test leaves it loaded.  The module file is
 * $VMACCEL_KO_DIR/vic/vmaccel_vic.ko, or vic/vmaccel_vic.ko from the
 * repository root (the current directory) when VMACCEL_KO_DIR is unset.
 * VMACCEL_STRESS_SECS sets the length of the stress test (default 12).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <sys/syscall.h>

#include "vic_util.h"
#include "../lib/vmaccel_kmod.h"

#define UL_MOD			"vmaccel_vic"
#define UL_SYSMOD		"/sys/module/" UL_MOD
#define UL_DEFAULT_SECS		12
#define UL_MAX_WORKERS		64
#define UL_PAIRS		3	/* coalescers per worker iteration, at most */
#define UL_MAX_FAILS		8
#define UL_WAIT_SECS		120	/* for a thread to reach a point */

/* --- module helpers: 0 or -errno --- */

static int ul_unload(void)
{
	return vmaccel_kmod_unload(UL_MOD);
}

#define ul_load		vmaccel_kmod_load
#define ul_load_hint	vmaccel_kmod_load_hint

static int ul_read_sys(const char *path, char *buf, size_t size)
{
	ssize_t r;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	r = read(fd, buf, size - 1);
	close(fd);
	if (r < 0)
		return -EIO;
	buf[r] = '\0';
	return 0;
}

static bool ul_loaded(void)
{
	char buf[32];

	return !ul_read_sys(UL_SYSMOD "/initstate", buf, sizeof(buf)) &&
	       !strcmp(buf, "live\n");
}

/* References on the module (open fds of its files), or -errno. */
static int ul_refcnt(void)
{
	char buf[32];
	int r;

	r = ul_read_sys(UL_SYSMOD "/refcnt", buf, sizeof(buf));
	return r ? r : atoi(buf);
}

/* Modules that depend on ours: it cannot be unloaded while they are. */
static int ul_holders(void)
{
	struct dirent *d;
	DIR *dir;
	int n = 0;

	dir = opendir(UL_SYSMOD "/holders");
	if (!dir)
		return 0;
	while ((d = readdir(dir)))
		if (d->d_name[0] != '.')
			n++;
	closedir(dir);
	return n;
}

static bool ul_refused(int r)
{
	return r == -EWOULDBLOCK || r == -EBUSY;
}

/* The module's live coalescers, or -1. */
static long long ul_coalescers(void)
{
	__u64 n;

	return vic_sysfs_u64("coalescers", &n) ? -1 : (long long)n;
}

/* A coalescer in "off" mode counts @n completions exactly. */
static void ul_check_works(struct __test_metadata *_metadata, unsigned int n)
{
	struct vmaccel_vic_params p = vic_params_off();
	struct vmaccel_vic_stats st;
	struct vic_env e;

	vic_env_open(_metadata, &e);
	vic_env_create(_metadata, &e, &p);
	ASSERT_EQ(0, vic_complete(e.src, n));
	vic_env_expect(_metadata, &e, n);
	st = vic_env_stats(_metadata, &e);
	ASSERT_EQ(VIC_U64(n), st.completions);
	ASSERT_EQ(VIC_U64(n), st.interrupts);
	vic_env_close(&e);
}

FIXTURE(unload) {
	char ko[PATH_MAX];
	int holders;
	/* Modules that held ours (vhost), unloaded for the test. */
	char held[4][VMACCEL_KMOD_NAME_LEN];
	int nheld;
};

FIXTURE_SETUP(unload)
{
	const char *dir = getenv("VMACCEL_KO_DIR");

	snprintf(self->ko, sizeof(self->ko), "%s/vic/" UL_MOD ".ko",
		 dir && *dir ? dir : ".");
	ASSERT_TRUE(ul_loaded())
		TH_LOG("%s is not loaded (the runner loads it before the tests)",
		       UL_MOD);
	/* With the whole suite loaded, vhost holds vic: take it out. */
	self->nheld = vmaccel_kmod_unload_holders(UL_MOD, self->held,
						  ARRAY_SIZE(self->held));
	if (self->nheld < 0) {
		TH_LOG("cannot take out the modules holding %s: %s", UL_MOD,
		       strerror(-self->nheld));
		self->nheld = 0;
	}
	self->holders = ul_holders();
}

FIXTURE_TEARDOWN(unload)
{
	int r;

	/* Whatever happened, leave the module (and its holders) loaded. */
	if (!ul_loaded()) {
		r = ul_load(self->ko);
		if (r && r != -EEXIST)
			TH_LOG("cannot reload %s: %s", self->ko,
			       ul_load_hint(r));
	}
	r = vmaccel_kmod_reload(self->held, self->nheld);
	if (r)
		TH_LOG("cannot reload the modules that held %s: %s", UL_MOD,
		       ul_load_hint(r));
}

/* The tests that reload need the module file. */
static void ul_need_ko(struct __test_metadata *_metadata, const char *ko)
{
	ASSERT_EQ(0, access(ko, R_OK))
		TH_LOG("module file %s: %s (set VMACCEL_KO_DIR)", ko,
		       strerror(errno));
}

/* Open device and coalescer fds pin the module. */
TEST_F(unload, refused_while_in_use)
{
	struct vmaccel_vic_params p = vic_params_off();
	struct vmaccel_vic_stats st;
	struct vic_env e;
	int r, dev2;

	if (self->holders)
		SKIP(return, "%d modules depend on %s", self->holders, UL_MOD);
	vic_env_open(_metadata, &e);
	vic_env_create(_metadata, &e, &p);

	/* Device and coalescer open. */
	r = ul_unload();
	ASSERT_TRUE(ul_refused(r))
		TH_LOG("delete_module with fds open: %s",
		       r ? strerror(-r) : "unloaded");
	ASSERT_TRUE(ul_loaded());

	/* Only the coalescer (and its eventfds) open. */
	close(e.dev);
	e.dev = -1;
	ASSERT_LE(1, ul_refcnt());
	r = ul_unload();
	ASSERT_TRUE(ul_refused(r))
		TH_LOG("delete_module with a coalescer open: %s",
		       r ? strerror(-r) : "unloaded");
	ASSERT_TRUE(ul_loaded());

	/* The coalescer still works, exactly. */
	ASSERT_EQ(0, vic_complete(e.src, 50));
	vic_env_expect(_metadata, &e, 50);
	st = vic_env_stats(_metadata, &e);
	ASSERT_EQ(VIC_U64(50), st.completions);
	ASSERT_EQ(VIC_U64(50), st.interrupts);

	/* Only a device fd open. */
	dev2 = vic_open_dev();
	ASSERT_LE(0, dev2);
	close(e.fd);
	e.fd = -1;
	r = ul_unload();
	ASSERT_TRUE(ul_refused(r))
		TH_LOG("delete_module with the device open: %s",
		       r ? strerror(-r) : "unloaded");
	ASSERT_TRUE(ul_loaded());
	close(dev2);

	/* Everything closed: no reference left. */
	vic_env_close(&e);
	ASSERT_EQ(0, ul_refcnt());
	ASSERT_EQ(0, ul_coalescers());
}

/* Nothing open: the module unloads, and reloads as a fresh one. */
TEST_F(unload, unload_when_idle_and_reload)
{
	struct vmaccel_vic_params p;
	struct vic_env e;
	__u64 v;
	int r, fd;

	if (self->holders)
		SKIP(return, "%d modules depend on %s", self->holders, UL_MOD);
	ul_need_ko(_metadata, self->ko);
	ASSERT_EQ(0, ul_refcnt());
	r = ul_unload();
	ASSERT_EQ(0, r) TH_LOG("delete_module with nothing open: %s",
			       strerror(-r));
	ASSERT_FALSE(ul_loaded());
	ASSERT_EQ(-1, access(UL_SYSMOD, F_OK));
	ASSERT_EQ(-1, access(VIC_SYSFS, F_OK));
	fd = vic_open_dev();
	ASSERT_EQ(-1, fd) TH_LOG("%s opened without the module", VIC_DEV);
	ASSERT_TRUE(errno == ENOENT || errno == ENODEV)
		TH_LOG("open %s: %s", VIC_DEV, strerror(errno));
	ASSERT_EQ(-ENOENT, ul_unload());

	r = ul_load(self->ko);
	ASSERT_EQ(0, r) TH_LOG("finit_module(%s): %s", self->ko,
			       ul_load_hint(r));
	ASSERT_TRUE(ul_loaded());
	ASSERT_EQ(-EEXIST, ul_load(self->ko));

	/* A fresh module: counters at zero, documented defaults. */
	ASSERT_EQ(0, vic_sysfs_u64("coalescers", &v));
	ASSERT_EQ(VIC_U64(0), v);
	ASSERT_EQ(0, vic_sysfs_u64("completions", &v));
	ASSERT_EQ(VIC_U64(0), v);
	ASSERT_EQ(0, vic_sysfs_u64("interrupts", &v));
	ASSERT_EQ(VIC_U64(0), v);
	vic_env_open(_metadata, &e);
	vic_env_create(_metadata, &e, NULL);
	ASSERT_EQ(0, vic_get_params(e.fd, &p));
	vic_env_close(&e);
	ASSERT_EQ((__u32)VMACCEL_VIC_MODE_ADAPTIVE, p.mode);
	ASSERT_EQ(4U, p.fixed_ratio);
	ASSERT_EQ(4U, p.cif_threshold);
	ASSERT_EQ(2000U, p.iops_threshold);
	ASSERT_EQ(200U, p.max_delay_us);
	ASSERT_EQ(32U, p.max_ratio);

	ul_check_works(_metadata, 100);
	ASSERT_EQ(0, vic_sysfs_u64("completions", &v));
	ASSERT_EQ(VIC_U64(100), v);
	ASSERT_EQ(0, ul_coalescers());
	ASSERT_EQ(0, ul_refcnt());
}

/* --- stress --- */

struct ul_stress;

struct ul_worker {
	struct ul_stress *s;
	pthread_t tid;
	int idx;
	__u64 rng;
	int src[UL_PAIRS], dst[UL_PAIRS];
	int nopen;			/* fds of the module open */
};

struct ul_stress {
	const char *ko;
	int nworkers;
	atomic_bool stop;
	atomic_bool pause;		/* close everything and wait */
	atomic_int paused;
	atomic_bool pinned;		/* the main thread holds a coalescer */
	/* Per worker: odd while the worker holds a device or coalescer fd. */
	atomic_ulong gen[UL_MAX_WORKERS];
	atomic_ulong unloads, refused, refused_pinned, reloads, idle_unloads;
	atomic_ulong lifecycles, absent, coalescers, completions;
	pthread_mutex_t lock;
	unsigned int nfail;
	char fail[UL_MAX_FAILS][256];
	struct ul_worker w[UL_MAX_WORKERS];
};

static void ul_fail(struct ul_stress *s, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&s->lock);
	if (s->nfail < UL_MAX_FAILS) {
		va_start(ap, fmt);
		vsnprintf(s->fail[s->nfail], sizeof(s->fail[0]), fmt, ap);
		va_end(ap);
	}
	s->nfail++;
	pthread_mutex_unlock(&s->lock);
}

static unsigned int ul_rand(struct ul_worker *w, unsigned int n)
{
	w->rng ^= w->rng << 13;
	w->rng ^= w->rng >> 7;
	w->rng ^= w->rng << 17;
	return (unsigned int)(w->rng % n);
}

/* Wait while the main thread asks everyone to stand still. */
static void ul_maybe_pause(struct ul_stress *s)
{
	if (!atomic_load(&s->pause))
		return;
	atomic_fetch_add(&s->paused, 1);
	while (atomic_load(&s->pause) && !atomic_load(&s->stop))
		vic_sleep_ms(1);
	atomic_fetch_sub(&s->paused, 1);
}

/* A module fd was opened: the worker now holds the module. */
static void ul_hold(struct ul_worker *w)
{
	if (w->nopen++ == 0)
		atomic_fetch_add(&w->s->gen[w->idx], 1);	/* odd */
}

/* Close a module fd; the generation turns even before the last one. */
static void ul_release(struct ul_worker *w, int fd)
{
	if (--w->nopen == 0)
		atomic_fetch_add(&w->s->gen[w->idx], 1);	/* even */
	if (close(fd))
		ul_fail(w->s, "worker %d: close: %s", w->idx, strerror(errno));
}

/*
 * One VMM lifecycle: open the device, create coalescers, push completions
 * through them, close.  Everything after a successful open must work.
 */
static void ul_lifecycle(struct ul_worker *w)
{
	struct vmaccel_vic_params p = vic_params_off();
	struct ul_stress *s = w->s;
	int dev, fd[UL_PAIRS], n, i, j;
	struct vmaccel_vic_stats st;
	unsigned int m[UL_PAIRS];
	__s64 got[UL_PAIRS], r;

	dev = vic_open_dev();
	if (dev < 0) {
		if (errno == ENOENT || errno == ENODEV) {
			/* Unloaded right now. */
			atomic_fetch_add(&s->absent, 1);
			return;
		}
		ul_fail(s, "worker %d: open %s: %s", w->idx, VIC_DEV,
			strerror(errno));
		return;
	}
	ul_hold(w);
	n = 1 + ul_rand(w, UL_PAIRS);
	for (i = 0; i < n; i++) {
		fd[i] = vic_create(dev, w->src[i], w->dst[i], &p);
		if (fd[i] < 0) {
			ul_fail(s, "worker %d: CREATE: %s", w->idx,
				strerror(errno));
			break;
		}
		ul_hold(w);
		atomic_fetch_add(&s->coalescers, 1);
	}
	n = i;
	if (ul_rand(w, 2))
		ul_release(w, dev);	/* a VMM keeps only the coalescers */
	else
		dev = -1 - dev;		/* closed last */

	for (i = 0; i < n; i++) {
		m[i] = 1 + ul_rand(w, 32);
		got[i] = 0;
		for (j = 0; j < (int)m[i]; j++) {
			if (vic_signal(w->src[i], 1))
				ul_fail(s, "worker %d: write: %s", w->idx,
					strerror(errno));
			if (j % 8 == 7) {
				r = vic_take(w->dst[i]);
				if (r < 0)
					ul_fail(s, "worker %d: read: %s",
						w->idx, strerror(errno));
				else
					got[i] += r;
			}
		}
		if (vic_set_cif(fd[i], ul_rand(w, 64)) || vic_flush(fd[i]) ||
		    vic_get_stats(fd[i], &st))
			ul_fail(s, "worker %d: ioctl: %s", w->idx,
				strerror(errno));
		else if (st.completions != m[i] || st.interrupts != m[i])
			ul_fail(s, "worker %d: %u completions gave stats %llu/%llu",
				w->idx, m[i],
				(unsigned long long)st.completions,
				(unsigned long long)st.interrupts);
	}
	for (i = 0; i < n; i++) {
		ul_release(w, fd[i]);
		/* Closing delivered everything: the target holds it all. */
		r = vic_take(w->dst[i]);
		if (r < 0 || got[i] + r != m[i])
			ul_fail(s,
				"worker %d: %u completions, %lld interrupts on the target after close",
				w->idx, m[i], (long long)(got[i] + r));
		atomic_fetch_add(&s->completions, m[i]);
	}
	if (dev < 0)
		ul_release(w, -1 - dev);
	atomic_fetch_add(&s->lifecycles, 1);
}

static void *ul_worker_fn(void *arg)
{
	struct ul_worker *w = arg;
	struct ul_stress *s = w->s;

	while (!atomic_load(&s->stop)) {
		ul_maybe_pause(s);
		ul_lifecycle(w);
		/* Now and then nothing open, so that an unload can succeed. */
		if (!ul_rand(w, 4))
			vic_sleep_ms(ul_rand(w, 2));
	}
	return NULL;
}

/* Keeps trying to unload; reloads after every success. */
static void *ul_unloader_fn(void *arg)
{
	struct ul_stress *s = arg;
	unsigned long before[UL_MAX_WORKERS];
	bool pin_before, pin_after;
	int i, r;

	while (!atomic_load(&s->stop)) {
		ul_maybe_pause(s);
		pin_before = atomic_load(&s->pinned);
		for (i = 0; i < s->nworkers; i++)
			before[i] = atomic_load(&s->gen[i]);
		r = ul_unload();
		pin_after = atomic_load(&s->pinned);
		if (ul_refused(r)) {
			atomic_fetch_add(&s->refused, 1);
			if (pin_before && pin_after)
				atomic_fetch_add(&s->refused_pinned, 1);
		} else if (r) {
			ul_fail(s, "delete_module: %s", strerror(-r));
		} else {
			atomic_fetch_add(&s->unloads, 1);
			/* Unloaded although an fd was open for the whole call? */
			if (pin_before && pin_after)
				ul_fail(s, "unloaded while the pinning coalescer was open");
			for (i = 0; i < s->nworkers; i++)
				if ((before[i] & 1) &&
				    atomic_load(&s->gen[i]) == before[i])
					ul_fail(s, "unloaded while worker %d held an fd",
						i);
			r = ul_load(s->ko);
			if (!r) {
				atomic_fetch_add(&s->reloads, 1);
			} else if (r != -EEXIST) {
				ul_fail(s, "finit_module(%s): %s", s->ko,
					ul_load_hint(r));
				atomic_store(&s->stop, true);
			}
		}
		usleep(200);
	}
	return NULL;
}

typedef bool (*ul_cond_fn)(struct ul_stress *s, unsigned long arg);

/* Wait for @cond over the threads, or for the stress to stop. */
static bool ul_wait(struct ul_stress *s, ul_cond_fn cond, unsigned long arg)
{
	__u64 deadline = vic_now_ns() + UL_WAIT_SECS * VIC_NSEC_PER_SEC;

	while (!cond(s, arg)) {
		if (atomic_load(&s->stop) || vic_now_ns() > deadline)
			return false;
		vic_sleep_ms(1);
	}
	return true;
}

static bool ul_all_paused(struct ul_stress *s, unsigned long n)
{
	return (unsigned long)atomic_load(&s->paused) == n;
}

static bool ul_refused_pinned(struct ul_stress *s, unsigned long n)
{
	return atomic_load(&s->refused_pinned) > n;
}

static void ul_run_for(struct ul_stress *s, unsigned int ms)
{
	__u64 end = vic_now_ns() + ms * VIC_NSEC_PER_MSEC;

	while (!atomic_load(&s->stop) && vic_now_ns() < end)
		vic_sleep_ms(5);
}

/*
 * The pinning coalescer: open while the module is known to be loaded, with
 * its device fd closed.  Returns the coalescer fd or -1 (failure logged).
 */
static int ul_pin(struct ul_stress *s, int *src, int *dst)
{
	struct vmaccel_vic_params p = vic_params_off();
	int dev, fd;

	*src = vic_eventfd();
	*dst = vic_eventfd();
	dev = vic_open_dev();
	if (*src < 0 || *dst < 0 || dev < 0) {
		ul_fail(s, "pin: open: %s", strerror(errno));
		return -1;
	}
	fd = vic_create(dev, *src, *dst, &p);
	if (fd < 0)
		ul_fail(s, "pin: CREATE: %s", strerror(errno));
	close(dev);
	return fd;
}

/* Let the threads go on after a quiet point. */
static void ul_resume(struct ul_stress *s)
{
	atomic_store(&s->pause, false);
}

/* Stop every thread with nothing open; false (logged) if they do not. */
static bool ul_quiesce(struct ul_stress *s)
{
	atomic_store(&s->pause, true);
	if (!ul_wait(s, ul_all_paused, s->nworkers + 1)) {
		ul_fail(s, "threads did not stop");
		return false;
	}
	return true;
}

/* At a quiet point nothing is open: the module must unload and reload. */
static bool ul_quiet_unload(struct ul_stress *s)
{
	int r;

	if (!ul_loaded()) {
		ul_fail(s, "module left unloaded by the unloader");
		return false;
	}
	if (ul_refcnt() != 0 || ul_coalescers() != 0) {
		ul_fail(s, "nothing open, but refcnt %d and %lld coalescers",
			ul_refcnt(), ul_coalescers());
		return false;
	}
	r = ul_unload();
	if (r) {
		ul_fail(s, "delete_module with nothing open: %s", strerror(-r));
		return false;
	}
	r = ul_load(s->ko);
	if (r) {
		ul_fail(s, "finit_module(%s): %s", s->ko, ul_load_hint(r));
		return false;
	}
	atomic_fetch_add(&s->idle_unloads, 1);
	return true;
}

/*
 * One round, starting and ending at a quiet point: a pinned phase (every
 * unload must be refused), a free phase, and an unload with nothing open.
 * Nothing here asserts: the threads are running.  False (logged) to stop.
 */
static bool ul_round(struct ul_stress *s, unsigned int phase_ms)
{
	unsigned long refused = atomic_load(&s->refused_pinned);
	int pin, src, dst;
	__s64 got;

	pin = ul_pin(s, &src, &dst);
	if (pin < 0)
		return false;
	atomic_store(&s->pinned, true);
	ul_resume(s);
	ul_run_for(s, phase_ms);
	if (!ul_wait(s, ul_refused_pinned, refused))
		ul_fail(s, "no unload attempt while pinned");
	atomic_store(&s->pinned, false);
	/* The pinning coalescer survived all the attempts. */
	if (vic_complete(src, 20) || vic_flush(pin))
		ul_fail(s, "pin: %s", strerror(errno));
	close(pin);
	got = vic_take(dst);
	if (got != 20)
		ul_fail(s, "pin: 20 completions, %lld interrupts", (long long)got);
	close(src);
	close(dst);

	ul_run_for(s, phase_ms);
	return ul_quiesce(s) && ul_quiet_unload(s);
}

TEST_F_TIMEOUT(unload, stress, 900)
{
	unsigned int secs, rounds, phase_ms;
	pthread_t unloader;
	struct ul_stress *s;
	const char *env;
	int i, started;
	long ncpu;

	if (self->holders)
		SKIP(return, "%d modules depend on %s", self->holders, UL_MOD);
	ul_need_ko(_metadata, self->ko);
	env = getenv("VMACCEL_STRESS_SECS");
	secs = env && *env ? (unsigned int)atoi(env) : UL_DEFAULT_SECS;
	if (!secs)
		secs = 1;
	rounds = secs / 4 ? secs / 4 : 1;
	phase_ms = secs * 1000 / (2 * rounds);
	ncpu = sysconf(_SC_NPROCESSORS_ONLN);

	s = calloc(1, sizeof(*s));
	ASSERT_NE(NULL, s);
	s->ko = self->ko;
	s->nworkers = ncpu < 2 ? 2 : ncpu > UL_MAX_WORKERS ? UL_MAX_WORKERS : ncpu;
	pthread_mutex_init(&s->lock, NULL);
	for (i = 0; i < s->nworkers; i++) {
		struct ul_worker *w = &s->w[i];
		int j;

		w->s = s;
		w->idx = i;
		w->rng = 0x9e3779b97f4a7c15ULL * (i + 1) + (__u64)time(NULL);
		for (j = 0; j < UL_PAIRS; j++) {
			w->src[j] = vic_eventfd();
			w->dst[j] = vic_eventfd();
			ASSERT_LE(0, w->src[j]);
			ASSERT_LE(0, w->dst[j]);
		}
	}
	ksft_print_msg("unload: %d workers, %u rounds of 2 x %u ms\n",
		       s->nworkers, rounds, phase_ms);
	fflush(stdout);

	/* Threads start paused; they are joined before anything is asserted. */
	atomic_store(&s->pause, true);
	for (started = 0; started < s->nworkers; started++)
		if (pthread_create(&s->w[started].tid, NULL, ul_worker_fn,
				   &s->w[started]))
			break;
	if (started == s->nworkers &&
	    !pthread_create(&unloader, NULL, ul_unloader_fn, s)) {
		if (ul_quiesce(s))
			for (i = 0; i < (int)rounds; i++)
				if (atomic_load(&s->stop) || !ul_round(s, phase_ms))
					break;
		atomic_store(&s->stop, true);
		pthread_join(unloader, NULL);
	} else {
		ul_fail(s, "cannot start threads");
	}
	atomic_store(&s->stop, true);
	for (i = 0; i < started; i++)
		pthread_join(s->w[i].tid, NULL);

	ksft_print_msg("unload: %lu unloads, %lu reloads, %lu refused (%lu pinned), %lu quiet\n",
		       atomic_load(&s->unloads), atomic_load(&s->reloads),
		       atomic_load(&s->refused),
		       atomic_load(&s->refused_pinned),
		       atomic_load(&s->idle_unloads));
	ksft_print_msg("unload: %lu lifecycles, %lu coalescers, %lu completions, %lu no device\n",
		       atomic_load(&s->lifecycles), atomic_load(&s->coalescers),
		       atomic_load(&s->completions), atomic_load(&s->absent));
	fflush(stdout);
	for (i = 0; i < (int)s->nfail && i < UL_MAX_FAILS; i++)
		TH_LOG("%s", s->fail[i]);
	ASSERT_EQ(0U, s->nfail);
	ASSERT_LE(VIC_U64(rounds), VIC_U64(atomic_load(&s->refused_pinned)));
	ASSERT_EQ(VIC_U64(rounds), VIC_U64(atomic_load(&s->idle_unloads)));
	ASSERT_EQ(atomic_load(&s->unloads), atomic_load(&s->reloads));

	/* Final state: loaded, nothing left, and it works. */
	for (i = 0; i < s->nworkers; i++) {
		int j;

		for (j = 0; j < UL_PAIRS; j++) {
			close(s->w[i].src[j]);
			close(s->w[i].dst[j]);
		}
	}
	free(s);
	ASSERT_TRUE(ul_loaded());
	ASSERT_EQ(0, ul_coalescers());
	ASSERT_EQ(0, ul_refcnt());
	ul_check_works(_metadata, 100);
}

TEST_HARNESS_MAIN
