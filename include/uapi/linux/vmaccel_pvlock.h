/* SPDX-License-Identifier: GPL-2.0-only WITH Linux-syscall-note */
/*
 * vmaccel_pvlock - paravirtual ticket spinlocks, userspace ABI.
 *
 * /dev/vmaccel-pvlock runs a lock torture and benchmark in kernel threads:
 * %VMACCEL_PVLOCK_RUN_START starts a run on the file descriptor,
 * %VMACCEL_PVLOCK_RUN_RESULT waits for its end and returns the results,
 * %VMACCEL_PVLOCK_RUN_STOP ends it early.  One run at a time per file
 * descriptor; closing the descriptor stops its run.  Every structure is
 * fixed-size, naturally aligned, and carries a flags word; unknown flags and
 * non-zero reserved fields are rejected with -EINVAL, unknown commands with
 * -ENOTTY.
 */
#ifndef _UAPI_LINUX_VMACCEL_PVLOCK_H
#define _UAPI_LINUX_VMACCEL_PVLOCK_H

#include <linux/ioctl.h>
#include <linux/types.h>

/* One ioctl type byte for the whole vmaccel suite; pvlock owns 0x70-0x8f. */
#ifndef VMACCEL_IOCTL_TYPE
#define VMACCEL_IOCTL_TYPE	0xB8
#endif

/**
 * enum vmaccel_pvlock_kind - the lock a run tortures
 * @VMACCEL_PVLOCK_KIND_PV: the paravirtual ticket lock with the backend
 *	selected in sysfs (a waiter blocks once the queue stood still for
 *	spin_threshold spins).
 * @VMACCEL_PVLOCK_KIND_TICKET: a plain ticket lock (same layout, waiters
 *	never block): the baseline that collapses under vCPU overcommit.
 * @VMACCEL_PVLOCK_KIND_SPINLOCK: the kernel's own spinlock_t.
 * @VMACCEL_PVLOCK_KIND_BROKEN: a deliberately broken lock (test, then set,
 *	without an atomic operation); a run must report violations, which
 *	proves that the mutual-exclusion check works.
 * @VMACCEL_PVLOCK_KIND_PV_NOKICK: the paravirtual ticket lock with the
 *	unlocker's kick left out (a deliberately broken lock): a blocked
 *	waiter is only woken by the timer tick.  A run with
 *	%VMACCEL_PVLOCK_RUN_VERIFY_KICKS must report lost wake-ups, which
 *	proves that the lost-wake-up check works.  Not with
 *	%VMACCEL_PVLOCK_RUN_IRQS_OFF (a waiter halted with interrupts off
 *	would never wake up).
 * @VMACCEL_PVLOCK_KIND_UNFAIR: a correct but deliberately unfair lock
 *	(test-and-set; a waiter that finds the lock free after waiting leaves
 *	it to a newcomer for a moment) that takes a ticket on arrival: a run
 *	must report tickets served out of order, which proves that the FIFO
 *	check works.
 */
enum vmaccel_pvlock_kind {
	VMACCEL_PVLOCK_KIND_PV = 0,
	VMACCEL_PVLOCK_KIND_TICKET = 1,
	VMACCEL_PVLOCK_KIND_SPINLOCK = 2,
	VMACCEL_PVLOCK_KIND_BROKEN = 3,
	VMACCEL_PVLOCK_KIND_PV_NOKICK = 4,
	VMACCEL_PVLOCK_KIND_UNFAIR = 5,
};

/**
 * enum vmaccel_pvlock_backend - how a blocked waiter sleeps and is woken
 * @VMACCEL_PVLOCK_BACKEND_SPIN: never block: a plain ticket lock.
 * @VMACCEL_PVLOCK_BACKEND_IPI: halt with interrupts enabled, woken by an
 *	IPI (bare metal, hypervisors without PV unhalt).
 * @VMACCEL_PVLOCK_BACKEND_KVM: halt, woken by the %KVM_HC_KICK_CPU
 *	hypercall (KVM guests with %KVM_FEATURE_PV_UNHALT).
 */
enum vmaccel_pvlock_backend {
	VMACCEL_PVLOCK_BACKEND_SPIN = 0,
	VMACCEL_PVLOCK_BACKEND_IPI = 1,
	VMACCEL_PVLOCK_BACKEND_KVM = 2,
};

/* Limits of the run parameters. */
#define VMACCEL_PVLOCK_MAX_THREADS		128
#define VMACCEL_PVLOCK_DURATION_MS_MAX		60000	/* one minute */
#define VMACCEL_PVLOCK_CS_NS_MAX		100000	/* 100 us */
#define VMACCEL_PVLOCK_OUTSIDE_NS_MAX		1000000	/* 1 ms */
#define VMACCEL_PVLOCK_SPIN_THRESHOLD_MAX	(1U << 24)

