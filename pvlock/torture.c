// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmaccel_pvlock - lock torture and benchmark in kernel threads.
 *
 * A run starts nr_threads kernel threads that take one lock of the chosen
 * kind in a loop for duration_ms: wait, critical section (owner check,
 * ticket-order check, cs_ns of busy time), release, outside_ns of busy
 * time, cond_resched().  The last thread to finish adds up the per-thread
 * counters, prints "End of test: SUCCESS" or "End of test: FAILURE" like
 * locktorture, and wakes the file waiting for the results.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cache.h>
#include <linux/delay.h>
#include <linux/err.h>
#include <linux/irqflags.h>
#include <linux/kthread.h>
#include <linux/list.h>
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/preempt.h>
#include <linux/processor.h>
#include <linux/sched.h>
#include <linux/sched/clock.h>
#include <linux/sched/task.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/timekeeping.h>
#include <linux/wait.h>

#include "pvlock.h"

/* cpu_relax() rounds between the test and the set of the broken lock. */
#define PVLOCK_BROKEN_WINDOW	32
/* How long a waiter of the unfair lock leaves a free lock to a newcomer. */
#define PVLOCK_UNFAIR_GRACE_NS	(50 * NSEC_PER_USEC)

/**
 * struct pvlock_uaf_obj - the lock of one round of a FREE_AFTER_UNLOCK run
 * @lock: the lock.
 * @done: threads that took it this round; protected by @lock.
 */
struct pvlock_uaf_obj {
	struct vmaccel_pvlock lock;
	unsigned int done;
};

/**
 * struct pvlock_tthread - one torture thread and its counters
 * @run: the run.
 * @task: the kernel thread.
 * @id: index in the run, 0-based.
 * @ticket: ticket of the current acquisition (ticket kinds).
 * @acq: acquisitions (WRITE_ONCE: debugfs reads it while the run goes on).
 * @max_wait_ns: longest wait for the lock.
 * @violations: owner-check failures seen.
 * @fifo: tickets served out of order seen.
 * @lost: blocked acquisitions whose kick did not come.
 * @slow: acquisitions that took the slow path.
 * @blocked: acquisitions that halted.
 * @halts: halts.
 * @spurious: halts that ended before the thread's turn.
 * @kicks: releases that kicked a blocked waiter.
 * @wakeups: releases that sent a wake-up (the waiter was halted).
 * @irqs_off: slow paths that could not block with interrupts off.
 * @trylocks: acquisitions by vmaccel_pvlock_trylock() (API mode).
 * @flags: interrupt state saved by the irqsave API (API mode).
 * @uaf_gen: FREE_AFTER_UNLOCK: the last round the thread took part in.
 *
 * Written by its thread only; read by the last thread of the run once all
 * have finished (after atomic_dec_and_test() on &pvlock_run.active).
 */
struct pvlock_tthread {
	struct pvlock_run *run;
	struct task_struct *task;
	unsigned int id;
	u16 ticket;
	u64 acq;
	u64 max_wait_ns;
	u64 violations;
	u64 fifo;
	u64 lost;
	u64 slow;
	u64 blocked;
	u64 halts;
	u64 spurious;
	u64 kicks;
	u64 wakeups;
	u64 irqs_off;
	u64 trylocks;
	unsigned long flags;
	u64 uaf_gen;
} ____cacheline_aligned_in_smp;

/**
 * struct pvlock_kind - a lock the torture can run
 * @name: for the kernel log and debugfs.
 * @fifo: ticket lock: &pvlock_tthread.ticket is set and checked.
 * @irqsave: @lock disables interrupts itself for
 *	%VMACCEL_PVLOCK_RUN_IRQS_OFF (the irqsave API).
 * @lock: take the lock (preemption is already disabled, and interrupts
 *	with %VMACCEL_PVLOCK_RUN_IRQS_OFF unless @irqsave).
 * @unlock: release it.
 */
struct pvlock_kind {
	const char *name;
	bool fifo;
	bool irqsave;
	void (*lock)(struct pvlock_run *run, struct pvlock_tthread *t);
	void (*unlock)(struct pvlock_run *run, struct pvlock_tthread *t);
};

