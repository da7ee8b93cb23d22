// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmaccel_balloon - the policy: when to take memory back from which guest.
 *
 * A tick every interval_ms samples every VM's guest-RAM file (vm.c), then
 * looks at host memory: below low_pct available, it asks the guests for
 * what brings the host back to the middle of the low/high band, shared in
 * proportion to what each guest can spare (its reported available memory
 * above guest_free_pct, down to its floor), at most step_pct of a guest's
 * RAM per tick; above high_pct, it gives every guest step_pct back up to
 * its ceiling; in between, targets hold (hysteresis, so guests are not
 * whipsawed).  A VM's target moves at most once per interval, and a VM is
 * not asked for more while it has not given back what it was asked for.
 * Direct reclaim since the last tick (read from the kernel's own vm event
 * counters) is pressure too; a shrinker that owns no objects only notices
 * reclaim and runs the tick at once.  What the guests that say they can
 * spare memory cannot give is then asked of every other VM above its
 * floor, in proportion to what it holds above it: reporting nothing, stale
 * statistics (older than stats_max_age_ms) or no spare memory does not
 * escape pressure.  VMs that stalled on the last request are not asked.
 * Nothing here waits for a VMM: a VMM that never answers only stalls its
 * own VM.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/jiffies.h>
#include <linux/ktime.h>
#include <linux/math64.h>
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/overflow.h>
#include <linux/shrinker.h>
#include <linux/vmstat.h>
#include <linux/workqueue.h>

#include "balloon.h"

/* Protects balloon_vms, balloon_nr_vms and each VM's policy state. */
DEFINE_MUTEX(balloon_lock);
LIST_HEAD(balloon_vms);
unsigned int balloon_nr_vms;
struct balloon_totals balloon_totals;

static void balloon_tick_fn(struct work_struct *work);
static DECLARE_DELAYED_WORK(balloon_tick, balloon_tick_fn);

/*
 * The tick's view of kernel reclaim: vm event counters at the last tick.
 * Only the tick touches these (a work item never runs concurrently with
 * itself), and balloon_policy_init() before the first one.
 */
static unsigned long balloon_events[NR_VM_EVENT_ITEMS];
static unsigned long balloon_last_stalls;
static unsigned long balloon_last_stolen;
/* jiffies of the last tick the shrinker queued (rate limit). */
static unsigned long balloon_reclaim_kick;
/* Set while the module is going away: the tick no longer re-arms. */
static bool balloon_stopping;

/**
 * balloon_host_avail_pct() - host available memory, percent of RAM
 *
 * Return: test_available_pct when set, else MemAvailable / MemTotal.
 */
unsigned int balloon_host_avail_pct(void)
{
	int test = READ_ONCE(balloon_params.test_available_pct);
	long avail;

	if (test >= 0)
		return test;
	avail = max(si_mem_available(), 0L);
	return div64_ul((u64)avail * 100, max(totalram_pages(), 1UL));
}

/*
 * Rate limit: a VM's target changes at most once per interval_ms, however
 * often ticks run (knob changes and the shrinker run extra ones).
 */
static bool balloon_may_change(const struct balloon_vm *vm, u64 now)
{
	u64 interval = (u64)READ_ONCE(balloon_params.interval_ms) * NSEC_PER_MSEC;

	return !vm->changed_ns || now - vm->changed_ns >= interval;
}

/* Whether a VM may be asked for memory at all this tick. */
static bool balloon_vm_askable(const struct balloon_vm *vm, u64 now)
{
	/*
	 * Not before it gave back what it was asked for last time, and not
	 * a VM whose process is gone (it holds nothing).
	 */
	return !vm->gone && !vm->stalled && !vm->release_pending &&
	       vm->target > vm->floor && balloon_may_change(vm, now);
}

/* Whether the VM's statistics are recent enough to be believed. */
static bool balloon_vm_stats_fresh(const struct balloon_vm *vm, u64 now)
{
	u64 max_age = (u64)READ_ONCE(balloon_params.stats_max_age_ms) *
		      NSEC_PER_MSEC;

	return vm->stats_ns && now - vm->stats_ns <= max_age;
}

/* What a pending decrease still waits for, in bytes. */
static u64 balloon_vm_in_flight(const struct balloon_vm *vm)
{
	u64 gone = vm->resident_at_ask > vm->resident ?
		   vm->resident_at_ask - vm->resident : 0;

	return vm->asked > gone ? vm->asked - gone : 0;
}

/* What a VM's guest says it can give now, in bytes (page multiple). */
static u64 balloon_vm_spare(struct balloon_vm *vm, u64 now)
{
	u64 keep, avail, spare;

	lockdep_assert_held(&balloon_lock);
	if (!balloon_vm_askable(vm, now) || !balloon_vm_stats_fresh(vm, now))
		return 0;
	avail = balloon_vm_avail(vm);
	/* guest < 2^63 (a file size): the 96-bit product cannot wrap. */
	keep = mul_u64_u32_div(vm->guest,
			       READ_ONCE(balloon_params.guest_free_pct), 100);
	if (avail <= keep)
		return 0;
	spare = min(avail - keep, vm->target - vm->floor);
	return spare & PAGE_MASK;
}

