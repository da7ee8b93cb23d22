/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The framework of the vmaccel unload tests (selftests/<mod>/<mod>_unload_test.c).
 *
 * The fixture: the module file, the module loaded at the start and left
 * loaded at the end, the modules that hold it (vhost holds vic) taken out
 * for the test and loaded back.
 *
 * The stress: one worker per CPU (at least two) runs VMM-like lifecycles
 * on the module (the test's heavy path: open, use, close) over and over,
 * while an unloader thread keeps trying delete_module(2) and reloads the
 * module whenever that succeeded.  Each round, driven by the main thread,
 * has a pinned phase (the test holds the module busy: every unload must be
 * refused), a free phase, and a quiet point at which every thread stands
 * still with nothing open: the module must be idle there and unload.  A
 * worker's generation counter is odd while it holds a module fd, so an
 * unload that succeeded while some worker held an fd for the whole call
 * is caught.  Nothing asserts while threads run: failures are logged
 * (vmaccel_unload_fail()) and checked at the end.
 *
 * Include after "kselftest_harness.h" (the <mod>_util.h of the test).
 */
#ifndef VMACCEL_UNLOAD_H
#define VMACCEL_UNLOAD_H

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "vmaccel_kmod.h"
#include "vmaccel_sysfs.h"

#define VMACCEL_UL_MAX_WORKERS	64
#define VMACCEL_UL_MAX_FAILS	8
#define VMACCEL_UL_MAX_HELD	4
#define VMACCEL_UL_WAIT_SECS	120	/* for the threads to reach a point */
#define VMACCEL_UL_DEFAULT_SECS	12	/* VMACCEL_STRESS_SECS */

/* --- the fixture --- */

/**
 * struct vmaccel_unload_fixture - the module of an unload test
 * @ko: its module file
 * @holders: modules that still depend on it (the tests skip then)
 * @held: modules that held it, unloaded for the test
 * @nheld: how many
 */
struct vmaccel_unload_fixture {
	char ko[PATH_MAX];
	int holders;
	char held[VMACCEL_UL_MAX_HELD][VMACCEL_KMOD_NAME_LEN];
	int nheld;
};

/*
 * Module @mod (of directory @dir) must be loaded; the modules that hold it
 * are taken out (when they are ours and unused).
 */
static inline void vmaccel_unload_setup(struct __test_metadata *_metadata,
					struct vmaccel_unload_fixture *f,
					const char *dir, const char *mod)
{
	const char *top = getenv("VMACCEL_KO_DIR");

	snprintf(f->ko, sizeof(f->ko), "%s/%s/%s.ko", top && *top ? top : ".",
		 dir, mod);
	ASSERT_TRUE(vmaccel_kmod_loaded(mod))
		TH_LOG("%s is not loaded (the runner loads it before the tests)",
		       mod);
	f->nheld = vmaccel_kmod_unload_holders(mod, f->held,
					       VMACCEL_UL_MAX_HELD);
	if (f->nheld < 0) {
		TH_LOG("cannot take out the modules holding %s: %s", mod,
		       strerror(-f->nheld));
		f->nheld = 0;
	}
	f->holders = vmaccel_kmod_nr_holders(mod);
}

/* Whatever happened, leave module @mod (and its holders) loaded. */
static inline void vmaccel_unload_teardown(struct __test_metadata *_metadata,
					   struct vmaccel_unload_fixture *f,
					   const char *mod)
{
	int r;

	if (!vmaccel_kmod_loaded(mod)) {
		r = vmaccel_kmod_load(f->ko);
		if (r && r != -EEXIST)
			TH_LOG("cannot reload %s: %s", f->ko,
			       vmaccel_kmod_load_hint(r));
	}
	r = vmaccel_kmod_reload(f->held, f->nheld);
	if (r)
		TH_LOG("cannot reload the modules that held %s: %s", mod,
		       vmaccel_kmod_load_hint(r));
}

/* The tests that reload need the module file. */
static inline void vmaccel_unload_need_ko(struct __test_metadata *_metadata,
					  const char *ko)
{
	ASSERT_EQ(0, access(ko, R_OK))
		TH_LOG("module file %s: %s (set VMACCEL_KO_DIR)", ko,
		       strerror(errno));
}

/* --- the stress --- */

struct vmaccel_unload;

/**
 * struct vmaccel_unload_worker - one VMM-like thread
 * @s: the stress
 * @tid: its thread
 * @idx: its index in @s->w
 * @rng: xorshift state
 * @nopen: fds of the module it holds open
 */
struct vmaccel_unload_worker {
	struct vmaccel_unload *s;
	pthread_t tid;
	int idx;
	__u64 rng;
	int nopen;
};

/**
 * struct vmaccel_unload_ops - what the stress calls in the test
 * @lifecycle: one VMM lifecycle of a worker; takes its fds with
 *	vmaccel_unload_hold() and closes them with vmaccel_unload_release()
 * @pin: hold the module busy in the main thread (pinned phase); 0, or -1
 *	(logged)
 * @unpin: check that what pinned the module survived every unload
 *	attempt, and close it
 * @quiet: at a quiet point, with @refcnt references on the module: whether
 *	nothing is left (logged when something is)
 * @pinned: what pins, for the failure message ("the pinning run was going on")
 * @idle_one_in: a worker pauses after one lifecycle in so many ...
 * @idle_max_ms: ... for less than so many ms, so that unloads can succeed
 * @unloader_pause_us: between two unload attempts
 */
struct vmaccel_unload_ops {
	void (*lifecycle)(struct vmaccel_unload_worker *w);
	int (*pin)(struct vmaccel_unload *s);
	void (*unpin)(struct vmaccel_unload *s);
	bool (*quiet)(struct vmaccel_unload *s, int refcnt);
	const char *pinned;
	unsigned int idle_one_in;
	unsigned int idle_max_ms;
	unsigned int unloader_pause_us;
};

/**
 * struct vmaccel_unload - an unload stress
 * @ops: the test's part
 * @mod: module name
 * @ko: module file
 * @nworkers: workers, one per CPU, at least two
 * @faulty: allocations fail at random (the debug tier's fault pass)
 * @stop: tells every thread to end
 * @pause: tells every thread to close everything and wait
 * @paused: threads waiting
 * @pinned: the main thread holds the module busy
 * @gen: per worker, odd while the worker holds a module fd
 * @unloads: unloads of the unloader
 * @refused: unloads refused
 * @refused_pinned: unloads refused while pinned for the whole call
 * @reloads: reloads after an unload of the unloader
 * @idle_unloads: unloads at quiet points
 * @lifecycles: lifecycles of the workers
 * @absent: opens while the module was unloaded
 * @lock: protects @nfail and @fail
 * @nfail: failures
 * @fail: the first of them
 * @w: the workers
 */
struct vmaccel_unload {
	const struct vmaccel_unload_ops *ops;
	const char *mod;
	const char *ko;
	int nworkers;
	bool faulty;
	atomic_bool stop;
	atomic_bool pause;
	atomic_int paused;
	atomic_bool pinned;
	atomic_ulong gen[VMACCEL_UL_MAX_WORKERS];
	atomic_ulong unloads, refused, refused_pinned, reloads, idle_unloads;
	atomic_ulong lifecycles, absent;
	pthread_mutex_t lock;
	unsigned int nfail;
	char fail[VMACCEL_UL_MAX_FAILS][256];
	struct vmaccel_unload_worker w[VMACCEL_UL_MAX_WORKERS];
};

static inline void vmaccel_unload_fail(struct vmaccel_unload *s,
				       const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&s->lock);
	if (s->nfail < VMACCEL_UL_MAX_FAILS) {
		va_start(ap, fmt);
		vsnprintf(s->fail[s->nfail], sizeof(s->fail[0]), fmt, ap);
		va_end(ap);
	}
	s->nfail++;
	pthread_mutex_unlock(&s->lock);
}

