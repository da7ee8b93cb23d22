// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmaccel_vhost_net - zero-copy TX with out-of-order completion.
 *
 * A zero-copy packet is sent with a struct ubuf_info in msg_control
 * (TUN_MSG_UBUF); tun/tap then map the guest pages into the skb instead of
 * copying them and call the ubuf's callback when the last user of those
 * pages is gone (success) or when the stack had to copy them after all,
 * e.g. on local delivery (failure).  Each packet has its own slot; the
 * callback puts the slot on a lock-free done list and wakes the worker,
 * which returns that slot's descriptor to the guest at once, in whatever
 * order completions come (the split ring allows it), so one slow skb does
 * not hold back the ones sent after it.
 *
 * Policy per queue (knobs in struct vmaccel_vhost_zcopy): copy packets
 * shorter than min_len; copy while max_pending slots are in flight; when
 * more than fail_pct % of a window of completions failed, copy the next
 * backoff_pkts packets, then try again.
 *
 * Teardown (backend stop or change, reset, close) waits at most stall_ms
 * for completions, then returns the remaining descriptors to the guest and
 * lets go of the context.  The context (with its slots) is reference
 * counted by the slots in flight, so a late callback finds valid memory;
 * the pages stay pinned by their skb until it is freed, never longer.
 * Module exit waits until every context is gone.
 */
#include <linux/delay.h>
#include <linux/rcupdate.h>
#include <linux/timekeeping.h>
#include <linux/slab.h>
#include <linux/wait_bit.h>
#include <net/sock.h>

#include "vhnet.h"
#include "trace.h"

#define VH_ZC_WINDOW	64

static atomic_t vh_zc_live = ATOMIC_INIT(0);

/**
 * vh_zpol_check() - validate a zero-copy policy
 * @p: policy.
 *
 * Return: 0 or -EINVAL.
 */
int vh_zpol_check(const struct vmaccel_vhost_zcopy *p)
{
	if (p->flags & ~VMACCEL_VHOST_ZCOPY_ENABLE)
		return -EINVAL;
	if (p->reserved[0] || p->reserved[1])
		return -EINVAL;
	if (p->min_len > 65536 || !p->max_pending ||
	    p->max_pending > VMACCEL_VHOST_ZCOPY_PENDING_MAX ||
	    !p->fail_pct || p->fail_pct > 100 || !p->backoff_pkts ||
	    p->backoff_pkts > 1000000 || !p->stall_ms || p->stall_ms > 60000)
		return -EINVAL;
	return 0;
}

static void vh_zc_release(struct kref *ref)
{
	struct vh_zc *zc = container_of(ref, struct vh_zc, ref);

	kvfree(zc);
	if (atomic_dec_and_test(&vh_zc_live))
		wake_up_var(&vh_zc_live);
}

static void vh_zc_callback(struct sk_buff *skb, struct ubuf_info *u,
			   bool success)
{
	struct vh_zslot *s = container_of(u, struct vh_zslot, ubuf);
	struct vh_zc *zc = s->zc;
	unsigned long flags;

	if (!success)
		WRITE_ONCE(s->ok, false);
	/* Only the last clone of a segmented skb completes the packet. */
	if (!refcount_dec_and_test(&u->refcnt))
		return;
	rcu_read_lock();
	WRITE_ONCE(s->called, true);
	llist_add(&s->node, &zc->done);
	spin_lock_irqsave(&zc->lock, flags);
	if (zc->dev)
		vh_queue_work(zc->dev, VH_WORK_TX);
	spin_unlock_irqrestore(&zc->lock, flags);
	kref_put(&zc->ref, vh_zc_release);
	rcu_read_unlock();
}

/**
 * vh_zc_start() - set up zero-copy for a TX queue that got a backend
 * @vq: TX queue, mutex held, backend set.
 *
 * Backends without SOCK_ZEROCOPY get no context (always copy).
 *
 * Return: 0 or -ENOMEM.
 */
