/* SPDX-License-Identifier: GPL-2.0-only WITH Linux-syscall-note */
/*
 * vmaccel_ksm - vmaccelfs guest memory with KSM-style deduplication,
 * userspace ABI.
 *
 * vmaccelfs ("mount -t vmaccelfs none DIR") holds regular files meant to be
 * guest RAM, mapped with mmap(MAP_SHARED).  A scanner thread merges
 * identical pages of files of the same merge group.  %VMACCEL_KSM_CREATE on
 * /dev/vmaccel-ksm returns an unlinked vmaccelfs file on an internal mount,
 * like memfd_create().  The other ioctls work on any vmaccelfs file (and
 * %VMACCEL_KSM_SCAN on /dev/vmaccel-ksm as well).
 *
 * Every structure is fixed-size, naturally aligned and carries a flags word;
 * unknown flags and non-zero reserved fields are rejected with -EINVAL,
 * unknown commands with -ENOTTY.
 *
 * Trust model: a merge group is the set of files whose pages may share
 * (page sharing is a side channel between their writers).  The admin sets
 * groups: the mount options group= and dirgroups=, or %CAP_SYS_ADMIN (in
 * the initial user namespace) for %VMACCEL_KSM_SET_GROUP and
 * %VMACCEL_KSM_CREATE with a group.  A writer of a file cannot move it to
 * another group.  %VMACCEL_KSM_SCAN needs %CAP_SYS_ADMIN; per-file counters
 * (%VMACCEL_KSM_GET_STATS) need a file open for writing.  Permission
 * checks come after the argument checks: -EINVAL wins over -EPERM.
 */
#ifndef _UAPI_LINUX_VMACCEL_KSM_H
#define _UAPI_LINUX_VMACCEL_KSM_H

#include <linux/ioctl.h>
#include <linux/types.h>

/* One ioctl type byte for the whole vmaccel suite; ksm owns 0x30-0x4f. */
#ifndef VMACCEL_IOCTL_TYPE
#define VMACCEL_IOCTL_TYPE	0xB8
#endif

/* The filesystem's magic number (statfs f_type). */
#define VMACCEL_KSM_MAGIC		0x766d6b73	/* "vmks" */

/* %VMACCEL_KSM_CREATE flags. */
#define VMACCEL_KSM_CREATE_CLOEXEC	(1U << 0)	/* set FD_CLOEXEC */
#define VMACCEL_KSM_CREATE_GROUP	(1U << 1)	/* @group is valid */
#define VMACCEL_KSM_CREATE_FLAGS	(VMACCEL_KSM_CREATE_CLOEXEC | \
					 VMACCEL_KSM_CREATE_GROUP)

/*
 * Groups from VMACCEL_KSM_GROUP_AUTO up are allocated by the kernel (a
 * dirgroups= directory's, a %VMACCEL_KSM_CREATE file's own) and unique on
 * the host while a file of theirs exists; the admin's groups (group=,
 * %VMACCEL_KSM_SET_GROUP, %VMACCEL_KSM_CREATE_GROUP) lie below.
 */
#define VMACCEL_KSM_GROUP_AUTO		0x80000000U

/* Largest number of full passes one %VMACCEL_KSM_SCAN may ask for. */
#define VMACCEL_KSM_SCAN_MAX_PASSES	16

/**
 * struct vmaccel_ksm_create - a new unlinked vmaccelfs file
 * @size: initial file size in bytes (0 is allowed; a multiple of the page
 *	size is not required, but mappings end at the last whole page).
 * @flags: %VMACCEL_KSM_CREATE_CLOEXEC, %VMACCEL_KSM_CREATE_GROUP.
 * @group: the merge group of the file when %VMACCEL_KSM_CREATE_GROUP is
 *	set (below %VMACCEL_KSM_GROUP_AUTO; needs %CAP_SYS_ADMIN); otherwise
 *	must be 0, and the file gets a new group of its own (it merges only
 *	with itself).
 * @reserved: must be zero.
 */