/* A random number below @n (> 0). */
static inline unsigned int vmaccel_unload_rand(struct vmaccel_unload_worker *w,
					       unsigned int n)
{
	w->rng ^= w->rng << 13;
	w->rng ^= w->rng >> 7;
	w->rng ^= w->rng << 17;
	return (unsigned int)(w->rng % n);
}

/* Wait while the main thread asks everyone to stand still. */
static inline void vmaccel_unload_maybe_pause(struct vmaccel_unload *s)
{
	if (!atomic_load(&s->pause))
		return;
	atomic_fetch_add(&s->paused, 1);
	while (atomic_load(&s->pause) && !atomic_load(&s->stop))
		vmaccel_sleep_ms(1);
	atomic_fetch_sub(&s->paused, 1);
}

/* A module fd was opened: the worker now holds the module. */
static inline void vmaccel_unload_hold(struct vmaccel_unload_worker *w)
{
	if (w->nopen++ == 0)
		atomic_fetch_add(&w->s->gen[w->idx], 1);	/* odd */
}

/* Close a module fd; the generation turns even before the last one. */
static inline void vmaccel_unload_release(struct vmaccel_unload_worker *w,
					  int fd)
{
	if (--w->nopen == 0)
		atomic_fetch_add(&w->s->gen[w->idx], 1);	/* even */
	if (close(fd))
		vmaccel_unload_fail(w->s, "worker %d: close: %s", w->idx,
				    strerror(errno));
}