/**
 * struct pvlock_run - one torture run
 * @node: in pvlock_runs, under pvlock_runs_mutex.
 * @file: the file that started the run; it outlives the run.
 * @seq: sequence number of the run in @file.
 * @kind: the lock kind.
 * @p: the parameters (spin_threshold filled in from sysfs if not given).
 * @backend: the backend in effect (fixed while the run goes on).
 * @nr_cpus: online CPUs at the start.
 * @irqs_off: %VMACCEL_PVLOCK_RUN_IRQS_OFF.
 * @verify: %VMACCEL_PVLOCK_RUN_VERIFY_KICKS.
 * @note: %VMACCEL_PVLOCK_RUN_API: the ticket-note key was raised for the run.
 * @uaf: %VMACCEL_PVLOCK_RUN_FREE_AFTER_UNLOCK (the release-wait key was
 *	raised for the run).
 * @uaf_cur: FREE_AFTER_UNLOCK: the object of the current round; written
 *	by the last taker of the previous round, before @uaf_gen.
 * @uaf_gen: FREE_AFTER_UNLOCK: the current round (smp_store_release after
 *	@uaf_cur; threads read it with smp_load_acquire, then @uaf_cur).
 * @uaf_freed: FREE_AFTER_UNLOCK: the last round whose object was freed;
 *	the other unlocks of a round wait for it after their release.
 * @nr_created: threads created.
 * @go: set once all threads exist (smp_store_release, after @start_ns and
 *	@end_ns); the threads wait for it on @go_wq.
 * @stop: end the run now (STOP ioctl, close).
 * @stopped: %VMACCEL_PVLOCK_RUN_STOP came before the end.
 * @finished: set by the last thread after @res is complete
 *	(smp_store_release; readers use pvlock_run_finished()).
 * @reaped: the threads were stopped with kthread_stop() (under the file's
 *	mutex).
 * @start_ns: ktime when the threads were released.
 * @end_ns: ktime deadline.
 * @active: threads still in their loop.
 * @go_wq: see @go.
 * @threads: @p.nr_threads entries.
 * @res: the results, valid once @finished.
 * @pv: the lock of %VMACCEL_PVLOCK_KIND_PV and %VMACCEL_PVLOCK_KIND_TICKET.
 * @spin: the lock of %VMACCEL_PVLOCK_KIND_SPINLOCK.
 * @broken: the lock of %VMACCEL_PVLOCK_KIND_BROKEN.
 * @unfair: the lock of %VMACCEL_PVLOCK_KIND_UNFAIR (1: held).
 * @unfair_tail: the next ticket of %VMACCEL_PVLOCK_KIND_UNFAIR.
 * @owner: id + 1 of the thread in the critical section, 0 if none;
 *	protected by the lock under test (that is what is checked).
 * @served: critical sections so far (ticket kinds); the ticket due is
 *	twice this.  Protected by the lock under test.
 */
struct pvlock_run {
	struct list_head node;
	struct pvlock_file *file;
	u64 seq;
	const struct pvlock_kind *kind;
	struct vmaccel_pvlock_run p;
	const struct pvlock_backend *backend;
	unsigned int nr_cpus;
	bool irqs_off;
	bool verify;
	bool note;
	bool uaf;
	struct pvlock_uaf_obj *uaf_cur;
	u64 uaf_gen;
	u64 uaf_freed;
	unsigned int nr_created;
	bool go;
	bool stop;
	bool stopped;
	bool finished;
	bool reaped;
	u64 start_ns;
	u64 end_ns;
	atomic_t active;
	wait_queue_head_t go_wq;
	struct pvlock_tthread *threads;
	struct vmaccel_pvlock_result res;

	struct vmaccel_pvlock pv ____cacheline_aligned_in_smp;
	spinlock_t spin;	/* the lock under test, see above */
	int broken;
	int unfair;
	atomic_t unfair_tail;

	unsigned int owner ____cacheline_aligned_in_smp;
	u64 served;
};

/* Runs of all files, for debugfs. */
static LIST_HEAD(pvlock_runs);
static DEFINE_MUTEX(pvlock_runs_mutex);

/* ---- the lock kinds ---- */

static void pvlock_kind_pv_lock(struct pvlock_run *run,
				struct pvlock_tthread *t)
	__acquires(&run->pv)
{
	struct pvlock_acq acq = {
		.spin_threshold = run->p.spin_threshold,
		.verify_kicks = run->verify,
		.verify_end_ns = run->end_ns,
		.verify_stop = &run->stop,
	};

	t->ticket = pvlock_lock_acq(&run->pv, &acq);
	t->slow += acq.slow;
	t->blocked += acq.blocked;
	t->irqs_off += acq.irqs_off;
	t->lost += acq.lost;
	t->halts += acq.halts;
	t->spurious += acq.spurious;
}

