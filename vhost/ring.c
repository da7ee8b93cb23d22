// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmaccel_vhost_net - split virtqueue handling.
 *
 * The rings live in the owner's address space (SET_VRING_ADDR gives user
 * addresses); descriptor buffers and indirect tables are guest-physical and
 * go through the memory table.  Every access is a user access made by the
 * worker in the owner's mm, so a bad guest or VMM can at worst make one
 * fail: the handler then reports the error on the queue's error eventfd.
 */
#include <linux/bits.h>
#include <linux/minmax.h>
#include <linux/uaccess.h>
#include <linux/virtio_byteorder.h>

#include "vhost.h"

static inline u16 v16(__virtio16 v)
{
	return __virtio16_to_cpu(true, v);
}

static inline __virtio16 cpu_v16(u16 v)
{
	return __cpu_to_virtio16(true, v);
}

/**
 * vh_ring_check_addr() - validate VHOST_SET_VRING_ADDR
 * @vq: queue, mutex held.
 * @a: the addresses.
 *
 * The rings are user addresses of the owner and need not lie in the
 * memory table (as with upstream vhost: a VMM may keep them elsewhere);
 * every access to them is a user access that can only fail.
 *
 * Return: 0, -EOPNOTSUPP for unknown flags, -EINVAL for misalignment or
 * when the ring size is not set, -EFAULT for rings outside the owner's
 * address space or a log range outside it.
 */
int vh_ring_check_addr(struct vh_vq *vq, const struct vhost_vring_addr *a)
{
	u64 addr[3] = { a->desc_user_addr, a->avail_user_addr,
			a->used_user_addr };
	u64 size[3];
	unsigned int i;

	lockdep_assert_held(&vq->mutex);
	if (a->flags & ~(1U << VHOST_VRING_F_LOG))
		return -EOPNOTSUPP;
	if (!vq->num)
		return -EINVAL;
	if ((a->desc_user_addr & 15) || (a->avail_user_addr & 1) ||
	    (a->used_user_addr & 3))
		return -EINVAL;
	size[0] = 16ULL * vq->num;
	size[1] = 6 + 2ULL * vq->num;
	size[2] = 6 + 8ULL * vq->num;
	for (i = 0; i < 3; i++) {
		if (addr[i] != (unsigned long)addr[i] ||
		    !access_ok(u64_to_user_ptr(addr[i]), size[i]))
			return -EFAULT;
	}
	if ((a->flags & (1U << VHOST_VRING_F_LOG)) && vq->dev->log_base &&
	    !access_ok(u64_to_user_ptr(vq->dev->log_base +
				       a->log_guest_addr / 4096 / 8),
		       size[2] / 4096 / 8 + 2))
		return -EFAULT;
	return 0;
}

static int vh_log_used(struct vh_vq *vq, u64 offset, u64 len)
{
	if (!vq->log_used)
		return 0;
	return vh_log_write(vq, vq->log_addr + offset, len);
}

/* Append one buffer to the I/O vector. */
static int vh_add_buf(struct vh_vq *vq, u64 gpa, u32 len, bool write,
		      unsigned int *out, unsigned int *in, bool log)
{
	unsigned int used = vq->iov_off + *out + *in;
	int n;

	if (!write && *in)
		return -EINVAL;	/* device-readable after device-writable */
	n = vh_translate(vq, gpa, len, vq->iov + used, VH_IOV_MAX - used);
	if (n < 0)
		return n;
	if (write) {
		*in += n;
		if (log && len) {
			if (vq->nlog == VH_IOV_MAX)
				return -ENOBUFS;
			vq->logv[vq->nlog].addr = gpa;
			vq->logv[vq->nlog].len = len;
			vq->nlog++;
		}
	} else {
		*out += n;
	}
	return 0;
}

