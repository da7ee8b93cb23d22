/* SPDX-License-Identifier: GPL-2.0-only WITH Linux-syscall-note */
/*
 * vmaccel_vhost_net - extension ioctls of /dev/vmaccel-vhost-net.
 *
 * The device implements the standard vhost-net ABI of <linux/vhost.h>
 * (ioctl type 0xAF) unchanged, so that a stock VMM can use it.  The
 * ioctls below are vmaccel extensions on the same file descriptor, under
 * the suite's ioctl type; vhost owns numbers 0x10-0x2f.  Every structure
 * is fixed-size, naturally aligned and carries a flags word; unknown flags
 * and non-zero reserved fields are rejected with -EINVAL, unknown commands
 * with -ENOTTY.
 */
#ifndef _UAPI_LINUX_VMACCEL_VHOST_H
#define _UAPI_LINUX_VMACCEL_VHOST_H

#include <linux/ioctl.h>
#include <linux/types.h>
#include <linux/vmaccel_vic.h>

#ifndef VMACCEL_IOCTL_TYPE
#define VMACCEL_IOCTL_TYPE	0xB8
#endif

/* Virtqueue indices of a vhost-net device. */
#define VMACCEL_VHOST_VQ_RX	0
#define VMACCEL_VHOST_VQ_TX	1
#define VMACCEL_VHOST_NVQS	2

/**
 * struct vmaccel_vhost_vq_stats - counters of one virtqueue
 * @flags: must be 0 on input; no output flags are defined.
 * @index: input: %VMACCEL_VHOST_VQ_RX or %VMACCEL_VHOST_VQ_TX.
 * @packets: packets moved (sent for TX, received for RX).
 * @bytes: payload bytes moved, without the virtio-net header.
 * @dropped: packets dropped (malformed, oversized, refused by the backend,
 *	or truncated because the guest's buffers were too small).
 * @zcopy_sent: TX packets handed to the backend without copying.
 * @zcopy_failed: zero-copy packets whose pages were copied after all
 *	(e.g. on local delivery) or that the backend refused.
 * @zcopy_fallback: TX packets copied because the per-queue policy chose
 *	copy (size below threshold, pending limit, or failure back-off).
 * @copies: TX packets sent by copying (all reasons, incl. @zcopy_fallback).
 * @notify_sent: guest notifications (call eventfd signals) delivered.
 * @notify_suppressed: used-ring updates for which no notification was
 *	sent: suppressed by the guest (event index / no-interrupt flag) or
 *	coalesced by the vic engine.
 * @kicks: guest kicks (kick eventfd signals) seen.
 * @errors: errors reported through the vring error eventfd.
 * @pending: zero-copy buffers in flight right now.
 * @max_pending: highest @pending seen.
 * @worst_completion_ns: longest time from a zero-copy send to its
 *	completion, at the resolution of the kernel's tick (coarse clock).
 * @batches: used-ring updates (each returns one or more buffers).
 * @tx_batched: TX packets copied into a batch and handed to the backend
 *	in one sendmsg() with other packets (included in @packets and
 *	@copies); always 0 for RX.
 * @tx_batch_sends: batched sendmsg() calls that carried @tx_batched.
 * @reserved: 0.
 */
struct vmaccel_vhost_vq_stats {
	__u32 flags;
	__u32 index;
	__u64 packets;
	__u64 bytes;
	__u64 dropped;
	__u64 zcopy_sent;
	__u64 zcopy_failed;
	__u64 zcopy_fallback;
	__u64 copies;
	__u64 notify_sent;
	__u64 notify_suppressed;
	__u64 kicks;
	__u64 errors;
	__u32 pending;
	__u32 max_pending;
	__u64 worst_completion_ns;
	__u64 batches;
	__u64 tx_batched;
	__u64 tx_batch_sends;
	__u64 reserved[2];
};

/**
 * struct vmaccel_vhost_vic - argument of the interrupt-coalescing ioctls
 * @flags: 0 on input.
 * @reserved: must be 0.
 * @params: the vic engine parameters used for the guest notifications of
 *	every virtqueue of this device (see <linux/vmaccel_vic.h>).
 *
 * A new device starts with the vic module's sysfs defaults.
 */
struct vmaccel_vhost_vic {
	__u32 flags;
	__u32 reserved;
	struct vmaccel_vic_params params;
};

/**
 * struct vmaccel_vhost_zcopy - per-device zero-copy TX policy
 * @flags: 0, or %VMACCEL_VHOST_ZCOPY_ENABLE to allow zero-copy TX.
 * @min_len: packets shorter than this many bytes are copied,
 *	0..65536; packets shorter than 256 bytes are always copied.
 * @max_pending: zero-copy buffers in flight per queue before new packets
 *	are copied, 1..%VMACCEL_VHOST_ZCOPY_PENDING_MAX.
 * @fail_pct: when more than this percentage of the recent zero-copy
 *	packets failed (were copied after all), the queue copies for a while,
 *	1..100.
 * @backoff_pkts: packets copied after the queue fell back before it tries
 *	zero-copy again, 1..1000000.
 * @stall_ms: a zero-copy buffer outstanding this long makes the queue
 *	copy new packets until it completes, 1..60000.  (Buffers go back to
 *	the guest only after the network stack released their pages; a
 *	backend stop waits for that.)
 * @reserved: must be 0.
 */
struct vmaccel_vhost_zcopy {
	__u32 flags;
	__u32 min_len;
	__u32 max_pending;
	__u32 fail_pct;
	__u32 backoff_pkts;
	__u32 stall_ms;
	__u32 reserved[2];
};

#define VMACCEL_VHOST_ZCOPY_ENABLE	(1U << 0)
#define VMACCEL_VHOST_ZCOPY_PENDING_MAX	1024

/* Counters of one virtqueue. */
#define VMACCEL_VHOST_GET_VQ_STATS \
	_IOWR(VMACCEL_IOCTL_TYPE, 0x10, struct vmaccel_vhost_vq_stats)
/* Interrupt coalescing of this device's guest notifications. */
#define VMACCEL_VHOST_SET_VIC		_IOW(VMACCEL_IOCTL_TYPE, 0x11, struct vmaccel_vhost_vic)
#define VMACCEL_VHOST_GET_VIC		_IOR(VMACCEL_IOCTL_TYPE, 0x12, struct vmaccel_vhost_vic)
/* Zero-copy TX policy of this device (defaults from sysfs). */
#define VMACCEL_VHOST_SET_ZCOPY		_IOW(VMACCEL_IOCTL_TYPE, 0x13, struct vmaccel_vhost_zcopy)
#define VMACCEL_VHOST_GET_ZCOPY		_IOR(VMACCEL_IOCTL_TYPE, 0x14, struct vmaccel_vhost_zcopy)

#endif /* _UAPI_LINUX_VMACCEL_VHOST_H */
