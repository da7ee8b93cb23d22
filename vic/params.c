// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmaccel_vic - coalescer parameters: validation and the sysfs defaults.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bug.h>
#include <linux/errno.h>
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/stddef.h>
#include <linux/string.h>
#include <vmaccel/vic.h>

#include "vic.h"

/* Defaults for coalescers created without explicit parameters. */
static DEFINE_MUTEX(vic_defaults_lock);
static struct vmaccel_vic_params vic_defaults = {
	.mode = VIC_DEFAULT_MODE,
	.fixed_ratio = VIC_DEFAULT_FIXED_RATIO,
	.cif_threshold = VIC_DEFAULT_CIF_THRESHOLD,
	.iops_threshold = VIC_DEFAULT_IOPS_THRESHOLD,
	.max_delay_us = VIC_DEFAULT_MAX_DELAY_US,
	.max_ratio = VIC_DEFAULT_MAX_RATIO,
};	/* protected by vic_defaults_lock */

static const char * const vic_mode_names[] = {
	[VMACCEL_VIC_MODE_OFF] = "off",
	[VMACCEL_VIC_MODE_FIXED] = "fixed",
	[VMACCEL_VIC_MODE_ADAPTIVE] = "adaptive",
};

/**
 * vic_mode_name() - name of a coalescing mode
 * @mode: one of &enum vmaccel_vic_mode.
 *
 * Return: "off", "fixed" or "adaptive"; "invalid" for anything else.
 */
const char *vic_mode_name(u32 mode)
{
	if (mode >= ARRAY_SIZE(vic_mode_names))
		return "invalid";
	return vic_mode_names[mode];
}

/**
 * vic_mode_parse() - parse a mode name written to sysfs
 * @buf: "off", "fixed" or "adaptive", optionally followed by a newline.
 *
 * Return: the &enum vmaccel_vic_mode value, or -EINVAL.
 */
int vic_mode_parse(const char *buf)
{
	int i;

	for (i = 0; i < ARRAY_SIZE(vic_mode_names); i++)
		if (sysfs_streq(buf, vic_mode_names[i]))
			return i;
	return -EINVAL;
}

/**
 * vmaccel_vic_check_params() - validate coalescer parameters
 * @p: parameters to check.
 *
 * Every field is checked against the limits of the userspace ABI, including
 * fields the selected mode does not use, so that switching modes later never
 * activates an invalid value.
 *
 * Context: any context.
 * Return: 0 when valid, -EINVAL otherwise.
 */
int vmaccel_vic_check_params(const struct vmaccel_vic_params *p)
{
	if (!p)
		return -EINVAL;
	if (p->mode > VMACCEL_VIC_MODE_ADAPTIVE)
		return -EINVAL;
	if (p->fixed_ratio < 1 || p->fixed_ratio > VMACCEL_VIC_RATIO_MAX)
		return -EINVAL;
	if (p->cif_threshold > VMACCEL_VIC_CIF_THRESHOLD_MAX)
		return -EINVAL;
	if (p->iops_threshold > VMACCEL_VIC_IOPS_THRESHOLD_MAX)
		return -EINVAL;
	if (p->max_delay_us < VMACCEL_VIC_DELAY_US_MIN ||
	    p->max_delay_us > VMACCEL_VIC_DELAY_US_MAX)
		return -EINVAL;
	if (p->max_ratio < 1 || p->max_ratio > VMACCEL_VIC_RATIO_MAX)
		return -EINVAL;
	return 0;
}
EXPORT_SYMBOL_GPL(vmaccel_vic_check_params);

/**
 * vmaccel_vic_default_params() - current defaults for new coalescers
 * @p: filled with the defaults set through sysfs
 *	(/sys/class/misc/vmaccel-vic/default_*).
 *
 * Context: process context; takes a mutex.
 */
void vmaccel_vic_default_params(struct vmaccel_vic_params *p)
{
	mutex_lock(&vic_defaults_lock);
	*p = vic_defaults;
	mutex_unlock(&vic_defaults_lock);
}
EXPORT_SYMBOL_GPL(vmaccel_vic_default_params);

/**
 * vic_defaults_set() - change one field of the defaults
 * @offset: offset of a __u32 field in &struct vmaccel_vic_params.
 * @val: new value.
 *
 * The whole set of defaults with the new value must pass
 * vmaccel_vic_check_params(); otherwise nothing changes.  Readers never see
 * a partial update.
 *
 * Context: process context; takes a mutex.
 * Return: 0 or -EINVAL.
 */
int vic_defaults_set(size_t offset, u32 val)
{
	struct vmaccel_vic_params p;
	int ret;

	if (WARN_ON_ONCE(offset % sizeof(u32) ||
			 offset + sizeof(u32) > sizeof(p)))
		return -EINVAL;

	mutex_lock(&vic_defaults_lock);
	p = vic_defaults;
	memcpy((u8 *)&p + offset, &val, sizeof(val));
	ret = vmaccel_vic_check_params(&p);
	if (!ret)
		vic_defaults = p;
	mutex_unlock(&vic_defaults_lock);
	return ret;
}
