/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * vmaccel_pvlock - paravirtual ticket spinlocks, in-kernel API.
 *
 * A ticket spinlock that survives vCPU overcommit: a waiter spins while the
 * queue moves, and once it stood still for spin_threshold spins the waiter
 * blocks (halts its vCPU); the unlocker kicks
 * exactly the waiter that holds the next ticket.  The backend (kvm, ipi or
 * spin) is module-wide, chosen at load and overridable in sysfs.  The rules
 * of use are those of raw_spinlock_t: the holder must not sleep, a lock taken
 * in interrupt context must be taken with the irqsave variant everywhere,
 * and NMI handlers must not take it.  See Documentation/pvlock/design.rst.
 */
#ifndef _VMACCEL_PVLOCK_H
#define _VMACCEL_PVLOCK_H

#include <linux/atomic.h>
#include <linux/compiler_types.h>
#include <linux/lockdep.h>
#include <linux/typecheck.h>
#include <linux/types.h>

/* Bit 0 of &vmaccel_pvlock.tickets.head: a waiter may be blocked. */
#define VMACCEL_PVLOCK_SLOW	1

/**
 * struct vmaccel_pvlock - a paravirtual ticket spinlock
 * @val: @tickets as one word, for the atomic ticket grab (tail += 2).
 * @tickets: the two ticket counters; tickets go in steps of 2.
 * @tickets.head: the ticket being served in bits 15..1; bit 0 is the slow
 *	flag: a waiter may be blocked, so the unlocker must look for the
 *	waiter of the next ticket and kick it.  The owner releases the lock
 *	by adding 2 to @tickets.head in one atomic operation that also
 *	returns the flag: after it, the unlocker never touches the lock (the
 *	next owner may free it).
 * @tickets.tail: the next ticket to hand out.
 * @dep_map: lockdep's view of the lock (CONFIG_DEBUG_LOCK_ALLOC only).
 *
 * The lock is free when head (without the flag) == tail.  Every change is
 * an atomic operation: the ticket grab and the flag on @val, the release
 * on @tickets.head.  Initialize with vmaccel_pvlock_init() or
 * DEFINE_VMACCEL_PVLOCK().
 */
struct vmaccel_pvlock {
	union {
		atomic_t val;
		struct {
			u16 head;
			u16 tail;
		} tickets;
	};
#ifdef CONFIG_DEBUG_LOCK_ALLOC
	struct lockdep_map dep_map;
#endif
};

#ifdef CONFIG_DEBUG_LOCK_ALLOC
#define __VMACCEL_PVLOCK_DEP_MAP_INIT(lockname)			\
	.dep_map = {						\
		.name = lockname,				\
		.wait_type_inner = LD_WAIT_SPIN,		\
	},
#else
#define __VMACCEL_PVLOCK_DEP_MAP_INIT(lockname)
#endif

/**
 * __VMACCEL_PVLOCK_INITIALIZER() - static initializer of an unlocked lock
 * @lockname: name of the lock for lockdep, a string.
 */
#define __VMACCEL_PVLOCK_INITIALIZER(lockname)			\
	{							\
		.val = ATOMIC_INIT(0),				\
		__VMACCEL_PVLOCK_DEP_MAP_INIT(lockname)		\
	}

/**
 * DEFINE_VMACCEL_PVLOCK() - define and initialize an unlocked lock
 * @name: name of the &struct vmaccel_pvlock variable.
 */
#define DEFINE_VMACCEL_PVLOCK(name)				\
	struct vmaccel_pvlock name = __VMACCEL_PVLOCK_INITIALIZER(#name)

void __vmaccel_pvlock_init(struct vmaccel_pvlock *lock, const char *name,
			   struct lock_class_key *key);

/**
 * vmaccel_pvlock_init() - initialize a lock, unlocked
 * @lock: the lock.
 *
 * Each call site is its own lockdep class, as for spin_lock_init().
 */
#define vmaccel_pvlock_init(lock)					\
	do {								\
		static struct lock_class_key __key;			\
									\
		__vmaccel_pvlock_init((lock), #lock, &__key);		\
	} while (0)

void vmaccel_pvlock_lock(struct vmaccel_pvlock *lock) __acquires(lock);
void vmaccel_pvlock_unlock(struct vmaccel_pvlock *lock) __releases(lock);
int _vmaccel_pvlock_trylock(struct vmaccel_pvlock *lock);
unsigned long _vmaccel_pvlock_lock_irqsave(struct vmaccel_pvlock *lock)
	__acquires(lock);
int _vmaccel_pvlock_trylock_irqsave(struct vmaccel_pvlock *lock,
				    unsigned long *flags);
void vmaccel_pvlock_unlock_irqrestore(struct vmaccel_pvlock *lock,
				      unsigned long flags) __releases(lock);

/**
 * vmaccel_pvlock_trylock() - take a lock if it is free
 * @lock: the lock.
 *
 * Never waits.  A lock with waiters is not free: taking a ticket behind
 * them would mean waiting.  On success preemption is disabled until
 * vmaccel_pvlock_unlock(), as with vmaccel_pvlock_lock().
 *
 * Context: any context but NMI.
 * Return: 1 if the lock was taken, 0 otherwise.
 */
static inline int vmaccel_pvlock_trylock(struct vmaccel_pvlock *lock)
{
	return __cond_lock(lock, _vmaccel_pvlock_trylock(lock));
}

/**
 * vmaccel_pvlock_lock_irqsave() - disable local interrupts, take a lock
 * @lock: the lock.
 * @flags: an unsigned long lvalue that receives the interrupt state to
 *	give back to vmaccel_pvlock_unlock_irqrestore().
 *
 * Interrupts are off while waiting, as with spin_lock_irqsave(); the kvm
 * backend still blocks (a PV kick wakes a halt with interrupts off), the
 * ipi backend keeps spinning (an IPI cannot wake it).
 */
#define vmaccel_pvlock_lock_irqsave(lock, flags)			\
	do {								\
		typecheck(unsigned long, flags);			\
		flags = _vmaccel_pvlock_lock_irqsave(lock);		\
	} while (0)

/**
 * vmaccel_pvlock_trylock_irqsave() - disable local interrupts, try a lock
 * @lock: the lock.
 * @flags: an unsigned long lvalue that receives the interrupt state.
 *
 * On failure the interrupt state is restored before returning.
 *
 * Return: 1 if the lock was taken (interrupts off), 0 otherwise.
 */
#define vmaccel_pvlock_trylock_irqsave(lock, flags)			\
	({								\
		typecheck(unsigned long, flags);			\
		__vmaccel_pvlock_trylock_irqsave(lock, &(flags));	\
	})

static inline int __vmaccel_pvlock_trylock_irqsave(struct vmaccel_pvlock *lock,
						   unsigned long *flags)
{
	return __cond_lock(lock, _vmaccel_pvlock_trylock_irqsave(lock, flags));
}

/**
 * vmaccel_pvlock_is_locked() - whether a lock is held or waited for
 * @lock: the lock.
 *
 * A snapshot, for assertions and statistics; it can be stale at once.
 *
 * Return: true when a ticket is out (head, without its slow flag, differs
 * from tail).
 */
static inline bool vmaccel_pvlock_is_locked(struct vmaccel_pvlock *lock)
{
	u32 v = (u32)atomic_read(&lock->val);

	return ((u16)v & ~VMACCEL_PVLOCK_SLOW) != (u16)(v >> 16);
}

#endif /* _VMACCEL_PVLOCK_H */
