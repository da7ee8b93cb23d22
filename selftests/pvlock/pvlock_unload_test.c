// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmaccel_pvlock selftest: unloading and reloading the module.
 *
 * - An open device fd pins the module, with or without a run going on:
 *   delete_module(2) fails with EWOULDBLOCK (or EBUSY) and the run goes on
 *   and reports correct results.
 * - With nothing open the module unloads, its device and sysfs directory go
 *   away, and finit_module(2) brings back a fresh one.
 * - Stress: the heaviest path, several VMM-like users at once.  One worker
 *   per CPU (at least two) opens one or two fds and starts torture runs on
 *   them with a thread per CPU or more (every lock kind, kick verification,
 *   the API, interrupts off), collects the results (blocking, polling, after
 *   a STOP) or closes the fd with the run going, over and over, while
 *   another thread keeps trying to unload the module and reloads it
 *   whenever that succeeded.  Each round has a phase in which the main
 *   thread holds an fd with a long run going (every unload must be
 *   refused), a free phase, and a quiet point at which nothing is open:
 *   no run may be active then, and the unload must succeed.  An unload
 *   that succeeds while some fd was open for the whole call is an error.
 *
 * The runner loads the module before and unloads it after this program;
 * every test leaves it loaded.  The module file is
 * $VMACCEL_KO_DIR/pvlock/vmaccel_pvlock.ko, or pvlock/vmaccel_pvlock.ko
 * from the repository root (the current directory) when VMACCEL_KO_DIR is
 * unset.  VMACCEL_STRESS_SECS sets the length of the stress test
 * (default 12).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <sys/syscall.h>

#include "pvlock_util.h"
#include "../lib/vmaccel_kmod.h"

#define UL_MOD			"vmaccel_pvlock"
#define UL_SYSMOD		"/sys/module/" UL_MOD
#define UL_RUNS_ACTIVE		PVLOCK_SYSFS "runs_active"
#define UL_DEFAULT_SECS		12
#define UL_MAX_WORKERS		64
#define UL_FDS			2	/* fds of one worker at once, at most */
#define UL_MAX_FAILS		8
#define UL_WAIT_SECS		120	/* for a thread to reach a point */
#define UL_NSEC_PER_MSEC	1000000ULL

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

/* References on the module (open fds of its device), or -errno. */
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

/* The module's active runs, or -1. */
static long long ul_runs_active(void)
{
	__u64 n;

	return pvlock_sysfs_u64(UL_RUNS_ACTIVE, &n) ? -1 : (long long)n;
}

/* The device is gone (or going): what open() says then. */
static bool ul_absent(int err)
{
	return err == ENOENT || err == ENODEV || err == ENXIO;
}

/*
 * Why the results of a run of @p are wrong, or NULL.  @stopped: a STOP may
 * have come before the end.
 */
static const char *ul_bad_result(const struct vmaccel_pvlock_run *p,
				 const struct vmaccel_pvlock_result *r,
				 bool stopped)
{
	__u64 sum = 0;
	__u32 i;

	if (r->run.kind != p->kind || r->run.flags != p->flags ||
	    r->run.nr_threads != p->nr_threads ||
	    r->run.duration_ms != p->duration_ms ||
	    r->run.cs_ns != p->cs_ns || r->run.outside_ns != p->outside_ns)
		return "not the parameters of the run";
	if (r->nr_cpus != (__u32)pvlock_nr_cpus())
		return "wrong CPU count";
	if (r->status & VMACCEL_PVLOCK_STATUS_FAILURE || r->violations ||
	    r->fifo_violations || r->lost_wakeups)
		return "the lock failed (violations, FIFO order or lost wake-ups)";
	if (r->status & VMACCEL_PVLOCK_STATUS_STOPPED && !stopped)
		return "STOPPED without a STOP";
	if (!(r->status & VMACCEL_PVLOCK_STATUS_STOPPED) &&
	    r->elapsed_ns < p->duration_ms * UL_NSEC_PER_MSEC)
		return "ended early";
	for (i = 0; i < VMACCEL_PVLOCK_MAX_THREADS; i++) {
		if (i >= p->nr_threads && r->per_thread[i])
			return "acquisitions of a thread that does not exist";
		sum += r->per_thread[i];
	}
	if (sum != r->acquisitions)
		return "per-thread acquisitions do not add up";
	if (r->blocked > r->taken_slow || r->wakeups > r->kicks ||
	    r->taken_slow > r->acquisitions)
		return "inconsistent slow-path counts";
	return NULL;
}

