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
#include <pthread.h>
#include <stdatomic.h>

#include "pvlock_util.h"
#include "../lib/vmaccel_unload.h"

#define UL_MOD			"vmaccel_pvlock"
#define UL_SYSMOD		"/sys/module/" UL_MOD
#define UL_RUNS_ACTIVE		PVLOCK_SYSFS "runs_active"
#define UL_FDS			2	/* fds of one worker at once, at most */
#define UL_NSEC_PER_MSEC	1000000ULL

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
	struct vmaccel_unload_fixture f;
};

FIXTURE_SETUP(unload)
{
	vmaccel_unload_setup(_metadata, &self->f, "pvlock", UL_MOD);
}

FIXTURE_TEARDOWN(unload)
{
	vmaccel_unload_teardown(_metadata, &self->f, UL_MOD);
}

/* Open fds pin the module, idle or with a run going on. */
TEST_F(unload, refused_while_in_use)
{
	struct vmaccel_pvlock_run p;
	struct vmaccel_pvlock_result r;
	long long active0;
	const char *why;
	int fd, fd2, ret;

	if (self->f.holders)
		SKIP(return, "%d modules depend on %s", self->f.holders, UL_MOD);
	/* Runs of other programs may be counted still; only ours matter. */
	active0 = ul_runs_active();
	ASSERT_LE(0, active0);
	fd = pvlock_open();
	ASSERT_LE(0, fd);

	/* An fd without a run. */
	ret = vmaccel_kmod_unload(UL_MOD);
	ASSERT_TRUE(vmaccel_kmod_refused(ret))
		TH_LOG("delete_module with an fd open: %s",
		       ret ? strerror(-ret) : "unloaded");
	ASSERT_TRUE(vmaccel_kmod_loaded(UL_MOD));
	ASSERT_LE(1, vmaccel_kmod_refcnt(UL_MOD));

	/* A run on every CPU, on two fds. */
	fd2 = pvlock_open();
	ASSERT_LE(0, fd2);
	p = pvlock_params(VMACCEL_PVLOCK_KIND_PV, pvlock_crowd(),
			  VMACCEL_PVLOCK_DURATION_MS_MAX, 500, 500,
			  VMACCEL_PVLOCK_RUN_VERIFY_KICKS);
	ASSERT_EQ(0, pvlock_start(fd, &p));
	ASSERT_EQ(0, pvlock_start(fd2, &p));
	ASSERT_EQ(active0 + 2, ul_runs_active());
	ret = vmaccel_kmod_unload(UL_MOD);
	ASSERT_TRUE(vmaccel_kmod_refused(ret))
		TH_LOG("delete_module with two runs going on: %s",
		       ret ? strerror(-ret) : "unloaded");
	ASSERT_TRUE(vmaccel_kmod_loaded(UL_MOD));

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
	ret = vmaccel_kmod_unload(UL_MOD);
	ASSERT_TRUE(vmaccel_kmod_refused(ret))
		TH_LOG("delete_module with a finished run's fd open: %s",
		       ret ? strerror(-ret) : "unloaded");
	ASSERT_EQ(0, pvlock_result(fd, &r, VMACCEL_PVLOCK_RESULT_NONBLOCK));

	/* Everything closed: no reference left. */
	ASSERT_EQ(0, close(fd));
	ASSERT_EQ(0, vmaccel_kmod_refcnt(UL_MOD));
	ASSERT_EQ(active0, ul_runs_active());
}

