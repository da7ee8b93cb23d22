// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmaccel_pvlock - the backends: how a blocked waiter halts and how the
 * unlocker wakes it.
 *
 *   kvm   halt; KVM_HC_KICK_CPU to the waiter's APIC id (KVM_FEATURE_PV_UNHALT).
 *         The host latches the kick, so a kick sent before the halt makes
 *         the halt return at once, with interrupts on or off.
 *   ipi   sti;hlt, woken by an IPI (a call-function-single IPI whose
 *         function does nothing).  A halt with interrupts off cannot be
 *         woken by an IPI, so waiters with interrupts off keep spinning.
 *   spin  never block: the plain ticket lock.
 *
 * The default at load follows the kernel's own choice for spinlock_t
 * (kvm_spinlock_init()): on a KVM host that gives dedicated CPUs
 * (KVM_HINTS_REALTIME), or when the kernel turned its PV spinlocks off
 * although the host offers PV unhalt (nopvspin, a single possible CPU),
 * waiters spin; see Documentation/pvlock/design.rst.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bitops.h>
#include <linux/cpumask.h>
#include <linux/delay.h>
#include <linux/irqflags.h>
#include <linux/kvm_para.h>
#include <linux/mutex.h>
#include <linux/percpu.h>
#include <linux/rcupdate.h>
#include <linux/smp.h>
#include <linux/string.h>
#include <asm/cpufeature.h>
#include <asm/paravirt.h>
#include <asm/processor.h>
#include <asm/qspinlock.h>
#include <asm/smp.h>

#include "pvlock.h"

#ifndef CONFIG_X86_64
#error "vmaccel_pvlock is x86-64 only (ticket layout, halt, KVM hypercall)"
#endif

/* The backend new slow paths use; changed only by pvlock_backend_set(). */
const struct pvlock_backend *pvlock_backend __read_mostly;
/* Spins before a waiter blocks. */
u32 pvlock_spin_threshold __read_mostly = PVLOCK_SPIN_THRESHOLD_DEFAULT;
/* Torture runs going on; a backend switch is refused meanwhile. */
atomic_t pvlock_runs_active = ATOMIC_INIT(0);
/* Serializes backend switches against each other and against run starts. */
static DEFINE_MUTEX(pvlock_backend_mutex);
static bool pvlock_kvm_ok;

/* ---- kvm ---- */

/* The KVM CPUID leaves' base, or 0 when not on KVM. */
static u32 pvlock_kvm_base(void)
{
	if (!boot_cpu_has(X86_FEATURE_HYPERVISOR))
		return 0;
	return hypervisor_cpuid_base(KVM_SIGNATURE, 0);
}

static bool pvlock_kvm_probe(void)
{
	u32 base = pvlock_kvm_base();

	return base &&
	       cpuid_eax(base | KVM_CPUID_FEATURES) & BIT(KVM_FEATURE_PV_UNHALT);
}

/*
 * Why the kernel's spinlock_t does not use PV spinlocks on this KVM guest
 * although PV unhalt might be offered, as kvm_spinlock_init() decides;
 * NULL when it does (or when this is not KVM).  kvm_para_has_hint() is not
 * used: it reads the hint leaf without checking for KVM first.
 */
static const char *pvlock_kvm_declined(void)
{
	u32 base = pvlock_kvm_base();

	if (!base)
		return NULL;
	if (cpuid_edx(base | KVM_CPUID_FEATURES) & BIT(KVM_HINTS_REALTIME))
		return "KVM_HINTS_REALTIME (dedicated CPUs)";
	if (!pvlock_kvm_ok)
		return NULL;
#ifdef CONFIG_PARAVIRT_SPINLOCKS
	/*
	 * nopvspin is __initdata and not exported: read the kernel's verdict
	 * from pv_ops, which it leaves native for nopvspin and one CPU.
	 */
	if (pv_ops.lock.queued_spin_lock_slowpath !=
	    __pv_queued_spin_lock_slowpath)
		return "the kernel's PV spinlocks are off (nopvspin or one CPU)";
#else
	if (num_possible_cpus() == 1)
		return "one CPU";
#endif
	return NULL;
}

static bool pvlock_kvm_available(void)
{
	return pvlock_kvm_ok;
}

static bool pvlock_kvm_can_block(bool irqs_on)
{
	return true;
}

static void pvlock_kvm_wait(bool irqs_on)
{
	if (irqs_on) {
		safe_halt();
		local_irq_disable();
	} else {
		halt();
	}
}

static void pvlock_kvm_kick(int cpu)
{
	kvm_hypercall2(KVM_HC_KICK_CPU, 0, per_cpu(x86_cpu_to_apicid, cpu));
}

static const struct pvlock_backend pvlock_backend_kvm = {
	.name = "kvm",
	.id = VMACCEL_PVLOCK_BACKEND_KVM,
	.available = pvlock_kvm_available,
	.can_block = pvlock_kvm_can_block,
	.wait = pvlock_kvm_wait,
	.kick = pvlock_kvm_kick,
};

/* ---- ipi ---- */

/**
 * struct pvlock_ipi_kick - the kick IPI towards one CPU
 * @csd: the call-function-single request; its function only clears @busy.
 * @busy: bit 0 set from the moment a kicker claims @csd until the target
 *	runs the function, i.e. while an IPI is on its way.  A kicker that
 *	finds it set sends nothing: the IPI in flight wakes the target, which
 *	re-checks its ticket after it (smp_mb() in the slow path).
 */
struct pvlock_ipi_kick {
	call_single_data_t csd;
	unsigned long busy;
};

static DEFINE_PER_CPU(struct pvlock_ipi_kick, pvlock_ipi_kicks);

