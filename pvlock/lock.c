// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmaccel_pvlock - the paravirtual ticket lock.
 *
 * Fast path: one atomic fetch-and-add takes a ticket; the lock is ours when
 * head equals it.  Otherwise the waiter spins while the queue moves, and
 * once head stood still for spin_threshold spins it blocks: it registers in
 * a per-CPU slot ("waiting for lock L, ticket T"), re-checks head, and halts
 * with the backend, after setting the lock's slow flag (bit 0 of head).
 * The unlocker adds 2 to head in one atomic operation that returns the flag
 * too (x86 xadd, as the 2015 paravirt ticket locks did): after it, the lock
 * may already be freed by its next owner, so the unlocker never reads it
 * again; when the flag was set it looks the waiter of the new head up in a
 * hash table keyed by (lock address, ticket), comparing the lock's address
 * as a value, and kicks that CPU alone.  A waiter that found no free entry
 * is found by a scan of every CPU's slots instead.
 * Documentation/pvlock/design.rst shows why no wake-up is lost.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/bitops.h>
#include <linux/cpumask.h>
#include <linux/export.h>
#include <linux/hardirq.h>
#include <linux/hash.h>
#include <linux/instrumented.h>
#include <linux/irqflags.h>
#include <linux/lockdep.h>
#include <linux/log2.h>
#include <linux/percpu.h>
#include <linux/preempt.h>
#include <linux/processor.h>
#include <linux/sched/clock.h>
#include <linux/slab.h>
#include <linux/seq_file.h>
#include <linux/string.h>
#include <linux/time64.h>
#include <linux/timekeeping.h>

#include "pvlock.h"

#define CREATE_TRACE_POINTS
#include "trace.h"

/* Adding this to &vmaccel_pvlock.val takes the next ticket (tail += 2). */
#define PVLOCK_TAIL_INC		(PVLOCK_TICKET_INC << 16)
/* Set in &pvlock_waiter.kick by the unlocker that kicked the waiter. */
#define PVLOCK_KICKED		BIT(BITS_PER_LONG - 1)

/**
 * struct pvlock_waiter - one waiting slot of a CPU
 * @seq: odd while the slot holds a registration, even while it is free;
 *	every registration and every unregistration adds 1, so the odd value
 *	names one registration for the life of the module.  Written last when
 *	a waiter registers (after smp_wmb()): a reader that sees it odd, reads
 *	the fields, and then sees it unchanged (smp_rmb() between each) has
 *	read the fields of that one registration (pvlock_check()).
 * @lock: the lock waited for (with @seq odd).
 * @want: the ticket the waiter holds.
 * @kick: @seq of the registration; with %PVLOCK_KICKED once the unlocker of
 *	the previous ticket found the waiter (for the torture's check).  The
 *	unlocker sets the bit with a cmpxchg from the @seq it checked, so its
 *	mark never lands on a later registration of the slot.
 * @halted: the waiter is halted or about to halt: set, then smp_mb(), then
 *	the last check of head before the halt; cleared after the halt.  A
 *	kicker sends a wake-up only when it sees it set.
 * @backend: the backend the waiter blocks with: the unlocker kicks with it,
 *	so a backend switch cannot strand a waiter.
 * @hent: the hash entry the registration claimed, NULL if it found none
 *	free (it is then counted in pvlock_unhashed).  Owning CPU only.
 * @uncounted: with @hent NULL, the registration was left out of
 *	pvlock_unhashed (the torture's broken fallback).  Owning CPU only.
 * @cpu: the CPU the slot belongs to (set at module load).
 *
 * Written by the owning CPU with interrupts off; read by kickers on any
 * CPU without locking (READ_ONCE), which at worst costs a spurious kick.
 */
struct pvlock_waiter {
	unsigned long seq;
	struct vmaccel_pvlock *lock;
	u32 want;
	u32 halted;
	unsigned long kick;
	const struct pvlock_backend *backend;
	struct pvlock_hash_entry *hent;
	bool uncounted;
	int cpu;
};

/**
 * struct pvlock_cpu - the waiting slots of one CPU
 * @depth: slots in use; a waiter interrupted while blocking (it halts with
 *	interrupts on) leaves its slot to a waiter in the interrupt handler,
 *	which takes the next one.  Changed by the owning CPU only, with
 *	interrupts off, in LIFO order.
 * @slot: the slots.
 */
struct pvlock_cpu {
	unsigned int depth;
	struct pvlock_waiter slot[PVLOCK_MAX_NEST];
};

static DEFINE_PER_CPU_SHARED_ALIGNED(struct pvlock_cpu, pvlock_cpus);

/**
 * struct pvlock_hash_entry - where an unlocker finds a waiter
 * @lock: the lock the registration waits for; NULL while the entry is free.
 *	A registration claims a free entry with a cmpxchg from NULL, and only
 *	it frees the entry (a release store of NULL), after its registration
 *	ended.
 * @w: the slot of the registration, written after the claim.  It may be a
 *	previous claimant's slot for a moment: a kicker takes nothing from
 *	the entry on trust, it checks the slot's registration (seq, lock,
 *	ticket, seq) as the scan did.
 *
 * The table holds 2 * PVLOCK_MAX_NEST entries per possible CPU, at most
 * half of them in use, in cache-line buckets (&struct pvlock_hash_bucket).
 * The entry of (lock L, ticket T) is one of the PVLOCK_HASH_WINDOW entries
 * from bucket pvlock_hash_idx(L, T) on: an unlocker serving T reads those
 * alone, whatever the number of CPUs.  The ticket is part of the hash, so
 * the waiters of one lock spread over the table instead of crowding one
 * bucket, and the entry found leads to the waiter of the wanted ticket.
 */
struct pvlock_hash_entry {
	struct vmaccel_pvlock *lock;
	struct pvlock_waiter *w;
};

#define PVLOCK_HASH_PER_BUCKET	(SMP_CACHE_BYTES / sizeof(struct pvlock_hash_entry))
/* Buckets a lookup reads (and a registration tries): two cache lines. */
#define PVLOCK_HASH_BUCKETS_PROBED	2
#define PVLOCK_HASH_WINDOW	(PVLOCK_HASH_BUCKETS_PROBED * PVLOCK_HASH_PER_BUCKET)