static u64 balloon_step(const struct balloon_vm *vm)
{
	u64 step = mul_u64_u32_div(vm->guest,
				   READ_ONCE(balloon_params.step_pct), 100);

	return max_t(u64, step & PAGE_MASK, PAGE_SIZE);
}

/*
 * Asks the VMs for @need bytes.  First those whose guests say they can
 * spare memory, in proportion to it; then what their offers cannot cover,
 * less what earlier requests are still bringing back (stalled VMs bring
 * nothing), from every other VM above its floor, in proportion to what it
 * holds above it: a guest that reports nothing, stale statistics or no
 * spare memory does not escape pressure (its floor protects it).  Each VM
 * moves at most one step.
 */
static void balloon_inflate(u64 need, u64 now, unsigned int avail_pct)
{
	struct balloon_vm *vm;
	u64 total = 0, given, give, left, short_of;

	lockdep_assert_held(&balloon_lock);
	/*
	 * In pages: a guest spares less than 2^51 of them, so the sum is
	 * exact for any number of VMs a host can hold (and saturates, never
	 * wraps, beyond that).
	 */
	list_for_each_entry(vm, &balloon_vms, node)
		if (check_add_overflow(total, balloon_vm_spare(vm, now) >> PAGE_SHIFT,
				       &total))
			total = U64_MAX;
	need >>= PAGE_SHIFT;
	left = min(need, total);
	/* What the offers cannot cover (not what rounding or steps left). */
	short_of = need - left;
	list_for_each_entry(vm, &balloon_vms, node) {
		u64 spare;

		if (!left)
			break;
		spare = balloon_vm_spare(vm, now);
		if (!spare)
			continue;
		/* left * spare / total pages: 128-bit product, no overflow. */
		give = mul_u64_u64_div_u64(left, spare >> PAGE_SHIFT, total);
		give = min3(give << PAGE_SHIFT, spare, balloon_step(vm));
		if (give)
			balloon_vm_set_target(vm, vm->target - give, now,
					      avail_pct);
	}
	/*
	 * What the offers could not cover, less what VMs asked before this
	 * tick are still giving back (a stalled VM gives nothing): the host's
	 * need does not show a release in flight yet.
	 */
	given = 0;
	total = 0;
	list_for_each_entry(vm, &balloon_vms, node) {
		if (vm->release_pending && !vm->stalled && vm->changed_ns != now)
			given += balloon_vm_in_flight(vm) >> PAGE_SHIFT;
		if (balloon_vm_askable(vm, now) &&
		    check_add_overflow(total, (vm->target - vm->floor) >> PAGE_SHIFT,
				       &total))
			total = U64_MAX;
	}
	if (given >= short_of || !total)
		return;
	left = min(short_of - given, total);
	list_for_each_entry(vm, &balloon_vms, node) {
		u64 above;

		if (!balloon_vm_askable(vm, now))
			continue;
		above = (vm->target - vm->floor) & PAGE_MASK;
		give = mul_u64_u64_div_u64(left, above >> PAGE_SHIFT, total);
		give = min3(give << PAGE_SHIFT, above, balloon_step(vm));
		if (give) {
			balloon_vm_set_target(vm, vm->target - give, now,
					      avail_pct);
			atomic64_inc(&balloon_totals.fair_shares);
		}
	}
}

static void balloon_deflate(u64 now, unsigned int avail_pct)
{
	struct balloon_vm *vm;

	lockdep_assert_held(&balloon_lock);
	/* target + step < 2^64: both are at most guest, below 2^63. */
	list_for_each_entry(vm, &balloon_vms, node)
		if (!vm->gone && vm->target < vm->ceiling &&
		    balloon_may_change(vm, now))
			balloon_vm_set_target(vm, vm->target + balloon_step(vm),
					      now, avail_pct);
}

/*
 * Read the kernel's reclaim counters: allocations that had to reclaim
 * themselves (ALLOCSTALL, every zone) and pages reclaim took (PGSTEAL, by
 * kswapd and directly).  drop_caches moves neither: it is not pressure.
 */
static void balloon_reclaim_counters(unsigned long *stalls,
				     unsigned long *stolen)
{
	unsigned long n = 0;
	int i;

	all_vm_events(balloon_events);
	for (i = ALLOCSTALL_NORMAL; i <= ALLOCSTALL_MOVABLE; i++)
		n += balloon_events[i];
#ifdef CONFIG_ZONE_DMA32
	n += balloon_events[ALLOCSTALL_DMA32];
#endif
#ifdef CONFIG_ZONE_DMA
	n += balloon_events[ALLOCSTALL_DMA];
#endif
	*stalls = n;
	*stolen = balloon_events[PGSTEAL_KSWAPD] + balloon_events[PGSTEAL_DIRECT];
}