static int vh_read_indirect(struct vh_vq *vq, const struct vring_desc *ind,
			    unsigned int *out, unsigned int *in, bool log)
{
	u64 table = le64_to_cpu((__force __le64)ind->addr);
	u32 len = le32_to_cpu((__force __le32)ind->len);
	unsigned int count = len / sizeof(struct vring_desc), n = 0, i = 0;
	struct vring_desc desc;
	struct iovec iov;
	u16 flags;
	int ret;

	if (!vh_has(vq->dev, VIRTIO_RING_F_INDIRECT_DESC))
		return -EINVAL;
	if (!len || len % sizeof(struct vring_desc) || count > VH_RING_MAX)
		return -EINVAL;
	for (;;) {
		if (++n > count)
			return -ELOOP;
		ret = vh_translate(vq, table + (u64)i * sizeof(desc),
				   sizeof(desc), &iov, 1);
		if (ret < 0)
			return ret == -ENOBUFS ? -EFAULT : ret;
		if (copy_from_user(&desc, iov.iov_base, sizeof(desc)))
			return -EFAULT;
		flags = v16(desc.flags);
		if (flags & VRING_DESC_F_INDIRECT)
			return -EINVAL;	/* no nesting */
		ret = vh_add_buf(vq, le64_to_cpu((__force __le64)desc.addr),
				 le32_to_cpu((__force __le32)desc.len),
				 flags & VRING_DESC_F_WRITE, out, in, log);
		if (ret)
			return ret;
		if (!(flags & VRING_DESC_F_NEXT))
			return 0;
		i = v16(desc.next);
		if (i >= count)
			return -EINVAL;
	}
}

/**
 * vh_ring_get() - take the next available descriptor chain
 * @vq: queue, mutex held, ring set.
 * @out: set to the number of device-readable entries at the start of
 *	@vq->iov.
 * @in: set to the number of device-writable entries that follow.
 * @head: set to the chain's head index.
 * @log: append the writable buffers' guest addresses to @vq->logv.
 *
 * The segments are stored in @vq->iov from index @vq->iov_off on.
 * Return: 0; -EAGAIN when the ring is empty; -EFAULT, -EINVAL (bad index,
 * bad layout, out-of-range next), -ELOOP (a loop or a chain longer than
 * the ring) or -ENOBUFS (more segments than the device handles) for a
 * malformed chain, which is not consumed.
 */
int vh_ring_get(struct vh_vq *vq, unsigned int *out, unsigned int *in,
		u16 *head, bool log)
{
	unsigned int i, n = 0;
	struct vring_desc desc;
	__virtio16 v;
	u16 flags;
	int ret;

	lockdep_assert_held(&vq->mutex);
	if (vq->avail_idx == vq->last_avail_idx) {
		if (get_user(v, &vq->avail->idx))
			return -EFAULT;
		/*
		 * Checked before it is kept: a later call trusts a kept
		 * index, so a bad one must fail every call until the guest
		 * fixes its ring (or the VMM resets the base).
		 */
		if ((u16)(v16(v) - vq->last_avail_idx) > vq->num)
			return -EINVAL;
		vq->avail_idx = v16(v);
		if (vq->avail_idx == vq->last_avail_idx)
			return -EAGAIN;
		/* Read the ring entries only after the index. */
		smp_rmb();
	}
	if (get_user(v, &vq->avail->ring[vq->last_avail_idx & (vq->num - 1)]))
		return -EFAULT;
	i = v16(v);
	if (i >= vq->num)
		return -EINVAL;
	*head = i;
	*out = 0;
	*in = 0;
	for (;;) {
		if (++n > vq->num)
			return -ELOOP;
		if (copy_from_user(&desc, vq->desc + i, sizeof(desc)))
			return -EFAULT;
		flags = v16(desc.flags);
		if (flags & VRING_DESC_F_INDIRECT) {
			if (flags & VRING_DESC_F_NEXT)
				return -EINVAL;
			ret = vh_read_indirect(vq, &desc, out, in, log);
		} else {
			ret = vh_add_buf(vq, le64_to_cpu((__force __le64)desc.addr),
					 le32_to_cpu((__force __le32)desc.len),
					 flags & VRING_DESC_F_WRITE, out, in, log);
		}
		if (ret)
			return ret;
		if (!(flags & VRING_DESC_F_NEXT))
			break;
		i = v16(desc.next);
		if (i >= vq->num)
			return -EINVAL;
	}
	vq->last_avail_idx++;
	return 0;
}

/**
 * vh_ring_discard() - give back chains taken with vh_ring_get()
 * @vq: queue, mutex held.
 * @n: chains to give back (the last @n taken).
 */
void vh_ring_discard(struct vh_vq *vq, unsigned int n)
{
	lockdep_assert_held(&vq->mutex);
	vq->last_avail_idx -= n;
}

/**
 * vh_used_flush() - write the batched used elements and publish them
 * @vq: queue, mutex held.
 *
 * At most @vq->num elements go out in one flush: more would wrap over
 * entries of the same flush and, written in two pieces, past the end of
 * the used ring.  Producers keep @vq->nheads within that bound; a batch
 * that is larger anyway is dropped, not written.  Once the index is
 * written the elements count as published even if logging them fails.  What is published is
 * added to @vq->unnotified for the next vh_notify().
 *
 * Return: 0, -EINVAL for an oversized batch, or -EFAULT.
 */
