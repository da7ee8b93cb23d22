// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmaccel_pvlock - sysfs attributes of /dev/vmaccel-pvlock
 * (/sys/class/misc/vmaccel-pvlock/): the backend, the spin threshold, and
 * the module-wide counters under stats/.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/device.h>
#include <linux/kernel.h>
#include <linux/sysfs.h>

#include "pvlock.h"

static ssize_t backend_show(struct device *dev, struct device_attribute *attr,
			    char *buf)
{
	return sysfs_emit(buf, "%s\n", READ_ONCE(pvlock_backend)->name);
}

static ssize_t backend_store(struct device *dev,
			     struct device_attribute *attr, const char *buf,
			     size_t count)
{
	int ret = pvlock_backend_set(buf);

	return ret ? ret : count;
}
static DEVICE_ATTR_RW(backend);

static ssize_t available_backends_show(struct device *dev,
				       struct device_attribute *attr,
				       char *buf)
{
	unsigned int i;
	int len = 0;

	for (i = 0; i < pvlock_nr_backends; i++) {
		if (!pvlock_backends[i]->available())
			continue;
		len += sysfs_emit_at(buf, len, "%s%s", len ? " " : "",
				     pvlock_backends[i]->name);
	}
	len += sysfs_emit_at(buf, len, "\n");
	return len;
}
static DEVICE_ATTR_RO(available_backends);

static ssize_t spin_threshold_show(struct device *dev,
				   struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%u\n", READ_ONCE(pvlock_spin_threshold));
}

static ssize_t spin_threshold_store(struct device *dev,
				    struct device_attribute *attr,
				    const char *buf, size_t count)
{
	u32 val;
	int ret;

	ret = kstrtou32(buf, 10, &val);
	if (ret)
		return -EINVAL;
	ret = pvlock_spin_threshold_set(val);
	return ret ? ret : count;
}
static DEVICE_ATTR_RW(spin_threshold);

static ssize_t locks_in_use_show(struct device *dev,
				 struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%ld\n", pvlock_locks_in_use());
}
static DEVICE_ATTR_RO(locks_in_use);

static ssize_t runs_active_show(struct device *dev,
				struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%d\n", atomic_read(&pvlock_runs_active));
}
static DEVICE_ATTR_RO(runs_active);

static struct attribute *pvlock_attrs[] = {
	&dev_attr_backend.attr,
	&dev_attr_available_backends.attr,
	&dev_attr_spin_threshold.attr,
	&dev_attr_locks_in_use.attr,
	&dev_attr_runs_active.attr,
	NULL,
};

static const struct attribute_group pvlock_attr_group = {
	.attrs = pvlock_attrs,
};

/**
 * struct pvlock_stat_attr - a read-only sysfs file for one counter
 * @attr: the device attribute.
 * @stat: the &enum pvlock_stat it shows.
 */
struct pvlock_stat_attr {
	struct device_attribute attr;
	enum pvlock_stat stat;
};

static ssize_t pvlock_stat_show(struct device *dev,
				struct device_attribute *attr, char *buf)
{
	struct pvlock_stats sum;

	pvlock_stats_sum(&sum);
	return sysfs_emit(buf, "%llu\n",
			  sum.stat[container_of(attr, struct pvlock_stat_attr,
						attr)->stat]);
}

#define PVLOCK_STAT_ATTR(_name, _stat)					\
static struct pvlock_stat_attr pvlock_stat_attr_##_name = {		\
	.attr = __ATTR(_name, 0444, pvlock_stat_show, NULL),		\
	.stat = _stat,							\
}

PVLOCK_STAT_ATTR(taken_fast, PVLOCK_STAT_TAKEN_FAST);
PVLOCK_STAT_ATTR(taken_slow, PVLOCK_STAT_TAKEN_SLOW);
PVLOCK_STAT_ATTR(taken_slow_pickup, PVLOCK_STAT_TAKEN_SLOW_PICKUP);
PVLOCK_STAT_ATTR(blocked, PVLOCK_STAT_BLOCKED);
PVLOCK_STAT_ATTR(halts, PVLOCK_STAT_HALTS);
PVLOCK_STAT_ATTR(spurious_wakeups, PVLOCK_STAT_SPURIOUS);
PVLOCK_STAT_ATTR(irqs_off_spins, PVLOCK_STAT_IRQS_OFF_SPINS);
PVLOCK_STAT_ATTR(released_slow, PVLOCK_STAT_RELEASED_SLOW);
PVLOCK_STAT_ATTR(released_slow_kicked, PVLOCK_STAT_RELEASED_SLOW_KICKED);
PVLOCK_STAT_ATTR(wakeups_sent, PVLOCK_STAT_WAKEUPS);
PVLOCK_STAT_ATTR(time_blocked_ns, PVLOCK_STAT_TIME_BLOCKED_NS);

static struct attribute *pvlock_stat_attrs[] = {
	&pvlock_stat_attr_taken_fast.attr.attr,
	&pvlock_stat_attr_taken_slow.attr.attr,
	&pvlock_stat_attr_taken_slow_pickup.attr.attr,
	&pvlock_stat_attr_blocked.attr.attr,
	&pvlock_stat_attr_halts.attr.attr,
	&pvlock_stat_attr_spurious_wakeups.attr.attr,
	&pvlock_stat_attr_irqs_off_spins.attr.attr,
	&pvlock_stat_attr_released_slow.attr.attr,
	&pvlock_stat_attr_released_slow_kicked.attr.attr,
	&pvlock_stat_attr_wakeups_sent.attr.attr,
	&pvlock_stat_attr_time_blocked_ns.attr.attr,
	NULL,
};

static const struct attribute_group pvlock_stat_group = {
	.name = "stats",
	.attrs = pvlock_stat_attrs,
};

const struct attribute_group *pvlock_attr_groups[] = {
	&pvlock_attr_group,
	&pvlock_stat_group,
	NULL,
};