/**
 * struct pvlock_hash_bucket - the entries of one cache line
 * @e: the entries.
 */
struct pvlock_hash_bucket {
	struct pvlock_hash_entry e[PVLOCK_HASH_PER_BUCKET];
} ____cacheline_aligned_in_smp;

/* Allocated at module load, before any lock can be used; never resized. */
static struct pvlock_hash_bucket *pvlock_hash;
static unsigned int pvlock_hash_bits;
/*
 * Registrations without a hash entry (their window was full).  Raised
 * before the registration sets the slow flag (fully ordered), so an
 * unlocker that saw the flag and misses in the hash sees it, and scans.
 */
static atomic_t pvlock_unhashed = ATOMIC_INIT(0);
/* Torture knob (debugfs hash_probes): entries a registration may try. */
u32 pvlock_hash_probes = PVLOCK_HASH_WINDOW;
/*
 * Bench knob (debugfs lookup_timing): time each lookup into lookup_ns.
 * Off by default: two clock reads would sit between the release and the
 * kick of every contended unlock.
 */
bool pvlock_lookup_timing;
/*
 * Torture knob (debugfs hash_broken_fallback): a registration without an
 * entry is not counted in pvlock_unhashed, so its unlocker never scans for
 * it: the negative control of the fallback, which the lost wake-up check
 * must report.
 */
bool pvlock_hash_broken_fallback;
static DEFINE_PER_CPU(struct pvlock_stats, pvlock_stats);
/* Locks held or waited for on this CPU (lock to unlock: same CPU). */
static DEFINE_PER_CPU(int, pvlock_inflight);

const char *const pvlock_stat_names[PVLOCK_NR_STATS] = {
	[PVLOCK_STAT_TAKEN_FAST] = "taken_fast",
	[PVLOCK_STAT_TAKEN_SLOW] = "taken_slow",
	[PVLOCK_STAT_TAKEN_SLOW_PICKUP] = "taken_slow_pickup",
	[PVLOCK_STAT_BLOCKED] = "blocked",
	[PVLOCK_STAT_HALTS] = "halts",
	[PVLOCK_STAT_SPURIOUS] = "spurious_wakeups",
	[PVLOCK_STAT_IRQS_OFF_SPINS] = "irqs_off_spins",
	[PVLOCK_STAT_RELEASED_SLOW] = "released_slow",
	[PVLOCK_STAT_RELEASED_SLOW_KICKED] = "released_slow_kicked",
	[PVLOCK_STAT_WAKEUPS] = "wakeups_sent",
	[PVLOCK_STAT_TIME_BLOCKED_NS] = "time_blocked_ns",
	[PVLOCK_STAT_HASH_FULL] = "hash_full",
	[PVLOCK_STAT_LOOKUP_SCANS] = "lookup_scans",
	[PVLOCK_STAT_LOOKUP_NS] = "lookup_ns",
};

#define pvlock_count(s)		this_cpu_inc(pvlock_stats.stat[s])

/*
 * The torture hooks are switched by counters, not static keys: toggling a
 * static key patches this code while other runs execute it, and on 6.12
 * under TCG that ended in an int3 Oops in pvlock_lock_acq() (text_poke's
 * breakpoint hit after the patch completed; cause not found).  The cost
 * is one load of a shared, read-mostly word per lock operation.
 */
atomic_t pvlock_release_wait_key = ATOMIC_INIT(0);
DEFINE_PER_CPU(struct pvlock_release_wait, pvlock_release_wait);
atomic_t pvlock_ticket_note_key = ATOMIC_INIT(0);
DEFINE_PER_CPU(struct pvlock_ticket_note, pvlock_ticket_note);

/* The torture's record of the ticket taken; a no-op otherwise. */
static __always_inline void pvlock_note(const struct vmaccel_pvlock *lock,
					u16 ticket)
{
	if (unlikely(atomic_read(&pvlock_ticket_note_key)) &&
	    this_cpu_read(pvlock_ticket_note.lock) == lock)
		this_cpu_write(pvlock_ticket_note.ticket, ticket);
}

/* The torture's window after the releasing store; a no-op otherwise. */
static __always_inline void pvlock_release_hold(void)
{
	struct pvlock_release_wait *w;
	u64 end;

	if (!unlikely(atomic_read(&pvlock_release_wait_key)))
		return;
	w = this_cpu_ptr(&pvlock_release_wait);
	if (!w->until)
		return;
	end = local_clock() + PVLOCK_RELEASE_WAIT_MAX_NS;
	while (READ_ONCE(*w->until) < w->value && local_clock() < end)
		cpu_relax();
}

/**
 * __vmaccel_pvlock_init() - initialize a lock, unlocked
 * @lock: the lock.
 * @name: lockdep name of the lock.
 * @key: lockdep class of the lock.
 *
 * Use vmaccel_pvlock_init(), which supplies @name and @key.
 */
void __vmaccel_pvlock_init(struct vmaccel_pvlock *lock, const char *name,
			   struct lock_class_key *key)
{
	atomic_set(&lock->val, 0);
#ifdef CONFIG_DEBUG_LOCK_ALLOC
	lockdep_init_map_wait(&lock->dep_map, name, key, 0, LD_WAIT_SPIN);
#endif
}
EXPORT_SYMBOL_GPL(__vmaccel_pvlock_init);

static __always_inline u16 pvlock_head(struct vmaccel_pvlock *lock)
{
	/* Pairs with the release in the unlock: the critical section before. */
	return smp_load_acquire(&lock->tickets.head) & ~PVLOCK_SLOW;
}

/*
 * We own the lock with ticket @me: clear a slow flag that no waiter needs
 * any more (nobody holds a ticket after ours).  A stale flag only costs
 * an unlock a scan; a failed cmpxchg (someone took a ticket) leaves it.
 */
static void pvlock_clear_slow(struct vmaccel_pvlock *lock, u16 me)
{
	u32 old = (u32)atomic_read(&lock->val);

	if ((old & PVLOCK_SLOW) &&
	    (u16)(old >> 16) == (u16)(me + PVLOCK_TICKET_INC))
		atomic_cmpxchg_relaxed(&lock->val, (int)old,
				       (int)(old & ~PVLOCK_SLOW));
}

