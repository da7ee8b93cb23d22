/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * vmaccel_pvlock - declarations shared by the files of the module.
 */
#ifndef _VMACCEL_PVLOCK_INTERNAL_H
#define _VMACCEL_PVLOCK_INTERNAL_H

#include <linux/sysfs.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/percpu.h>
#include <linux/seq_file.h>
#include <linux/spinlock_types.h>
#include <linux/types.h>
#include <linux/wait.h>
#include <linux/atomic.h>
#include <linux/vmaccel_pvlock.h>
#include <vmaccel/pvlock.h>

/* Tickets go in steps of 2: bit 0 of head is the slow flag. */
#define PVLOCK_TICKET_INC	2
#define PVLOCK_SLOW		VMACCEL_PVLOCK_SLOW

/* Per-CPU waiting slots: task, softirq, hardirq, and one spare. */
#define PVLOCK_MAX_NEST		4
/* Histogram of time blocked: bucket i counts waits of [2^(i-1), 2^i) ns. */
#define PVLOCK_HISTO_BUCKETS	32
/* Default spins without the queue moving before a waiter blocks. */
#define PVLOCK_SPIN_THRESHOLD_DEFAULT	64

/**
 * struct pvlock_backend - how a blocked waiter sleeps and is woken
 * @name: the name in sysfs.
 * @id: the &enum vmaccel_pvlock_backend value.
 * @available: whether the backend works on this machine.
 * @can_block: whether a waiter can block in the given interrupt state
 *	(@irqs_on: interrupts were on when it started waiting).  NULL: the
 *	backend never blocks.
 * @wait: halt until kicked or interrupted.  Called with interrupts off,
 *	after the waiter registered and re-checked its ticket; returns with
 *	interrupts off.  @irqs_on: the waiter's interrupt state outside.
 * @kick: wake @cpu out of @wait, from any context but NMI.  A kick that
 *	arrives before the halt must end it at once.
 */
struct pvlock_backend {
	const char *name;
	enum vmaccel_pvlock_backend id;
	bool (*available)(void);
	bool (*can_block)(bool irqs_on);
	void (*wait)(bool irqs_on);
	void (*kick)(int cpu);
};

/* backend.c */
extern const struct pvlock_backend *pvlock_backend;
extern const struct pvlock_backend *const pvlock_backends[];
extern const unsigned int pvlock_nr_backends;
int pvlock_backend_init(void);
void pvlock_backend_exit(void);
int pvlock_backend_set(const char *name);
extern u32 pvlock_spin_threshold;
extern atomic_t pvlock_runs_active;
const struct pvlock_backend *pvlock_runs_get(void);
void pvlock_runs_put(void);

/* Per-CPU event counters, summed for sysfs and debugfs. */
enum pvlock_stat {
	PVLOCK_STAT_TAKEN_FAST,
	PVLOCK_STAT_TAKEN_SLOW,
	PVLOCK_STAT_TAKEN_SLOW_PICKUP,
	PVLOCK_STAT_BLOCKED,
	PVLOCK_STAT_HALTS,
	PVLOCK_STAT_SPURIOUS,
	PVLOCK_STAT_IRQS_OFF_SPINS,
	PVLOCK_STAT_RELEASED_SLOW,
	PVLOCK_STAT_RELEASED_SLOW_KICKED,
	PVLOCK_STAT_WAKEUPS,
	PVLOCK_STAT_TIME_BLOCKED_NS,
	/* In debugfs stats only: registrations that found no hash entry... */
	PVLOCK_STAT_HASH_FULL,
	/* ...slow unlocks that scanned the slots for one... */
	PVLOCK_STAT_LOOKUP_SCANS,
	/* ...and the time slow unlocks spent finding the waiter, in ns. */
	PVLOCK_STAT_LOOKUP_NS,
	PVLOCK_NR_STATS,
};

/**
 * struct pvlock_stats - event counters of one CPU (or their sum)
 * @stat: indexed by &enum pvlock_stat.
 * @histo: time blocked, log2 buckets of nanoseconds.
 *
 * Per-CPU instances are only changed by their CPU with this_cpu_*()
 * operations (interrupt-safe); readers sum them without locking.
 */
struct pvlock_stats {
	u64 stat[PVLOCK_NR_STATS];
	u64 histo[PVLOCK_HISTO_BUCKETS];
};

extern const char *const pvlock_stat_names[PVLOCK_NR_STATS];
void pvlock_stats_sum(struct pvlock_stats *sum);
void pvlock_stats_zero(void);
long pvlock_locks_in_use(void);

/**
 * struct pvlock_acq - what one acquisition did, for the torture
 * @spin_threshold: spins without progress before blocking (input).
 * @verify_kicks: wait for the kick of a blocked acquisition (input).
 * @verify_end_ns: with @verify_kicks, stop waiting for the kick, without a
 *	verdict, once ktime_get_ns() reaches this (the end of the run; input).
 * @verify_stop: with @verify_kicks, stop waiting likewise once *@verify_stop
 *	is true (the run was stopped; input).
 * @slow: saw the queue stand still for @spin_threshold spins.
 * @blocked: halted at least once.
 * @irqs_off: could not block because interrupts were off.
 * @lost: blocked, and the unlocker's kick did not come within a second.
 * @halts: halts.
 * @spurious: halts that ended before the waiter's turn.
 */
struct pvlock_acq {
	u32 spin_threshold;
	bool verify_kicks;
	u64 verify_end_ns;
	const bool *verify_stop;
	bool slow;
	bool blocked;
	bool irqs_off;
	bool lost;
	u32 halts;
	u32 spurious;
};

/* lock.c: the library with the torture's hooks. */
u16 pvlock_lock_acq(struct vmaccel_pvlock *lock, struct pvlock_acq *acq)
	__acquires(lock);
