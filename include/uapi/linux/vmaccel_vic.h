/* SPDX-License-Identifier: GPL-2.0-only WITH Linux-syscall-note */
/*
 * vmaccel_vic - adaptive virtual interrupt coalescing (vIC), userspace ABI.
 *
 * /dev/vmaccel-vic creates coalescers.  A coalescer sits between two eventfds
 * a VMM already has: the source is signalled once per completion (or with a
 * count of completions), the target is the guest interrupt (typically a KVM
 * irqfd).  Every structure is fixed-size, naturally aligned, and carries a
 * flags word; unknown flags and non-zero reserved fields are rejected with
 * -EINVAL, unknown commands with -ENOTTY.
 */
#ifndef _UAPI_LINUX_VMACCEL_VIC_H
#define _UAPI_LINUX_VMACCEL_VIC_H

#include <linux/ioctl.h>
#include <linux/types.h>

/* One ioctl type byte for the whole vmaccel suite; vic owns numbers 0x00-0x0f. */
#ifndef VMACCEL_IOCTL_TYPE
#define VMACCEL_IOCTL_TYPE	0xB8
#endif

/**
 * enum vmaccel_vic_mode - how a coalescer decides to deliver an interrupt
 * @VMACCEL_VIC_MODE_OFF: every completion raises one interrupt.
 * @VMACCEL_VIC_MODE_FIXED: one interrupt per @fixed_ratio completions.
 * @VMACCEL_VIC_MODE_ADAPTIVE: the ratio is chosen from the commands in flight
 *	and the recent completion rate (vIC); 1:1 when either is low.
 */
enum vmaccel_vic_mode {
	VMACCEL_VIC_MODE_OFF = 0,
	VMACCEL_VIC_MODE_FIXED = 1,
	VMACCEL_VIC_MODE_ADAPTIVE = 2,
};

/* Limits shared by the ioctls and the sysfs defaults. */
#define VMACCEL_VIC_RATIO_MAX		256	/* fixed_ratio and max_ratio */
#define VMACCEL_VIC_CIF_THRESHOLD_MAX	65536
#define VMACCEL_VIC_IOPS_THRESHOLD_MAX	100000000
#define VMACCEL_VIC_DELAY_US_MIN	1
#define VMACCEL_VIC_DELAY_US_MAX	1000000	/* one second */

/**
 * struct vmaccel_vic_params - tunables of one coalescer
 * @mode: one of &enum vmaccel_vic_mode.
 * @fixed_ratio: FIXED mode: completions per interrupt, 1..VMACCEL_VIC_RATIO_MAX.
 * @cif_threshold: ADAPTIVE mode: no coalescing while commands in flight are
 *	at or below this, 0..VMACCEL_VIC_CIF_THRESHOLD_MAX.
 * @iops_threshold: ADAPTIVE mode: no coalescing while the completion rate
 *	(per second) is below this, 0..VMACCEL_VIC_IOPS_THRESHOLD_MAX.
 * @max_delay_us: backstop: a pending completion is delivered at most this
 *	many microseconds after it arrived,
 *	VMACCEL_VIC_DELAY_US_MIN..VMACCEL_VIC_DELAY_US_MAX.
 * @max_ratio: ADAPTIVE mode: upper bound of completions per interrupt,
 *	1..VMACCEL_VIC_RATIO_MAX.
 */
struct vmaccel_vic_params {
	__u32 mode;
	__u32 fixed_ratio;
	__u32 cif_threshold;
	__u32 iops_threshold;
	__u32 max_delay_us;
	__u32 max_ratio;
};

/**
 * struct vmaccel_vic_create - argument of %VMACCEL_VIC_CREATE
 * @flags: must be 0 or %VMACCEL_VIC_CREATE_PARAMS.
 * @src_fd: eventfd signalled by the device for each completion.
 * @dst_fd: eventfd that raises the guest interrupt (e.g. a KVM irqfd);
 *	must be a different eventfd than @src_fd.
 * @reserved: must be 0.
 * @params: used when %VMACCEL_VIC_CREATE_PARAMS is set, otherwise the
 *	defaults from sysfs apply.
 *
 * Returns a new file descriptor (O_CLOEXEC) for the coalescer.  Closing it
 * detaches the coalescer from both eventfds; pending completions are
 * delivered first.  Coalescers may chain (one's target is another's
 * source) but never form a cycle, a path of more than 4 chained
 * coalescers, nor a graph whose check would visit more than 128
 * coalescers in either direction from the new one: such a CREATE fails
 * with -ELOOP (as epoll bounds nested instances).  An eventfd feeds, and
 * is fed by, at most 64 coalescers: beyond, -EMLINK.
 */
struct vmaccel_vic_create {
	__u32 flags;
	__s32 src_fd;
	__s32 dst_fd;
	__u32 reserved;
	struct vmaccel_vic_params params;
};

#define VMACCEL_VIC_CREATE_PARAMS	(1U << 0)
#define VMACCEL_VIC_CREATE_FLAGS	VMACCEL_VIC_CREATE_PARAMS

/**
 * struct vmaccel_vic_stats - counters of one coalescer
 * @flags: must be 0 on input; no output flags are defined.
 * @cur_ratio: completions per interrupt currently in effect.
 * @completions: completions seen on the source.
 * @interrupts: interrupts delivered to the target (including backstop ones).
 * @deferred: completions that did not raise an interrupt when they arrived.
 * @backstop: interrupts delivered by the backstop timer.
 * @max_delay_ns: longest time a completion waited before its interrupt.
 * @cif: commands in flight last reported (0 when the VMM reports none).
 * @rate: estimated completion rate, per second.
 * @pending: completions waiting for an interrupt right now.
 * @reserved: 0.
 */
struct vmaccel_vic_stats {
	__u32 flags;
	__u32 cur_ratio;
	__u64 completions;
	__u64 interrupts;
	__u64 deferred;
	__u64 backstop;
	__u64 max_delay_ns;
	__u32 cif;
	__u32 pending;
	__u64 rate;
	__u64 reserved[2];
};

/**
 * struct vmaccel_vic_cif - argument of %VMACCEL_VIC_SET_CIF
 * @flags: must be 0.
 * @cif: commands in flight now, as the VMM sees them.  Until a VMM reports
 *	CIF the coalescer estimates load from the completion rate alone.
 */
struct vmaccel_vic_cif {
	__u32 flags;
	__u32 cif;
};

/* On /dev/vmaccel-vic: create a coalescer, returns its fd. */
#define VMACCEL_VIC_CREATE	_IOW(VMACCEL_IOCTL_TYPE, 0x00, struct vmaccel_vic_create)
/* On a coalescer fd. */
#define VMACCEL_VIC_SET_PARAMS	_IOW(VMACCEL_IOCTL_TYPE, 0x01, struct vmaccel_vic_params)
#define VMACCEL_VIC_GET_PARAMS	_IOR(VMACCEL_IOCTL_TYPE, 0x02, struct vmaccel_vic_params)
#define VMACCEL_VIC_GET_STATS	_IOWR(VMACCEL_IOCTL_TYPE, 0x03, struct vmaccel_vic_stats)
#define VMACCEL_VIC_SET_CIF	_IOW(VMACCEL_IOCTL_TYPE, 0x04, struct vmaccel_vic_cif)
/* Deliver anything pending now (e.g. before the VMM pauses the vCPU). */
#define VMACCEL_VIC_FLUSH	_IO(VMACCEL_IOCTL_TYPE, 0x05)

#endif /* _UAPI_LINUX_VMACCEL_VIC_H */
