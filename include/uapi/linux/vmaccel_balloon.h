/* SPDX-License-Identifier: GPL-2.0-only WITH Linux-syscall-note */
/*
 * vmaccel_balloon - the host side of memory ballooning, userspace ABI.
 *
 * A VMM (or tools/vmaccel-balloond for stock QEMU) registers each VM on
 * /dev/vmaccel-balloon with %VMACCEL_BALLOON_REGISTER and gets a VM file
 * descriptor back.  The kernel watches host memory, sets each VM's balloon
 * target (the memory the guest should keep, as QEMU's "balloon" command
 * takes it), signals the VM's eventfd when the target changes, and accounts
 * what the guest-RAM file really gave back.  On the VM descriptor:
 * %VMACCEL_BALLOON_GET_TARGET, %VMACCEL_BALLOON_REPORT_STATS,
 * %VMACCEL_BALLOON_GET_ACCOUNT.  Closing it unregisters the VM.
 *
 * Every structure is fixed-size, naturally aligned and carries a flags
 * word; unknown flags and non-zero reserved fields are rejected with
 * -EINVAL, unknown commands with -ENOTTY.  Sizes are in bytes and must be
 * multiples of 4096.
 */
#ifndef _UAPI_LINUX_VMACCEL_BALLOON_H
#define _UAPI_LINUX_VMACCEL_BALLOON_H

#include <linux/ioctl.h>
#include <linux/types.h>

/* One ioctl type byte for the whole vmaccel suite; balloon owns 0x50-0x6f. */
#ifndef VMACCEL_IOCTL_TYPE
#define VMACCEL_IOCTL_TYPE	0xB8
#endif

/* The smallest floor a VM may have: 16 MiB. */
#define VMACCEL_BALLOON_MIN_FLOOR	(16ULL << 20)
/* Length of a VM's name, including the terminating NUL. */
#define VMACCEL_BALLOON_NAME_LEN	32

/**
 * struct vmaccel_balloon_register - argument of %VMACCEL_BALLOON_REGISTER
 * @flags: 0, or %VMACCEL_BALLOON_REGISTER_PROCESS.
 * @mem_fd: the guest-RAM file: a regular file (vmaccelfs, memfd, tmpfs)
 *	whose size is @guest_bytes.  Its resident size is what the
 *	accounting measures.  -1 with %VMACCEL_BALLOON_REGISTER_PROCESS.
 * @event_fd: an eventfd, signalled each time the VM's target changes.
 * @pid: with %VMACCEL_BALLOON_REGISTER_PROCESS, the VMM process whose
 *	anonymous memory is the guest's RAM (a process ID in the caller's
 *	PID namespace, not a thread's): the caller itself, or any process
 *	for a caller with CAP_SYS_PTRACE.  Must be 0 otherwise (the field
 *	was reserved0 before the flag existed).
 * @guest_bytes: the guest's RAM size; must equal the size of @mem_fd
 *	(with %VMACCEL_BALLOON_REGISTER_PROCESS: at most the process's
 *	address-space size, VmSize).
 * @floor_bytes: the target never goes below this; at least
 *	%VMACCEL_BALLOON_MIN_FLOOR.
 * @ceiling_bytes: the target never goes above this; @floor_bytes <=
 *	@ceiling_bytes <= @guest_bytes.  The first target is the ceiling.
 * @name: a NUL-terminated name for debugfs and traces (may be empty).
 * @reserved: must be 0.
 */
struct vmaccel_balloon_register {
	__u32 flags;
	__s32 mem_fd;
	__s32 event_fd;
	__s32 pid;
	__u64 guest_bytes;
	__u64 floor_bytes;
	__u64 ceiling_bytes;
	char name[VMACCEL_BALLOON_NAME_LEN];
	__u64 reserved[4];
};

/*
 * The guest's RAM is anonymous memory of the VMM process @pid (QEMU
 * without a memory-backend-file, libvirt's default): the accounting
 * measures that process's anonymous memory, resident or swapped (RssAnon
 * plus VmSwap of /proc/<pid>/status), which also holds the VMM's own heap
 * (its churn shows as memory released or taken).  The process
 * is the one @pid named at registration: a later process that reuses the
 * number is never measured.  Once it has exited the VM holds nothing
 * (%VMACCEL_BALLOON_ACCT_GONE) and is asked for nothing.
 */
#define VMACCEL_BALLOON_REGISTER_PROCESS	(1U << 0)

/**
 * struct vmaccel_balloon_target - argument of %VMACCEL_BALLOON_GET_TARGET
 * @flags: must be 0 on input.
 * @reserved0: set to 0.
 * @target_bytes: the memory the guest should keep.
 * @seq: how many times the target changed since registration; a VMM that
 *	applies targets remembers the last @seq it applied.
 * @changed_ns: CLOCK_MONOTONIC time of the last change (0: never).
 */
struct vmaccel_balloon_target {
	__u32 flags;
	__u32 reserved0;
	__u64 target_bytes;
	__u64 seq;
	__u64 changed_ns;
};

/**
 * struct vmaccel_balloon_stat - one guest statistic
 * @tag: a virtio-balloon statistic tag (VIRTIO_BALLOON_S_SWAP_IN 0 to
 *	VIRTIO_BALLOON_S_HTLB_PGFAIL 9, <linux/virtio_balloon.h>).  Memory
 *	amounts are in bytes, as the virtio device reports them.
 * @reserved: must be 0.
 * @val: the value.
 */
