// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmaccel_vic - the coalescing engine.
 *
 * Implements the algorithm of Documentation/vic/design.rst: a completion rate
 * estimate, commands in flight (reported or estimated), a delivery ratio and a
 * backstop hrtimer that bounds the delay of every completion.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bug.h>
#include <linux/cpumask.h>
#include <linux/err.h>
#include <linux/hrtimer.h>
#include <linux/ktime.h>
#include <linux/list.h>
#include <linux/lockdep.h>
#include <linux/math64.h>
#include <linux/minmax.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/percpu.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <vmaccel/vic.h>

#include "vic.h"

#define CREATE_TRACE_POINTS
#include "trace.h"

/* Completions are counted in windows of at least this length. */
#define VIC_RATE_WINDOW_NS	NSEC_PER_MSEC
/* Weight of a new window in the rate EWMA: 1 / (1 << VIC_RATE_EWMA_SHIFT). */
#define VIC_RATE_EWMA_SHIFT	2

/**
 * struct vmaccel_vic - one coalescer
 * @lock: irq-safe spinlock protecting every field from @params to
 *	@max_delay_ns, the @backstop timer's arming and @armed.  A spinlock_t,
 *	not a raw_spinlock_t, also on PREEMPT_RT (where it sleeps): no
 *	caller runs in hard interrupt context there (see
 *	vmaccel_vic_complete()), and the deliver callback, which must be
 *	callable where the engine is, signals an eventfd, whose wait-queue
 *	lock sleeps on RT too.
 * @params: current tunables.
 * @pending: completions not yet covered by an interrupt.
 * @first_pending: arrival time of the oldest pending completion.
 * @win_start: start of the current rate window.
 * @win_count: completions seen in the current rate window.
 * @rate: completion rate estimate, per second (EWMA of window rates).
 * @ratio: completions per interrupt currently in effect (>= 1).
 * @cif: last commands-in-flight value passed by the caller or reported.
 * @cif_known: @cif holds a count given by the caller; while false (at
 *	first, and after %VMACCEL_VIC_CIF_RATE) CIF is estimated from @rate.
 * @armed: the backstop timer is armed for the current pending batch.
 * @completions: completions seen.
 * @interrupts: interrupts delivered.
 * @deferred: completions that did not raise an interrupt on arrival.
 * @backstops: interrupts delivered by the backstop timer.
 * @max_delay_ns: longest time a completion waited for its interrupt.
 * @backstop: the backstop timer (CLOCK_MONOTONIC; expires in hard interrupt
 *	context, in the softirq thread on PREEMPT_RT).
 * @deliver: delivery callback; constant after allocation.
 * @ctx: argument of @deliver; constant after allocation.
 * @id: identifier for debugfs and tracepoints; constant after allocation.
 * @node: entry in vic_list, protected by vic_list_lock.
 *
 * Lock order: a caller's locks (e.g. an eventfd's wait-queue lock) ->
 * @lock -> hrtimer base lock.  @deliver is always called without @lock.
 */
struct vmaccel_vic {
	spinlock_t lock;	/* irq-safe; protects the fields below */
	struct vmaccel_vic_params params;
	u64 pending;
	ktime_t first_pending;
	ktime_t win_start;
	u64 win_count;
	u64 rate;
	u32 ratio;
	u32 cif;
	bool cif_known;
	bool armed;
	u64 completions;
	u64 interrupts;
	u64 deferred;
	u64 backstops;
	u64 max_delay_ns;

	struct hrtimer backstop;
	vmaccel_vic_deliver_fn deliver;
	void *ctx;
	u32 id;
	struct list_head node;
};

/*
 * Module-wide totals.  Each CPU adds to its own copy with this_cpu ops
 * (under a coalescer's lock: interrupts off, or on PREEMPT_RT preemptible
 * but pinned to the CPU, which this_cpu ops do not need); readers sum all
 * copies.
 */
static DEFINE_PER_CPU(struct vic_totals, vic_pcpu_totals);

/* Live coalescers, for debugfs; vic_next_id is protected by the same mutex. */
static DEFINE_MUTEX(vic_list_lock);
static LIST_HEAD(vic_list);
static u32 vic_next_id;
static atomic_t vic_live = ATOMIC_INIT(0);