int vh_used_flush(struct vh_vq *vq)
{
	unsigned int n = vq->nheads, start, first;
	struct vring_used_elem __user *u;
	int ret;

	lockdep_assert_held(&vq->mutex);
	if (!n)
		return 0;
	vq->nheads = 0;
	if (unlikely(n > vq->num))
		return -EINVAL;
	start = vq->last_used_idx & (vq->num - 1);
	first = min(n, vq->num - start);
	u = vq->used->ring + start;
	if (copy_to_user(u, vq->heads, first * sizeof(*u)))
		return -EFAULT;
	if (first < n &&
	    copy_to_user(vq->used->ring, vq->heads + first,
			 (n - first) * sizeof(*u)))
		return -EFAULT;
	/* The elements must be visible before the index. */
	smp_wmb();
	if (put_user(cpu_v16(vq->last_used_idx + n), &vq->used->idx))
		return -EFAULT;
	/* Published: a failure to log below must not rewind the index. */
	vq->last_used_idx += n;
	vq->unnotified += n;
	vq->stats.batches++;
	if (vq->log_used) {
		/* Make the writes visible before the log bits. */
		smp_wmb();
		ret = vh_log_used(vq, offsetof(struct vring_used, ring) +
				  start * sizeof(*u), first * sizeof(*u));
		if (!ret && first < n)
			ret = vh_log_used(vq, offsetof(struct vring_used, ring),
					  (n - first) * sizeof(*u));
		if (!ret)
			ret = vh_log_used(vq, offsetof(struct vring_used, idx),
					  sizeof(__virtio16));
		if (ret)
			return ret;
	}
	return 0;
}

/**
 * vh_used_push() - queue one used element, flushing when the batch is full
 * @vq: queue, mutex held.
 * @head: chain head.
 * @len: bytes written into the chain.
 *
 * A flush made here is not notified: the caller's vh_notify() at the end
 * of its pass covers it (vh_used_flush() counts it in @vq->unnotified).
 *
 * Return: 0, -EINVAL or -EFAULT (see vh_used_flush()).
 */
int vh_used_push(struct vh_vq *vq, u16 head, u32 len)
{
	lockdep_assert_held(&vq->mutex);
	vq->heads[vq->nheads].id = (__force __virtio32)cpu_to_le32(head);
	vq->heads[vq->nheads].len = (__force __virtio32)cpu_to_le32(len);
	vq->nheads++;
	if (vq->nheads == VH_IOV_MAX || vq->nheads >= vq->num)
		return vh_used_flush(vq);
	return 0;
}

/**
 * vh_ring_empty() - has the guest made no buffer available
 * @vq: queue, mutex held.
 *
 * Return: true when no buffer is available (or the ring cannot be read).
 */
bool vh_ring_empty(struct vh_vq *vq)
{
	__virtio16 v;

	if (vq->avail_idx != vq->last_avail_idx)
		return false;
	if (get_user(v, &vq->avail->idx))
		return true;
	/*
	 * Not cached in @vq->avail_idx: vh_ring_get() reads the index itself
	 * and rejects one more than the ring size ahead (a cached value would
	 * skip that check).
	 */
	return v16(v) == vq->last_avail_idx;
}

static bool vh_need_notify(struct vh_vq *vq)
{
	u16 old, new;
	__virtio16 v;
	bool valid;

	/* Used index written before the guest's suppression state is read. */
	smp_mb();
	if (vh_has(vq->dev, VIRTIO_F_NOTIFY_ON_EMPTY) &&
	    vq->avail_idx == vq->last_avail_idx && vh_ring_empty(vq))
		return true;
	if (!vh_has(vq->dev, VIRTIO_RING_F_EVENT_IDX)) {
		if (get_user(v, &vq->avail->flags))
			return true;
		return !(v16(v) & VRING_AVAIL_F_NO_INTERRUPT);
	}
	old = vq->signalled_used;
	valid = vq->signalled_valid;
	new = vq->last_used_idx;
	vq->signalled_used = new;
	vq->signalled_valid = true;
	if (!valid)
		return true;
	if (get_user(v, &vq->avail->ring[vq->num]))
		return true;
	return vring_need_event(v16(v), new, old);
}

/* Cap of vh_vq.run: only its comparison with VH_RUN_STREAM matters. */
#define VH_RUN_MAX	BIT(20)
/*
 * More packets than this one way without one back are a stream: one
 * transaction in flight gives 1, and one stray packet between two
 * transactions (an ARP or neighbour probe, an IPv6 router advertisement)
 * 2, which must not hold the next transaction's interrupt back.
 */