static inline void *vmaccel_unload_worker_fn(void *arg)
{
	struct vmaccel_unload_worker *w = arg;
	struct vmaccel_unload *s = w->s;

	while (!atomic_load(&s->stop)) {
		vmaccel_unload_maybe_pause(s);
		if (atomic_load(&s->stop))
			break;
		s->ops->lifecycle(w);
		/* Now and then nothing open, so that an unload can succeed. */
		if (!vmaccel_unload_rand(w, s->ops->idle_one_in))
			vmaccel_sleep_ms(vmaccel_unload_rand(w, s->ops->idle_max_ms));
	}
	return NULL;
}

/*
 * After an unload: nobody may have held the module for the whole call
 * (@pinned: the main thread did; @before: the workers' generations then).
 */
static inline void vmaccel_unload_check_holders(struct vmaccel_unload *s,
						const unsigned long *before,
						bool pinned)
{
	int i;

	if (pinned)
		vmaccel_unload_fail(s, "unloaded while %s", s->ops->pinned);
	for (i = 0; i < s->nworkers; i++)
		if ((before[i] & 1) && atomic_load(&s->gen[i]) == before[i])
			vmaccel_unload_fail(s, "unloaded while worker %d held an fd",
					    i);
}

/* Keeps trying to unload; reloads after every success. */
static inline void *vmaccel_unload_unloader_fn(void *arg)
{
	struct vmaccel_unload *s = arg;
	unsigned long before[VMACCEL_UL_MAX_WORKERS];
	bool pin_before, pin_after;
	int i, r;

	while (!atomic_load(&s->stop)) {
		vmaccel_unload_maybe_pause(s);
		pin_before = atomic_load(&s->pinned);
		for (i = 0; i < s->nworkers; i++)
			before[i] = atomic_load(&s->gen[i]);
		r = vmaccel_kmod_unload(s->mod);
		pin_after = atomic_load(&s->pinned);
		if (vmaccel_kmod_refused(r)) {
			atomic_fetch_add(&s->refused, 1);
			if (pin_before && pin_after)
				atomic_fetch_add(&s->refused_pinned, 1);
		} else if (r) {
			vmaccel_unload_fail(s, "delete_module: %s", strerror(-r));
		} else {
			atomic_fetch_add(&s->unloads, 1);
			vmaccel_unload_check_holders(s, before,
						     pin_before && pin_after);
			r = vmaccel_kmod_load(s->ko);
			if (!r) {
				atomic_fetch_add(&s->reloads, 1);
			} else if (r != -EEXIST) {
				vmaccel_unload_fail(s, "finit_module(%s): %s", s->ko,
						    vmaccel_kmod_load_hint(r));
				atomic_store(&s->stop, true);
			}
		}
		usleep(s->ops->unloader_pause_us);
	}
	return NULL;
}