/* Counters saturate instead of wrapping: a u64 eventfd count can be huge. */
static u64 vic_add_sat(u64 a, u64 b)
{
	return a + b < a ? U64_MAX : a + b;
}

/*
 * What is left of the estimate after @windows rate windows: (1 - 1/4) per
 * window, as a 32-bit fraction.  Past VIC_RATE_MAX_WINDOWS it is 0 (less
 * than 2^-32 already).
 */
#define VIC_RATE_MAX_WINDOWS	80

static u32 vic_rate_keep(u64 windows)
{
	u64 keep = 1ULL << 32;

	if (windows > VIC_RATE_MAX_WINDOWS)
		return 0;
	while (windows--)
		keep -= keep >> VIC_RATE_EWMA_SHIFT;
	return min_t(u64, keep, U32_MAX);
}

/*
 * Close the rate window when it is at least VIC_RATE_WINDOW_NS long.  The
 * window's rate (its count over its length) enters the estimate with the
 * weight of the time it covers: a window of k minimal windows keeps
 * (3/4)^k of the old estimate, so a gap decays the estimate by its length,
 * not by the number of completions that end it (after a burst, a sparse
 * completion 10 ms later sees 6% of the burst rate, not 75%).
 */
static void vic_update_rate(struct vmaccel_vic *v, ktime_t now, u64 n)
{
	u64 elapsed, count, inst;
	u32 keep;

	lockdep_assert_held(&v->lock);

	if (ktime_after(now, v->win_start)) {
		elapsed = ktime_to_ns(ktime_sub(now, v->win_start));
		if (elapsed >= VIC_RATE_WINDOW_NS) {
			/* Saturate rather than overflow count * NSEC_PER_SEC. */
			count = min_t(u64, v->win_count, U64_MAX / NSEC_PER_SEC);
			inst = div64_u64(count * NSEC_PER_SEC, elapsed);
			keep = vic_rate_keep(div64_u64(elapsed,
						       VIC_RATE_WINDOW_NS));
			/* keep <= 3/4 here, so 2^32 - keep fits in a u32. */
			v->rate = keep ? mul_u64_u32_shr(v->rate, keep, 32) +
					 mul_u64_u32_shr(inst,
							 (u32)(BIT_ULL(32) - keep),
							 32) : inst;
			v->win_start = now;
			v->win_count = 0;
		}
	}
	v->win_count = vic_add_sat(v->win_count, n);
}

/* Commands in flight: the known value, else those expected in one backstop. */
static u64 vic_cif(struct vmaccel_vic *v)
{
	lockdep_assert_held(&v->lock);

	if (v->cif_known)
		return v->cif;
	return mul_u64_u32_div(v->rate, v->params.max_delay_us, USEC_PER_SEC);
}

static u32 vic_compute_ratio(struct vmaccel_vic *v)
{
	const struct vmaccel_vic_params *p = &v->params;
	u64 cif, r;

	lockdep_assert_held(&v->lock);

	switch (p->mode) {
	case VMACCEL_VIC_MODE_FIXED:
		return p->fixed_ratio;
	case VMACCEL_VIC_MODE_ADAPTIVE:
		cif = vic_cif(v);
		if (cif <= p->cif_threshold || v->rate < p->iops_threshold)
			return 1;
		r = div64_u64(cif, max_t(u32, p->cif_threshold, 1));
		return clamp_t(u64, r, 1, p->max_ratio);
	default:
		return 1;
	}
}

/*
 * The backstop runs in hard interrupt context, so that its bound holds when
 * softirqs are deferred to ksoftirqd: everything it calls is irq-safe (our
 * spinlock with interrupts off, eventfd_signal()).  On PREEMPT_RT, where
 * those locks sleep, a timer without _HARD expires in the softirq thread
 * (preemptible task context), which is where it must run there: the bound
 * then holds as far as that thread's priority lets it run.
 */
#define VIC_BACKSTOP_MODE	HRTIMER_MODE_REL