/*
 * Check for our turn, then spin until it comes or the queue stood still for
 * @n spins (head did not move); true: the lock is ours.  A queue that moves
 * is served faster by spinning than by a halt and a kick per hand-over;
 * a queue that stands still has a holder or a next waiter that does not run
 * (its vCPU was preempted), and then spinning only takes the CPU it needs.
 */
static bool pvlock_spin(struct vmaccel_pvlock *lock, u16 me, u32 n)
{
	u16 seen = pvlock_head(lock), head;
	u32 left = n;

	for (;;) {
		head = pvlock_head(lock);
		if (head == me)
			return true;
		if (head != seen) {
			seen = head;
			left = n;
		}
		if (!left--)
			return false;
		cpu_relax();
	}
}

static void pvlock_spin_forever(struct vmaccel_pvlock *lock, u16 me)
{
	while (pvlock_head(lock) != me)
		cpu_relax();
}

/* The first bucket of the window of (@lock, @ticket). */
static unsigned int pvlock_hash_idx(const struct vmaccel_pvlock *lock,
				    u16 ticket)
{
	return hash_long((unsigned long)lock ^ ((unsigned long)ticket << 16),
			 pvlock_hash_bits);
}

/* Entry @i (0 .. PVLOCK_HASH_WINDOW - 1) of the window from bucket @idx. */
static struct pvlock_hash_entry *pvlock_hash_at(unsigned int idx,
						unsigned int i)
{
	idx = (idx + i / PVLOCK_HASH_PER_BUCKET) & ((1U << pvlock_hash_bits) - 1);
	return &pvlock_hash[idx].e[i % PVLOCK_HASH_PER_BUCKET];
}

/*
 * Claim an entry of the window of (@lock, @ticket) for @w, or count the
 * registration unhashed.  Before the slow flag is set.
 */
static void pvlock_hash_add(struct pvlock_waiter *w,
			    struct vmaccel_pvlock *lock, u16 ticket)
{
	unsigned int n = min_t(u32, READ_ONCE(pvlock_hash_probes),
			       PVLOCK_HASH_WINDOW);
	unsigned int idx = pvlock_hash_idx(lock, ticket), i;
	struct pvlock_hash_entry *e;

	for (i = 0; i < n; i++) {
		e = pvlock_hash_at(idx, i);
		if (!READ_ONCE(e->lock) && !cmpxchg_relaxed(&e->lock, NULL, lock)) {
			WRITE_ONCE(e->w, w);
			w->hent = e;
			return;
		}
	}
	w->hent = NULL;
	w->uncounted = unlikely(READ_ONCE(pvlock_hash_broken_fallback));
	if (!w->uncounted)
		atomic_inc(&pvlock_unhashed);
	pvlock_count(PVLOCK_STAT_HASH_FULL);
}

/* After the registration ended: free its entry, or its unhashed count. */
static void pvlock_hash_del(struct pvlock_waiter *w)
{
	if (w->hent) {
		/* The even seq before the entry can be claimed again. */
		smp_store_release(&w->hent->lock, NULL);
		w->hent = NULL;
	} else if (!w->uncounted) {
		atomic_dec(&pvlock_unhashed);
	}
}

/*
 * Take the slot of this CPU for (@lock, @me), with its hash entry in the
 * window of (@lock, @key); NULL when nested too deep.  @key is @me but for
 * the stale-kick check, which places an entry where (@lock, @key) is looked
 * up, as a collision of two tickets of one lock would.  The waiter stays
 * registered until it has the lock.
 */
static struct pvlock_waiter *__pvlock_register(struct vmaccel_pvlock *lock,
					       u16 me, u16 key,
					       const struct pvlock_backend *be)
{
	struct pvlock_cpu *c = this_cpu_ptr(&pvlock_cpus);
	struct pvlock_waiter *w;
	unsigned long seq;

	lockdep_assert_irqs_disabled();
	if (c->depth >= PVLOCK_MAX_NEST)
		return NULL;
	w = &c->slot[c->depth++];
	seq = w->seq + 1;
	/*
	 * The end of the slot's previous registration (its even @seq) before
	 * the fields of this one: pairs with the second smp_rmb() in
	 * pvlock_check().
	 */
	smp_wmb();
	WRITE_ONCE(w->lock, lock);
	WRITE_ONCE(w->want, me);
	WRITE_ONCE(w->kick, seq);
	WRITE_ONCE(w->halted, 0);
	WRITE_ONCE(w->backend, be);
	/* The fields before the odd @seq that publishes them. */
	smp_wmb();
	WRITE_ONCE(w->seq, seq);
	pvlock_hash_add(w, lock, key);
	/*
	 * The slot, its hash entry (or the unhashed count) before the slow
	 * flag that makes unlockers look for waiters (atomic_fetch_or() is
	 * fully ordered); the flag stays set while a ticket after the
	 * owner's is held, so it covers us until we own the lock.
	 */
	atomic_fetch_or(PVLOCK_SLOW, &lock->val);
	return w;
}

static struct pvlock_waiter *pvlock_register(struct vmaccel_pvlock *lock,
					     u16 me,
					     const struct pvlock_backend *be)
{
	return __pvlock_register(lock, me, me, be);
}

static void pvlock_unregister(struct vmaccel_pvlock *lock,
			      struct pvlock_waiter *w)
{
	unsigned long flags;

	local_irq_save(flags);
	WRITE_ONCE(w->seq, w->seq + 1);
	pvlock_hash_del(w);
	this_cpu_ptr(&pvlock_cpus)->depth--;
	local_irq_restore(flags);
}

/**
 * struct pvlock_stale - torture hook: turn a slot over under a kicker
 * @slot: the slot; when the key is on and an unlocker on this CPU checks
 *	it, the registration in it ends and one for (@to, @ticket) takes its
 *	place: between the unlocker's read of the lock and its read of the
 *	ticket (%PVLOCK_STALE_AT_FIND), or after it found the slot and before
 *	it marks it kicked (%PVLOCK_STALE_AT_MARK).  With
 *	%PVLOCK_STALE_PREMARK the registration stays, marked kicked at that
 *	point as a stale unlocker could have marked it.
 * @how: which of the three.
 * @to: the lock of the new registration.
 * @ticket: its ticket.
 * @now: the registration in the slot after the hook ran.
 *
 * Per CPU, used by pvlock_stale_kick_check() with interrupts off.
 */