/* Wait for @cond over the threads, or for the stress to stop. */
static inline bool vmaccel_unload_wait(struct vmaccel_unload *s,
				       bool (*cond)(struct vmaccel_unload *s,
						    unsigned long arg),
				       unsigned long arg)
{
	__u64 deadline = vmaccel_now_ns() +
			 VMACCEL_UL_WAIT_SECS * 1000000000ULL;

	while (!cond(s, arg)) {
		if (atomic_load(&s->stop) || vmaccel_now_ns() > deadline)
			return false;
		vmaccel_sleep_ms(1);
	}
	return true;
}

static inline bool vmaccel_unload_all_paused(struct vmaccel_unload *s,
					     unsigned long n)
{
	return (unsigned long)atomic_load(&s->paused) == n;
}

static inline bool vmaccel_unload_refused_pinned(struct vmaccel_unload *s,
						 unsigned long n)
{
	return atomic_load(&s->refused_pinned) > n;
}

static inline void vmaccel_unload_run_for(struct vmaccel_unload *s,
					  unsigned int ms)
{
	__u64 end = vmaccel_now_ns() + ms * 1000000ULL;

	while (!atomic_load(&s->stop) && vmaccel_now_ns() < end)
		vmaccel_sleep_ms(5);
}

/* Stop every thread with nothing open; false (logged) if they do not. */
static inline bool vmaccel_unload_quiesce(struct vmaccel_unload *s)
{
	atomic_store(&s->pause, true);
	if (!vmaccel_unload_wait(s, vmaccel_unload_all_paused,
				 s->nworkers + 1)) {
		vmaccel_unload_fail(s, "threads did not stop");
		return false;
	}
	return true;
}

/*
 * At a quiet point nothing is open: nothing may be left (ops->quiet), and
 * the module must unload and reload.
 */