/* Arm the backstop to fire max_delay_us after the oldest pending completion. */
static void vic_arm(struct vmaccel_vic *v, ktime_t now)
{
	ktime_t due, rel;

	lockdep_assert_held(&v->lock);

	due = ktime_add_us(v->first_pending, v->params.max_delay_us);
	rel = ktime_after(due, now) ? ktime_sub(due, now) : 0;
	v->armed = true;
	hrtimer_start(&v->backstop, rel, VIC_BACKSTOP_MODE);
}

/*
 * Account one interrupt covering everything pending.  The caller calls
 * ->deliver() after dropping the lock.
 */
static void vic_take(struct vmaccel_vic *v, ktime_t now, bool backstop)
{
	u64 delay = 0;

	lockdep_assert_held(&v->lock);

	if (ktime_after(now, v->first_pending))
		delay = ktime_to_ns(ktime_sub(now, v->first_pending));
	v->max_delay_ns = max(v->max_delay_ns, delay);
	v->interrupts++;
	this_cpu_inc(vic_pcpu_totals.interrupts);
	if (backstop) {
		v->backstops++;
		this_cpu_inc(vic_pcpu_totals.backstop);
	}
	trace_vic_deliver(v->id, v->pending, v->ratio, backstop, delay);
	v->pending = 0;
	if (v->armed) {
		v->armed = false;
		/*
		 * Never wait for a running callback here (it takes @lock);
		 * if it runs, it finds nothing due and does nothing.
		 */
		hrtimer_try_to_cancel(&v->backstop);
	}
}

/* After a change of ratio: deliver now if enough is pending. */
static bool vic_recheck(struct vmaccel_vic *v, ktime_t now)
{
	lockdep_assert_held(&v->lock);

	v->ratio = vic_compute_ratio(v);
	if (v->pending && v->pending >= v->ratio) {
		vic_take(v, now, false);
		return true;
	}
	return false;
}

static enum hrtimer_restart vic_backstop_fn(struct hrtimer *t)
{
	struct vmaccel_vic *v = container_of(t, struct vmaccel_vic, backstop);
	enum hrtimer_restart ret = HRTIMER_NORESTART;
	unsigned long flags;
	bool fire = false;
	ktime_t now, due;

	spin_lock_irqsave(&v->lock, flags);
	/* Re-armed while this callback waited for the lock: that expiry rules. */
	if (hrtimer_is_queued(t))
		goto out;
	v->armed = false;
	if (!v->pending)
		goto out;
	now = ktime_get();
	due = ktime_add_us(v->first_pending, v->params.max_delay_us);
	if (ktime_before(now, due)) {
		/* A newer batch than the one this expiry was for. */
		v->armed = true;
		hrtimer_set_expires(t, due);
		ret = HRTIMER_RESTART;
		goto out;
	}
	vic_take(v, now, true);
	fire = true;
out:
	spin_unlock_irqrestore(&v->lock, flags);
	if (fire)
		v->deliver(v->ctx);
	return ret;
}

/**
 * vmaccel_vic_alloc() - create a coalescer
 * @p: initial parameters, or NULL for the current sysfs defaults.
 * @deliver: called once per interrupt to raise it; see
 *	&typedef vmaccel_vic_deliver_fn.
 * @ctx: argument of @deliver.
 * @gfp: allocation flags for the coalescer itself (e.g. GFP_KERNEL_ACCOUNT
 *	when the allocation is on behalf of a user).
 *
 * Context: process context; takes mutexes.
 * Return: the coalescer, ERR_PTR(-EINVAL) for invalid @p or a NULL
 * @deliver, ERR_PTR(-ENOMEM).
 */
struct vmaccel_vic *vmaccel_vic_alloc(const struct vmaccel_vic_params *p,
				      vmaccel_vic_deliver_fn deliver, void *ctx,
				      gfp_t gfp)
{
	struct vmaccel_vic *v;
	unsigned long flags;

	if (!deliver)
		return ERR_PTR(-EINVAL);
	if (p && vmaccel_vic_check_params(p))
		return ERR_PTR(-EINVAL);

	v = kzalloc(sizeof(*v), gfp);
	if (!v)
		return ERR_PTR(-ENOMEM);

	spin_lock_init(&v->lock);
	if (p)
		v->params = *p;
	else
		vmaccel_vic_default_params(&v->params);
	hrtimer_init(&v->backstop, CLOCK_MONOTONIC, VIC_BACKSTOP_MODE);
	v->backstop.function = vic_backstop_fn;
	v->deliver = deliver;
	v->ctx = ctx;

	spin_lock_irqsave(&v->lock, flags);
	v->win_start = ktime_get();
	v->ratio = vic_compute_ratio(v);
	spin_unlock_irqrestore(&v->lock, flags);

	mutex_lock(&vic_list_lock);
	v->id = ++vic_next_id;
	list_add_tail(&v->node, &vic_list);
	atomic_inc(&vic_live);
	mutex_unlock(&vic_list_lock);
	return v;
}
EXPORT_SYMBOL_GPL(vmaccel_vic_alloc);

