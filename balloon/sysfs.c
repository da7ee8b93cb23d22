// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmaccel_balloon - /sys/kernel/mm/vmaccel_balloon/: the policy knobs
 * (range-checked) and the module-wide totals (read-only).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kernel.h>
#include <linux/kobject.h>
#include <linux/mm.h>
#include <linux/stddef.h>
#include <linux/sysfs.h>
#include <vmaccel/knob.h>

#include "balloon.h"

struct balloon_params balloon_params = {
	.enabled = true,
	.interval_ms = 1000,
	.low_pct = 20,
	.high_pct = 30,
	.step_pct = 5,
	.guest_free_pct = 10,
	.stall_ms = 10000,
	.stats_max_age_ms = 30000,
	.test_available_pct = -1,
};

static struct kobject *balloon_kobj;

/* The policy acts on a new setting at once. */
static void balloon_knob_after(const struct vmk_knob *k, int ret)
{
	if (!ret)
		balloon_policy_kick();
}

/* The watermarks must keep low_pct < high_pct. */
static int balloon_wm_set(const struct vmk_knob *k, s64 val)
{
	lockdep_assert_held(&balloon_lock);
	if (k->var == &balloon_params.low_pct ?
	    val >= balloon_params.high_pct : val <= balloon_params.low_pct)
		return -EINVAL;
	return vmk_knob_write(k, val);
}

/* A u32 knob of balloon_params, its sysfs file named after it. */
#define BALLOON_KNOB(_name, _field, _min, _max, ...)			\
	VMK_KOBJ_KNOB(_name, VMK_U32_VAR(&balloon_params._field),		\
		      VMK_RANGE(_min, _max), .lock = &balloon_lock,	\
		      .after = balloon_knob_after, ##__VA_ARGS__)

BALLOON_KNOB(interval_ms, interval_ms, 100, 60000);
BALLOON_KNOB(low_pct, low_pct, 1, 90, .set = balloon_wm_set);
BALLOON_KNOB(high_pct, high_pct, 2, 99, .set = balloon_wm_set);
BALLOON_KNOB(step_pct, step_pct, 1, 50);
BALLOON_KNOB(guest_free_pct, guest_free_pct, 0, 90);
BALLOON_KNOB(stall_ms, stall_ms, 100, 600000);
BALLOON_KNOB(stats_max_age_ms, stats_max_age_ms, 1000, 3600000);
VMK_KOBJ_KNOB(enabled, VMK_BOOL_VAR(&balloon_params.enabled), VMK_RANGE(0, 1),
	      .after = balloon_knob_after);
VMK_KOBJ_KNOB(test_available_pct,
	      VMK_S32_VAR(&balloon_params.test_available_pct),
	      VMK_RANGE(-1, 100), .after = balloon_knob_after);

static s64 balloon_host_avail_get(const struct vmk_knob *k)
{
	return balloon_host_avail_pct();
}

VMK_KOBJ_COUNTER(host_available_pct, .type = VMK_U64,
		 .get = balloon_host_avail_get);
VMK_KOBJ_COUNTER(vms, VMK_U32_VAR(&balloon_nr_vms));

/* A counter of balloon_totals, its sysfs file named after it. */
#define BALLOON_TOTAL(_name, _field)					\
	VMK_KOBJ_COUNTER(_name, VMK_ATOMIC64_VAR(&balloon_totals._field))

BALLOON_TOTAL(target_changes, target_changes);
BALLOON_TOTAL(inflations, inflations);
BALLOON_TOTAL(deflations, deflations);
BALLOON_TOTAL(released_bytes, released_bytes);
BALLOON_TOTAL(pressure_ticks, pressure_ticks);
BALLOON_TOTAL(reclaim_ticks, reclaim_ticks);
BALLOON_TOTAL(stalls, stalls);
BALLOON_TOTAL(fair_shares, fair_shares);

static struct attribute *balloon_attrs[] = {
	VMK_ATTR(enabled),
	VMK_ATTR(interval_ms),
	VMK_ATTR(low_pct),
	VMK_ATTR(high_pct),
	VMK_ATTR(step_pct),
	VMK_ATTR(guest_free_pct),
	VMK_ATTR(stall_ms),
	VMK_ATTR(stats_max_age_ms),
	VMK_ATTR(test_available_pct),
	NULL,
};

static const struct attribute_group balloon_group = {
	.attrs = balloon_attrs,
};

/*
 * The counters and gauges, under stats/ where every module of the suite
 * keeps them, and in the directory itself as aliases (tools and scripts
 * read them there): one list, two groups.
 */
static struct attribute *balloon_stats_attrs[] = {
	VMK_ATTR(host_available_pct),
	VMK_ATTR(vms),
	VMK_ATTR(target_changes),
	VMK_ATTR(inflations),
	VMK_ATTR(deflations),
	VMK_ATTR(released_bytes),
	VMK_ATTR(pressure_ticks),
	VMK_ATTR(reclaim_ticks),
	VMK_ATTR(stalls),
	VMK_ATTR(fair_shares),
	NULL,
};

static const struct attribute_group balloon_stats_group = {
	.name = "stats",
	.attrs = balloon_stats_attrs,
};

static const struct attribute_group balloon_stats_alias_group = {
	.attrs = balloon_stats_attrs,
};

static const struct attribute_group *balloon_groups[] = {
	&balloon_group,
	&balloon_stats_group,
	&balloon_stats_alias_group,
	NULL,
};

/**
 * balloon_sysfs_init() - create /sys/kernel/mm/vmaccel_balloon/
 *
 * Return: 0 or a negative errno.
 */
int balloon_sysfs_init(void)
{
	balloon_kobj = vmk_kobj_add(mm_kobj, "vmaccel_balloon", balloon_groups);
	return PTR_ERR_OR_ZERO(balloon_kobj);
}

/**
 * balloon_sysfs_exit() - remove /sys/kernel/mm/vmaccel_balloon/
 */
void balloon_sysfs_exit(void)
{
	vmk_kobj_del(balloon_kobj, balloon_groups);
}