struct pvlock_stale {
	struct pvlock_waiter *slot;
	enum pvlock_stale_how how;
	struct vmaccel_pvlock *to;
	u16 ticket;
	struct pvlock_waiter *now;
};

static atomic_t pvlock_stale_key = ATOMIC_INIT(0);
static DEFINE_PER_CPU(struct pvlock_stale, pvlock_stale);

static void pvlock_stale_turn(struct pvlock_waiter *w, bool at_mark);

/*
 * The torture's slot turn-over in the middle of a check (at the ticket
 * read, or with @at_mark before the mark); a no-op otherwise.
 */
static __always_inline void pvlock_find_hold(struct pvlock_waiter *w,
					     bool at_mark)
{
	if (unlikely(atomic_read(&pvlock_stale_key)))
		pvlock_stale_turn(w, at_mark);
}

/*
 * Whether slot @w holds a registration for (@lock, @ticket); *@seq
 * receives the registration's &pvlock_waiter.seq.  The lock and the ticket
 * are one registration's: @seq is read before and after them.  A slot whose
 * @seq changed in between is skipped: the registration we started reading
 * has ended, so its waiter has its lock, and a waiter we must kick was
 * registered before our release (design.rst), so it is not a later one.
 */
static bool pvlock_check(struct pvlock_waiter *w,
			 const struct vmaccel_pvlock *lock, u16 ticket,
			 unsigned long *seq)
{
	unsigned long s = READ_ONCE(w->seq);

	if (!(s & 1))
		return false;
	/* Pairs with the second smp_wmb() in pvlock_register(). */
	smp_rmb();
	if (READ_ONCE(w->lock) != lock)
		return false;
	pvlock_find_hold(w, false);
	if ((u16)READ_ONCE(w->want) != ticket)
		return false;
	/* Pairs with the first smp_wmb() in pvlock_register(). */
	smp_rmb();
	if (READ_ONCE(w->seq) != s)
		return false;
	*seq = s;
	return true;
}

/*
 * Find the waiter registered for (@lock, @ticket) in the hash: the entries
 * of its window whose lock is @lock, each checked as a slot.  NULL if none.
 */
static struct pvlock_waiter *pvlock_hash_find(const struct vmaccel_pvlock *lock,
					      u16 ticket, unsigned long *seq)
{
	unsigned int idx = pvlock_hash_idx(lock, ticket), i;
	struct pvlock_hash_entry *e;
	struct pvlock_waiter *w;

	for (i = 0; i < PVLOCK_HASH_WINDOW; i++) {
		e = pvlock_hash_at(idx, i);
		if (READ_ONCE(e->lock) != lock)
			continue;
		w = READ_ONCE(e->w);
		if (w && pvlock_check(w, lock, ticket, seq))
			return w;
	}
	return NULL;
}

/*
 * Find the waiter registered for (@lock, @ticket) by scanning the slots of
 * every possible CPU; NULL if none.  Only for registrations that found no
 * free hash entry: O(possible CPUs).
 */
static struct pvlock_waiter *pvlock_scan(const struct vmaccel_pvlock *lock,
					 u16 ticket, unsigned long *seq)
{
	struct pvlock_waiter *w;
	unsigned int i;
	int c;

	/*
	 * Every possible CPU: a CPU on its way up or down, no longer or not
	 * yet in the online mask, may still wait with the kvm backend.
	 */
	for_each_possible_cpu(c) {
		for (i = 0; i < PVLOCK_MAX_NEST; i++) {
			w = &per_cpu_ptr(&pvlock_cpus, c)->slot[i];
			if (pvlock_check(w, lock, ticket, seq))
				return w;
		}
	}
	return NULL;
}

/*
 * Find the waiter of (@lock, @ticket): in the hash, or, while some
 * registration is unhashed, by the scan.  Timed in lookup_ns while
 * lookup_timing is on.
 */
static struct pvlock_waiter *pvlock_find(const struct vmaccel_pvlock *lock,
					 u16 ticket, unsigned long *seq)
{
	bool timed = READ_ONCE(pvlock_lookup_timing);
	u64 t0 = timed ? local_clock() : 0;
	struct pvlock_waiter *w;

	w = pvlock_hash_find(lock, ticket, seq);
	/*
	 * After the xadd (fully ordered) that saw the slow flag: a waiter
	 * that set it unhashed has raised the count before.
	 */
	if (!w && atomic_read(&pvlock_unhashed)) {
		pvlock_count(PVLOCK_STAT_LOOKUP_SCANS);
		w = pvlock_scan(lock, ticket, seq);
	}
	if (timed)
		this_cpu_add(pvlock_stats.stat[PVLOCK_STAT_LOOKUP_NS],
			     local_clock() - t0);
	return w;
}

/* Wake the waiter in slot @w on @cpu if it is halted; true if sent. */
static bool pvlock_wake(const struct vmaccel_pvlock *lock,
			struct pvlock_waiter *w,
			u16 ticket, int cpu)
{
	const struct pvlock_backend *be;

	if (!READ_ONCE(w->halted))
		return false;
	be = READ_ONCE(w->backend);
	trace_pvlock_kick(lock, ticket, cpu);
	be->kick(cpu);
	pvlock_count(PVLOCK_STAT_WAKEUPS);
	return true;
}

/*
 * Torture check: the unlocker that let us in must have kicked us.  False
 * (lost) if its mark did not come within a second; true if it came, or if
 * the run ended or was stopped first (no verdict: the waits of a run that
 * loses kicks stay bounded by its end).
 */
static bool pvlock_wait_kick(struct pvlock_waiter *w,
			     const struct pvlock_acq *acq)
{
	u64 start = local_clock();

	while (READ_ONCE(w->kick) != (w->seq | PVLOCK_KICKED)) {
		if ((acq->verify_stop && READ_ONCE(*acq->verify_stop)) ||
		    (acq->verify_end_ns && ktime_get_ns() >= acq->verify_end_ns))
			return true;
		if (local_clock() - start > NSEC_PER_SEC)
			return false;
		cpu_relax();
	}
	return true;
}