/**
 * vmaccel_vic_free() - destroy a coalescer
 * @v: coalescer from vmaccel_vic_alloc(), or NULL.
 *
 * Cancels the backstop timer synchronously (a delivery already running in
 * the timer completes first) and frees @v.  Pending completions are not
 * delivered; call vmaccel_vic_flush() first for that.  The caller must make
 * sure no other engine function runs on @v concurrently or afterwards.
 *
 * Context: process context; takes a mutex.
 */
void vmaccel_vic_free(struct vmaccel_vic *v)
{
	if (IS_ERR_OR_NULL(v))
		return;

	mutex_lock(&vic_list_lock);
	list_del(&v->node);
	atomic_dec(&vic_live);
	mutex_unlock(&vic_list_lock);

	hrtimer_cancel(&v->backstop);
	kfree(v);
}
EXPORT_SYMBOL_GPL(vmaccel_vic_free);

/* vmaccel_vic_complete() under the lock; true when the caller must deliver. */
static bool vic_complete_locked(struct vmaccel_vic *v, u64 n, int cif)
{
	ktime_t now = ktime_get();

	lockdep_assert_held(&v->lock);

	if (n)
		vic_update_rate(v, now, n);
	if (cif >= 0) {
		v->cif = cif;
		v->cif_known = true;
	} else if (cif == VMACCEL_VIC_CIF_RATE) {
		v->cif_known = false;
	}
	v->ratio = vic_compute_ratio(v);
	if (n) {
		if (!v->pending)
			v->first_pending = now;
		v->pending = vic_add_sat(v->pending, n);
		v->completions = vic_add_sat(v->completions, n);
		this_cpu_add(vic_pcpu_totals.completions, n);
	}
	if (v->pending && v->pending >= v->ratio) {
		vic_take(v, now, false);
		return true;
	}
	if (n) {
		v->deferred = vic_add_sat(v->deferred, n);
		this_cpu_add(vic_pcpu_totals.deferred, n);
		trace_vic_defer(v->id, v->pending, v->ratio);
		if (!v->armed)
			vic_arm(v, now);
	}
	return false;
}

/**
 * vmaccel_vic_complete() - report completions
 * @v: coalescer.
 * @n: number of completions (0 only updates @cif).
 * @cif: commands still in flight; %VMACCEL_VIC_CIF_UNKNOWN: the last
 *	known value is used if there is one, else an estimate from the rate;
 *	%VMACCEL_VIC_CIF_RATE: the estimate from the rate, also for later
 *	calls with %VMACCEL_VIC_CIF_UNKNOWN (any other negative value is
 *	taken as %VMACCEL_VIC_CIF_UNKNOWN).
 *
 * Updates the rate estimate and the ratio, then either delivers one
 * interrupt for everything pending (calling the deliver callback before
 * returning) or defers the completions under the backstop timer.
 *
 * Context: without PREEMPT_RT, any context, hard interrupts included (the
 * engine's lock is a spinlock taken with interrupts off).  On PREEMPT_RT,
 * where that spinlock sleeps, any context that may take a spinlock_t:
 * process context, softirqs and threaded interrupt handlers (threads
 * there), an hrtimer without HRTIMER_MODE_*_HARD or an irq_work without
 * IRQ_WORK_HARD_IRQ (threads there too), under other spinlock_t locks
 * (an eventfd's wait-queue lock); not a hard interrupt and not with a
 * raw spinlock held or interrupts disabled.  The deliver callback runs in
 * the caller's context, and from the backstop in hard interrupt context
 * (in the softirq thread on PREEMPT_RT).
 */