/**
 * struct vmaccel_pvlock_run - argument of %VMACCEL_PVLOCK_RUN_START
 * @flags: 0 or more of %VMACCEL_PVLOCK_RUN_IRQS_OFF,
 *	%VMACCEL_PVLOCK_RUN_SPIN_THRESHOLD, %VMACCEL_PVLOCK_RUN_VERIFY_KICKS,
 *	%VMACCEL_PVLOCK_RUN_API and %VMACCEL_PVLOCK_RUN_FREE_AFTER_UNLOCK.
 * @kind: one of &enum vmaccel_pvlock_kind.
 * @nr_threads: kernel threads contending for the lock,
 *	1..%VMACCEL_PVLOCK_MAX_THREADS.
 * @duration_ms: length of the run, 1..%VMACCEL_PVLOCK_DURATION_MS_MAX.
 * @cs_ns: busy time inside each critical section, 0..%VMACCEL_PVLOCK_CS_NS_MAX.
 * @outside_ns: busy time between two acquisitions of a thread,
 *	0..%VMACCEL_PVLOCK_OUTSIDE_NS_MAX.
 * @spin_threshold: with %VMACCEL_PVLOCK_RUN_SPIN_THRESHOLD, the spins
 *	without the queue moving after which a waiter of a
 *	%VMACCEL_PVLOCK_KIND_PV or %VMACCEL_PVLOCK_KIND_PV_NOKICK lock blocks,
 *	0..%VMACCEL_PVLOCK_SPIN_THRESHOLD_MAX; otherwise must be 0 and the
 *	sysfs spin_threshold applies.
 * @reserved: must be 0.
 *
 * %VMACCEL_PVLOCK_RUN_IRQS_OFF takes the lock with the irqsave variant
 * (``spin_lock_irqsave()`` for %VMACCEL_PVLOCK_KIND_SPINLOCK): interrupts
 * are off while waiting and inside the critical section.
 * %VMACCEL_PVLOCK_RUN_VERIFY_KICKS makes every acquisition of a
 * %VMACCEL_PVLOCK_KIND_PV or %VMACCEL_PVLOCK_KIND_PV_NOKICK lock that
 * blocked wait (up to one second, or until the run ends or is stopped,
 * which gives no verdict) for the unlocker's kick to be recorded, and counts
 * the missing ones in &vmaccel_pvlock_result.lost_wakeups; it slows the run
 * down, tests use it, benchmarks do not.  %VMACCEL_PVLOCK_RUN_API takes a
 * %VMACCEL_PVLOCK_KIND_PV lock through the exported in-kernel API
 * (vmaccel_pvlock_lock(), the irqsave variants with
 * %VMACCEL_PVLOCK_RUN_IRQS_OFF, and the trylock variants for one
 * acquisition in four); the slow-path counts of the result stay 0 (the
 * module counters in sysfs have them) and it excludes the two flags above.
 * %VMACCEL_PVLOCK_RUN_FREE_AFTER_UNLOCK (%VMACCEL_PVLOCK_KIND_PV, not with
 * %VMACCEL_PVLOCK_RUN_API or %VMACCEL_PVLOCK_RUN_IRQS_OFF) puts the lock in
 * an object that each thread takes once per round; the last taker of a
 * round publishes a new object and frees the old one right after its
 * unlock, while the other threads' unlocks of it are held after their
 * releasing store until it is freed (at most 2 ms): an unlock that touches
 * the lock after releasing it reads freed memory there (KASAN reports it).
 * @fifo_violations stays 0 (tickets restart with each object).
 */
struct vmaccel_pvlock_run {
	__u32 flags;
	__u32 kind;
	__u32 nr_threads;
	__u32 duration_ms;
	__u32 cs_ns;
	__u32 outside_ns;
	__u32 spin_threshold;
	__u32 reserved;
};

#define VMACCEL_PVLOCK_RUN_IRQS_OFF		(1U << 0)
#define VMACCEL_PVLOCK_RUN_SPIN_THRESHOLD	(1U << 1)
#define VMACCEL_PVLOCK_RUN_VERIFY_KICKS		(1U << 2)
#define VMACCEL_PVLOCK_RUN_API			(1U << 3)
#define VMACCEL_PVLOCK_RUN_FREE_AFTER_UNLOCK	(1U << 4)
#define VMACCEL_PVLOCK_RUN_FLAGS	(VMACCEL_PVLOCK_RUN_IRQS_OFF | \
					 VMACCEL_PVLOCK_RUN_SPIN_THRESHOLD | \
					 VMACCEL_PVLOCK_RUN_VERIFY_KICKS | \
					 VMACCEL_PVLOCK_RUN_API | \
					 VMACCEL_PVLOCK_RUN_FREE_AFTER_UNLOCK)