static void pvlock_kind_pv_unlock(struct pvlock_run *run,
				  struct pvlock_tthread *t)
	__releases(&run->pv)
{
	unsigned int ret = pvlock_unlock_kick(&run->pv);

	t->kicks += !!(ret & PVLOCK_UNLOCK_KICKED);
	t->wakeups += !!(ret & PVLOCK_UNLOCK_WOKE);
}

/* The negative control of the lost-wake-up check: the kick is left out. */
static void pvlock_kind_pv_nokick_unlock(struct pvlock_run *run,
					 struct pvlock_tthread *t)
	__releases(&run->pv)
{
	pvlock_unlock_nokick(&run->pv);
}

static void pvlock_kind_ticket_lock(struct pvlock_run *run,
				    struct pvlock_tthread *t)
	__acquires(&run->pv)
{
	t->ticket = pvlock_plain_lock(&run->pv);
}

static void pvlock_kind_ticket_unlock(struct pvlock_run *run,
				      struct pvlock_tthread *t)
	__releases(&run->pv)
{
	pvlock_plain_unlock(&run->pv);
}

static void pvlock_kind_spin_lock(struct pvlock_run *run,
				  struct pvlock_tthread *t)
	__acquires(&run->spin)
{
	spin_lock(&run->spin);
}

static void pvlock_kind_spin_unlock(struct pvlock_run *run,
				    struct pvlock_tthread *t)
	__releases(&run->spin)
{
	spin_unlock(&run->spin);
}

/*
 * %VMACCEL_PVLOCK_RUN_API: the exported functions, exactly as other modules
 * call them; one acquisition in four tries the trylock variant first.  No
 * per-acquisition report: the module counters in sysfs show the slow paths.
 */
static void pvlock_kind_api_lock(struct pvlock_run *run,
				 struct pvlock_tthread *t)
	__acquires(&run->pv)
{
	bool try = !(t->acq & 3);

	/*
	 * The ticket is the one the lock's atomic grab took, noted by the
	 * lock itself (pvlock_ticket_note), not read back from head: the
	 * FIFO check compares it with the number of critical sections.
	 */
	this_cpu_write(pvlock_ticket_note.lock, &run->pv);
	if (run->irqs_off) {
		if (try && vmaccel_pvlock_trylock_irqsave(&run->pv, t->flags))
			t->trylocks++;
		else
			vmaccel_pvlock_lock_irqsave(&run->pv, t->flags);
	} else {
		if (try && vmaccel_pvlock_trylock(&run->pv))
			t->trylocks++;
		else
			vmaccel_pvlock_lock(&run->pv);
	}
	t->ticket = this_cpu_read(pvlock_ticket_note.ticket);
	this_cpu_write(pvlock_ticket_note.lock, NULL);
}

static void pvlock_kind_api_unlock(struct pvlock_run *run,
				   struct pvlock_tthread *t)
	__releases(&run->pv)
{
	if (run->irqs_off)
		vmaccel_pvlock_unlock_irqrestore(&run->pv, t->flags);
	else
		vmaccel_pvlock_unlock(&run->pv);
}

static const struct pvlock_kind pvlock_kind_api = {
	.name = "pv_ticket_api",
	.fifo = true,
	.irqsave = true,
	.lock = pvlock_kind_api_lock,
	.unlock = pvlock_kind_api_unlock,
};

/*
 * The broken lock: test, then set, without an atomic operation, with a
 * window between the two.  Two threads can both see it free and both enter;
 * it never hangs (the unlock just clears it).
 */
static void pvlock_kind_broken_lock(struct pvlock_run *run,
				    struct pvlock_tthread *t)
	__acquires(&run->broken)
{
	unsigned int i;

	while (READ_ONCE(run->broken))
		cpu_relax();
	for (i = 0; i < PVLOCK_BROKEN_WINDOW; i++)
		cpu_relax();
	WRITE_ONCE(run->broken, 1);
	/* Order the set before the critical section (the only fence). */
	smp_mb();
	__acquire(&run->broken);
}

static void pvlock_kind_broken_unlock(struct pvlock_run *run,
				      struct pvlock_tthread *t)
	__releases(&run->broken)
{
	/* The critical section before the lock looks free. */
	smp_store_release(&run->broken, 0);
	__release(&run->broken);
}

/*
 * The unfair lock: correct mutual exclusion (xchg), no order.  A thread
 * takes a ticket on arrival; a waiter that sees the lock free after having
 * waited leaves it, once per acquisition, to a newcomer for up to
 * PVLOCK_UNFAIR_GRACE_NS (until a later ticket is taken), and a newcomer
 * that finds it free takes it at once: the tickets are served out of order
 * whenever two threads meet.  It never hangs.
 */
