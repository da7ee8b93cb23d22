// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmaccel_vic - sysfs attributes of /dev/vmaccel-vic
 * (/sys/class/misc/vmaccel-vic/): defaults for new coalescers and the
 * module-wide counters.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/device.h>
#include <linux/kernel.h>
#include <linux/stddef.h>
#include <linux/sysfs.h>
#include <vmaccel/knob.h>
#include <vmaccel/vic.h>

#include "vic.h"

/* A default of &struct vmaccel_vic_params, @k->arg its offset. */
static s64 vic_default_get(const struct vmk_knob *k)
{
	struct vmaccel_vic_params p;
	u32 val;

	vmaccel_vic_default_params(&p);
	memcpy(&val, (u8 *)&p + k->arg, sizeof(val));
	return val;
}

/* vic_defaults_set() checks the whole set, the ranges included. */
static int vic_default_set(const struct vmk_knob *k, s64 val)
{
	return vic_defaults_set(k->arg, val);
}

#define VIC_DEFAULT(_name, _field)					\
	VMK_DEV_KNOB(_name, .type = VMK_U32, VMK_RANGE(0, U32_MAX),	\
		     .get = vic_default_get, .set = vic_default_set,	\
		     .arg = offsetof(struct vmaccel_vic_params, _field))

VIC_DEFAULT(default_fixed_ratio, fixed_ratio);
VIC_DEFAULT(default_cif_threshold, cif_threshold);
VIC_DEFAULT(default_iops_threshold, iops_threshold);
VIC_DEFAULT(default_max_delay_us, max_delay_us);
VIC_DEFAULT(default_max_ratio, max_ratio);

static ssize_t default_mode_show(struct device *dev,
				 struct device_attribute *attr, char *buf)
{
	struct vmaccel_vic_params p;

	vmaccel_vic_default_params(&p);
	return sysfs_emit(buf, "%s\n", vic_mode_name(p.mode));
}

static ssize_t default_mode_store(struct device *dev,
				  struct device_attribute *attr,
				  const char *buf, size_t count)
{
	int mode, ret;

	mode = vic_mode_parse(buf);
	if (mode < 0)
		return mode;
	ret = vic_defaults_set(offsetof(struct vmaccel_vic_params, mode), mode);
	return ret ? ret : count;
}
static DEVICE_ATTR_RW(default_mode);

static s64 vic_coalescers_get(const struct vmk_knob *k)
{
	return vic_live_count();
}

VMK_DEV_COUNTER(coalescers, .type = VMK_U64, .get = vic_coalescers_get);

/* A counter of &struct vic_totals, @k->arg its offset. */
static s64 vic_total_get(const struct vmk_knob *k)
{
	struct vic_totals t;
	u64 val;

	vic_totals_read(&t);
	memcpy(&val, (u8 *)&t + k->arg, sizeof(val));
	return val;
}

#define VIC_TOTAL(_name, _field)					\
	VMK_DEV_COUNTER(_name, .type = VMK_U64, .get = vic_total_get,	\
			.arg = offsetof(struct vic_totals, _field))

VIC_TOTAL(completions, completions);
VIC_TOTAL(interrupts, interrupts);
VIC_TOTAL(deferred, deferred);
VIC_TOTAL(backstop, backstop);

static struct attribute *vic_attrs[] = {
	&dev_attr_default_mode.attr,
	VMK_ATTR(default_fixed_ratio),
	VMK_ATTR(default_cif_threshold),
	VMK_ATTR(default_iops_threshold),
	VMK_ATTR(default_max_delay_us),
	VMK_ATTR(default_max_ratio),
	NULL
};

static const struct attribute_group vic_attr_group = {
	.attrs = vic_attrs,
};

/*
 * The counters, under stats/ where every module of the suite keeps them,
 * and in the device's directory as aliases (tools and scripts read them
 * there): one list, two groups.
 */
static struct attribute *vic_stats_attrs[] = {
	VMK_ATTR(coalescers),
	VMK_ATTR(completions),
	VMK_ATTR(interrupts),
	VMK_ATTR(deferred),
	VMK_ATTR(backstop),
	NULL
};

static const struct attribute_group vic_stats_group = {
	.name = "stats",
	.attrs = vic_stats_attrs,
};

static const struct attribute_group vic_stats_alias_group = {
	.attrs = vic_stats_attrs,
};

/* Attached to the misc device through miscdevice.groups. */
const struct attribute_group *vic_attr_groups[] = {
	&vic_attr_group,
	&vic_stats_group,
	&vic_stats_alias_group,
	NULL
};