static void pvlock_account_blocked(u64 ns)
{
	unsigned int b = min_t(unsigned int, fls64(ns), PVLOCK_HISTO_BUCKETS - 1);

	pvlock_count(PVLOCK_STAT_BLOCKED);
	this_cpu_add(pvlock_stats.stat[PVLOCK_STAT_TIME_BLOCKED_NS], ns);
	this_cpu_inc(pvlock_stats.histo[b]);
}

/*
 * The slow path: ticket @me is not served yet.  Spin, then block until the
 * unlocker of ticket @me - 2 kicks us.  Interrupts stay in the caller's
 * state except around the check-then-halt, which runs with interrupts off
 * so that a kick arriving after the check is held pending until the halt
 * (sti;hlt for the ipi backend, PV unhalt for kvm).
 */
static noinline void pvlock_slowpath(struct vmaccel_pvlock *lock, u16 me,
				     struct pvlock_acq *acq)
{
	const struct pvlock_backend *be = READ_ONCE(pvlock_backend);
	struct pvlock_waiter *w = NULL;
	struct pvlock_acq local;
	unsigned long flags;
	bool irqs_on;
	u64 t0 = 0;

	if (!acq) {
		memset(&local, 0, sizeof(local));
		local.spin_threshold = READ_ONCE(pvlock_spin_threshold);
		acq = &local;
	}
	if (pvlock_spin(lock, me, acq->spin_threshold)) {
		pvlock_count(PVLOCK_STAT_TAKEN_FAST);
		return;
	}
	acq->slow = true;
	pvlock_count(PVLOCK_STAT_TAKEN_SLOW);

	irqs_on = !irqs_disabled();
	if (!be->can_block || in_nmi()) {
		pvlock_spin_forever(lock, me);
		return;
	}
	if (!be->can_block(irqs_on)) {
		acq->irqs_off = true;
		pvlock_count(PVLOCK_STAT_IRQS_OFF_SPINS);
		pvlock_spin_forever(lock, me);
		return;
	}

	for (;;) {
		local_irq_save(flags);
		if (!w) {
			w = pvlock_register(lock, me, be);
			if (!w) {
				local_irq_restore(flags);
				pvlock_spin_forever(lock, me);
				return;
			}
			t0 = local_clock();
		}
		WRITE_ONCE(w->halted, 1);
		/*
		 * halted (and the slot) before the last check of head: pairs
		 * with the fully ordered xadd in pvlock_unlock_kick() before
		 * its reads of the slots.  Either we see our turn, or the
		 * unlocker sees the flag and us halted, and kicks us.
		 */
		smp_mb();
		if (pvlock_head(lock) == me) {
			WRITE_ONCE(w->halted, 0);
			if (!acq->halts)
				pvlock_count(PVLOCK_STAT_TAKEN_SLOW_PICKUP);
			local_irq_restore(flags);
			break;
		}
		trace_pvlock_block(lock, me, READ_ONCE(lock->tickets.head) &
				   ~PVLOCK_SLOW, irqs_on);
		be->wait(irqs_on);
		WRITE_ONCE(w->halted, 0);
		acq->halts++;
		pvlock_count(PVLOCK_STAT_HALTS);
		/*
		 * Whatever woke us (our kick, another interrupt, a kick still
		 * in flight from earlier) happened after the kicker's head
		 * store or is followed by this re-check; see design.rst.
		 */
		smp_mb();
		if (pvlock_head(lock) == me) {
			trace_pvlock_wake(lock, me, false);
			local_irq_restore(flags);
			break;
		}
		trace_pvlock_wake(lock, me, true);
		acq->spurious++;
		pvlock_count(PVLOCK_STAT_SPURIOUS);
		local_irq_restore(flags);
		if (pvlock_spin(lock, me, acq->spin_threshold))
			break;
	}

	if (acq->halts) {
		acq->blocked = true;
		pvlock_account_blocked(local_clock() - t0);
		if (acq->verify_kicks)
			acq->lost = !pvlock_wait_kick(w, acq);
	}
	pvlock_unregister(lock, w);
}

/**
 * pvlock_lock_acq() - take a lock, reporting what the acquisition did
 * @lock: the lock.
 * @acq: the torture's per-acquisition report (input: spin threshold and
 *	checks), or NULL for the module-wide settings and no report.
 *
 * The body of vmaccel_pvlock_lock().
 *
 * Return: the ticket that was served.
 */
u16 pvlock_lock_acq(struct vmaccel_pvlock *lock, struct pvlock_acq *acq)
	__acquires(lock)
{
	u32 old;
	u16 me;

	preempt_disable();
	this_cpu_inc(pvlock_inflight);
	spin_acquire(&lock->dep_map, 0, 0, _RET_IP_);
	old = (u32)atomic_fetch_add_acquire(PVLOCK_TAIL_INC, &lock->val);
	me = old >> 16;
	pvlock_note(lock, me);
	if (likely(((u16)old & ~PVLOCK_SLOW) == me)) {
		pvlock_count(PVLOCK_STAT_TAKEN_FAST);
		if (unlikely(old & PVLOCK_SLOW))
			pvlock_clear_slow(lock, me);
	} else {
		pvlock_slowpath(lock, me, acq);
		/* However we got in, a flag nobody needs any more goes. */
		pvlock_clear_slow(lock, me);
	}
	__acquire(lock);
	return me;
}

/*
 * Kick the waiter registered for @lock with ticket @next, if there is one.
 * @lock is only compared with the slots' values: it may be freed already.
 */
static unsigned int pvlock_kick_next(const struct vmaccel_pvlock *lock,
				     u16 next)
{
	struct pvlock_waiter *w;
	unsigned long seq, old;
	unsigned int ret;

	pvlock_count(PVLOCK_STAT_RELEASED_SLOW);
	w = pvlock_find(lock, next, &seq);
	if (!w)
		return 0;
	pvlock_find_hold(w, true);
	/*
	 * Only that registration: the slot may hold a later one by now.  If
	 * so, the registration found has ended and its waiter has its lock
	 * (pvlock_check()): nothing to kick.  Marked already (by a stale
	 * unlocker) is still the registration found: it is woken.
	 */
	old = cmpxchg(&w->kick, seq, seq | PVLOCK_KICKED);
	if ((old & ~PVLOCK_KICKED) != seq)
		return 0;
	pvlock_count(PVLOCK_STAT_RELEASED_SLOW_KICKED);
	ret = PVLOCK_UNLOCK_KICKED;
	if (pvlock_wake(lock, w, next, w->cpu))
		ret |= PVLOCK_UNLOCK_WOKE;
	return ret;
}