void vmaccel_vic_complete(struct vmaccel_vic *v, u64 n, int cif)
{
	unsigned long flags;
	bool fire;

	spin_lock_irqsave(&v->lock, flags);
	fire = vic_complete_locked(v, n, cif);
	spin_unlock_irqrestore(&v->lock, flags);

	if (fire)
		v->deliver(v->ctx);
}
EXPORT_SYMBOL_GPL(vmaccel_vic_complete);

/**
 * vmaccel_vic_join() - add completions to an interrupt still owed, if any
 * @v: coalescer.
 * @n: number of completions.
 * @cif: as for vmaccel_vic_complete().
 *
 * For completions that need no interrupt of their own because the guest
 * asked for one at an earlier completion (virtio's used event index): if
 * that interrupt was deferred and is still pending, they join its batch
 * as vmaccel_vic_complete() would add them (and may complete the ratio,
 * delivering it now); if nothing is pending, nothing happens.  Without
 * this, an interrupt deferred under the event index could only be
 * delivered by the backstop, whatever the ratio.
 *
 * Context: as vmaccel_vic_complete(), serialized with the caller's other
 * vmaccel_vic_complete() and vmaccel_vic_join() calls on @v (one source
 * per coalescer, as a vhost queue under its mutex).
 * Return: true when the completions joined a pending interrupt.
 */
bool vmaccel_vic_join(struct vmaccel_vic *v, u64 n, int cif)
{
	unsigned long flags;
	bool fire, joined;

	/*
	 * The common case, nothing held back, without the lock: only the
	 * caller's own complete/join calls, which its source serializes,
	 * make @pending non-zero; a backstop clearing it meanwhile is
	 * re-checked under the lock.
	 */
	if (!n || !READ_ONCE(v->pending))
		return false;
	spin_lock_irqsave(&v->lock, flags);
	joined = v->pending;
	fire = joined && vic_complete_locked(v, n, cif);
	spin_unlock_irqrestore(&v->lock, flags);

	if (fire)
		v->deliver(v->ctx);
	return joined;
}
EXPORT_SYMBOL_GPL(vmaccel_vic_join);

/**
 * vmaccel_vic_set_cif() - record commands in flight reported by a VMM
 * @v: coalescer.
 * @cif: commands in flight now.
 *
 * From now on @cif (or a later value) is used instead of the rate-based
 * estimate.  Delivers at once if the new ratio is covered by what is
 * pending.
 *
 * Context: as vmaccel_vic_complete().
 */
void vmaccel_vic_set_cif(struct vmaccel_vic *v, unsigned int cif)
{
	unsigned long flags;
	bool fire;

	spin_lock_irqsave(&v->lock, flags);
	v->cif = cif;
	v->cif_known = true;
	fire = vic_recheck(v, ktime_get());
	spin_unlock_irqrestore(&v->lock, flags);

	if (fire)
		v->deliver(v->ctx);
}
EXPORT_SYMBOL_GPL(vmaccel_vic_set_cif);

/**
 * vmaccel_vic_flush() - deliver anything pending now
 * @v: coalescer.
 *
 * Calls the deliver callback once if any completion is pending.
 *
 * Context: as vmaccel_vic_complete().
 */
void vmaccel_vic_flush(struct vmaccel_vic *v)
{
	unsigned long flags;
	bool fire = false;

	spin_lock_irqsave(&v->lock, flags);
	if (v->pending) {
		vic_take(v, ktime_get(), false);
		fire = true;
	}
	spin_unlock_irqrestore(&v->lock, flags);

	if (fire)
		v->deliver(v->ctx);
}
EXPORT_SYMBOL_GPL(vmaccel_vic_flush);

/**
 * vmaccel_vic_set_params() - change the parameters of a coalescer
 * @v: coalescer.
 * @p: new parameters, validated with vmaccel_vic_check_params().
 *
 * Delivers at once if the new ratio is covered by what is pending; a
 * pending batch's backstop is moved to the new max_delay_us.
 *
 * Context: as vmaccel_vic_complete().
 * Return: 0, or -EINVAL (nothing changed).
 */