static void pvlock_kind_unfair_lock(struct pvlock_run *run,
				    struct pvlock_tthread *t)
	__acquires(&run->unfair)
{
	bool waited = false, graced = false;
	u64 t0;

	t->ticket = (u16)atomic_fetch_add(PVLOCK_TICKET_INC, &run->unfair_tail);
	for (;;) {
		if (!READ_ONCE(run->unfair)) {
			if (waited && !graced) {
				graced = true;
				t0 = local_clock();
				while ((u16)atomic_read(&run->unfair_tail) ==
				       (u16)(t->ticket + PVLOCK_TICKET_INC) &&
				       local_clock() - t0 < PVLOCK_UNFAIR_GRACE_NS)
					cpu_relax();
			}
			/* Fully ordered: the critical section after it. */
			if (!xchg(&run->unfair, 1))
				break;
		}
		waited = true;
		cpu_relax();
	}
	__acquire(&run->unfair);
}

static void pvlock_kind_unfair_unlock(struct pvlock_run *run,
				      struct pvlock_tthread *t)
	__releases(&run->unfair)
{
	/* The critical section before the lock looks free. */
	smp_store_release(&run->unfair, 0);
	__release(&run->unfair);
}

static const struct pvlock_kind pvlock_kinds[] = {
	[VMACCEL_PVLOCK_KIND_PV] = {
		.name = "pv_ticket",
		.fifo = true,
		.lock = pvlock_kind_pv_lock,
		.unlock = pvlock_kind_pv_unlock,
	},
	[VMACCEL_PVLOCK_KIND_TICKET] = {
		.name = "ticket",
		.fifo = true,
		.lock = pvlock_kind_ticket_lock,
		.unlock = pvlock_kind_ticket_unlock,
	},
	[VMACCEL_PVLOCK_KIND_SPINLOCK] = {
		.name = "spinlock",
		.lock = pvlock_kind_spin_lock,
		.unlock = pvlock_kind_spin_unlock,
	},
	[VMACCEL_PVLOCK_KIND_BROKEN] = {
		.name = "broken",
		.lock = pvlock_kind_broken_lock,
		.unlock = pvlock_kind_broken_unlock,
	},
	[VMACCEL_PVLOCK_KIND_PV_NOKICK] = {
		.name = "pv_nokick",
		.fifo = true,
		.lock = pvlock_kind_pv_lock,
		.unlock = pvlock_kind_pv_nokick_unlock,
	},
	[VMACCEL_PVLOCK_KIND_UNFAIR] = {
		.name = "unfair",
		.fifo = true,
		.lock = pvlock_kind_unfair_lock,
		.unlock = pvlock_kind_unfair_unlock,
	},
};

/**
 * pvlock_kind_name() - name of a lock kind
 * @kind: an &enum vmaccel_pvlock_kind value.
 *
 * Return: the name, or "?" for an unknown kind.
 */
const char *pvlock_kind_name(u32 kind)
{
	return kind < ARRAY_SIZE(pvlock_kinds) ? pvlock_kinds[kind].name : "?";
}

/* ---- the threads ---- */

/*
 * The critical section: the owner check, the ticket check, busy time.  The
 * ticket check compares the ticket the acquisition took (from the atomic
 * grab) with the number of critical sections before it, which the holders
 * count here: the n-th critical section must hold ticket 2n.
 */
static void pvlock_cs(struct pvlock_run *run, struct pvlock_tthread *t,
		      bool fifo)
{
	unsigned int me = t->id + 1;

	if (READ_ONCE(run->owner))
		t->violations++;
	WRITE_ONCE(run->owner, me);
	if (fifo) {
		if (t->ticket != (u16)(run->served * PVLOCK_TICKET_INC))
			t->fifo++;
		run->served++;
	}
	if (run->p.cs_ns)
		ndelay(run->p.cs_ns);
	else
		cpu_relax();
	if (READ_ONCE(run->owner) != me)
		t->violations++;
	WRITE_ONCE(run->owner, 0);
}

/*
 * One acquisition of a FREE_AFTER_UNLOCK run: take the lock of the current
 * round once.  The last taker of a round publishes the next round's object
 * and frees this one right after its own unlock, while the other takers may
 * still be inside theirs, held after the releasing store until it is gone.
 * Return: false when this thread already took part in the current round.
 */