static __always_inline unsigned int __pvlock_unlock(struct vmaccel_pvlock *lock,
						    bool kick)
	__releases(lock)
{
	unsigned int ret = 0;
	u16 head;

	spin_release(&lock->dep_map, _RET_IP_);
	/*
	 * The release and the slow flag in one atomic operation (xadd is a
	 * locked instruction: fully ordered, so the critical section comes
	 * before the next owner sees its turn, and the release before the
	 * reads of the slots below; see the slow path).
	 */
	instrument_atomic_read_write(&lock->tickets.head,
				     sizeof(lock->tickets.head));
	head = xadd(&lock->tickets.head, PVLOCK_TICKET_INC);
	pvlock_release_hold();
	if (unlikely(head & PVLOCK_SLOW) && kick)
		ret = pvlock_kick_next(lock, (head & ~PVLOCK_SLOW) +
				       PVLOCK_TICKET_INC);
	this_cpu_dec(pvlock_inflight);
	preempt_enable();
	__release(lock);
	return ret;
}

/**
 * pvlock_unlock_kick() - release a lock, kicking the next waiter if blocked
 * @lock: the lock, held by the caller.  Not touched after the release: its
 *	next owner may free it at once.
 *
 * The body of vmaccel_pvlock_unlock().
 *
 * Return: %PVLOCK_UNLOCK_KICKED if the waiter of the next ticket was
 * registered (blocked or about to block), with %PVLOCK_UNLOCK_WOKE if it was
 * halted and a wake-up was sent; 0 otherwise.
 */
unsigned int pvlock_unlock_kick(struct vmaccel_pvlock *lock)
	__releases(lock)
{
	return __pvlock_unlock(lock, true);
}

/**
 * pvlock_unlock_nokick() - release a lock, never kicking anyone (broken)
 * @lock: the lock, held by the caller.
 *
 * The %VMACCEL_PVLOCK_KIND_PV_NOKICK negative control of the torture: a
 * blocked waiter of the next ticket is neither marked nor woken, and only
 * wakes up when something else ends its halt (the timer tick: the kind is
 * only run with interrupts on).  The lost-wake-up verifier must report it.
 */
void pvlock_unlock_nokick(struct vmaccel_pvlock *lock)
	__releases(lock)
{
	__pvlock_unlock(lock, false);
}

/**
 * pvlock_plain_lock() - take a lock as a plain ticket lock (never blocks)
 * @lock: the lock; it must only be used with pvlock_plain_unlock().
 *
 * The torture's %VMACCEL_PVLOCK_KIND_TICKET baseline: same layout, same
 * fast path, no slow path, no counters.
 *
 * Return: the ticket that was served.
 */
u16 pvlock_plain_lock(struct vmaccel_pvlock *lock)
	__acquires(lock)
{
	u32 old;
	u16 me;

	preempt_disable();
	old = (u32)atomic_fetch_add_acquire(PVLOCK_TAIL_INC, &lock->val);
	me = old >> 16;
	if ((u16)old != me)
		pvlock_spin_forever(lock, me);
	__acquire(lock);
	return me;
}

/**
 * pvlock_plain_unlock() - release a lock taken with pvlock_plain_lock()
 * @lock: the lock.
 */
void pvlock_plain_unlock(struct vmaccel_pvlock *lock)
	__releases(lock)
{
	/* The critical section before the next owner sees its turn. */
	smp_store_release(&lock->tickets.head,
			  READ_ONCE(lock->tickets.head) + PVLOCK_TICKET_INC);
	preempt_enable();
	__release(lock);
}

/**
 * vmaccel_pvlock_lock() - take a lock, waiting if needed
 * @lock: the lock.
 *
 * Takes a ticket and waits for it to be served: spinning first, then
 * blocked (halted) until the unlocker of the previous ticket kicks this CPU.
 * Preemption is disabled until vmaccel_pvlock_unlock().  Waiting happens
 * with interrupts in the caller's state.
 *
 * Context: any context but NMI; must not sleep while holding the lock.
 */
void vmaccel_pvlock_lock(struct vmaccel_pvlock *lock)
	__acquires(lock)
{
	pvlock_lock_acq(lock, NULL);
}
EXPORT_SYMBOL_GPL(vmaccel_pvlock_lock);

/**
 * vmaccel_pvlock_unlock() - release a lock
 * @lock: the lock, held by the caller.
 *
 * Serves the next ticket and, if its waiter is blocked, kicks that waiter
 * (only that one).
 *
 * Context: the context that took the lock.
 */
void vmaccel_pvlock_unlock(struct vmaccel_pvlock *lock)
	__releases(lock)
{
	pvlock_unlock_kick(lock);
}
EXPORT_SYMBOL_GPL(vmaccel_pvlock_unlock);

/**
 * _vmaccel_pvlock_trylock() - take a lock if it is free
 * @lock: the lock.
 *
 * Use vmaccel_pvlock_trylock(), which tells sparse about the lock.
 *
 * Context: any context but NMI.
 * Return: 1 if the lock was taken (preemption disabled), 0 otherwise.
 */
int _vmaccel_pvlock_trylock(struct vmaccel_pvlock *lock)
{
	int old;

	preempt_disable();
	old = atomic_read(&lock->val);
	if (((u16)old & ~PVLOCK_SLOW) == (u16)((u32)old >> 16) &&
	    atomic_try_cmpxchg_acquire(&lock->val, &old,
				       (int)((u32)old + PVLOCK_TAIL_INC))) {
		this_cpu_inc(pvlock_inflight);
		spin_acquire(&lock->dep_map, 0, 1, _RET_IP_);
		pvlock_note(lock, (u16)((u32)old >> 16));
		pvlock_count(PVLOCK_STAT_TAKEN_FAST);
		if (unlikely(old & PVLOCK_SLOW))
			pvlock_clear_slow(lock, (u16)((u32)old >> 16));
		return 1;
	}
	preempt_enable();
	return 0;
}
EXPORT_SYMBOL_GPL(_vmaccel_pvlock_trylock);

