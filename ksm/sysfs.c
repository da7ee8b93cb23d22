// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmaccel_ksm - /sys/kernel/mm/vmaccel_ksm/: the knobs and counters, named
 * and meant as in /sys/kernel/mm/ksm/ where the name is the same, plus
 * merge_across_groups.  Writes need %CAP_SYS_ADMIN besides the file mode
 * (root in a container whose capabilities were dropped cannot unmerge or
 * merge across groups host-wide).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kernel.h>
#include <linux/kobject.h>
#include <linux/mm.h>
#include <linux/sysfs.h>
#include <vmaccel/knob.h>

#include "ksm.h"

#define KSM_PAGES_TO_SCAN_MAX		1000000U
#define KSM_SLEEP_MILLISECS_MAX		3600000U
#define KSM_MAX_PAGE_SHARING_MAX	BIT(20)

static struct kobject *vk_kobj;

/* A new setting takes effect at the scanner's next pass: wake it. */
static void vk_knob_after(const struct vmk_knob *k, int ret)
{
	vk_scan_wake();
}

/* run: 2 unmerges everything first, and stays 0 or 1 if that fails. */
static int vk_run_set(const struct vmk_knob *k, s64 val)
{
	int err = 0;

	lockdep_assert_held(&vk_scan_mutex);
	if (val == KSM_RUN_UNMERGE)
		err = vk_unmerge_all();
	return err ? err : vmk_knob_write(k, val);
}

/* Like merge_across_nodes: only changes while nothing is merged. */
static int vk_merge_across_groups_set(const struct vmk_knob *k, s64 val)
{
	lockdep_assert_held(&vk_scan_mutex);
	if (val != READ_ONCE(vk_merge_across_groups) &&
	    atomic_long_read(&vk_pages_shared))
		return -EBUSY;
	return vmk_knob_write(k, val);
}

/*
 * Every knob needs CAP_SYS_ADMIN: declared through one of these two, the
 * second for run and the two bools, which change under vk_scan_mutex (a
 * fatal signal ends the wait).  A second .flags would override the first:
 * W=1 (-Woverride-init) says so.
 */
#define VK_KNOB(_name, ...)						\
	VMK_KOBJ_KNOB(_name, .flags = VMK_ADMIN, __VA_ARGS__)
#define VK_SCAN_KNOB(_name, ...)					\
	VMK_KOBJ_KNOB(_name, .flags = VMK_ADMIN | VMK_KILLABLE,		\
		      .lock = &vk_scan_mutex, __VA_ARGS__)

VK_SCAN_KNOB(run, VMK_U32_VAR(&vk_run), VMK_RANGE(0, KSM_RUN_UNMERGE),
	     .set = vk_run_set, .after = vk_knob_after);
VK_KNOB(pages_to_scan, VMK_U32_VAR(&vk_pages_to_scan),
	VMK_RANGE(1, KSM_PAGES_TO_SCAN_MAX), .after = vk_knob_after);
VK_KNOB(sleep_millisecs, VMK_U32_VAR(&vk_sleep_millisecs),
	VMK_RANGE(0, KSM_SLEEP_MILLISECS_MAX), .after = vk_knob_after);
VK_KNOB(max_page_sharing, VMK_U32_VAR(&vk_max_page_sharing),
	VMK_RANGE(2, KSM_MAX_PAGE_SHARING_MAX), .after = vk_knob_after);
VK_SCAN_KNOB(use_zero_pages, VMK_BOOL_VAR(&vk_use_zero_pages),
	     VMK_RANGE(0, 1));
VK_SCAN_KNOB(merge_across_groups, VMK_BOOL_VAR(&vk_merge_across_groups),
	     VMK_RANGE(0, 1), .set = vk_merge_across_groups_set);

static long pages_sharing(void)
{
	long v = atomic_long_read(&vk_sharing_total) -
		 atomic_long_read(&vk_pages_shared);

	return v > 0 ? v : 0;
}

static s64 vk_pages_sharing_get(const struct vmk_knob *k)
{
	return pages_sharing();
}

/* As upstream: items neither merged nor candidates of this pass. */
static s64 vk_pages_volatile_get(const struct vmk_knob *k)
{
	long v = atomic_long_read(&vk_nr_items) -
		 atomic_long_read(&vk_pages_shared) - pages_sharing() -
		 (long)READ_ONCE(vk_pages_unshared);

	return v > 0 ? v : 0;
}