static bool pvlock_uaf_round(struct pvlock_run *run, struct pvlock_tthread *t)
{
	struct pvlock_acq acq = {
		.spin_threshold = run->p.spin_threshold,
		.verify_kicks = run->verify,
		.verify_end_ns = run->end_ns,
		.verify_stop = &run->stop,
	};
	struct pvlock_uaf_obj *obj, *next = NULL;
	unsigned int ret;
	u64 gen, t0;
	bool last;

	/* Pairs with the release below: this round's object after it. */
	gen = smp_load_acquire(&run->uaf_gen);
	if (gen == t->uaf_gen)
		return false;
	obj = READ_ONCE(run->uaf_cur);
	t->uaf_gen = gen;

	preempt_disable();
	t0 = local_clock();
	t->ticket = pvlock_lock_acq(&obj->lock, &acq);
	t->max_wait_ns = max(t->max_wait_ns, local_clock() - t0);
	t->slow += acq.slow;
	t->blocked += acq.blocked;
	t->lost += acq.lost;
	t->halts += acq.halts;
	t->spurious += acq.spurious;
	pvlock_cs(run, t, false);
	last = ++obj->done == run->p.nr_threads;
	if (last) {
		next = kmalloc(sizeof(*next), GFP_ATOMIC);
		if (next) {
			vmaccel_pvlock_init(&next->lock);
			next->done = 0;
			WRITE_ONCE(run->uaf_cur, next);
		} else {
			obj->done = 0;	/* no memory: this object again */
		}
		/* The next round's object before its number. */
		smp_store_release(&run->uaf_gen, gen + 1);
	}
	if (!last) {
		/* Held after the release until the object is gone. */
		this_cpu_write(pvlock_release_wait.value, gen);
		this_cpu_write(pvlock_release_wait.until, &run->uaf_freed);
	}
	ret = pvlock_unlock_kick(&obj->lock);
	this_cpu_write(pvlock_release_wait.until, NULL);
	t->kicks += !!(ret & PVLOCK_UNLOCK_KICKED);
	t->wakeups += !!(ret & PVLOCK_UNLOCK_WOKE);
	/* Right after the unlock: other unlocks of it may not be done yet. */
	if (last) {
		if (next)
			kfree(obj);
		WRITE_ONCE(run->uaf_freed, gen);
	}
	preempt_enable();
	return true;
}

static bool pvlock_run_over(struct pvlock_run *run)
{
	return READ_ONCE(run->stop) || kthread_should_stop() ||
	       ktime_get_ns() >= run->end_ns;
}

static void pvlock_run_finish(struct pvlock_run *run);

static int pvlock_thread(void *arg)
{
	struct pvlock_tthread *t = arg;
	struct pvlock_run *run = t->run;
	const struct pvlock_kind *kind = run->kind;
	bool irqs_off = run->irqs_off && !kind->irqsave;
	unsigned long flags = 0;
	u64 t0, wait;

	/* Acquire: pairs with the release of go, after start_ns and end_ns. */
	wait_event_interruptible(run->go_wq, smp_load_acquire(&run->go) ||
				 kthread_should_stop());
	/* Acquire, as above. */
	if (!smp_load_acquire(&run->go))
		return 0;	/* the start failed */

	while (!pvlock_run_over(run)) {
		if (run->uaf) {
			if (pvlock_uaf_round(run, t))
				WRITE_ONCE(t->acq, t->acq + 1);
			else
				cpu_relax();
			cond_resched();
			continue;
		}
		preempt_disable();
		if (irqs_off)
			local_irq_save(flags);
		t0 = local_clock();
		kind->lock(run, t);
		wait = local_clock() - t0;
		pvlock_cs(run, t, kind->fifo);
		kind->unlock(run, t);
		if (irqs_off)
			local_irq_restore(flags);
		preempt_enable();

		t->max_wait_ns = max(t->max_wait_ns, wait);
		WRITE_ONCE(t->acq, t->acq + 1);
		if (run->p.outside_ns)
			ndelay(run->p.outside_ns);
		cond_resched();
	}

	if (atomic_dec_and_test(&run->active))
		pvlock_run_finish(run);

	/* Stay until kthread_stop(), like the locktorture threads. */
	while (!kthread_should_stop()) {
		set_current_state(TASK_INTERRUPTIBLE);
		if (!kthread_should_stop())
			schedule();
		__set_current_state(TASK_RUNNING);
	}
	return 0;
}