/**
 * _vmaccel_pvlock_lock_irqsave() - disable local interrupts, take a lock
 * @lock: the lock.
 *
 * Use vmaccel_pvlock_lock_irqsave().
 *
 * Context: any context but NMI.
 * Return: the interrupt state before, for vmaccel_pvlock_unlock_irqrestore().
 */
unsigned long _vmaccel_pvlock_lock_irqsave(struct vmaccel_pvlock *lock)
	__acquires(lock)
{
	unsigned long flags;

	local_irq_save(flags);
	pvlock_lock_acq(lock, NULL);
	return flags;
}
EXPORT_SYMBOL_GPL(_vmaccel_pvlock_lock_irqsave);

/**
 * _vmaccel_pvlock_trylock_irqsave() - disable local interrupts, try a lock
 * @lock: the lock.
 * @flags: receives the interrupt state before.
 *
 * Use vmaccel_pvlock_trylock_irqsave().
 *
 * Context: any context but NMI.
 * Return: 1 if the lock was taken (interrupts off), 0 otherwise (interrupt
 * state restored).
 */
int _vmaccel_pvlock_trylock_irqsave(struct vmaccel_pvlock *lock,
				    unsigned long *flags)
{
	local_irq_save(*flags);
	if (_vmaccel_pvlock_trylock(lock))
		return 1;
	local_irq_restore(*flags);
	return 0;
}
EXPORT_SYMBOL_GPL(_vmaccel_pvlock_trylock_irqsave);

/**
 * vmaccel_pvlock_unlock_irqrestore() - release a lock, restore interrupts
 * @lock: the lock, taken with vmaccel_pvlock_lock_irqsave() or
 *	vmaccel_pvlock_trylock_irqsave().
 * @flags: the interrupt state returned by it.
 *
 * The kick (if any) is sent before interrupts are restored; both backends
 * can kick with interrupts off.
 */
void vmaccel_pvlock_unlock_irqrestore(struct vmaccel_pvlock *lock,
				      unsigned long flags)
	__releases(lock)
{
	pvlock_unlock_kick(lock);
	local_irq_restore(flags);
}
EXPORT_SYMBOL_GPL(vmaccel_pvlock_unlock_irqrestore);

static void pvlock_stale_turn(struct pvlock_waiter *w, bool at_mark)
{
	struct pvlock_stale *s = this_cpu_ptr(&pvlock_stale);
	bool late = s->how != PVLOCK_STALE_AT_FIND;

	if (s->slot != w || late != at_mark)
		return;
	s->slot = NULL;
	if (s->how == PVLOCK_STALE_PREMARK) {
		WRITE_ONCE(w->kick, READ_ONCE(w->seq) | PVLOCK_KICKED);
		s->now = w;
		return;
	}
	/* The waiter got its lock and left; a waiter of another lock came. */
	pvlock_unregister(NULL, w);
	s->now = pvlock_register(s->to, s->ticket, READ_ONCE(w->backend));
}

/**
 * pvlock_stale_kick_check() - an unlocker whose check of a slot straddles
 *	the reuse of the slot
 * @res: what happened.
 * @how: where the slot turns over, or whether it is marked (below).
 *
 * On this CPU, with interrupts off: take lock L (ticket 0), queue tickets 2
 * and 4 behind it, and register this CPU's slot as the waiter of (L, 4).
 * Its hash entry is placed in the window of (L, 2), as a collision of
 * two tickets of L could place it (when the entry does not fit, the scan
 * checks the slot instead).  Unlock L: the unlocker looks for the waiter of
 * (L, 2), which does not exist.  While it checks the slot, after reading its lock (L) and before
 * reading its ticket, the torture hook ends the registration and registers
 * the slot for (X, 2), another lock.  An unlocker that combines the two
 * registrations marks (and would wake) the waiter of X: a kick for L taken
 * for the one X's unlocker owes.  Neither waiter halts, nothing is woken.
 *
 * With %PVLOCK_STALE_AT_MARK the slot is registered for (L, 2), the waiter
 * the unlocker looks for, and turns over to (X, 2) after the unlocker found
 * it and before it marks it: the registration found has ended (its waiter
 * would have its lock), so the unlocker must neither mark nor kick the new
 * one.  With %PVLOCK_STALE_PREMARK the slot keeps its registration for
 * (L, 2) and is marked kicked there instead, as by a stale unlocker: the
 * unlocker must still kick it (a waiter that halted would sleep on).
 *
 * Context: process context; the debugfs files stale_kick, stale_mark and
 * stale_premark.
 * Return: 0, or -EBUSY when this CPU's slots are all in use.
 */
int pvlock_stale_kick_check(struct pvlock_stale_res *res,
			    enum pvlock_stale_how how)
{
	struct vmaccel_pvlock l, x;
	struct pvlock_waiter *w;
	struct pvlock_stale *s;
	unsigned long flags;
	unsigned int ret;
	int err = 0;

	vmaccel_pvlock_init(&l);
	vmaccel_pvlock_init(&x);
	atomic_inc(&pvlock_stale_key);
	local_irq_save(flags);
	pvlock_lock_acq(&l, NULL);
	atomic_add(2 * PVLOCK_TAIL_INC, &l.val);
	atomic_add(2 * PVLOCK_TAIL_INC, &x.val);
	/* Looked up as (L, 2) by the unlocker: see __pvlock_register(). */
	w = __pvlock_register(&l, (how == PVLOCK_STALE_AT_FIND ? 2 : 1) *
			      PVLOCK_TICKET_INC, PVLOCK_TICKET_INC,
			      READ_ONCE(pvlock_backend));
	if (!w) {
		err = -EBUSY;
		pvlock_unlock_kick(&l);
		goto out;
	}
	s = this_cpu_ptr(&pvlock_stale);
	s->to = &x;
	s->ticket = PVLOCK_TICKET_INC;
	s->now = NULL;
	s->how = how;
	s->slot = w;
	ret = pvlock_unlock_kick(&l);
	/* In the same slot, or the check proved nothing. */
	res->turned += s->now == w;
	res->kicked += !!(ret & PVLOCK_UNLOCK_KICKED);
	if (s->now) {
		res->marked += !!(READ_ONCE(s->now->kick) & PVLOCK_KICKED);
		pvlock_unregister(how == PVLOCK_STALE_PREMARK ? &l : &x, s->now);
	} else {
		/* The unlocker never checked the slot (not online?). */
		s->slot = NULL;
		pvlock_unregister(&l, w);
	}
	res->rounds++;
out:
	local_irq_restore(flags);
	atomic_dec(&pvlock_stale_key);
	return err;
}