int vmaccel_vic_set_params(struct vmaccel_vic *v,
			   const struct vmaccel_vic_params *p)
{
	unsigned long flags;
	bool fire;
	ktime_t now;

	if (vmaccel_vic_check_params(p))
		return -EINVAL;

	spin_lock_irqsave(&v->lock, flags);
	v->params = *p;
	now = ktime_get();
	fire = vic_recheck(v, now);
	if (!fire && v->pending)
		vic_arm(v, now);
	spin_unlock_irqrestore(&v->lock, flags);

	if (fire)
		v->deliver(v->ctx);
	return 0;
}
EXPORT_SYMBOL_GPL(vmaccel_vic_set_params);

/**
 * vmaccel_vic_get_params() - read the parameters of a coalescer
 * @v: coalescer.
 * @p: filled with the current parameters.
 *
 * Context: as vmaccel_vic_complete().
 */
void vmaccel_vic_get_params(struct vmaccel_vic *v,
			    struct vmaccel_vic_params *p)
{
	unsigned long flags;

	spin_lock_irqsave(&v->lock, flags);
	*p = v->params;
	spin_unlock_irqrestore(&v->lock, flags);
}
EXPORT_SYMBOL_GPL(vmaccel_vic_get_params);

/**
 * vmaccel_vic_get_stats() - read the counters of a coalescer
 * @v: coalescer.
 * @s: filled with a consistent snapshot; flags and reserved are zero.
 *
 * Context: as vmaccel_vic_complete().
 */
void vmaccel_vic_get_stats(struct vmaccel_vic *v,
			   struct vmaccel_vic_stats *s)
{
	unsigned long flags;

	memset(s, 0, sizeof(*s));
	spin_lock_irqsave(&v->lock, flags);
	s->cur_ratio = v->ratio;
	s->completions = v->completions;
	s->interrupts = v->interrupts;
	s->deferred = v->deferred;
	s->backstop = v->backstops;
	s->max_delay_ns = v->max_delay_ns;
	s->cif = v->cif;
	s->pending = min_t(u64, v->pending, U32_MAX);
	s->rate = v->rate;
	spin_unlock_irqrestore(&v->lock, flags);
}
EXPORT_SYMBOL_GPL(vmaccel_vic_get_stats);

/**
 * vic_id() - identifier of a coalescer, as shown in debugfs and traces
 * @v: coalescer.
 *
 * Return: the identifier, unique since module load (until it wraps).
 */
u32 vic_id(const struct vmaccel_vic *v)
{
	return v->id;
}

/**
 * vic_totals_read() - sum the module-wide counters
 * @t: filled with the totals since module load.
 */
void vic_totals_read(struct vic_totals *t)
{
	int cpu;

	memset(t, 0, sizeof(*t));
	for_each_possible_cpu(cpu) {
		const struct vic_totals *c = per_cpu_ptr(&vic_pcpu_totals, cpu);

		t->completions += READ_ONCE(c->completions);
		t->interrupts += READ_ONCE(c->interrupts);
		t->deferred += READ_ONCE(c->deferred);
		t->backstop += READ_ONCE(c->backstop);
	}
}

/**
 * vic_live_count() - number of coalescers that exist now
 *
 * Return: coalescers allocated and not yet freed, in-kernel ones included.
 */
unsigned int vic_live_count(void)
{
	return atomic_read(&vic_live);
}

/**
 * vic_for_each() - call a function on every live coalescer
 * @fn: called with vic_list_lock held; may take the coalescer's lock
 *	through the exported getters, must not free it.
 * @arg: second argument of @fn.
 *
 * Context: process context; takes a mutex.
 */
void vic_for_each(void (*fn)(struct vmaccel_vic *v, void *arg), void *arg)
{
	struct vmaccel_vic *v;

	mutex_lock(&vic_list_lock);
	list_for_each_entry(v, &vic_list, node)
		fn(v, arg);
	mutex_unlock(&vic_list_lock);
}

/**
 * vic_engine_exit() - check at module unload that nothing leaked
 */
void vic_engine_exit(void)
{
	mutex_lock(&vic_list_lock);
	WARN(!list_empty(&vic_list), "coalescers still allocated at unload\n");
	mutex_unlock(&vic_list_lock);
}