/* A run on a new fd works and reports exactly. */
static void ul_check_works(struct __test_metadata *_metadata)
{
	struct vmaccel_pvlock_run p;
	struct vmaccel_pvlock_result r;
	const char *why;

	p = pvlock_params(VMACCEL_PVLOCK_KIND_PV, pvlock_crowd(), 20, 200, 200,
			  VMACCEL_PVLOCK_RUN_VERIFY_KICKS);
	pvlock_must_run(_metadata, &p, &r);
	why = ul_bad_result(&p, &r, false);
	ASSERT_EQ(NULL, why) TH_LOG("%s", why);
	ASSERT_EQ(0U, r.status);
}

FIXTURE(unload) {
	char ko[PATH_MAX];
	int holders;
};

FIXTURE_SETUP(unload)
{
	const char *dir = getenv("VMACCEL_KO_DIR");

	snprintf(self->ko, sizeof(self->ko), "%s/pvlock/" UL_MOD ".ko",
		 dir && *dir ? dir : ".");
	ASSERT_TRUE(ul_loaded())
		TH_LOG("%s is not loaded (the runner loads it before the tests)",
		       UL_MOD);
	self->holders = ul_holders();
}

FIXTURE_TEARDOWN(unload)
{
	int r;

	/* Whatever happened, leave the module loaded. */
	if (ul_loaded())
		return;
	r = ul_load(self->ko);
	if (r && r != -EEXIST)
		TH_LOG("cannot reload %s: %s", self->ko, ul_load_hint(r));
}

/* The tests that reload need the module file. */
static void ul_need_ko(struct __test_metadata *_metadata, const char *ko)
{
	ASSERT_EQ(0, access(ko, R_OK))
		TH_LOG("module file %s: %s (set VMACCEL_KO_DIR)", ko,
		       strerror(errno));
}

/* Open fds pin the module, idle or with a run going on. */
TEST_F(unload, refused_while_in_use)
{
	struct vmaccel_pvlock_run p;
	struct vmaccel_pvlock_result r;
	long long active0;
	const char *why;
	int fd, fd2, ret;

	if (self->holders)
		SKIP(return, "%d modules depend on %s", self->holders, UL_MOD);
	/* Runs of other programs may be counted still; only ours matter. */
	active0 = ul_runs_active();
	ASSERT_LE(0, active0);
	fd = pvlock_open();
	ASSERT_LE(0, fd);

	/* An fd without a run. */
	ret = ul_unload();
	ASSERT_TRUE(ul_refused(ret))
		TH_LOG("delete_module with an fd open: %s",
		       ret ? strerror(-ret) : "unloaded");
	ASSERT_TRUE(ul_loaded());
	ASSERT_LE(1, ul_refcnt());

	/* A run on every CPU, on two fds. */
	fd2 = pvlock_open();
	ASSERT_LE(0, fd2);
	p = pvlock_params(VMACCEL_PVLOCK_KIND_PV, pvlock_crowd(),
			  VMACCEL_PVLOCK_DURATION_MS_MAX, 500, 500,
			  VMACCEL_PVLOCK_RUN_VERIFY_KICKS);
	ASSERT_EQ(0, pvlock_start(fd, &p));
	ASSERT_EQ(0, pvlock_start(fd2, &p));
	ASSERT_EQ(active0 + 2, ul_runs_active());
	ret = ul_unload();
	ASSERT_TRUE(ul_refused(ret))
		TH_LOG("delete_module with two runs going on: %s",
		       ret ? strerror(-ret) : "unloaded");
	ASSERT_TRUE(ul_loaded());

	/* The runs went on through it and end correctly. */
	ASSERT_EQ(0, pvlock_stop(fd));
	ASSERT_EQ(0, pvlock_result(fd, &r, 0));
	why = ul_bad_result(&p, &r, true);
	ASSERT_EQ(NULL, why) TH_LOG("%s", why);
	ASSERT_EQ(VMACCEL_PVLOCK_STATUS_STOPPED, r.status);
	ASSERT_LT(PVLOCK_U64(0), r.acquisitions);

	/* One fd closed with its run going, the other idle with results. */
	ASSERT_EQ(0, close(fd2));
	ASSERT_EQ(active0, ul_runs_active());
	ret = ul_unload();
	ASSERT_TRUE(ul_refused(ret))
		TH_LOG("delete_module with a finished run's fd open: %s",
		       ret ? strerror(-ret) : "unloaded");
	ASSERT_EQ(0, pvlock_result(fd, &r, VMACCEL_PVLOCK_RESULT_NONBLOCK));

	/* Everything closed: no reference left. */
	ASSERT_EQ(0, close(fd));
	ASSERT_EQ(0, ul_refcnt());
	ASSERT_EQ(active0, ul_runs_active());
}