#define VH_RUN_STREAM	2

/*
 * The commands in flight that a queue reports to vic.  A network queue
 * has no commands: packets arrive unasked on RX, and a copied TX buffer is
 * returned at once.  What tells a stream from request/response is how
 * many packets one direction moves without one in the other: with one
 * transaction in flight each request is answered before the next one
 * comes (1), a stream moves several between the peer's acknowledgements.
 * So:
 * - zero-copy TX buffers still in flight, when more than one: the true
 *   CIF;
 * - else, more than VH_RUN_STREAM packets published since the other
 *   queue last published one: a stream, whose rate tells vic how many
 *   completions one backstop window holds (VMACCEL_VIC_CIF_RATE);
 * - else 0 or 1, which adaptive mode never coalesces.
 * @pkts is the packets of this notification's elements.
 */
static int vh_notify_cif(struct vh_vq *vq, unsigned int pkts)
{
	struct vh_vq *peer = &vq->dev->vqs[vq->index == VH_RX ? VH_TX : VH_RX];
	unsigned int run, zc = vq->zc ? atomic_read(&vq->zc->inflight) : 0;

	run = atomic_add_return(pkts, &vq->run);
	if (run > VH_RUN_MAX) {
		run = VH_RUN_MAX;
		atomic_set(&vq->run, run);
	}
	if (atomic_read(&peer->run))
		atomic_xchg(&peer->run, 0);
	if (zc > 1)
		return zc;
	return run > VH_RUN_STREAM ? VMACCEL_VIC_CIF_RATE : min(run, 1U);
}

/**
 * vh_notify() - notify the guest of the used buffers published since the
 *	last call, if it wants that
 * @vq: queue, mutex held, after vh_used_flush().
 *
 * Honours VRING_AVAIL_F_NO_INTERRUPT, the used event index and
 * NOTIFY_ON_EMPTY; what remains goes through the queue's vic coalescer
 * with the commands in flight of vh_notify_cif(), and so does what the
 * event index does not need notified while vic holds back an interrupt.
 */
void vh_notify(struct vh_vq *vq)
{
	unsigned int n = vq->unnotified;
	int cif;

	lockdep_assert_held(&vq->mutex);
	if (!n)
		return;
	vq->unnotified = 0;
	cif = vh_notify_cif(vq, vq->index == VH_RX ? vq->unnotified_pkts : n);
	vq->unnotified_pkts = 0;
	if (!vh_need_notify(vq)) {
		/*
		 * The guest asked for an interrupt at an earlier entry: if vic
		 * still holds that one back, these entries are in its batch.
		 */
		if (!vmaccel_vic_join(vq->vic, n, cif))
			vq->stats.notify_suppressed += n;
		return;
	}
	vmaccel_vic_complete(vq->vic, n, cif);
}

/**
 * vh_disable_notify() - ask the guest not to kick
 * @vq: queue, mutex held.
 */
void vh_disable_notify(struct vh_vq *vq)
{
	lockdep_assert_held(&vq->mutex);
	if (vh_has(vq->dev, VIRTIO_RING_F_EVENT_IDX))
		return;
	if (put_user(cpu_v16(VRING_USED_F_NO_NOTIFY), &vq->used->flags))
		return;
	vh_log_used(vq, offsetof(struct vring_used, flags), sizeof(__virtio16));
}

/**
 * vh_enable_notify() - ask the guest to kick on new buffers
 * @vq: queue, mutex held.
 *
 * Return: true when buffers became available meanwhile (the caller should
 * disable notifications again and go on).
 */
bool vh_enable_notify(struct vh_vq *vq)
{
	__virtio16 v;
	int ret;

	lockdep_assert_held(&vq->mutex);
	if (vh_has(vq->dev, VIRTIO_RING_F_EVENT_IDX)) {
		ret = put_user(cpu_v16(vq->avail_idx),
			       (__virtio16 __user *)&vq->used->ring[vq->num]);
		if (!ret)
			vh_log_used(vq, offsetof(struct vring_used, ring) +
				    vq->num * sizeof(struct vring_used_elem),
				    sizeof(__virtio16));
	} else {
		ret = put_user(0, &vq->used->flags);
		if (!ret)
			vh_log_used(vq, offsetof(struct vring_used, flags),
				    sizeof(__virtio16));
	}
	if (ret)
		return false;
	/* The flag/event write must be visible before we re-read avail. */
	smp_mb();
	if (get_user(v, &vq->avail->idx))
		return false;
	return v16(v) != vq->avail_idx;
}