/* Called by the last thread of the run: add up, report, wake the file. */
static void pvlock_run_finish(struct pvlock_run *run)
{
	struct vmaccel_pvlock_result *r = &run->res;
	const struct pvlock_tthread *t;
	unsigned int i;
	bool fail;

	memset(r, 0, sizeof(*r));
	r->run = run->p;
	r->backend = run->backend->id;
	r->nr_cpus = run->nr_cpus;
	r->elapsed_ns = ktime_get_ns() - run->start_ns;
	r->acquisitions_min = U64_MAX;
	for (i = 0; i < run->p.nr_threads; i++) {
		t = &run->threads[i];
		r->per_thread[i] = t->acq;
		r->acquisitions += t->acq;
		r->acquisitions_min = min(r->acquisitions_min, t->acq);
		r->acquisitions_max = max(r->acquisitions_max, t->acq);
		r->max_wait_ns = max(r->max_wait_ns, t->max_wait_ns);
		r->violations += t->violations;
		r->fifo_violations += t->fifo;
		r->lost_wakeups += t->lost;
		r->taken_slow += t->slow;
		r->blocked += t->blocked;
		r->halts += t->halts;
		r->spurious_wakeups += t->spurious;
		r->kicks += t->kicks;
		r->wakeups += t->wakeups;
		r->irqs_off_spins += t->irqs_off;
		r->trylocks += t->trylocks;
	}
	fail = r->violations || r->fifo_violations || r->lost_wakeups;
	if (fail)
		r->status |= VMACCEL_PVLOCK_STATUS_FAILURE;
	if (READ_ONCE(run->stopped))
		r->status |= VMACCEL_PVLOCK_STATUS_STOPPED;

	pr_info("%s-torture: backend=%s irqs=%s threads=%u cpus=%u duration_ms=%u cs_ns=%u outside_ns=%u spin_threshold=%u: acquisitions=%llu min=%llu max=%llu max_wait_ns=%llu violations=%llu fifo_violations=%llu lost_wakeups=%llu slow=%llu blocked=%llu kicks=%llu End of test: %s\n",
		run->kind->name, run->backend->name,
		run->irqs_off ? "off" : "on", run->p.nr_threads, run->nr_cpus,
		run->p.duration_ms, run->p.cs_ns, run->p.outside_ns,
		run->p.spin_threshold, r->acquisitions, r->acquisitions_min,
		r->acquisitions_max, r->max_wait_ns, r->violations,
		r->fifo_violations, r->lost_wakeups, r->taken_slow,
		r->blocked, r->kicks, fail ? "FAILURE" : "SUCCESS");

	pvlock_runs_put();
	/* The results before the flag that announces them. */
	smp_store_release(&run->finished, true);
	WRITE_ONCE(run->file->done_seq, run->seq);
	wake_up_all(&run->file->wq);
}

/* ---- runs ---- */

/**
 * pvlock_run_check() - validate the parameters of a run
 * @p: the parameters from userspace.
 *
 * Return: 0, or -EINVAL for unknown flags, a non-zero reserved field, an
 * unknown kind, a value out of range, or a flag that does not apply to
 * the kind (%VMACCEL_PVLOCK_RUN_SPIN_THRESHOLD and
 * %VMACCEL_PVLOCK_RUN_VERIFY_KICKS need %VMACCEL_PVLOCK_KIND_PV or
 * %VMACCEL_PVLOCK_KIND_PV_NOKICK; %VMACCEL_PVLOCK_RUN_API needs
 * %VMACCEL_PVLOCK_KIND_PV and excludes the other two;
 * %VMACCEL_PVLOCK_RUN_FREE_AFTER_UNLOCK needs %VMACCEL_PVLOCK_KIND_PV and
 * excludes %VMACCEL_PVLOCK_RUN_API and %VMACCEL_PVLOCK_RUN_IRQS_OFF;
 * %VMACCEL_PVLOCK_KIND_PV_NOKICK excludes %VMACCEL_PVLOCK_RUN_IRQS_OFF).
 */