/* Nothing open: the module unloads, and reloads as a fresh one. */
TEST_F(unload, unload_when_idle_and_reload)
{
	char buf[64], avail[64];
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
	ASSERT_EQ(-1, access(PVLOCK_SYSFS, F_OK));
	fd = pvlock_open();
	ASSERT_EQ(-1, fd) TH_LOG("%s opened without the module", PVLOCK_DEV);
	ASSERT_TRUE(ul_absent(errno))
		TH_LOG("open %s: %s", PVLOCK_DEV, strerror(errno));
	ASSERT_EQ(-ENOENT, ul_unload());

	r = ul_load(self->ko);
	ASSERT_EQ(0, r) TH_LOG("finit_module(%s): %s", self->ko,
			       ul_load_hint(r));
	ASSERT_TRUE(ul_loaded());
	ASSERT_EQ(-EEXIST, ul_load(self->ko));

	/* A fresh module: nothing running, documented defaults. */
	ASSERT_EQ(0, ul_runs_active());
	ASSERT_EQ(0, pvlock_sysfs_u64(PVLOCK_SYSFS "locks_in_use", &v));
	ASSERT_EQ(PVLOCK_U64(0), v);
	ASSERT_EQ(0, pvlock_sysfs_u64(PVLOCK_SYSFS "spin_threshold", &v));
	ASSERT_EQ(PVLOCK_U64(64), v);
	/* The best available backend: the first of the list. */
	ASSERT_EQ(0, pvlock_sysfs_read(PVLOCK_SYSFS "available_backends",
				       avail, sizeof(avail)));
	ASSERT_EQ(0, pvlock_sysfs_read(PVLOCK_SYSFS "backend", buf,
				       sizeof(buf)));
	ASSERT_EQ(0, strncmp(avail, buf, strlen(buf)));
	ASSERT_TRUE(avail[strlen(buf)] == ' ' || !avail[strlen(buf)]);

	ul_check_works(_metadata);
	ASSERT_EQ(0, ul_runs_active());
	ASSERT_EQ(0, ul_refcnt());
}

/* --- stress --- */

struct ul_stress;

struct ul_worker {
	struct ul_stress *s;
	pthread_t tid;
	int idx;
	__u64 rng;
	int nopen;			/* fds of the module open */
};

struct ul_stress {
	const char *ko;
	int nworkers;
	bool faulty;			/* allocations fail at random */
	atomic_bool stop;
	atomic_bool pause;		/* close everything and wait */
	atomic_int paused;
	atomic_bool pinned;		/* the main thread holds a run */
	/* Per worker: odd while the worker holds a device fd. */
	atomic_ulong gen[UL_MAX_WORKERS];
	atomic_ulong unloads, refused, refused_pinned, reloads, idle_unloads;
	atomic_ulong lifecycles, absent, runs, stops, abandoned, enomem;
	atomic_ulong acquisitions, blocked, kicks;
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
		pvlock_sleep_ms(1);
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

/* The heaviest runs: every CPU busy with the lock, several kinds. */
static struct vmaccel_pvlock_run ul_heavy_run(struct ul_worker *w)
{
	__u32 ncpu = (__u32)pvlock_nr_cpus();
	struct vmaccel_pvlock_run p;
	unsigned int r = ul_rand(w, 10);