struct vmaccel_balloon_stat {
	__u16 tag;
	__u16 reserved[3];
	__u64 val;
};

/* Statistic tags accepted (the virtio-balloon ones of Linux 6.1). */
#define VMACCEL_BALLOON_NR_TAGS		10
/* At most this many statistics per report. */
#define VMACCEL_BALLOON_MAX_STATS	64

/**
 * struct vmaccel_balloon_stats - argument of %VMACCEL_BALLOON_REPORT_STATS
 * @flags: must be 0.
 * @nr: number of entries at @stats_ptr, 0 to %VMACCEL_BALLOON_MAX_STATS.
 *	A tag given twice keeps its last value.
 * @actual_bytes: the guest's memory as the VMM sees it now (QEMU's
 *	query-balloon "actual"); 0 if unknown.
 * @stats_ptr: user address of an array of struct vmaccel_balloon_stat.
 * @reserved: must be 0.
 */
struct vmaccel_balloon_stats {
	__u32 flags;
	__u32 nr;
	__u64 actual_bytes;
	__u64 stats_ptr;
	__u64 reserved[2];
};

/**
 * struct vmaccel_balloon_account - argument of %VMACCEL_BALLOON_GET_ACCOUNT
 * @flags: must be 0 on input; on output %VMACCEL_BALLOON_ACCT_STALLED
 *	when the VM did not give back what a target asked for within the
 *	stall timeout (the policy then asks the other VMs instead), and
 *	%VMACCEL_BALLOON_ACCT_GONE when the process of a VM registered with
 *	%VMACCEL_BALLOON_REGISTER_PROCESS has exited.
 * @reserved0: set to 0.
 * @resident_bytes: the guest-RAM file's resident size now, measured on
 *	the file (not what the VMM claims); for a process, its resident
 *	anonymous memory (0 once it has exited).
 * @peak_resident_bytes: the largest resident size seen.
 * @released_bytes: memory the file gave back while the VM was
 *	registered (every decrease of the resident size, summed).
 * @target_bytes: the current target.
 * @actual_bytes: the last size the VMM reported (0: never).
 * @target_changes: how many times the target changed.
 * @last_release_ns: time from the last target decrease until the file
 *	gave back what it asked for (0: not yet, or never asked).
 * @stats_age_ns: time since the last statistics report (0: never).
 * @reserved: set to 0.
 */
struct vmaccel_balloon_account {
	__u32 flags;
	__u32 reserved0;
	__u64 resident_bytes;
	__u64 peak_resident_bytes;
	__u64 released_bytes;
	__u64 target_bytes;
	__u64 actual_bytes;
	__u64 target_changes;
	__u64 last_release_ns;
	__u64 stats_age_ns;
	__u64 reserved[3];
};

#define VMACCEL_BALLOON_ACCT_STALLED	(1U << 0)
#define VMACCEL_BALLOON_ACCT_GONE	(1U << 1)

/**
 * VMACCEL_BALLOON_REGISTER - register a VM
 *
 * On /dev/vmaccel-balloon.  Returns a new VM file descriptor (O_CLOEXEC).
 * Errors: -EINVAL (flags, reserved fields, sizes, floor above ceiling, name
 * without NUL, @pid not 0 without %VMACCEL_BALLOON_REGISTER_PROCESS, or
 * with it @mem_fd not -1 or @pid not positive), -EBADF (a descriptor is
 * not open), -EINVAL (@mem_fd is not a regular file, its size differs
 * from @guest_bytes, or @event_fd is not an eventfd; @guest_bytes larger
 * than process @pid's address space), -ESRCH (no process @pid in the
 * caller's PID namespace, or it is a thread, a kernel thread or has no
 * memory), -EPERM (@pid is another process and the caller lacks
 * CAP_SYS_PTRACE), -ENOSPC (too many VMs: 1024), -ENOMEM.
 */
#define VMACCEL_BALLOON_REGISTER \
	_IOW(VMACCEL_IOCTL_TYPE, 0x50, struct vmaccel_balloon_register)

/**
 * VMACCEL_BALLOON_GET_TARGET - read the VM's current target
 *
 * On a VM descriptor.  Errors: -EINVAL (flags).
 */
#define VMACCEL_BALLOON_GET_TARGET \
	_IOWR(VMACCEL_IOCTL_TYPE, 0x51, struct vmaccel_balloon_target)

/**
 * VMACCEL_BALLOON_REPORT_STATS - report the guest's statistics
 *
 * On a VM descriptor.  The policy uses the available memory
 * (VIRTIO_BALLOON_S_AVAIL, else S_MEMFREE plus S_CACHES) to decide what the
 * guest can spare; a VM that never reported is not asked to give memory.
 * Errors: -EINVAL (flags, reserved, @nr too large, unknown tag),
 * -EFAULT.
 */
#define VMACCEL_BALLOON_REPORT_STATS \
	_IOW(VMACCEL_IOCTL_TYPE, 0x52, struct vmaccel_balloon_stats)

/**
 * VMACCEL_BALLOON_GET_ACCOUNT - read the VM's accounting
 *
 * On a VM descriptor.  The resident size is measured when called.
 * Errors: -EINVAL (flags).
 */
#define VMACCEL_BALLOON_GET_ACCOUNT \
	_IOWR(VMACCEL_IOCTL_TYPE, 0x53, struct vmaccel_balloon_account)

#endif /* _UAPI_LINUX_VMACCEL_BALLOON_H */