int pvlock_run_check(const struct vmaccel_pvlock_run *p)
{
	if (p->flags & ~VMACCEL_PVLOCK_RUN_FLAGS || p->reserved)
		return -EINVAL;
	if (p->kind >= ARRAY_SIZE(pvlock_kinds))
		return -EINVAL;
	if (!p->nr_threads || p->nr_threads > VMACCEL_PVLOCK_MAX_THREADS)
		return -EINVAL;
	if (!p->duration_ms || p->duration_ms > VMACCEL_PVLOCK_DURATION_MS_MAX)
		return -EINVAL;
	if (p->cs_ns > VMACCEL_PVLOCK_CS_NS_MAX ||
	    p->outside_ns > VMACCEL_PVLOCK_OUTSIDE_NS_MAX)
		return -EINVAL;
	if (p->flags & VMACCEL_PVLOCK_RUN_SPIN_THRESHOLD) {
		if (p->spin_threshold > VMACCEL_PVLOCK_SPIN_THRESHOLD_MAX)
			return -EINVAL;
	} else if (p->spin_threshold) {
		return -EINVAL;
	}
	if (p->kind != VMACCEL_PVLOCK_KIND_PV &&
	    p->kind != VMACCEL_PVLOCK_KIND_PV_NOKICK &&
	    p->flags & (VMACCEL_PVLOCK_RUN_SPIN_THRESHOLD |
			VMACCEL_PVLOCK_RUN_VERIFY_KICKS))
		return -EINVAL;
	if (p->kind != VMACCEL_PVLOCK_KIND_PV &&
	    p->flags & VMACCEL_PVLOCK_RUN_API)
		return -EINVAL;
	/* Only the timer tick wakes its waiters: not with interrupts off. */
	if (p->kind == VMACCEL_PVLOCK_KIND_PV_NOKICK &&
	    p->flags & VMACCEL_PVLOCK_RUN_IRQS_OFF)
		return -EINVAL;
	if (p->flags & VMACCEL_PVLOCK_RUN_API &&
	    p->flags & (VMACCEL_PVLOCK_RUN_SPIN_THRESHOLD |
			VMACCEL_PVLOCK_RUN_VERIFY_KICKS))
		return -EINVAL;
	if (p->flags & VMACCEL_PVLOCK_RUN_FREE_AFTER_UNLOCK &&
	    (p->kind != VMACCEL_PVLOCK_KIND_PV ||
	     p->flags & (VMACCEL_PVLOCK_RUN_API | VMACCEL_PVLOCK_RUN_IRQS_OFF)))
		return -EINVAL;
	return 0;
}

static void pvlock_run_free(struct pvlock_run *run)
{
	if (run->note)
		atomic_dec(&pvlock_ticket_note_key);
	if (run->uaf) {
		atomic_dec(&pvlock_release_wait_key);
		kfree(run->uaf_cur);
	}
	kvfree(run->threads);
	kfree(run);
}

/* Stop the threads; the run must be started (go) or have failed to. */
static void pvlock_run_reap(struct pvlock_run *run)
{
	unsigned int i;

	if (run->reaped)
		return;
	WRITE_ONCE(run->stop, true);
	for (i = 0; i < run->nr_created; i++) {
		/*
		 * -EINTR: stopped before pvlock_thread() ever ran (a close
		 * right after the start), so it never left the count of
		 * active threads; leave it on its behalf, or the run would
		 * never finish and pvlock_runs_active would stay raised.
		 */
		if (kthread_stop(run->threads[i].task) == -EINTR && run->go &&
		    atomic_dec_and_test(&run->active))
			pvlock_run_finish(run);
		put_task_struct(run->threads[i].task);
	}
	run->reaped = true;
}

/**
 * pvlock_run_start() - start a run
 * @f: the file; its mutex is held and it has no run going on.
 * @p: parameters checked by pvlock_run_check().
 *
 * Return: the run, or an ERR_PTR: -ENOMEM, -EINTR (fatal signal while
 * creating threads).
 */