int vh_zc_start(struct vh_vq *vq)
{
	unsigned int n = VMACCEL_VHOST_ZCOPY_PENDING_MAX, i;
	struct vh_zc *zc;

	lockdep_assert_held(&vq->mutex);
	if (vq->zc || !sock_flag(vq->sock->sk, SOCK_ZEROCOPY))
		return 0;
	zc = kvzalloc(struct_size(zc, slots, n), GFP_KERNEL_ACCOUNT);
	if (!zc)
		return -ENOMEM;
	kref_init(&zc->ref);
	init_llist_head(&zc->done);
	spin_lock_init(&zc->lock);
	zc->dev = vq->dev;
	zc->nslots = n;
	for (i = 0; i < n; i++)
		zc->slots[i].zc = zc;
	atomic_inc(&vh_zc_live);
	vq->zc = zc;
	vq->zc_backoff = 0;
	vq->zc_window = 0;
	vq->zc_window_fail = 0;
	return 0;
}

static void vh_zc_free_slot(struct vh_vq *vq, struct vh_zslot *s)
{
	s->state = VH_ZS_FREE;
	atomic_dec(&vq->zc->inflight);
}

static void vh_zc_account(struct vh_vq *vq, struct vh_zslot *s)
{
	const struct vmaccel_vhost_zcopy *p = &vq->dev->zpol;
	s64 lat = (s64)(vq->zc->now - s->sent);

	if (lat > atomic64_read(&vq->zc_worst_ns))
		atomic64_set(&vq->zc_worst_ns, lat);
	trace_vh_zc_done(vq->dev->id, s->head, READ_ONCE(s->ok), lat);
	vq->zc_window++;
	if (!READ_ONCE(s->ok)) {
		atomic64_inc(&vq->zc_failed);
		atomic64_inc(&vh_totals.zcopy_failed);
		vq->zc_window_fail++;
	}
	if (vq->zc_window >= VH_ZC_WINDOW) {
		if (vq->zc_window_fail * 100 > p->fail_pct * vq->zc_window)
			vq->zc_backoff = p->backoff_pkts;
		vq->zc_window = 0;
		vq->zc_window_fail = 0;
	}
}

/**
 * vh_zc_reap() - return completed zero-copy buffers to the guest
 * @vq: TX queue, mutex held.
 *
 * The heads go into the used batch; the caller flushes and notifies.
 * Also reads the clock for this pass of the handler: the sends of the pass
 * and the completions reaped now are timed with it.
 */
void vh_zc_reap(struct vh_vq *vq)
{
	struct llist_node *list, *n;
	struct vh_zslot *s;

	lockdep_assert_held(&vq->mutex);
	if (!vq->zc)
		return;
	/* One clock read per pass of the handler (tick resolution anyway). */
	vq->zc->now = ktime_get_coarse_ns();
	/* Oldest completion first. */
	list = llist_reverse_order(llist_del_all(&vq->zc->done));
	llist_for_each_safe(list, n, list) {
		s = llist_entry(list, struct vh_zslot, node);
		if (s->state != VH_ZS_INFLIGHT)
			continue;
		if (!s->cancel) {
			vh_zc_account(vq, s);
			if (vh_used_push(vq, s->head, 0))
				vh_vq_error(vq, -EFAULT);
		}
		vh_zc_free_slot(vq, s);
	}
}

/**
 * vh_zc_choose() - should this packet go zero-copy
 * @vq: TX queue, mutex held.
 * @len: packet length.
 *
 * Return: true for zero-copy.  Counts the policy's fall-backs.
 */
bool vh_zc_choose(struct vh_vq *vq, size_t len)
{
	const struct vmaccel_vhost_zcopy *p = &vq->dev->zpol;

	if (!vq->zc || !(p->flags & VMACCEL_VHOST_ZCOPY_ENABLE))
		return false;
	if (len < p->min_len)
		return false;
	if (vq->zc_backoff) {
		vq->zc_backoff--;
		vq->stats.zcopy_fallback++;
		return false;
	}
	if ((unsigned int)atomic_read(&vq->zc->inflight) >= p->max_pending) {
		vq->stats.zcopy_fallback++;
		return false;
	}
	return true;
}

/**
 * vh_zc_get() - take a free slot for a zero-copy send
 * @vq: TX queue, mutex held.
 * @head: descriptor head the slot returns when it completes.
 *
 * Return: the slot, or NULL when none is free (the packet is copied).
 */
