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

/**
 * struct balloon_knob - a u32 knob in [@min, @max]
 * @attr: the sysfs attribute.
 * @off: offset in balloon_params of the parameter it sets.
 * @min: smallest value accepted.
 * @max: largest value accepted.
 */
struct balloon_knob {
	struct kobj_attribute attr;
	size_t off;
	u32 min;
	u32 max;
};

static u32 *knob_val(const struct balloon_knob *kn)
{
	return (u32 *)((u8 *)&balloon_params + kn->off);
}

static ssize_t knob_show(struct kobject *k, struct kobj_attribute *a,
			 char *buf)
{
	struct balloon_knob *kn = container_of(a, struct balloon_knob, attr);

	return sysfs_emit(buf, "%u\n", READ_ONCE(*knob_val(kn)));
}

static ssize_t knob_store(struct kobject *k, struct kobj_attribute *a,
			  const char *buf, size_t count)
{
	struct balloon_knob *kn = container_of(a, struct balloon_knob, attr);
	u32 val;
	int ret = 0;

	if (kstrtou32(buf, 10, &val) || val < kn->min || val > kn->max)
		return -EINVAL;
	/* The watermarks must keep low_pct < high_pct. */
	mutex_lock(&balloon_lock);
	if ((kn->off == offsetof(struct balloon_params, low_pct) &&
	     val >= balloon_params.high_pct) ||
	    (kn->off == offsetof(struct balloon_params, high_pct) &&
	     val <= balloon_params.low_pct))
		ret = -EINVAL;
	else
		WRITE_ONCE(*knob_val(kn), val);
	mutex_unlock(&balloon_lock);
	if (ret)
		return ret;
	balloon_policy_kick();
	return count;
}

/* A knob of balloon_params, its sysfs file named after it. */
#define BALLOON_KNOB(_name, _min, _max)					\
static struct balloon_knob knob_##_name = {				\
	.attr = {							\
		.attr = { .name = #_name, .mode = 0644 },		\
		.show = knob_show,					\
		.store = knob_store,					\
	},								\
	.off = offsetof(struct balloon_params, _name),			\
	.min = _min,							\
	.max = _max,							\
}

BALLOON_KNOB(interval_ms, 100, 60000);
BALLOON_KNOB(low_pct, 1, 90);
BALLOON_KNOB(high_pct, 2, 99);
BALLOON_KNOB(step_pct, 1, 50);
BALLOON_KNOB(guest_free_pct, 0, 90);
BALLOON_KNOB(stall_ms, 100, 600000);
BALLOON_KNOB(stats_max_age_ms, 1000, 3600000);

static ssize_t enabled_show(struct kobject *k, struct kobj_attribute *a,
			    char *buf)
{
	return sysfs_emit(buf, "%d\n", READ_ONCE(balloon_params.enabled));
}

static ssize_t enabled_store(struct kobject *k, struct kobj_attribute *a,
			     const char *buf, size_t count)
{
	u32 val;

	if (kstrtou32(buf, 10, &val) || val > 1)
		return -EINVAL;
	WRITE_ONCE(balloon_params.enabled, val);
	balloon_policy_kick();
	return count;
}

static struct kobj_attribute enabled_attr = __ATTR_RW(enabled);

static ssize_t test_available_pct_show(struct kobject *k,
				       struct kobj_attribute *a, char *buf)
{
	return sysfs_emit(buf, "%d\n",
			  READ_ONCE(balloon_params.test_available_pct));
}

static ssize_t test_available_pct_store(struct kobject *k,
					struct kobj_attribute *a,
					const char *buf, size_t count)
{
	int val;

	if (kstrtoint(buf, 10, &val) || val < -1 || val > 100)
		return -EINVAL;
	WRITE_ONCE(balloon_params.test_available_pct, val);
	balloon_policy_kick();
	return count;
}

static struct kobj_attribute test_available_pct_attr =
	__ATTR_RW(test_available_pct);

static ssize_t host_available_pct_show(struct kobject *k,
				       struct kobj_attribute *a, char *buf)
{
	return sysfs_emit(buf, "%u\n", balloon_host_avail_pct());
}

static struct kobj_attribute host_available_pct_attr =
	__ATTR_RO(host_available_pct);

static ssize_t vms_show(struct kobject *k, struct kobj_attribute *a,
			char *buf)
{
	return sysfs_emit(buf, "%u\n", READ_ONCE(balloon_nr_vms));
}

static struct kobj_attribute vms_attr = __ATTR_RO(vms);

/**
 * struct balloon_total_attr - a read-only module-wide counter
 * @attr: the sysfs attribute.
 * @off: offset of the counter in balloon_totals.
 */
struct balloon_total_attr {
	struct kobj_attribute attr;
	size_t off;
};

static ssize_t total_show(struct kobject *k, struct kobj_attribute *a,
			  char *buf)
{
	struct balloon_total_attr *t =
		container_of(a, struct balloon_total_attr, attr);

	return sysfs_emit(buf, "%lld\n",
			  atomic64_read((atomic64_t *)((u8 *)&balloon_totals +
						       t->off)));
}

/* A counter of balloon_totals, its sysfs file named after it. */
#define BALLOON_TOTAL(_name)						\
static struct balloon_total_attr total_##_name = {			\
	.attr = {							\
		.attr = { .name = #_name, .mode = 0444 },		\
		.show = total_show,					\
	},								\
	.off = offsetof(struct balloon_totals, _name),			\
}

BALLOON_TOTAL(target_changes);
BALLOON_TOTAL(inflations);
BALLOON_TOTAL(deflations);
BALLOON_TOTAL(released_bytes);
BALLOON_TOTAL(pressure_ticks);
BALLOON_TOTAL(reclaim_ticks);
BALLOON_TOTAL(stalls);
BALLOON_TOTAL(fair_shares);

static struct attribute *balloon_attrs[] = {
	&enabled_attr.attr,
	&knob_interval_ms.attr.attr,
	&knob_low_pct.attr.attr,
	&knob_high_pct.attr.attr,
	&knob_step_pct.attr.attr,
	&knob_guest_free_pct.attr.attr,
	&knob_stall_ms.attr.attr,
	&knob_stats_max_age_ms.attr.attr,
	&test_available_pct_attr.attr,
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
	&host_available_pct_attr.attr,
	&vms_attr.attr,
	&total_target_changes.attr.attr,
	&total_inflations.attr.attr,
	&total_deflations.attr.attr,
	&total_released_bytes.attr.attr,
	&total_pressure_ticks.attr.attr,
	&total_reclaim_ticks.attr.attr,
	&total_stalls.attr.attr,
	&total_fair_shares.attr.attr,
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
	int ret;

	/* NULL only from the 6.6+ compat lookup: never the sysfs root. */
	if (!mm_kobj)
		return -ENOENT;
	balloon_kobj = kobject_create_and_add("vmaccel_balloon", mm_kobj);
	if (!balloon_kobj)
		return -ENOMEM;
	ret = sysfs_create_groups(balloon_kobj, balloon_groups);
	if (ret)
		kobject_put(balloon_kobj);
	return ret;
}

/**
 * balloon_sysfs_exit() - remove /sys/kernel/mm/vmaccel_balloon/
 */
void balloon_sysfs_exit(void)
{
	sysfs_remove_groups(balloon_kobj, balloon_groups);
	kobject_put(balloon_kobj);
}