/* pvlock_unlock_kick(): found the next waiter registered; sent a wake-up. */
#define PVLOCK_UNLOCK_KICKED	BIT(0)
#define PVLOCK_UNLOCK_WOKE	BIT(1)
unsigned int pvlock_unlock_kick(struct vmaccel_pvlock *lock)
	__releases(lock);
void pvlock_unlock_nokick(struct vmaccel_pvlock *lock) __releases(lock);
/**
 * struct pvlock_ticket_note - torture hook: the ticket an acquisition took
 * @lock: while the key is on and this is set, an acquisition of *@lock on
 *	this CPU (vmaccel_pvlock_lock() and its variants, and the trylocks
 *	that succeed) writes the ticket it took into @ticket.
 * @ticket: see @lock.
 *
 * Per CPU, set by the torture thread around its lock call (preemption off):
 * the ticket comes from the atomic grab, not from head.
 */
struct pvlock_ticket_note {
	const struct vmaccel_pvlock *lock;
	u16 ticket;
};

/* Torture runs using the ticket note (a counter, not a static key). */
extern atomic_t pvlock_ticket_note_key;
DECLARE_PER_CPU(struct pvlock_ticket_note, pvlock_ticket_note);
u16 pvlock_plain_lock(struct vmaccel_pvlock *lock) __acquires(lock);
void pvlock_plain_unlock(struct vmaccel_pvlock *lock) __releases(lock);
void pvlock_waiters_show(struct seq_file *m);
int pvlock_hash_init(void);
void pvlock_hash_exit(void);
void pvlock_hash_show(struct seq_file *m);
/* Torture knob: hash entries a registration may try (debugfs hash_probes). */
extern u32 pvlock_hash_probes;
extern bool pvlock_lookup_timing;
extern bool pvlock_hash_broken_fallback;
/**
 * struct pvlock_release_wait - torture hook: hold an unlock after release
 * @until: while the key is on and this is set, an unlock on this CPU
 *	busy-waits right after its releasing store until *@until reaches
 *	@value, at most %PVLOCK_RELEASE_WAIT_MAX_NS: the window in which the
 *	next owners may free the lock.
 * @value: see @until.
 *
 * Per CPU, set by the torture thread around its unlock (preemption off).
 */
struct pvlock_release_wait {
	const u64 *until;
	u64 value;
};

#define PVLOCK_RELEASE_WAIT_MAX_NS	2000000
/* Torture runs using the release wait (a counter, not a static key). */
extern atomic_t pvlock_release_wait_key;
DECLARE_PER_CPU(struct pvlock_release_wait, pvlock_release_wait);

/**
 * enum pvlock_stale_how - what pvlock_stale_kick_check() does to the slot
 * @PVLOCK_STALE_AT_FIND: turn it over while the unlocker reads it.
 * @PVLOCK_STALE_AT_MARK: turn it over between the unlocker's find and mark.
 * @PVLOCK_STALE_PREMARK: mark the registration the unlocker found kicked
 *	before the unlocker does, as a stale unlocker could.
 */
enum pvlock_stale_how {
	PVLOCK_STALE_AT_FIND,
	PVLOCK_STALE_AT_MARK,
	PVLOCK_STALE_PREMARK,
};

/**
 * struct pvlock_stale_res - results of pvlock_stale_kick_check()
 * @rounds: checks made.
 * @turned: checks in which the hook ran on the unlocker's slot (the new
 *	registration, or the marked one, in the same slot).
 * @marked: checks in which the registration in the slot ended up marked
 *	kicked (turned over: a kick for the wrong lock, a bug).
 * @kicked: checks in which the unlocker reported a kick (turned over: there
 *	was no waiter of its lock left to kick, a bug; premarked: required).
 */
struct pvlock_stale_res {
	u64 rounds;
	u64 turned;
	u64 marked;
	u64 kicked;
};

int pvlock_stale_kick_check(struct pvlock_stale_res *res,
			    enum pvlock_stale_how how);

/* torture.c */
struct pvlock_run;

/**
 * struct pvlock_file - an open /dev/vmaccel-pvlock
 * @mutex: serializes the ioctls of the file and protects @run and @seq.
 * @run: the latest run, or NULL.
 * @seq: sequence number of @run (1 for the first run).
 * @done_seq: sequence number of the latest finished run; written by the
 *	last thread of a run (WRITE_ONCE) before it wakes @wq.
 * @wq: %VMACCEL_PVLOCK_RUN_RESULT waits here for the end of a run.
 *
 * The file outlives its runs: release destroys the run (stopping its
 * threads) before freeing the file.
 */
struct pvlock_file {
	struct mutex mutex;	/* see the kernel-doc above */
	struct pvlock_run *run;
	u64 seq;
	u64 done_seq;
	wait_queue_head_t wq;
};

int pvlock_run_check(const struct vmaccel_pvlock_run *p);
struct pvlock_run *pvlock_run_start(struct pvlock_file *f,
				    const struct vmaccel_pvlock_run *p);
bool pvlock_run_finished(struct pvlock_run *run);
void pvlock_run_stop(struct pvlock_run *run);
const struct vmaccel_pvlock_result *pvlock_run_result(struct pvlock_run *run);
void pvlock_run_destroy(struct pvlock_run *run);
void pvlock_runs_show(struct seq_file *m);
const char *pvlock_kind_name(u32 kind);

/* sysfs.c */
extern const struct attribute_group *pvlock_attr_groups[];

/* debugfs.c */
void pvlock_debugfs_init(void);
void pvlock_debugfs_exit(void);

#endif /* _VMACCEL_PVLOCK_INTERNAL_H */