struct vh_zslot *vh_zc_get(struct vh_vq *vq, u16 head)
{
	struct vh_zc *zc = vq->zc;
	unsigned int i, k;
	struct vh_zslot *s;

	lockdep_assert_held(&vq->mutex);
	for (k = 0; k < zc->nslots; k++) {
		i = (zc->next + k) % zc->nslots;
		s = &zc->slots[i];
		if (s->state != VH_ZS_FREE)
			continue;
		zc->next = (i + 1) % zc->nslots;
		s->state = VH_ZS_INFLIGHT;
		s->head = head;
		s->ok = true;
		s->called = false;
		s->cancel = false;
		s->sent = zc->now;
		s->ubuf.callback = vh_zc_callback;
		s->ubuf.flags = SKBFL_ZEROCOPY_FRAG;
		refcount_set(&s->ubuf.refcnt, 1);
		kref_get(&zc->ref);
		atomic_inc(&zc->inflight);
		return s;
	}
	vq->stats.zcopy_fallback++;
	return NULL;
}

/**
 * vh_zc_sent() - account a zero-copy send
 * @vq: TX queue, mutex held.
 * @s: slot given to the backend.
 * @err: what sendmsg() returned.
 *
 * After a failed send the backend may or may not have completed the ubuf;
 * if it has not, it never will, so the slot is released here.  Either way
 * the caller handles the descriptor.
 */
void vh_zc_sent(struct vh_vq *vq, struct vh_zslot *s, int err)
{
	unsigned int max;

	lockdep_assert_held(&vq->mutex);
	if (err < 0) {
		if (READ_ONCE(s->called)) {
			s->cancel = true;	/* reaped without a used entry */
		} else {
			vh_zc_free_slot(vq, s);
			kref_put(&vq->zc->ref, vh_zc_release);
		}
		return;
	}
	vq->stats.zcopy_sent++;
	atomic64_inc(&vh_totals.zcopy_sent);
	max = atomic_read(&vq->zc->inflight);
	if (max > vq->stats.max_pending)
		vq->stats.max_pending = max;
}

/**
 * vh_zc_stop() - let go of zero-copy on a TX queue, in bounded time
 * @vq: TX queue, mutex not held, backend already cleared (so the TX
 *	handler no longer uses the context).
 *
 * Waits up to the policy's stall_ms for the buffers in flight, returns the
 * descriptors of those still outstanding to the guest (their skbs keep the
 * pages until they are freed) and drops the queue's reference.
 */
void vh_zc_stop(struct vh_vq *vq)
{
	unsigned int i;
	unsigned long end;
	struct vh_zc *zc;

	mutex_lock(&vq->mutex);
	zc = vq->zc;
	end = jiffies + msecs_to_jiffies(vq->dev->zpol.stall_ms);
	mutex_unlock(&vq->mutex);
	if (!zc)
		return;
	while (atomic_read(&zc->inflight) && time_before(jiffies, end))
		usleep_range(500, 1000);
	mutex_lock(&vq->mutex);
	vh_zc_reap(vq);
	for (i = 0; i < zc->nslots; i++) {
		struct vh_zslot *s = &zc->slots[i];

		if (s->state != VH_ZS_INFLIGHT)
			continue;
		/* Stalled: the guest gets the buffer back now. */
		if (!s->cancel && vh_used_push(vq, s->head, 0))
			vh_vq_error(vq, -EFAULT);
		s->state = VH_ZS_FREE;
	}
	if (vh_used_flush(vq))
		vh_vq_error(vq, -EFAULT);
	vh_notify(vq);
	spin_lock_irq(&zc->lock);
	zc->dev = NULL;
	spin_unlock_irq(&zc->lock);
	vq->zc = NULL;
	mutex_unlock(&vq->mutex);
	kref_put(&zc->ref, vh_zc_release);
}

/**
 * vh_zc_exit() - wait until no zero-copy context is left (module exit)
 */
void vh_zc_exit(void)
{
	wait_var_event(&vh_zc_live, !atomic_read(&vh_zc_live));
	/* Callbacks that dropped the last reference have left their code. */
	synchronize_rcu();
}