struct vmaccel_ksm_create {
	__u64 size;
	__u32 flags;
	__u32 group;
	__u64 reserved[2];
};

/**
 * struct vmaccel_ksm_group - the merge group of a file
 * @group: the group.  Pages merge only with pages of files of the same
 *	group unless /sys/kernel/mm/vmaccel_ksm/merge_across_groups is 1.
 *	%VMACCEL_KSM_SET_GROUP takes only groups below
 *	%VMACCEL_KSM_GROUP_AUTO.
 * @flags: must be zero.
 * @reserved: must be zero (%VMACCEL_KSM_SET_GROUP); zero on return.
 */
struct vmaccel_ksm_group {
	__u32 group;
	__u32 flags;
	__u64 reserved;
};

/**
 * struct vmaccel_ksm_range - a byte range of a file
 * @offset: start, a multiple of the page size.
 * @length: length, a non-zero multiple of the page size; the range may
 *	extend past the end of the file, @offset + @length must not overflow.
 * @flags: must be zero.
 * @pad: must be zero.
 */
struct vmaccel_ksm_range {
	__u64 offset;
	__u64 length;
	__u32 flags;
	__u32 pad;
};

/**
 * struct vmaccel_ksm_file_stats - per-file counters, in pages
 * @size: the file size in bytes.
 * @resident: pages present in the file (private and merged).
 * @merged: file pages backed by a merged page (incl. zero pages).
 * @shared: distinct merged pages those file pages use.
 * @sharing: @merged - @shared: the pages this file saves by itself
 *	counting each distinct merged page once.
 * @zero: file pages backed by a merged zero-filled page.
 * @cow_breaks: writes that gave a file page a private copy of a merged
 *	page, since the file was created.
 * @group: the merge group of the file.
 * @flags: 0 on return.
 * @reserved: zero on return.
 */
struct vmaccel_ksm_file_stats {
	__u64 size;
	__u64 resident;
	__u64 merged;
	__u64 shared;
	__u64 sharing;
	__u64 zero;
	__u64 cow_breaks;
	__u32 group;
	__u32 flags;
	__u64 reserved[4];
};

/**
 * struct vmaccel_ksm_scan - run full scanner passes now and wait for them
 * @passes: in: number of full passes, 1..%VMACCEL_KSM_SCAN_MAX_PASSES.
 * @flags: in: must be zero.
 * @merged: out: file pages merged during these passes.
 * @scanned: out: file pages looked at during these passes.
 * @reserved: must be zero.
 */
struct vmaccel_ksm_scan {
	__u32 passes;
	__u32 flags;
	__u64 merged;
	__u64 scanned;
	__u64 reserved[2];
};

/**
 * define VMACCEL_KSM_CREATE - create an unlinked vmaccelfs file
 *
 * On /dev/vmaccel-ksm.  Takes a &struct vmaccel_ksm_create; returns a new
 * file descriptor opened read-write, or -EFAULT, -EINVAL (flags, reserved,
 * a group without %VMACCEL_KSM_CREATE_GROUP or from %VMACCEL_KSM_GROUP_AUTO
 * up, a size beyond the maximum file size), -EPERM
 * (%VMACCEL_KSM_CREATE_GROUP without %CAP_SYS_ADMIN), -ENOMEM, -ENOSPC
 * (no group number left), -EMFILE.
 */
#define VMACCEL_KSM_CREATE	_IOW(VMACCEL_IOCTL_TYPE, 0x30, struct vmaccel_ksm_create)

/**
 * define VMACCEL_KSM_SET_GROUP - move a file to another merge group
 *
 * Takes a &struct vmaccel_ksm_group.  Merged pages of the file are first
 * given private copies (they were merged under the old group).  Returns 0,
 * -EBADF (file not open for writing), -EFAULT, -EINVAL (flags, reserved, a
 * group from %VMACCEL_KSM_GROUP_AUTO up), -EPERM (no %CAP_SYS_ADMIN in the
 * initial user namespace), -ENOMEM, -EINTR, -EHWPOISON (a merged page of
 * the file has a memory error and cannot be copied); on an error the file
 * stays in its old group.
 */