/*
 * Bytes the host was short of by the reclaim counters: when an allocation
 * stalled in direct reclaim since the last tick, what reclaim took
 * meanwhile, at least 1 % of RAM (reclaim may have found nothing).  0
 * without direct reclaim: kswapd alone keeps the watermarks, and page cache
 * churn is no reason to take memory from guests.
 */
static u64 balloon_reclaim_need(void)
{
	unsigned long stalls, stolen, d_stalls, d_stolen;

	balloon_reclaim_counters(&stalls, &stolen);
	d_stalls = stalls - balloon_last_stalls;
	d_stolen = stolen - balloon_last_stolen;
	balloon_last_stalls = stalls;
	balloon_last_stolen = stolen;
	if (!d_stalls)
		return 0;
	atomic64_inc(&balloon_totals.reclaim_ticks);
	return (u64)max(d_stolen, totalram_pages() / 100) << PAGE_SHIFT;
}

static void balloon_tick_fn(struct work_struct *work)
{
	unsigned int avail_pct = balloon_host_avail_pct();
	unsigned int low = READ_ONCE(balloon_params.low_pct);
	unsigned int high = READ_ONCE(balloon_params.high_pct);
	u64 reclaim = balloon_reclaim_need();	/* sleeps: not under the lock */
	u64 now = ktime_get_ns(), need = 0;
	struct balloon_vm *vm;

	mutex_lock(&balloon_lock);
	list_for_each_entry(vm, &balloon_vms, node)
		balloon_vm_sample(vm, now);
	if (READ_ONCE(balloon_params.enabled)) {
		if (avail_pct < low) {
			u64 mid = (low + high) / 2;

			need = div_u64((mid - avail_pct) * (u64)totalram_pages(),
				       100) << PAGE_SHIFT;
		}
		need = max(need, reclaim);
		if (need) {
			atomic64_inc(&balloon_totals.pressure_ticks);
			balloon_inflate(need, now, avail_pct);
		} else if (avail_pct > high) {
			balloon_deflate(now, avail_pct);
		}
	}
	if (balloon_nr_vms && !READ_ONCE(balloon_stopping))
		schedule_delayed_work(&balloon_tick,
				      msecs_to_jiffies(READ_ONCE(balloon_params.interval_ms)));
	mutex_unlock(&balloon_lock);
}

/**
 * balloon_policy_kick() - run a policy tick now
 *
 * After a registration and a knob change, so that they take effect without
 * waiting for the interval.
 */
void balloon_policy_kick(void)
{
	if (!READ_ONCE(balloon_stopping))
		mod_delayed_work(system_wq, &balloon_tick, 0);
}

/*
 * The shrinker owns no objects: count_objects() returns 0, so reclaim
 * never scans it, defers nothing to it and is credited nothing.  It only
 * notices that reclaim (or drop_caches) runs and queues a tick, at most
 * every 100 ms, which reads the reclaim counters (balloon_reclaim_need()).
 */
static unsigned long balloon_shrink_count(struct shrinker *s,
					  struct shrink_control *sc)
{
	unsigned long last = READ_ONCE(balloon_reclaim_kick);

	if (READ_ONCE(balloon_params.enabled) && READ_ONCE(balloon_nr_vms) &&
	    time_after(jiffies, last + HZ / 10) &&
	    cmpxchg(&balloon_reclaim_kick, last, jiffies) == last)
		balloon_policy_kick();
	return 0;
}

static unsigned long balloon_shrink_scan(struct shrinker *s,
					 struct shrink_control *sc)
{
	return SHRINK_STOP;	/* not called: we count no objects */
}

static struct shrinker *balloon_shrinker;

/**
 * balloon_policy_init() - register the shrinker
 *
 * Return: 0 or -ENOMEM.
 */
int balloon_policy_init(void)
{
	balloon_reclaim_counters(&balloon_last_stalls, &balloon_last_stolen);
	balloon_reclaim_kick = jiffies;
	balloon_shrinker = shrinker_alloc(0, "vmaccel-balloon");
	if (!balloon_shrinker)
		return -ENOMEM;
	balloon_shrinker->count_objects = balloon_shrink_count;
	balloon_shrinker->scan_objects = balloon_shrink_scan;
	shrinker_register(balloon_shrinker);
	return 0;
}

/**
 * balloon_policy_exit() - stop the tick and unregister the shrinker
 *
 * Context: the device and the sysfs knobs are gone (they queue ticks).
 */
void balloon_policy_exit(void)
{
	shrinker_free(balloon_shrinker);
	WRITE_ONCE(balloon_stopping, true);
	cancel_delayed_work_sync(&balloon_tick);
}