/* Nothing open: the module unloads, and reloads as a fresh one. */
TEST_F(unload, unload_when_idle_and_reload)
{
	char buf[64], avail[64];
	__u64 v;
	int r, fd;

	if (self->f.holders)
		SKIP(return, "%d modules depend on %s", self->f.holders, UL_MOD);
	vmaccel_unload_need_ko(_metadata, self->f.ko);
	ASSERT_EQ(0, vmaccel_kmod_refcnt(UL_MOD));
	r = vmaccel_kmod_unload(UL_MOD);
	ASSERT_EQ(0, r) TH_LOG("delete_module with nothing open: %s",
			       strerror(-r));
	ASSERT_FALSE(vmaccel_kmod_loaded(UL_MOD));
	ASSERT_EQ(-1, access(UL_SYSMOD, F_OK));
	ASSERT_EQ(-1, access(PVLOCK_SYSFS, F_OK));
	fd = pvlock_open();
	ASSERT_EQ(-1, fd) TH_LOG("%s opened without the module", PVLOCK_DEV);
	ASSERT_TRUE(ul_absent(errno))
		TH_LOG("open %s: %s", PVLOCK_DEV, strerror(errno));
	ASSERT_EQ(-ENOENT, vmaccel_kmod_unload(UL_MOD));

	r = vmaccel_kmod_load(self->f.ko);
	ASSERT_EQ(0, r) TH_LOG("finit_module(%s): %s", self->f.ko,
			       vmaccel_kmod_load_hint(r));
	ASSERT_TRUE(vmaccel_kmod_loaded(UL_MOD));
	ASSERT_EQ(-EEXIST, vmaccel_kmod_load(self->f.ko));

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
	ASSERT_EQ(0, vmaccel_kmod_refcnt(UL_MOD));
}

/* --- stress --- */

struct ul_stress {
	struct vmaccel_unload c;	/* first: the framework's */
	atomic_ulong runs, stops, abandoned, enomem;
	atomic_ulong acquisitions, blocked, kicks;
	/* The pinning run of the main thread. */
	int pin;
	struct vmaccel_pvlock_run pin_run;
};

#define ul_fail(s, ...)		vmaccel_unload_fail(&(s)->c, __VA_ARGS__)
#define ul_rand			vmaccel_unload_rand

static struct ul_stress *ul_stress_of(struct vmaccel_unload *c)
{
	return (struct ul_stress *)c;
}