#define VMACCEL_KSM_SET_GROUP	_IOW(VMACCEL_IOCTL_TYPE, 0x31, struct vmaccel_ksm_group)

/**
 * define VMACCEL_KSM_GET_GROUP - read the merge group of a file
 *
 * Fills a &struct vmaccel_ksm_group.  Any open file.  Returns 0 or -EFAULT.
 */
#define VMACCEL_KSM_GET_GROUP	_IOR(VMACCEL_IOCTL_TYPE, 0x32, struct vmaccel_ksm_group)

/**
 * define VMACCEL_KSM_MERGE_RANGE - allow merging in a range
 *
 * Like madvise(MADV_MERGEABLE).  Every file starts fully mergeable.
 * Takes a &struct vmaccel_ksm_range.  Returns 0, -EBADF (file not open for
 * writing), -EFAULT, -EINVAL, -ENOMEM, -EINTR.
 */
#define VMACCEL_KSM_MERGE_RANGE	_IOW(VMACCEL_IOCTL_TYPE, 0x33, struct vmaccel_ksm_range)

/**
 * define VMACCEL_KSM_UNMERGE_RANGE - stop merging in a range
 *
 * Like madvise(MADV_UNMERGEABLE): merged pages in the range get private
 * copies and the scanner leaves the range alone.  Only the file's own
 * pages: needs the file open for writing, no capability (as
 * MADV_UNMERGEABLE; the copies are at most what writing every page would
 * make).  The copies are charged to the file's owner (its creator's
 * memory cgroup).  Takes a &struct vmaccel_ksm_range.  Returns 0, -EBADF
 * (file not open for writing), -EFAULT, -EINVAL, -ENOMEM, -EINTR, -EDQUOT
 * (the caller is outside the owner's memory cgroup, which is full).
 */
#define VMACCEL_KSM_UNMERGE_RANGE _IOW(VMACCEL_IOCTL_TYPE, 0x34, struct vmaccel_ksm_range)

/**
 * define VMACCEL_KSM_GET_STATS - the counters of one file
 *
 * Fills a &struct vmaccel_ksm_file_stats.  Needs the file open for
 * writing: which pages of a file merged tells what other files of its
 * group hold, so a reader gets -EBADF (the host-wide counters in
 * /sys/kernel/mm/vmaccel_ksm/ stay readable, as upstream's).  One walk of
 * the file's pages, a bounded batch at a time under the file's lock, no
 * memory allocated: while the file changes, the counts are sums over
 * batches, not one snapshot.  Returns 0, -EBADF, -EINTR (fatal signal),
 * -EFAULT.
 */
#define VMACCEL_KSM_GET_STATS	_IOR(VMACCEL_IOCTL_TYPE, 0x35, struct vmaccel_ksm_file_stats)

/**
 * define VMACCEL_KSM_SCAN - run full scanner passes and wait for them
 *
 * On a vmaccelfs file or /dev/vmaccel-ksm; runs in the caller's context
 * over every vmaccelfs file, whatever sysfs "run" says (it is the admin's
 * explicit request, as writing run=1 is).  Needs %CAP_SYS_ADMIN in the
 * initial user namespace.  Takes and fills a &struct vmaccel_ksm_scan.
 * The passes hold the scanner's lock one chunk of a file at a time, so
 * closing files, %VMACCEL_KSM_SET_GROUP and the sysfs knobs do not wait for
 * them.  Returns 0, -EINVAL, -EPERM, -EINTR (fatal signal), -EFAULT.
 */
#define VMACCEL_KSM_SCAN	_IOWR(VMACCEL_IOCTL_TYPE, 0x36, struct vmaccel_ksm_scan)

#endif /* _UAPI_LINUX_VMACCEL_KSM_H */
