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
#include <vmaccel/vic.h>

#include "vic.h"

/**
 * struct vic_u32_attr - a sysfs attribute backed by a u32 or u64 field
 * @attr: the device attribute.
 * @offset: offset of the field, in &struct vmaccel_vic_params for the
 *	defaults or in &struct vic_totals for the counters.
 */
struct vic_u32_attr {
	struct device_attribute attr;
	size_t offset;
};

#define to_vic_attr(a) container_of(a, struct vic_u32_attr, attr)

static ssize_t vic_param_show(struct device *dev,
			      struct device_attribute *attr, char *buf)
{
	struct vmaccel_vic_params p;
	u32 val;

	vmaccel_vic_default_params(&p);
	memcpy(&val, (u8 *)&p + to_vic_attr(attr)->offset, sizeof(val));
	return sysfs_emit(buf, "%u\n", val);
}

static ssize_t vic_param_store(struct device *dev,
			       struct device_attribute *attr,
			       const char *buf, size_t count)
{
	u32 val;
	int ret;

	ret = kstrtou32(buf, 10, &val);
	if (ret)
		return -EINVAL;
	ret = vic_defaults_set(to_vic_attr(attr)->offset, val);
	return ret ? ret : count;
}

#define VIC_PARAM_ATTR(_name, _field)					\
static struct vic_u32_attr vic_attr_##_name = {				\
	.attr = __ATTR(_name, 0644, vic_param_show, vic_param_store),	\
	.offset = offsetof(struct vmaccel_vic_params, _field),		\
}

VIC_PARAM_ATTR(default_fixed_ratio, fixed_ratio);
VIC_PARAM_ATTR(default_cif_threshold, cif_threshold);
VIC_PARAM_ATTR(default_iops_threshold, iops_threshold);
VIC_PARAM_ATTR(default_max_delay_us, max_delay_us);
VIC_PARAM_ATTR(default_max_ratio, max_ratio);

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

static ssize_t coalescers_show(struct device *dev,
			       struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%u\n", vic_live_count());
}
static DEVICE_ATTR_RO(coalescers);

static ssize_t vic_total_show(struct device *dev,
			      struct device_attribute *attr, char *buf)
{
	struct vic_totals t;
	u64 val;

	vic_totals_read(&t);
	memcpy(&val, (u8 *)&t + to_vic_attr(attr)->offset, sizeof(val));
	return sysfs_emit(buf, "%llu\n", val);
}

#define VIC_TOTAL_ATTR(_name, _field)					\
static struct vic_u32_attr vic_attr_##_name = {				\
	.attr = __ATTR(_name, 0444, vic_total_show, NULL),		\
	.offset = offsetof(struct vic_totals, _field),			\
}

VIC_TOTAL_ATTR(completions, completions);
VIC_TOTAL_ATTR(interrupts, interrupts);
VIC_TOTAL_ATTR(deferred, deferred);
VIC_TOTAL_ATTR(backstop, backstop);

static struct attribute *vic_attrs[] = {
	&dev_attr_default_mode.attr,
	&vic_attr_default_fixed_ratio.attr.attr,
	&vic_attr_default_cif_threshold.attr.attr,
	&vic_attr_default_iops_threshold.attr.attr,
	&vic_attr_default_max_delay_us.attr.attr,
	&vic_attr_default_max_ratio.attr.attr,
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
	&dev_attr_coalescers.attr,
	&vic_attr_completions.attr.attr,
	&vic_attr_interrupts.attr.attr,
	&vic_attr_deferred.attr.attr,
	&vic_attr_backstop.attr.attr,
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