static inline bool vmaccel_unload_quiet_unload(struct vmaccel_unload *s)
{
	int r;

	if (!vmaccel_kmod_loaded(s->mod)) {
		vmaccel_unload_fail(s, "module left unloaded by the unloader");
		return false;
	}
	if (!s->ops->quiet(s, vmaccel_kmod_refcnt(s->mod)))
		return false;
	r = vmaccel_kmod_unload(s->mod);
	if (r) {
		vmaccel_unload_fail(s, "delete_module with nothing open: %s",
				    strerror(-r));
		return false;
	}
	r = vmaccel_kmod_load(s->ko);
	if (r) {
		vmaccel_unload_fail(s, "finit_module(%s): %s", s->ko,
				    vmaccel_kmod_load_hint(r));
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
static inline bool vmaccel_unload_round(struct vmaccel_unload *s,
					unsigned int phase_ms)
{
	unsigned long refused = atomic_load(&s->refused_pinned);

	if (s->ops->pin(s))
		return false;
	atomic_store(&s->pinned, true);
	atomic_store(&s->pause, false);		/* go on after the quiet point */
	vmaccel_unload_run_for(s, phase_ms);
	if (!vmaccel_unload_wait(s, vmaccel_unload_refused_pinned, refused))
		vmaccel_unload_fail(s, "no unload attempt while pinned");
	atomic_store(&s->pinned, false);
	s->ops->unpin(s);

	vmaccel_unload_run_for(s, phase_ms);
	return vmaccel_unload_quiesce(s) && vmaccel_unload_quiet_unload(s);
}

/*
 * Set up a stress of module @mod (file @ko): one worker per CPU, at least
 * two; the rounds and their phases from VMACCEL_STRESS_SECS.
 */
static inline void vmaccel_unload_init(struct vmaccel_unload *s,
				       const struct vmaccel_unload_ops *ops,
				       const char *mod, const char *ko,
				       unsigned int *rounds,
				       unsigned int *phase_ms)
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	const char *env = getenv("VMACCEL_STRESS_SECS");
	unsigned int secs;
	int i;

	secs = env && *env ? (unsigned int)atoi(env) : VMACCEL_UL_DEFAULT_SECS;
	if (!secs)
		secs = 1;
	*rounds = secs / 4 ? secs / 4 : 1;
	*phase_ms = secs * 1000 / (2 * *rounds);
	s->ops = ops;
	s->mod = mod;
	s->ko = ko;
	s->nworkers = ncpu < 2 ? 2 : ncpu > VMACCEL_UL_MAX_WORKERS ?
		      VMACCEL_UL_MAX_WORKERS : ncpu;
	pthread_mutex_init(&s->lock, NULL);
	for (i = 0; i < s->nworkers; i++) {
		s->w[i].s = s;
		s->w[i].idx = i;
		s->w[i].rng = 0x9e3779b97f4a7c15ULL * (i + 1) + (__u64)time(NULL);
	}
}

/*
 * Run the stress: the threads start paused, then @rounds rounds of two
 * phases of @phase_ms; every thread is joined before this returns.
 */
static inline void vmaccel_unload_run(struct vmaccel_unload *s,
				      unsigned int rounds,
				      unsigned int phase_ms)
{
	pthread_t unloader;
	int i, started;

	atomic_store(&s->pause, true);
	for (started = 0; started < s->nworkers; started++)
		if (pthread_create(&s->w[started].tid, NULL,
				   vmaccel_unload_worker_fn, &s->w[started]))
			break;
	if (started == s->nworkers &&
	    !pthread_create(&unloader, NULL, vmaccel_unload_unloader_fn, s)) {
		if (vmaccel_unload_quiesce(s))
			for (i = 0; i < (int)rounds; i++)
				if (atomic_load(&s->stop) ||
				    !vmaccel_unload_round(s, phase_ms))
					break;
		atomic_store(&s->stop, true);
		pthread_join(unloader, NULL);
	} else {
		vmaccel_unload_fail(s, "cannot start threads");
	}
	atomic_store(&s->stop, true);
	for (i = 0; i < started; i++)
		pthread_join(s->w[i].tid, NULL);

	ksft_print_msg("unload: %lu unloads, %lu reloads, %lu refused (%lu pinned), %lu quiet\n",
		       atomic_load(&s->unloads), atomic_load(&s->reloads),
		       atomic_load(&s->refused),
		       atomic_load(&s->refused_pinned),
		       atomic_load(&s->idle_unloads));
	fflush(stdout);
}

/*
 * After the stress: no failure, every pinned phase saw a refused unload,
 * every quiet point unloaded, every unload of the unloader reloaded.
 */
static inline void vmaccel_unload_check(struct __test_metadata *_metadata,
					struct vmaccel_unload *s,
					unsigned int rounds)
{
	unsigned int i;

	for (i = 0; i < s->nfail && i < VMACCEL_UL_MAX_FAILS; i++)
		TH_LOG("%s", s->fail[i]);
	ASSERT_EQ(0U, s->nfail);
	ASSERT_LE((unsigned long)rounds, atomic_load(&s->refused_pinned));
	ASSERT_EQ((unsigned long)rounds, atomic_load(&s->idle_unloads));
	ASSERT_EQ(atomic_load(&s->unloads), atomic_load(&s->reloads));
}

#endif /* VMACCEL_UNLOAD_H */