	p = pvlock_params(VMACCEL_PVLOCK_KIND_PV,
			  ul_rand(w, 2) ? ncpu : pvlock_crowd(),
			  2 + ul_rand(w, 9), 100 + ul_rand(w, 2000),
			  ul_rand(w, 2000), 0);
	if (r < 3)
		p.flags = VMACCEL_PVLOCK_RUN_VERIFY_KICKS;
	else if (r < 5)
		p.flags = VMACCEL_PVLOCK_RUN_API;
	else if (r < 6)
		p.kind = VMACCEL_PVLOCK_KIND_TICKET;
	else if (r < 7)
		p.kind = VMACCEL_PVLOCK_KIND_SPINLOCK;
	if (!ul_rand(w, 4))
		p.flags |= VMACCEL_PVLOCK_RUN_IRQS_OFF;
	return p;
}

/* How a worker ends a run. */
enum { UL_WAIT, UL_POLL, UL_STOP, UL_ABANDON };

/* Collect the results of the run of @fd as @how says; checks them. */
static void ul_collect(struct ul_worker *w, int fd,
		       const struct vmaccel_pvlock_run *p, int how)
{
	struct ul_stress *s = w->s;
	struct vmaccel_pvlock_result r;
	const char *why;
	__u64 deadline;
	int ret;

	if (how == UL_STOP) {
		if (pvlock_stop(fd))
			ul_fail(s, "worker %d: STOP: %s", w->idx,
				strerror(errno));
		atomic_fetch_add(&s->stops, 1);
	}
	if (how == UL_POLL) {
		deadline = pvlock_now_ns() + UL_WAIT_SECS * 1000ULL *
			   UL_NSEC_PER_MSEC;
		while ((ret = pvlock_result(fd, &r,
					    VMACCEL_PVLOCK_RESULT_NONBLOCK)) &&
		       errno == EAGAIN && pvlock_now_ns() < deadline)
			pvlock_sleep_ms(1);
	} else {
		ret = pvlock_result(fd, &r, 0);
	}
	if (ret) {
		ul_fail(s, "worker %d: RESULT: %s", w->idx, strerror(errno));
		return;
	}
	why = ul_bad_result(p, &r, how == UL_STOP);
	if (why)
		ul_fail(s, "worker %d: kind %u flags %#x threads %u: %s",
			w->idx, p->kind, p->flags, p->nr_threads, why);
	atomic_fetch_add(&s->acquisitions, r.acquisitions);
	atomic_fetch_add(&s->blocked, r.blocked);
	atomic_fetch_add(&s->kicks, r.kicks);
}

/*
 * One VMM lifecycle: open one or two fds, run the torture on each at once,
 * collect the results or close with the run going, close.  Everything after
 * a successful open must work.
 */
static void ul_lifecycle(struct ul_worker *w)
{
	struct vmaccel_pvlock_run p[UL_FDS];
	struct ul_stress *s = w->s;
	int fd[UL_FDS], n, i, j, runs, err;
	bool started[UL_FDS];

	n = 1 + ul_rand(w, UL_FDS);
	for (i = 0; i < n; i++) {
		fd[i] = pvlock_open();
		if (fd[i] >= 0) {
			ul_hold(w);
			continue;
		}
		err = errno;
		if (ul_absent(err))
			atomic_fetch_add(&s->absent, 1);	/* unloaded now */
		else if (s->faulty && err == ENOMEM)
			atomic_fetch_add(&s->enomem, 1);
		else
			ul_fail(s, "worker %d: open %s: %s", w->idx,
				PVLOCK_DEV, strerror(err));
		break;
	}
	n = i;
	runs = 1 + ul_rand(w, 3);
	for (j = 0; j < runs && n; j++) {
		for (i = 0; i < n; i++) {
			p[i] = ul_heavy_run(w);
			started[i] = !pvlock_start(fd[i], &p[i]);
			if (started[i]) {
				atomic_fetch_add(&s->runs, 1);
			} else if (s->faulty && errno == ENOMEM) {
				atomic_fetch_add(&s->enomem, 1);
			} else {
				ul_fail(s, "worker %d: START: %s", w->idx,
					strerror(errno));
			}
		}
		for (i = 0; i < n; i++) {
			int how = ul_rand(w, 8);

			if (!started[i])
				continue;
			/* A VMM that dies leaves its last runs going. */
			if (how == 7 && j == runs - 1) {
				atomic_fetch_add(&s->abandoned, 1);
				continue;
			}
			ul_collect(w, fd[i], &p[i],
				   how < 4 ? UL_WAIT : how < 6 ? UL_POLL : UL_STOP);
		}
	}
	for (i = 0; i < n; i++)
		ul_release(w, fd[i]);
	atomic_fetch_add(&s->lifecycles, 1);
}

static void *ul_worker_fn(void *arg)
{
	struct ul_worker *w = arg;
	struct ul_stress *s = w->s;

	while (!atomic_load(&s->stop)) {
		ul_maybe_pause(s);
		if (atomic_load(&s->stop))
			break;
		ul_lifecycle(w);
		/* Now and then nothing open, so that an unload can succeed. */
		if (!ul_rand(w, 3))
			pvlock_sleep_ms(ul_rand(w, 3));
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
				ul_fail(s, "unloaded while the pinning run was going on");
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
		usleep(500);
	}
	return NULL;
}

typedef bool (*ul_cond_fn)(struct ul_stress *s, unsigned long arg);

/* Wait for @cond over the threads, or for the stress to stop. */
static bool ul_wait(struct ul_stress *s, ul_cond_fn cond, unsigned long arg)
{
	__u64 deadline = pvlock_now_ns() + UL_WAIT_SECS * 1000ULL *
			 UL_NSEC_PER_MSEC;

	while (!cond(s, arg)) {
		if (atomic_load(&s->stop) || pvlock_now_ns() > deadline)
			return false;
		pvlock_sleep_ms(1);
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
	__u64 end = pvlock_now_ns() + ms * UL_NSEC_PER_MSEC;

	while (!atomic_load(&s->stop) && pvlock_now_ns() < end)
		pvlock_sleep_ms(5);
}

/* The pinning run: a long one on every CPU; its fd, or -1 (logged). */
static int ul_pin(struct ul_stress *s, struct vmaccel_pvlock_run *p)
{
	int fd;

	*p = pvlock_params(VMACCEL_PVLOCK_KIND_PV, (__u32)pvlock_nr_cpus(),
			   VMACCEL_PVLOCK_DURATION_MS_MAX, 1000, 1000,
			   VMACCEL_PVLOCK_RUN_VERIFY_KICKS);
	fd = pvlock_open();
	if (fd < 0) {
		ul_fail(s, "pin: open: %s", strerror(errno));
		return -1;
	}
	if (pvlock_start(fd, p)) {
		ul_fail(s, "pin: START: %s", strerror(errno));
		close(fd);
		return -1;
	}
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

/*
 * At a quiet point nothing is open: no run may be active, and the module
 * must unload and reload.
 */
static bool ul_quiet_unload(struct ul_stress *s)
{
	long long active;
	int r;

	if (!ul_loaded()) {
		ul_fail(s, "module left unloaded by the unloader");
		return false;
	}
	active = ul_runs_active();
	if (ul_refcnt() != 0 || active != 0) {
		ul_fail(s, "nothing open: refcnt %d, runs_active %lld (%lu runs, %lu closed live)",
			ul_refcnt(), active, atomic_load(&s->runs),
			atomic_load(&s->abandoned));
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
	struct vmaccel_pvlock_run p;
	struct vmaccel_pvlock_result r;
	const char *why;
	int pin;

	pin = ul_pin(s, &p);
	if (pin < 0)
		return false;
	atomic_store(&s->pinned, true);
	ul_resume(s);
	ul_run_for(s, phase_ms);
	if (!ul_wait(s, ul_refused_pinned, refused))
		ul_fail(s, "no unload attempt while pinned");
	atomic_store(&s->pinned, false);
	/* The pinning run went on through all the attempts. */
	if (pvlock_stop(pin) || pvlock_result(pin, &r, 0)) {
		ul_fail(s, "pin: %s", strerror(errno));
	} else {
		why = ul_bad_result(&p, &r, true);
		if (why || !r.acquisitions ||
		    r.status != VMACCEL_PVLOCK_STATUS_STOPPED)
			ul_fail(s, "pin: status %#x, %llu acquisitions: %s",
				r.status, (unsigned long long)r.acquisitions,
				why ? why : "not stopped or no acquisition");
		atomic_fetch_add(&s->acquisitions, r.acquisitions);
	}
	close(pin);

	ul_run_for(s, phase_ms);
	return ul_quiesce(s) && ul_quiet_unload(s);
}

/* Whether allocations of this process fail at random (the fault pass). */
static bool ul_fault_injected(void)
{
	char buf[16];

	return !pvlock_sysfs_read("/proc/self/make-it-fail", buf, sizeof(buf)) &&
	       atoi(buf) > 0;
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
	ncpu = pvlock_nr_cpus();

	s = calloc(1, sizeof(*s));
	ASSERT_NE(NULL, s);
	s->ko = self->ko;
	s->faulty = ul_fault_injected();
	s->nworkers = ncpu < 2 ? 2 : ncpu > UL_MAX_WORKERS ? UL_MAX_WORKERS : ncpu;
	pthread_mutex_init(&s->lock, NULL);
	for (i = 0; i < s->nworkers; i++) {
		s->w[i].s = s;
		s->w[i].idx = i;
		s->w[i].rng = 0x9e3779b97f4a7c15ULL * (i + 1) + (__u64)time(NULL);
	}
	ksft_print_msg("unload: %d workers, <= %d fds each, runs of %ld or %u threads\n",
		       s->nworkers, UL_FDS, ncpu, pvlock_crowd());
	ksft_print_msg("unload: %u rounds of 2 x %u ms\n",
		       rounds, phase_ms);
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
	ksft_print_msg("unload: %lu lifecycles, %lu runs (%lu stopped, %lu closed running)\n",
		       atomic_load(&s->lifecycles), atomic_load(&s->runs),
		       atomic_load(&s->stops), atomic_load(&s->abandoned));
	ksft_print_msg("unload: %lu acquisitions, %lu blocked, %lu kicks\n",
		       atomic_load(&s->acquisitions), atomic_load(&s->blocked),
		       atomic_load(&s->kicks));
	ksft_print_msg("unload: %lu opens without a device, %lu ENOMEM\n",
		       atomic_load(&s->absent), atomic_load(&s->enomem));
	fflush(stdout);
	for (i = 0; i < (int)s->nfail && i < UL_MAX_FAILS; i++)
		TH_LOG("%s", s->fail[i]);
	ASSERT_EQ(0U, s->nfail);
	ASSERT_LE(PVLOCK_U64(rounds), PVLOCK_U64(atomic_load(&s->refused_pinned)));
	ASSERT_EQ(PVLOCK_U64(rounds), PVLOCK_U64(atomic_load(&s->idle_unloads)));
	ASSERT_EQ(atomic_load(&s->unloads), atomic_load(&s->reloads));
	free(s);

	/* Final state: loaded, nothing left, and it works. */
	ASSERT_TRUE(ul_loaded());
	ASSERT_EQ(0, ul_runs_active());
	ASSERT_EQ(0, ul_refcnt());
	ul_check_works(_metadata);
	ASSERT_EQ(0, ul_runs_active());
}

TEST_HARNESS_MAIN
