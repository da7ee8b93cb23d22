// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmaccel_ksm - /sys/kernel/mm/vmaccel_ksm/: the knobs and counters, named
 * and meant as in /sys/kernel/mm/ksm/ where the name is the same, plus
 * merge_across_groups.  Writes need %CAP_SYS_ADMIN besides the file mode
 * (root in a container whose capabilities were dropped cannot unmerge or
 * merge across groups host-wide).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/capability.h>
#include <linux/kernel.h>
#include <linux/kobject.h>
#include <linux/mm.h>
#include <linux/sysfs.h>

#include "ksm.h"

#define KSM_PAGES_TO_SCAN_MAX		1000000U
#define KSM_SLEEP_MILLISECS_MAX		3600000U
#define KSM_MAX_PAGE_SHARING_MAX	BIT(20)

static struct kobject *vk_kobj;

static ssize_t run_show(struct kobject *kobj, struct kobj_attribute *attr,
			char *buf)
{
	return sysfs_emit(buf, "%u\n", READ_ONCE(vk_run));
}

static ssize_t run_store(struct kobject *kobj, struct kobj_attribute *attr,
			 const char *buf, size_t count)
{
	unsigned int val;
	int err = 0;

	if (kstrtouint(buf, 10, &val) || val > KSM_RUN_UNMERGE)
		return -EINVAL;
	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	if (mutex_lock_killable(&vk_scan_mutex))
		return -EINTR;
	if (val == KSM_RUN_UNMERGE)
		err = vk_unmerge_all();
	if (!err)
		WRITE_ONCE(vk_run, val);
	mutex_unlock(&vk_scan_mutex);
	vk_scan_wake();
	return err ? err : count;
}

static int store_uint(const char *buf, unsigned int min, unsigned int max,
		      unsigned int *knob)
{
	unsigned int val;

	if (kstrtouint(buf, 10, &val) || val < min || val > max)
		return -EINVAL;
	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	WRITE_ONCE(*knob, val);
	vk_scan_wake();
	return 0;
}

static ssize_t pages_to_scan_show(struct kobject *kobj,
				  struct kobj_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%u\n", READ_ONCE(vk_pages_to_scan));
}

static ssize_t pages_to_scan_store(struct kobject *kobj,
				   struct kobj_attribute *attr,
				   const char *buf, size_t count)
{
	int err = store_uint(buf, 1, KSM_PAGES_TO_SCAN_MAX, &vk_pages_to_scan);

	return err ? err : count;
}

static ssize_t sleep_millisecs_show(struct kobject *kobj,
				    struct kobj_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%u\n", READ_ONCE(vk_sleep_millisecs));
}

static ssize_t sleep_millisecs_store(struct kobject *kobj,
				     struct kobj_attribute *attr,
				     const char *buf, size_t count)
{
	int err = store_uint(buf, 0, KSM_SLEEP_MILLISECS_MAX,
			     &vk_sleep_millisecs);

	return err ? err : count;
}

static ssize_t max_page_sharing_show(struct kobject *kobj,
				     struct kobj_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%u\n", READ_ONCE(vk_max_page_sharing));
}

static ssize_t max_page_sharing_store(struct kobject *kobj,
				      struct kobj_attribute *attr,
				      const char *buf, size_t count)
{
	int err = store_uint(buf, 2, KSM_MAX_PAGE_SHARING_MAX,
			     &vk_max_page_sharing);

	return err ? err : count;
}

static ssize_t store_bool_knob(const char *buf, size_t count, bool *knob,
			       bool need_unmerged)
{
	unsigned int val;
	int err = 0;

	if (kstrtouint(buf, 10, &val) || val > 1)
		return -EINVAL;
	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	if (mutex_lock_killable(&vk_scan_mutex))
		return -EINTR;
	/* Like merge_across_nodes: only while nothing is merged. */
	if (need_unmerged && val != *knob &&
	    atomic_long_read(&vk_pages_shared))
		err = -EBUSY;
	else
		WRITE_ONCE(*knob, val);
	mutex_unlock(&vk_scan_mutex);
	return err ? err : count;
}

static ssize_t use_zero_pages_show(struct kobject *kobj,
				   struct kobj_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%u\n", READ_ONCE(vk_use_zero_pages));
}

static ssize_t use_zero_pages_store(struct kobject *kobj,
				    struct kobj_attribute *attr,
				    const char *buf, size_t count)
{
	return store_bool_knob(buf, count, &vk_use_zero_pages, false);
}

static ssize_t merge_across_groups_show(struct kobject *kobj,
					struct kobj_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%u\n", READ_ONCE(vk_merge_across_groups));
}

static ssize_t merge_across_groups_store(struct kobject *kobj,
					 struct kobj_attribute *attr,
					 const char *buf, size_t count)
{
	return store_bool_knob(buf, count, &vk_merge_across_groups, true);
}

static long pages_sharing(void)
{
	long v = atomic_long_read(&vk_sharing_total) -
		 atomic_long_read(&vk_pages_shared);

	return v > 0 ? v : 0;
}

static ssize_t pages_shared_show(struct kobject *kobj,
				 struct kobj_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%ld\n", atomic_long_read(&vk_pages_shared));
}