/**
 * struct vmaccel_pvlock_result - argument of %VMACCEL_PVLOCK_RUN_RESULT
 * @flags: input: 0 or %VMACCEL_PVLOCK_RESULT_NONBLOCK.
 * @status: output: 0 or more of %VMACCEL_PVLOCK_STATUS_FAILURE (a
 *	violation, a ticket served out of order or a lost wake-up was seen;
 *	the kernel log says "End of test: FAILURE") and
 *	%VMACCEL_PVLOCK_STATUS_STOPPED (ended early by %VMACCEL_PVLOCK_RUN_STOP).
 * @run: the parameters of the run; @run.spin_threshold holds the threshold
 *	in effect for a %VMACCEL_PVLOCK_KIND_PV run.
 * @backend: the &enum vmaccel_pvlock_backend in effect when the run
 *	started (it is used by %VMACCEL_PVLOCK_KIND_PV only).
 * @nr_cpus: online CPUs when the run started.
 * @elapsed_ns: time from the start of the threads to the end of the last.
 * @acquisitions: lock acquisitions by all threads.
 * @acquisitions_min: fewest acquisitions of one thread (fairness).
 * @acquisitions_max: most acquisitions of one thread (fairness).
 * @max_wait_ns: longest time one acquisition waited for the lock.
 * @violations: critical sections that found another thread inside (the
 *	owner check); 0 for a correct lock.
 * @fifo_violations: ticket locks (and %VMACCEL_PVLOCK_KIND_UNFAIR):
 *	acquisitions whose ticket, as taken by the atomic grab, was not the
 *	one due, i.e. twice the number of critical sections before it (mod
 *	2^16); 0 for a correct ticket lock.
 * @lost_wakeups: with %VMACCEL_PVLOCK_RUN_VERIFY_KICKS, blocked acquisitions
 *	whose kick never arrived; 0 for a correct lock.
 * @taken_slow: %VMACCEL_PVLOCK_KIND_PV: acquisitions that saw the queue
 *	stand still for spin_threshold spins (the slow path).
 * @blocked: acquisitions that halted at least once.
 * @halts: halts (blocked acquisitions can halt more than once).
 * @spurious_wakeups: halts that ended before the waiter's turn.
 * @kicks: releases that found the waiter holding the next ticket blocked
 *	(registered to be kicked) and kicked it.
 * @wakeups: of @kicks, those that sent a wake-up (IPI or hypercall)
 *	because the waiter was halted; a waiter spinning again after a
 *	wake-up only needs to see its ticket.
 * @trylocks: with %VMACCEL_PVLOCK_RUN_API, acquisitions made by a trylock.
 * @irqs_off_spins: slow-path acquisitions that could not block because
 *	interrupts were off and the backend needs them (%VMACCEL_PVLOCK_BACKEND_IPI).
 * @reserved: must be 0 on input; 0 on output.
 * @per_thread: acquisitions of each thread; entries from @run.nr_threads on
 *	are 0.
 */
struct vmaccel_pvlock_result {
	__u32 flags;
	__u32 status;
	struct vmaccel_pvlock_run run;
	__u32 backend;
	__u32 nr_cpus;
	__u64 elapsed_ns;
	__u64 acquisitions;
	__u64 acquisitions_min;
	__u64 acquisitions_max;
	__u64 max_wait_ns;
	__u64 violations;
	__u64 fifo_violations;
	__u64 lost_wakeups;
	__u64 taken_slow;
	__u64 blocked;
	__u64 halts;
	__u64 spurious_wakeups;
	__u64 kicks;
	__u64 irqs_off_spins;
	__u64 wakeups;
	__u64 trylocks;
	__u64 reserved[2];
	__u64 per_thread[VMACCEL_PVLOCK_MAX_THREADS];
};

#define VMACCEL_PVLOCK_RESULT_NONBLOCK	(1U << 0)
#define VMACCEL_PVLOCK_RESULT_FLAGS	VMACCEL_PVLOCK_RESULT_NONBLOCK

#define VMACCEL_PVLOCK_STATUS_FAILURE	(1U << 0)
#define VMACCEL_PVLOCK_STATUS_STOPPED	(1U << 1)

/*
 * Start a run on this file descriptor.  -EBUSY while the previous run of the
 * descriptor is still going; the results of a finished run are dropped.
 */
#define VMACCEL_PVLOCK_RUN_START	_IOW(VMACCEL_IOCTL_TYPE, 0x70, struct vmaccel_pvlock_run)
/*
 * Wait for the end of the run of this descriptor (interruptible) and return
 * its results; with %VMACCEL_PVLOCK_RESULT_NONBLOCK, -EAGAIN while it runs.
 * -ENODATA when no run was started.
 */
#define VMACCEL_PVLOCK_RUN_RESULT \
	_IOWR(VMACCEL_IOCTL_TYPE, 0x71, struct vmaccel_pvlock_result)
/* End the run of this descriptor now; -ENODATA when no run was started. */
#define VMACCEL_PVLOCK_RUN_STOP		_IO(VMACCEL_IOCTL_TYPE, 0x72)

#endif /* _UAPI_LINUX_VMACCEL_PVLOCK_H */