/* The heaviest runs: every CPU busy with the lock, several kinds. */
static struct vmaccel_pvlock_run ul_heavy_run(struct vmaccel_unload_worker *w)
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
static void ul_collect(struct vmaccel_unload_worker *w, int fd,
		       const struct vmaccel_pvlock_run *p, int how)
{
	struct ul_stress *s = ul_stress_of(w->s);
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
		deadline = pvlock_now_ns() +
			   VMACCEL_UL_WAIT_SECS * 1000000000ULL;
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
static void ul_lifecycle(struct vmaccel_unload_worker *w)
{
	struct vmaccel_pvlock_run p[UL_FDS];
	struct ul_stress *s = ul_stress_of(w->s);
	int fd[UL_FDS], n, i, j, runs, err;
	bool started[UL_FDS];

	n = 1 + ul_rand(w, UL_FDS);
	for (i = 0; i < n; i++) {
		fd[i] = pvlock_open();
		if (fd[i] >= 0) {
			vmaccel_unload_hold(w);
			continue;
		}
		err = errno;
		if (ul_absent(err))
			atomic_fetch_add(&s->c.absent, 1);	/* unloaded now */
		else if (s->c.faulty && err == ENOMEM)
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
			} else if (s->c.faulty && errno == ENOMEM) {
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
		vmaccel_unload_release(w, fd[i]);
	atomic_fetch_add(&s->c.lifecycles, 1);
}

/* The pinning run: a long one on every CPU; 0, or -1 (logged). */
static int ul_pin(struct vmaccel_unload *c)
{
	struct ul_stress *s = ul_stress_of(c);
	struct vmaccel_pvlock_run *p = &s->pin_run;

	*p = pvlock_params(VMACCEL_PVLOCK_KIND_PV, (__u32)pvlock_nr_cpus(),
			   VMACCEL_PVLOCK_DURATION_MS_MAX, 1000, 1000,
			   VMACCEL_PVLOCK_RUN_VERIFY_KICKS);
	s->pin = pvlock_open();
	if (s->pin < 0) {
		ul_fail(s, "pin: open: %s", strerror(errno));
		return -1;
	}
	if (pvlock_start(s->pin, p)) {
		ul_fail(s, "pin: START: %s", strerror(errno));
		close(s->pin);
		return -1;
	}
	return 0;
}

/* The pinning run went on through all the attempts. */
static void ul_unpin(struct vmaccel_unload *c)
{
	struct ul_stress *s = ul_stress_of(c);
	struct vmaccel_pvlock_result r;
	const char *why;

	if (pvlock_stop(s->pin) || pvlock_result(s->pin, &r, 0)) {
		ul_fail(s, "pin: %s", strerror(errno));
	} else {
		why = ul_bad_result(&s->pin_run, &r, true);
		if (why || !r.acquisitions ||
		    r.status != VMACCEL_PVLOCK_STATUS_STOPPED)
			ul_fail(s, "pin: status %#x, %llu acquisitions: %s",
				r.status, (unsigned long long)r.acquisitions,
				why ? why : "not stopped or no acquisition");
		atomic_fetch_add(&s->acquisitions, r.acquisitions);
	}
	close(s->pin);
}

/* At a quiet point nothing is open: no run may be active. */
static bool ul_quiet(struct vmaccel_unload *c, int refcnt)
{
	struct ul_stress *s = ul_stress_of(c);
	long long active = ul_runs_active();

	if (refcnt != 0 || active != 0) {
		ul_fail(s, "nothing open: refcnt %d, runs_active %lld (%lu runs, %lu closed live)",
			refcnt, active, atomic_load(&s->runs),
			atomic_load(&s->abandoned));
		return false;
	}
	return true;
}

static const struct vmaccel_unload_ops ul_ops = {
	.lifecycle = ul_lifecycle,
	.pin = ul_pin,
	.unpin = ul_unpin,
	.quiet = ul_quiet,
	.pinned = "the pinning run was going on",
	.idle_one_in = 3,
	.idle_max_ms = 3,
	.unloader_pause_us = 500,
};

TEST_F_TIMEOUT(unload, stress, 900)
{
	unsigned int rounds, phase_ms;
	struct ul_stress *s;

	if (self->f.holders)
		SKIP(return, "%d modules depend on %s", self->f.holders, UL_MOD);
	vmaccel_unload_need_ko(_metadata, self->f.ko);
	s = calloc(1, sizeof(*s));
	ASSERT_NE(NULL, s);
	vmaccel_unload_init(&s->c, &ul_ops, UL_MOD, self->f.ko, &rounds,
			    &phase_ms);
	s->c.faulty = vmaccel_fault_injected();
	ksft_print_msg("unload: %d workers, <= %d fds each, runs of %d or %u threads\n",
		       s->c.nworkers, UL_FDS, pvlock_nr_cpus(), pvlock_crowd());
	ksft_print_msg("unload: %u rounds of 2 x %u ms\n",
		       rounds, phase_ms);
	fflush(stdout);

	/* Threads start paused; they are joined before anything is asserted. */
	vmaccel_unload_run(&s->c, rounds, phase_ms);

	ksft_print_msg("unload: %lu lifecycles, %lu runs (%lu stopped, %lu closed running)\n",
		       atomic_load(&s->c.lifecycles), atomic_load(&s->runs),
		       atomic_load(&s->stops), atomic_load(&s->abandoned));
	ksft_print_msg("unload: %lu acquisitions, %lu blocked, %lu kicks\n",
		       atomic_load(&s->acquisitions), atomic_load(&s->blocked),
		       atomic_load(&s->kicks));
	ksft_print_msg("unload: %lu opens without a device, %lu ENOMEM\n",
		       atomic_load(&s->c.absent), atomic_load(&s->enomem));
	fflush(stdout);
	vmaccel_unload_check(_metadata, &s->c, rounds);
	free(s);

	/* Final state: loaded, nothing left, and it works. */
	ASSERT_TRUE(vmaccel_kmod_loaded(UL_MOD));
	ASSERT_EQ(0, ul_runs_active());
	ASSERT_EQ(0, vmaccel_kmod_refcnt(UL_MOD));
	ul_check_works(_metadata);
	ASSERT_EQ(0, ul_runs_active());
}

TEST_HARNESS_MAIN