/**
 * pvlock_stats_sum() - add up the counters of all CPUs
 * @sum: the totals.
 */
void pvlock_stats_sum(struct pvlock_stats *sum)
{
	const struct pvlock_stats *s;
	unsigned int i;
	int cpu;

	memset(sum, 0, sizeof(*sum));
	for_each_possible_cpu(cpu) {
		s = per_cpu_ptr(&pvlock_stats, cpu);
		for (i = 0; i < PVLOCK_NR_STATS; i++)
			sum->stat[i] += READ_ONCE(s->stat[i]);
		for (i = 0; i < PVLOCK_HISTO_BUCKETS; i++)
			sum->histo[i] += READ_ONCE(s->histo[i]);
	}
}

static void pvlock_stats_zero_cpu(void *unused)
{
	unsigned int i;

	for (i = 0; i < PVLOCK_NR_STATS; i++)
		this_cpu_write(pvlock_stats.stat[i], 0);
	for (i = 0; i < PVLOCK_HISTO_BUCKETS; i++)
		this_cpu_write(pvlock_stats.histo[i], 0);
}

/**
 * pvlock_stats_zero() - reset the counters of all CPUs
 *
 * Each CPU resets its own counters (in an IPI), so no increment is torn;
 * events that happen during the reset may or may not be counted.  Called
 * from process context.
 */
void pvlock_stats_zero(void)
{
	on_each_cpu(pvlock_stats_zero_cpu, NULL, 1);
}

/**
 * pvlock_locks_in_use() - locks held or waited for right now
 *
 * Return: the sum of the per-CPU counts; a snapshot.
 */
long pvlock_locks_in_use(void)
{
	long n = 0;
	int cpu;

	for_each_possible_cpu(cpu)
		n += READ_ONCE(*per_cpu_ptr(&pvlock_inflight, cpu));
	return n;
}

/**
 * pvlock_waiters_show() - print the registered waiters (debugfs)
 * @m: the seq_file.
 */
void pvlock_waiters_show(struct seq_file *m)
{
	const struct pvlock_backend *be;
	struct vmaccel_pvlock *lock;
	struct pvlock_waiter *w;
	unsigned long s, kick;
	u32 want, halted;
	unsigned int i;
	int cpu;

	seq_puts(m, "cpu slot lock want kicked halted backend\n");
	for_each_possible_cpu(cpu) {
		for (i = 0; i < PVLOCK_MAX_NEST; i++) {
			w = &per_cpu_ptr(&pvlock_cpus, cpu)->slot[i];
			s = READ_ONCE(w->seq);
			if (!(s & 1))
				continue;
			/* As in pvlock_check(): one registration's fields. */
			smp_rmb();
			lock = READ_ONCE(w->lock);
			want = READ_ONCE(w->want);
			kick = READ_ONCE(w->kick);
			halted = READ_ONCE(w->halted);
			be = READ_ONCE(w->backend);
			/* Pairs with the first smp_wmb() in pvlock_register(). */
			smp_rmb();
			if (READ_ONCE(w->seq) != s)
				continue;
			seq_printf(m, "%d %u %p %u %d %d %s\n", cpu, i, lock,
				   want & 0xffff, kick == (s | PVLOCK_KICKED),
				   !!halted, be->name);
		}
	}
}

/**
 * pvlock_hash_init() - allocate the waiter hash, number the slots
 *
 * Context: module load, before any lock can be used.  The table has
 * 2 * PVLOCK_MAX_NEST entries per possible CPU (twice the registrations
 * that can exist at once), a power of two of cache-line buckets, at least
 * the window.
 *
 * Return: 0 or -ENOMEM.
 */
int pvlock_hash_init(void)
{
	unsigned long n;
	unsigned int i;
	int cpu;

	n = 2UL * PVLOCK_MAX_NEST * num_possible_cpus() / PVLOCK_HASH_PER_BUCKET;
	n = roundup_pow_of_two(max_t(unsigned long, n,
				     PVLOCK_HASH_BUCKETS_PROBED));
	pvlock_hash_bits = ilog2(n);
	pvlock_hash = kvcalloc(n, sizeof(*pvlock_hash), GFP_KERNEL);
	if (!pvlock_hash)
		return -ENOMEM;
	for_each_possible_cpu(cpu)
		for (i = 0; i < PVLOCK_MAX_NEST; i++)
			per_cpu_ptr(&pvlock_cpus, cpu)->slot[i].cpu = cpu;
	pr_debug("waiter hash: %lu buckets of %zu entries\n", n,
		 PVLOCK_HASH_PER_BUCKET);
	return 0;
}

/**
 * pvlock_hash_exit() - free the waiter hash
 *
 * At module unload: no lock is in use (users hold a module reference).
 */
void pvlock_hash_exit(void)
{
	WARN_ON_ONCE(atomic_read(&pvlock_unhashed));
	kvfree(pvlock_hash);
	pvlock_hash = NULL;
}

/**
 * pvlock_hash_show() - print the size and use of the waiter hash (debugfs)
 * @m: the seq_file.
 */
void pvlock_hash_show(struct seq_file *m)
{
	unsigned int i, j, used = 0, n = 1U << pvlock_hash_bits;

	for (i = 0; i < n; i++)
		for (j = 0; j < PVLOCK_HASH_PER_BUCKET; j++)
			used += !!READ_ONCE(pvlock_hash[i].e[j].lock);
	seq_printf(m, "buckets %u entries_per_bucket %zu window %zu probes %u used %u unhashed %d\n",
		   n, PVLOCK_HASH_PER_BUCKET, PVLOCK_HASH_WINDOW,
		   READ_ONCE(pvlock_hash_probes), used,
		   atomic_read(&pvlock_unhashed));
}