static ssize_t pages_sharing_show(struct kobject *kobj,
				  struct kobj_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%ld\n", pages_sharing());
}

static ssize_t pages_unshared_show(struct kobject *kobj,
				   struct kobj_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%lu\n", READ_ONCE(vk_pages_unshared));
}

static ssize_t pages_volatile_show(struct kobject *kobj,
				   struct kobj_attribute *attr, char *buf)
{
	long v = atomic_long_read(&vk_nr_items) -
		 atomic_long_read(&vk_pages_shared) - pages_sharing() -
		 (long)READ_ONCE(vk_pages_unshared);

	/* As upstream: items neither merged nor candidates of this pass. */
	return sysfs_emit(buf, "%ld\n", v > 0 ? v : 0);
}

static ssize_t full_scans_show(struct kobject *kobj,
			       struct kobj_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%lu\n", READ_ONCE(vk_full_scans));
}

static ssize_t pages_scanned_show(struct kobject *kobj,
				  struct kobj_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%ld\n", atomic_long_read(&vk_pages_scanned));
}

static ssize_t general_profit_show(struct kobject *kobj,
				   struct kobj_attribute *attr, char *buf)
{
	long profit = pages_sharing() * (long)PAGE_SIZE -
		      atomic_long_read(&vk_nr_items) *
		      (long)sizeof(struct vk_item) -
		      atomic_long_read(&vk_pages_shared) *
		      (long)sizeof(struct vk_spage);

	return sysfs_emit(buf, "%ld\n", profit);
}

static ssize_t zero_pages_sharing_show(struct kobject *kobj,
				       struct kobj_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%ld\n", atomic_long_read(&vk_zero_sharing));
}

static ssize_t cow_breaks_show(struct kobject *kobj,
			       struct kobj_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%ld\n", atomic_long_read(&vk_cow_breaks));
}

static ssize_t pages_pinned_show(struct kobject *kobj,
				 struct kobj_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%ld\n", atomic_long_read(&vk_pages_pinned));
}

static ssize_t scanner_pid_show(struct kobject *kobj,
				struct kobj_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%d\n", vk_scan_pid());
}

static struct kobj_attribute run_attr = __ATTR_RW(run);
static struct kobj_attribute pages_to_scan_attr = __ATTR_RW(pages_to_scan);
static struct kobj_attribute sleep_millisecs_attr = __ATTR_RW(sleep_millisecs);
static struct kobj_attribute max_page_sharing_attr = __ATTR_RW(max_page_sharing);
static struct kobj_attribute use_zero_pages_attr = __ATTR_RW(use_zero_pages);
static struct kobj_attribute merge_across_groups_attr =
	__ATTR_RW(merge_across_groups);
static struct kobj_attribute pages_shared_attr = __ATTR_RO(pages_shared);
static struct kobj_attribute pages_sharing_attr = __ATTR_RO(pages_sharing);
static struct kobj_attribute pages_unshared_attr = __ATTR_RO(pages_unshared);
static struct kobj_attribute pages_volatile_attr = __ATTR_RO(pages_volatile);
static struct kobj_attribute full_scans_attr = __ATTR_RO(full_scans);
static struct kobj_attribute pages_scanned_attr = __ATTR_RO(pages_scanned);
static struct kobj_attribute general_profit_attr = __ATTR_RO(general_profit);
static struct kobj_attribute zero_pages_sharing_attr =
	__ATTR_RO(zero_pages_sharing);
static struct kobj_attribute cow_breaks_attr = __ATTR_RO(cow_breaks);
static struct kobj_attribute pages_pinned_attr = __ATTR_RO(pages_pinned);
static struct kobj_attribute scanner_pid_attr = __ATTR_RO(scanner_pid);

static struct attribute *vk_attrs[] = {
	&run_attr.attr,
	&pages_to_scan_attr.attr,
	&sleep_millisecs_attr.attr,
	&max_page_sharing_attr.attr,
	&use_zero_pages_attr.attr,
	&merge_across_groups_attr.attr,
	&scanner_pid_attr.attr,
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
	&pages_shared_attr.attr,
	&pages_sharing_attr.attr,
	&pages_unshared_attr.attr,
	&pages_volatile_attr.attr,
	&full_scans_attr.attr,
	&pages_scanned_attr.attr,
	&general_profit_attr.attr,
	&zero_pages_sharing_attr.attr,
	&cow_breaks_attr.attr,
	&pages_pinned_attr.attr,
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
	int err;

	/* NULL only from the 6.6+ compat lookup: never the sysfs root. */
	if (!mm_kobj)
		return -ENOENT;
	vk_kobj = kobject_create_and_add("vmaccel_ksm", mm_kobj);
	if (!vk_kobj)
		return -ENOMEM;
	err = sysfs_create_groups(vk_kobj, vk_attr_groups);
	if (err)
		kobject_put(vk_kobj);
	return err;
}

/**
 * vk_sysfs_exit() - remove /sys/kernel/mm/vmaccel_ksm/
 */
void vk_sysfs_exit(void)
{
	sysfs_remove_groups(vk_kobj, vk_attr_groups);
	kobject_put(vk_kobj);
}
