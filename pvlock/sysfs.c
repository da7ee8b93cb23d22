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
#include <vmaccel/knob.h>

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

VMK_DEV_KNOB(spin_threshold, VMK_U32_VAR(&pvlock_spin_threshold),
	     VMK_RANGE(0, VMACCEL_PVLOCK_SPIN_THRESHOLD_MAX));

static s64 pvlock_locks_in_use_get(const struct vmk_knob *k)
{
	return pvlock_locks_in_use();
}

VMK_DEV_COUNTER(locks_in_use, .type = VMK_S64, .get = pvlock_locks_in_use_get);
VMK_DEV_COUNTER(runs_active, VMK_ATOMIC_VAR(&pvlock_runs_active));

static struct attribute *pvlock_attrs[] = {
	&dev_attr_backend.attr,
	&dev_attr_available_backends.attr,
	VMK_ATTR(spin_threshold),
	VMK_ATTR(locks_in_use),
	VMK_ATTR(runs_active),
	NULL,
};

static const struct attribute_group pvlock_attr_group = {
	.attrs = pvlock_attrs,
};

/* The sum over all CPUs of the counter @k->arg, an &enum pvlock_stat. */
static s64 pvlock_stat_get(const struct vmk_knob *k)
{
	struct pvlock_stats sum;

	pvlock_stats_sum(&sum);
	return sum.stat[k->arg];
}

#define PVLOCK_STAT(_name, _stat)					\
	VMK_DEV_COUNTER(_name, .type = VMK_U64, .get = pvlock_stat_get,	\
			.arg = PVLOCK_STAT_##_stat)

PVLOCK_STAT(taken_fast, TAKEN_FAST);
PVLOCK_STAT(taken_slow, TAKEN_SLOW);
PVLOCK_STAT(taken_slow_pickup, TAKEN_SLOW_PICKUP);
PVLOCK_STAT(blocked, BLOCKED);
PVLOCK_STAT(halts, HALTS);
PVLOCK_STAT(spurious_wakeups, SPURIOUS);
PVLOCK_STAT(irqs_off_spins, IRQS_OFF_SPINS);
PVLOCK_STAT(released_slow, RELEASED_SLOW);
PVLOCK_STAT(released_slow_kicked, RELEASED_SLOW_KICKED);
PVLOCK_STAT(wakeups_sent, WAKEUPS);
PVLOCK_STAT(time_blocked_ns, TIME_BLOCKED_NS);

static struct attribute *pvlock_stat_attrs[] = {
	VMK_ATTR(taken_fast),
	VMK_ATTR(taken_slow),
	VMK_ATTR(taken_slow_pickup),
	VMK_ATTR(blocked),
	VMK_ATTR(halts),
	VMK_ATTR(spurious_wakeups),
	VMK_ATTR(irqs_off_spins),
	VMK_ATTR(released_slow),
	VMK_ATTR(released_slow_kicked),
	VMK_ATTR(wakeups_sent),
	VMK_ATTR(time_blocked_ns),
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