static void pvlock_ipi_func(void *info)
{
	struct pvlock_ipi_kick *k = info;

	clear_bit(0, &k->busy);
}

static bool pvlock_ipi_available(void)
{
	return true;
}

static bool pvlock_ipi_can_block(bool irqs_on)
{
	return irqs_on;
}

static void pvlock_ipi_wait(bool irqs_on)
{
	/* sti;hlt: an IPI pending since the check ends the halt at once. */
	safe_halt();
	local_irq_disable();
}

static void pvlock_ipi_kick(int cpu)
{
	struct pvlock_ipi_kick *k = per_cpu_ptr(&pvlock_ipi_kicks, cpu);

	if (test_and_set_bit(0, &k->busy))
		return;
	if (smp_call_function_single_async(cpu, &k->csd))
		clear_bit(0, &k->busy);
}

static const struct pvlock_backend pvlock_backend_ipi = {
	.name = "ipi",
	.id = VMACCEL_PVLOCK_BACKEND_IPI,
	.available = pvlock_ipi_available,
	.can_block = pvlock_ipi_can_block,
	.wait = pvlock_ipi_wait,
	.kick = pvlock_ipi_kick,
};

/* ---- spin ---- */

static bool pvlock_spin_available(void)
{
	return true;
}

static const struct pvlock_backend pvlock_backend_spin = {
	.name = "spin",
	.id = VMACCEL_PVLOCK_BACKEND_SPIN,
	.available = pvlock_spin_available,
};

/* In order of preference at load. */
const struct pvlock_backend *const pvlock_backends[] = {
	&pvlock_backend_kvm,
	&pvlock_backend_ipi,
	&pvlock_backend_spin,
};

const unsigned int pvlock_nr_backends = ARRAY_SIZE(pvlock_backends);

/**
 * pvlock_backend_set() - switch the backend
 * @name: "kvm", "ipi" or "spin" (a trailing newline is accepted).
 *
 * Waiters already blocked keep the backend they blocked with (it is in
 * their slot, and the unlocker kicks with it); still, the switch is refused
 * while a lock is held or waited for, or a torture run is going on, so that
 * a run measures one backend.
 *
 * Context: process context.
 * Return: 0; -EINVAL for an unknown name; -ENODEV for a backend this
 * machine lacks; -EBUSY while locks are in use.
 */
int pvlock_backend_set(const char *name)
{
	const struct pvlock_backend *be = NULL;
	unsigned int i;
	int ret = 0;

	for (i = 0; i < pvlock_nr_backends; i++)
		if (sysfs_streq(name, pvlock_backends[i]->name))
			be = pvlock_backends[i];
	if (!be)
		return -EINVAL;
	if (!be->available())
		return -ENODEV;

	mutex_lock(&pvlock_backend_mutex);
	if (atomic_read(&pvlock_runs_active) || pvlock_locks_in_use())
		ret = -EBUSY;
	else
		WRITE_ONCE(pvlock_backend, be);
	mutex_unlock(&pvlock_backend_mutex);
	if (!ret)
		pr_info("backend %s\n", be->name);
	return ret;
}

/**
 * pvlock_runs_get() - a torture run starts
 *
 * Context: process context.
 * Return: the backend in effect, fixed until pvlock_runs_put().
 */
const struct pvlock_backend *pvlock_runs_get(void)
{
	const struct pvlock_backend *be;

	mutex_lock(&pvlock_backend_mutex);
	atomic_inc(&pvlock_runs_active);
	be = pvlock_backend;
	mutex_unlock(&pvlock_backend_mutex);
	return be;
}

/**
 * pvlock_runs_put() - a torture run ended
 *
 * Context: any context.
 */
void pvlock_runs_put(void)
{
	atomic_dec(&pvlock_runs_active);
}

/**
 * pvlock_backend_init() - probe the machine, choose the default backend
 *
 * Return: 0.  The default is the best available backend, except that
 * waiters spin (the spin backend) where the kernel's own spinlocks do not
 * use PV spinlocks on a KVM host (the realtime hint, or nopvspin or a
 * single CPU with PV unhalt offered); the others stay available in sysfs.
 */
int pvlock_backend_init(void)
{
	const char *declined;
	unsigned int i;
	int cpu;

	for_each_possible_cpu(cpu) {
		struct pvlock_ipi_kick *k = per_cpu_ptr(&pvlock_ipi_kicks, cpu);

		INIT_CSD(&k->csd, pvlock_ipi_func, k);
		k->busy = 0;
	}
	pvlock_kvm_ok = pvlock_kvm_probe();
	declined = pvlock_kvm_declined();
	if (declined) {
		/* As spinlock_t here: native spinning, no halts. */
		pvlock_backend = &pvlock_backend_spin;
	} else {
		for (i = 0; i < pvlock_nr_backends; i++) {
			if (pvlock_backends[i]->available()) {
				pvlock_backend = pvlock_backends[i];
				break;
			}
		}
	}
	pr_info("backend %s (kvm PV unhalt %s%s%s)\n", pvlock_backend->name,
		pvlock_kvm_ok ? "available" : "not available",
		declined ? "; spinning: " : "", declined ? declined : "");
	return 0;
}

/**
 * pvlock_backend_exit() - wait for kick IPIs still in flight
 *
 * Their function is module text.  Once no request is pending, an RCU grace
 * period waits for a function that is still returning (IPI handlers run
 * with interrupts off).  Called from process context when no lock is in
 * use.
 */
void pvlock_backend_exit(void)
{
	int cpu;

	for_each_possible_cpu(cpu) {
		struct pvlock_ipi_kick *k = per_cpu_ptr(&pvlock_ipi_kicks, cpu);

		while (test_bit(0, &k->busy))
			usleep_range(1000, 2000);
	}
	synchronize_rcu();
}
