// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmaccel_ksm - ioctls on vmaccelfs files: merge group, mergeable ranges,
 * per-file counters, full scanner passes on request.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/capability.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/uaccess.h>

#include "ksm.h"

static int cmp_ptr(const void *a, const void *b)
{
	unsigned long x = *(const unsigned long *)a;
	unsigned long y = *(const unsigned long *)b;

	return x < y ? -1 : x > y;
}

/**
 * vk_file_stats() - per-file counters
 * @vi: the file.
 * @st: filled in.
 *
 * Context: process context, takes vi->lock.
 * Return: 0 or -ENOMEM.
 */
int vk_file_stats(struct vk_inode *vi, struct vmaccel_ksm_file_stats *st)
{
	unsigned long *merged = NULL, n = 0, i, index;
	struct page *page;

	memset(st, 0, sizeof(*st));
	mutex_lock(&vi->lock);
	if (vi->nr_pages) {
		merged = kvmalloc_array(vi->nr_pages, sizeof(*merged),
					GFP_KERNEL);
		if (!merged) {
			mutex_unlock(&vi->lock);
			return -ENOMEM;
		}
	}
	xa_for_each(&vi->pages, index, page) {
		st->resident++;
		if (!ksm_page_merged(page))
			continue;
		merged[n++] = (unsigned long)page;
		if (ksm_page_zero(page))
			st->zero++;
	}
	st->cow_breaks = vi->cow_breaks;
	st->group = vi->group;
	mutex_unlock(&vi->lock);
	st->size = i_size_read(&vi->vfs_inode);
	st->merged = n;
	sort(merged, n, sizeof(*merged), cmp_ptr, NULL);
	for (i = 0; i < n; i++)
		if (!i || merged[i] != merged[i - 1])
			st->shared++;
	st->sharing = st->merged - st->shared;
	kvfree(merged);
	return 0;
}

/**
 * vk_scan_ioctl() - %VMACCEL_KSM_SCAN
 * @argp: the user's struct vmaccel_ksm_scan.
 *
 * System-wide work over every tenant's files: %CAP_SYS_ADMIN only.
 *
 * Return: 0, -EFAULT, -EINVAL, -EPERM or -EINTR.
 */
long vk_scan_ioctl(void __user *argp)
{
	struct vmaccel_ksm_scan arg;
	int err;

	if (copy_from_user(&arg, argp, sizeof(arg)))
		return -EFAULT;
	if (arg.flags || arg.reserved[0] || arg.reserved[1] || !arg.passes ||
	    arg.passes > VMACCEL_KSM_SCAN_MAX_PASSES)
		return -EINVAL;
	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	err = ksm_scan_passes(arg.passes, &arg.merged, &arg.scanned);
	if (err)
		return err;
	return copy_to_user(argp, &arg, sizeof(arg)) ? -EFAULT : 0;
}

static long vk_range_ioctl(struct vk_inode *vi, void __user *argp, bool on)
{
	struct vmaccel_ksm_range r;
	u64 last;

	if (copy_from_user(&r, argp, sizeof(r)))
		return -EFAULT;
	if (r.flags || r.pad || !r.length || !PAGE_ALIGNED(r.offset) ||
	    !PAGE_ALIGNED(r.length) || check_add_overflow(r.offset, r.length - 1,
							 &last) ||
	    r.offset > MAX_LFS_FILESIZE)
		return -EINVAL;
	return ksm_set_mergeable(vi, r.offset >> PAGE_SHIFT, last >> PAGE_SHIFT,
				 on);
}

/**
 * vk_file_ioctl() - ioctls on a vmaccelfs file
 * @file: the file.
 * @cmd: %VMACCEL_KSM_SET_GROUP, %VMACCEL_KSM_GET_GROUP,
 *	%VMACCEL_KSM_MERGE_RANGE, %VMACCEL_KSM_UNMERGE_RANGE,
 *	%VMACCEL_KSM_GET_STATS or %VMACCEL_KSM_SCAN.
 * @arg: user pointer to the command's structure.
 *
 * Context: process context.
 * Return: 0; -EFAULT, -EINVAL (flags, reserved fields, ranges, a group of
 * the kernel's range), -ENOMEM, -EINTR, -EBADF (SET_GROUP, MERGE_RANGE,
 * UNMERGE_RANGE or GET_STATS on a file not open for writing), -EPERM
 * (SET_GROUP or SCAN without %CAP_SYS_ADMIN); -ENOTTY for an unknown
 * command.
 */
long vk_file_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct vk_inode *vi = VK_I(file_inode(file));
	void __user *argp = (void __user *)arg;
	struct vmaccel_ksm_file_stats st;
	struct vmaccel_ksm_group g;
	int err;

	switch (cmd) {
	case VMACCEL_KSM_SET_GROUP:
		if (!(file->f_mode & FMODE_WRITE))
			return -EBADF;
		if (copy_from_user(&g, argp, sizeof(g)))
			return -EFAULT;
		if (g.flags || g.reserved || g.group >= VMACCEL_KSM_GROUP_AUTO)
			return -EINVAL;
		/* The admin decides who shares pages, not the file's writer. */
		if (!capable(CAP_SYS_ADMIN))
			return -EPERM;
		return ksm_set_group(vi, g.group);
	case VMACCEL_KSM_GET_GROUP:
		memset(&g, 0, sizeof(g));
		g.group = READ_ONCE(vi->group);
		return copy_to_user(argp, &g, sizeof(g)) ? -EFAULT : 0;
	case VMACCEL_KSM_MERGE_RANGE:
	case VMACCEL_KSM_UNMERGE_RANGE:
		if (!(file->f_mode & FMODE_WRITE))
			return -EBADF;
		return vk_range_ioctl(vi, argp, cmd == VMACCEL_KSM_MERGE_RANGE);
	case VMACCEL_KSM_GET_STATS:
		/* Which pages merged is the writer's to know, nobody else's. */
		if (!(file->f_mode & FMODE_WRITE))
			return -EBADF;
		err = vk_file_stats(vi, &st);
		if (err)
			return err;
		return copy_to_user(argp, &st, sizeof(st)) ? -EFAULT : 0;
	case VMACCEL_KSM_SCAN:
		return vk_scan_ioctl(argp);
	default:
		return -ENOTTY;
	}
}