struct pvlock_run *pvlock_run_start(struct pvlock_file *f,
				    const struct vmaccel_pvlock_run *p)
{
	struct task_struct *task;
	struct pvlock_run *run;
	unsigned int i;
	int ret;

	lockdep_assert_held(&f->mutex);
	run = kzalloc(sizeof(*run), GFP_KERNEL);
	if (!run)
		return ERR_PTR(-ENOMEM);
	run->threads = kvcalloc(p->nr_threads, sizeof(*run->threads),
				GFP_KERNEL);
	if (!run->threads) {
		kfree(run);
		return ERR_PTR(-ENOMEM);
	}
	run->file = f;
	run->p = *p;
	if (!(p->flags & VMACCEL_PVLOCK_RUN_SPIN_THRESHOLD))
		run->p.spin_threshold = READ_ONCE(pvlock_spin_threshold);
	run->kind = &pvlock_kinds[p->kind];
	if (p->flags & VMACCEL_PVLOCK_RUN_API)
		run->kind = &pvlock_kind_api;
	run->irqs_off = p->flags & VMACCEL_PVLOCK_RUN_IRQS_OFF;
	run->verify = p->flags & VMACCEL_PVLOCK_RUN_VERIFY_KICKS;
	if (p->flags & VMACCEL_PVLOCK_RUN_FREE_AFTER_UNLOCK) {
		run->uaf_cur = kmalloc(sizeof(*run->uaf_cur), GFP_KERNEL);
		if (!run->uaf_cur) {
			kvfree(run->threads);
			kfree(run);
			return ERR_PTR(-ENOMEM);
		}
		vmaccel_pvlock_init(&run->uaf_cur->lock);
		run->uaf_cur->done = 0;
		run->uaf_gen = 1;
		run->uaf = true;
		atomic_inc(&pvlock_release_wait_key);
	}
	if (p->flags & VMACCEL_PVLOCK_RUN_API) {
		run->note = true;
		atomic_inc(&pvlock_ticket_note_key);
	}
	init_waitqueue_head(&run->go_wq);
	vmaccel_pvlock_init(&run->pv);
	spin_lock_init(&run->spin);
	atomic_set(&run->active, p->nr_threads);
	run->backend = pvlock_runs_get();
	run->nr_cpus = num_online_cpus();

	for (i = 0; i < p->nr_threads; i++) {
		struct pvlock_tthread *t = &run->threads[i];

		t->run = run;
		t->id = i;
		task = kthread_create(pvlock_thread, t, "pvlock/%u", i);
		if (IS_ERR(task)) {
			ret = PTR_ERR(task);
			goto fail;
		}
		get_task_struct(task);
		t->task = task;
		run->nr_created++;
		wake_up_process(task);
	}

	run->seq = ++f->seq;
	mutex_lock(&pvlock_runs_mutex);
	list_add_tail(&run->node, &pvlock_runs);
	mutex_unlock(&pvlock_runs_mutex);

	run->start_ns = ktime_get_ns();
	run->end_ns = run->start_ns + (u64)p->duration_ms * NSEC_PER_MSEC;
	/* start_ns and end_ns before the threads see go. */
	smp_store_release(&run->go, true);
	wake_up_all(&run->go_wq);
	return run;

fail:
	pvlock_run_reap(run);
	pvlock_runs_put();
	pvlock_run_free(run);
	return ERR_PTR(ret);
}

/**
 * pvlock_run_finished() - whether all threads of a run are done
 * @run: the run.
 *
 * Return: true once the results are complete.
 */
bool pvlock_run_finished(struct pvlock_run *run)
{
	/* Pairs with the release in pvlock_run_finish(): the results after. */
	return smp_load_acquire(&run->finished);
}

/**
 * pvlock_run_stop() - end a run early
 * @run: the run; the file's mutex is held.
 *
 * The threads leave their loop after the current iteration; the results
 * carry %VMACCEL_PVLOCK_STATUS_STOPPED.
 */
void pvlock_run_stop(struct pvlock_run *run)
{
	lockdep_assert_held(&run->file->mutex);
	if (!pvlock_run_finished(run))
		WRITE_ONCE(run->stopped, true);
	WRITE_ONCE(run->stop, true);
}

/**
 * pvlock_run_result() - the results of a finished run
 * @run: the run, finished; the file's mutex is held.
 *
 * Also stops the (idle) threads.
 *
 * Return: the results, valid until the run is destroyed.
 */
const struct vmaccel_pvlock_result *pvlock_run_result(struct pvlock_run *run)
{
	lockdep_assert_held(&run->file->mutex);
	pvlock_run_reap(run);
	return &run->res;
}

/**
 * pvlock_run_destroy() - stop a run, wait for its threads, free it
 * @run: the run; the file's mutex is held, or the file is being released.
 */
void pvlock_run_destroy(struct pvlock_run *run)
{
	pvlock_run_reap(run);
	mutex_lock(&pvlock_runs_mutex);
	list_del(&run->node);
	mutex_unlock(&pvlock_runs_mutex);
	pvlock_run_free(run);
}

/**
 * pvlock_runs_show() - print the runs of all files (debugfs)
 * @m: the seq_file.
 */
void pvlock_runs_show(struct seq_file *m)
{
	struct pvlock_run *run;
	u64 acq, now;
	unsigned int i;

	seq_puts(m, "seq kind backend threads state elapsed_ms acquisitions\n");
	mutex_lock(&pvlock_runs_mutex);
	list_for_each_entry(run, &pvlock_runs, node) {
		bool done = pvlock_run_finished(run);

		acq = 0;
		for (i = 0; i < run->p.nr_threads; i++)
			acq += READ_ONCE(run->threads[i].acq);
		now = done ? run->start_ns + run->res.elapsed_ns :
			     ktime_get_ns();
		seq_printf(m, "%llu %s %s %u %s %llu %llu\n", run->seq,
			   run->kind->name, run->backend->name,
			   run->p.nr_threads, done ? "done" : "running",
			   (now - run->start_ns) / NSEC_PER_MSEC, acq);
	}
	mutex_unlock(&pvlock_runs_mutex);
}
