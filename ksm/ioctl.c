// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmaccel_ksm - ioctls on vmaccelfs files: merge group, mergeable ranges,
 * per-file counters, full scanner passes on request.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/capability.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/sched/signal.h>
#include <linux/uaccess.h>

#include "ksm.h"

/*
 * Serializes vk_file_stats(): the call holding it owns vk_spage.stats_seq
 * and counts each merged page once by stamping it with its own number.
 */
static DEFINE_MUTEX(vk_stats_mutex);
static u64 vk_stats_seq;	/* vk_stats_mutex */

/* File pages looked at per hold of the file's lock. */
#define VK_STATS_BATCH	512

/**
 * vk_file_stats() - per-file counters
 * @vi: the file.
 * @st: filled in.
 *
 * No memory is allocated and the file's (fault) lock is held for at most
 * %VK_STATS_BATCH pages at a time, so the counters are a sum over batches,
 * not one snapshot, when the file changes meanwhile.  The work is one walk
 * of the file's own pages.
 *
 * Context: process context, takes vk_stats_mutex and vi->lock.
 * Return: 0, or -EINTR on a fatal signal.
 */
int vk_file_stats(struct vk_inode *vi, struct vmaccel_ksm_file_stats *st)
{
	unsigned long index = 0;
	struct page *page;
	bool more;
	int err = 0;
	u64 seq;

	memset(st, 0, sizeof(*st));
	if (mutex_lock_killable(&vk_stats_mutex))
		return -EINTR;
	seq = ++vk_stats_seq;
	do {
		unsigned int n = 0;

		more = false;
		mutex_lock(&vi->lock);
		xa_for_each_start(&vi->pages, index, page, index) {
			struct vk_spage *sp;

			st->resident++;
			/* The index's share keeps the merged page's vk_spage. */
			sp = vk_page_spage(page);
			if (sp) {
				st->merged++;
				if (vk_page_zero(page))
					st->zero++;
				if (sp->stats_seq != seq) {
					sp->stats_seq = seq;
					st->shared++;
				}
			}
			if (++n == VK_STATS_BATCH) {
				more = index != ULONG_MAX;
				break;
			}
		}
		if (!more) {
			st->cow_breaks = vi->cow_breaks;
			st->group = vi->group;
		}
		mutex_unlock(&vi->lock);
		if (more) {
			index++;
			if (fatal_signal_pending(current)) {
				err = -EINTR;
				break;
			}
			cond_resched();
		}
	} while (more);
	mutex_unlock(&vk_stats_mutex);
	st->size = i_size_read(&vi->vfs_inode);
	st->sharing = st->merged - st->shared;
	return err;
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
	err = vk_scan_passes(arg.passes, &arg.merged, &arg.scanned);
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
	return vk_set_mergeable(vi, r.offset >> PAGE_SHIFT, last >> PAGE_SHIFT,
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
		return vk_set_group(vi, g.group);
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