/* Bytes saved by merging less the bookkeeping: may be negative. */
static s64 vk_general_profit_get(const struct vmk_knob *k)
{
	return pages_sharing() * (long)PAGE_SIZE -
	       atomic_long_read(&vk_nr_items) * (long)sizeof(struct vk_item) -
	       atomic_long_read(&vk_pages_shared) *
	       (long)sizeof(struct vk_spage);
}

static s64 vk_scanner_pid_get(const struct vmk_knob *k)
{
	return vk_scan_pid();
}

VMK_KOBJ_COUNTER(pages_shared, VMK_ATOMIC_LONG_VAR(&vk_pages_shared));
VMK_KOBJ_COUNTER(pages_sharing, .type = VMK_S64, .get = vk_pages_sharing_get);
VMK_KOBJ_COUNTER(pages_unshared, VMK_ULONG_VAR(&vk_pages_unshared));
VMK_KOBJ_COUNTER(pages_volatile, .type = VMK_S64,
		 .get = vk_pages_volatile_get);
VMK_KOBJ_COUNTER(full_scans, VMK_ULONG_VAR(&vk_full_scans));
VMK_KOBJ_COUNTER(pages_scanned, VMK_ATOMIC_LONG_VAR(&vk_pages_scanned));
VMK_KOBJ_COUNTER(general_profit, .type = VMK_S64,
		 .get = vk_general_profit_get);
VMK_KOBJ_COUNTER(zero_pages_sharing, VMK_ATOMIC_LONG_VAR(&vk_zero_sharing));
VMK_KOBJ_COUNTER(cow_breaks, VMK_ATOMIC_LONG_VAR(&vk_cow_breaks));
VMK_KOBJ_COUNTER(pages_pinned, VMK_ATOMIC_LONG_VAR(&vk_pages_pinned));
VMK_KOBJ_COUNTER(pages_migrated, VMK_ATOMIC_LONG_VAR(&vk_pages_migrated));
VMK_KOBJ_COUNTER(scanner_pid, .type = VMK_S64, .get = vk_scanner_pid_get);

static struct attribute *vk_attrs[] = {
	VMK_ATTR(run),
	VMK_ATTR(pages_to_scan),
	VMK_ATTR(sleep_millisecs),
	VMK_ATTR(max_page_sharing),
	VMK_ATTR(use_zero_pages),
	VMK_ATTR(merge_across_groups),
	VMK_ATTR(scanner_pid),
	NULL,
};

static const struct attribute_group vk_attr_group = {
	.attrs = vk_attrs,
};

/*
 * The counters, under stats/ where every module of the suite keeps them,
 * and in the directory itself, named and placed as upstream KSM's in
 * /sys/kernel/mm/ksm/: one list, two groups.
 */
static struct attribute *vk_stats_attrs[] = {
	VMK_ATTR(pages_shared),
	VMK_ATTR(pages_sharing),
	VMK_ATTR(pages_unshared),
	VMK_ATTR(pages_volatile),
	VMK_ATTR(full_scans),
	VMK_ATTR(pages_scanned),
	VMK_ATTR(general_profit),
	VMK_ATTR(zero_pages_sharing),
	VMK_ATTR(cow_breaks),
	VMK_ATTR(pages_pinned),
	VMK_ATTR(pages_migrated),
	NULL,
};

static const struct attribute_group vk_stats_group = {
	.name = "stats",
	.attrs = vk_stats_attrs,
};

static const struct attribute_group vk_stats_alias_group = {
	.attrs = vk_stats_attrs,
};

static const struct attribute_group *vk_attr_groups[] = {
	&vk_attr_group,
	&vk_stats_group,
	&vk_stats_alias_group,
	NULL,
};

/**
 * vk_sysfs_init() - create /sys/kernel/mm/vmaccel_ksm/
 *
 * Return: 0 or a negative errno.
 */
int vk_sysfs_init(void)
{
	vk_kobj = vmk_kobj_add(mm_kobj, "vmaccel_ksm", vk_attr_groups);
	return PTR_ERR_OR_ZERO(vk_kobj);
}

/**
 * vk_sysfs_exit() - remove /sys/kernel/mm/vmaccel_ksm/
 */
void vk_sysfs_exit(void)
{
	vmk_kobj_del(vk_kobj, vk_attr_groups);
}
