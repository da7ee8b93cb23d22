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
 * A buffer goes back to the guest only after the backend let go of its
 * pages (the callback ran).  A slot outstanding longer than stall_ms makes
 * the queue copy new packets until it completes, so a stuck skb pins no
 * more guest memory.  Teardown (backend stop or change, reset, close)
 * waits for every callback, as upstream does; only a fatal signal or the
 * exit of the waiting task (the owner killed or gone) ends that wait
 * early, and then the buffers still
 * outstanding are never returned (the device is going away).  A context,
 * reference counted by its slots in flight, holds a module reference until
 * it is freed, after an RCU grace period (callbacks run inside
 * rcu_read_lock() up to their last put): a late callback finds valid
 * memory and module text, rmmod is refused meanwhile instead of blocking,
 * and module exit waits for the pending frees with rcu_barrier().
 * Guest memory (the used ring) is written at teardown only in the owner's
 * address space: not when another task closes the last reference, nor
 * when the owner's mm is already gone (process exit).
 */
#include <linux/delay.h>
#include <linux/module.h>
#include <linux/sched/signal.h>
#include <linux/rcupdate.h>
#include <linux/timekeeping.h>
#include <linux/slab.h>
#include <net/sock.h>

#include "vhost.h"
#include "trace.h"

#define VH_ZC_WINDOW	64
/*
 * Shortest packet (backend header included) sent zero-copy, whatever the
 * policy's min_len.  tun and macvtap put the first 128 bytes (their
 * GOODCOPY_LEN) of a zero-copy packet into an skb head of that size and
 * copy only what the packet has: a shorter packet went out padded with
 * uninitialised kernel memory.  Upstream vhost-net's VHOST_GOODCOPY_LEN.
 */
#define VH_ZC_MIN_LEN	256

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

static void vh_zc_free_rcu(struct rcu_head *rcu)
{
	struct vh_zc *zc = container_of(rcu, struct vh_zc, rcu);

	kvfree(zc);
	atomic_dec(&vh_zc_live);
	/* Last: module exit's rcu_barrier() waits for this function. */
	module_put(THIS_MODULE);
}

static void vh_zc_release(struct kref *ref)
{
	struct vh_zc *zc = container_of(ref, struct vh_zc, ref);

	call_rcu(&zc->rcu, vh_zc_free_rcu);
}

static void vh_zc_callback(struct sk_buff *skb, struct ubuf_info *u,
			   bool success)
{
	struct vh_zslot *s = container_of(u, struct vh_zslot, ubuf);
	struct vh_zc *zc = s->zc;
	unsigned long flags;

	if (!success)
		WRITE_ONCE(s->ok, false);
	/*
	 * Only the last clone of a segmented skb completes the packet.  The
	 * read-side section covers the context's use up to its last put.
	 */
	rcu_read_lock();
	if (!refcount_dec_and_test(&u->refcnt)) {
		rcu_read_unlock();
		return;
	}
	WRITE_ONCE(s->called, true);
	llist_add(&s->node, &zc->done);
	/* The slot is on the done list before vh_zc_stop() sees it done. */
	smp_mb__before_atomic();
	atomic_dec(&zc->outstanding);
	spin_lock_irqsave(&zc->lock, flags);
	if (zc->dev)
		vh_queue_work(zc->dev, VH_WORK_TX);
	spin_unlock_irqrestore(&zc->lock, flags);
	kref_put(&zc->ref, vh_zc_release);
	rcu_read_unlock();
}

static const struct ubuf_info_ops vh_zc_ubuf_ops = {
	.complete = vh_zc_callback,
};

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
	/*
	 * Every context pins the module until its RCU free: a callback may
	 * still be between its last use of the context and its last put
	 * when the queue lets go.
	 */
	__module_get(THIS_MODULE);
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

/*
 * Is a slot outstanding for longer than stall_ms?  Checked at most twice
 * per stall_ms (a scan of the slots), under the queue's mutex.
 */
static void vh_zc_check_stall(struct vh_vq *vq)
{
	u64 stall = (u64)vq->dev->zpol.stall_ms * NSEC_PER_MSEC;
	struct vh_zc *zc = vq->zc;
	unsigned int i;

	if (!atomic_read(&zc->outstanding)) {
		zc->stalled = false;
		return;
	}
	if (zc->now - zc->scanned < stall / 2)
		return;
	zc->scanned = zc->now;
	zc->stalled = false;
	for (i = 0; i < zc->nslots; i++) {
		struct vh_zslot *s = &zc->slots[i];

		if (s->state == VH_ZS_INFLIGHT && !READ_ONCE(s->called) &&
		    zc->now - s->sent > stall) {
			zc->stalled = true;
			break;
		}
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
	vh_zc_check_stall(vq);
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
	/*
	 * With an XDP program tun may consume the packet without an skb and
	 * without calling the ubuf back: the slot would never complete.
	 */
	if (sock_flag(vq->sock->sk, SOCK_XDP))
		return false;
	if (len < p->min_len || len < VH_ZC_MIN_LEN)
		return false;
	if (vq->zc_backoff) {
		vq->zc_backoff--;
		vq->stats.zcopy_fallback++;
		return false;
	}
	if ((unsigned int)atomic_read(&vq->zc->inflight) >= p->max_pending ||
	    vq->zc->stalled) {
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
		vmaccel_compat_ubuf_set_ops(&s->ubuf, &vh_zc_ubuf_ops);
		s->ubuf.flags = SKBFL_ZEROCOPY_FRAG;
		refcount_set(&s->ubuf.refcnt, 1);
		kref_get(&zc->ref);
		atomic_inc(&zc->inflight);
		atomic_inc(&zc->outstanding);
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
			/* Never handed to an skb: no callback will come. */
			atomic_dec(&vq->zc->outstanding);
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
 * vh_zc_stop() - let go of zero-copy on a TX queue
 * @vq: TX queue, mutex not held, backend already cleared (so the TX
 *	handler no longer uses the context).
 * @user: the caller runs in the owner's address space: completed buffers
 *	are returned to the guest; otherwise guest memory is not touched.
 *
 * Waits until the backend released every buffer in flight (a fatal
 * signal or the task's exit ends the wait: those buffers are then never
 * returned, and the context lives on as an orphan until their callbacks
 * ran), returns the completed ones and drops the queue's reference.
 */
void vh_zc_stop(struct vh_vq *vq, bool user)
{
	struct llist_node *list, *n;
	struct vh_zslot *s;
	struct vh_zc *zc;

	mutex_lock(&vq->mutex);
	zc = vq->zc;
	mutex_unlock(&vq->mutex);
	if (!zc)
		return;
	/*
	 * Their skbs still reference guest pages: wait, like upstream, unless
	 * this task is being killed or is exiting (the VMM's last close at
	 * its exit: nobody will look at the ring again).
	 */
	while (atomic_read(&zc->outstanding) && !fatal_signal_pending(current) &&
	       !(current->flags & PF_EXITING))
		usleep_range(500, 1000);
	mutex_lock(&vq->mutex);
	if (user) {
		vh_zc_reap(vq);
		if (vh_used_flush(vq))
			vh_vq_error(vq, -EFAULT);
		vh_notify(vq);
	} else {
		list = llist_del_all(&zc->done);
		llist_for_each_safe(list, n, list) {
			s = llist_entry(list, struct vh_zslot, node);
			if (s->state == VH_ZS_INFLIGHT)
				vh_zc_free_slot(vq, s);
		}
		vq->nheads = 0;
	}
	spin_lock_irq(&zc->lock);
	zc->dev = NULL;
	spin_unlock_irq(&zc->lock);
	/* Late callbacks keep the context, and so the module, alive. */
	if (atomic_read(&zc->outstanding))
		atomic64_add(atomic_read(&zc->outstanding),
			     &vh_totals.zcopy_orphaned);
	vq->zc = NULL;
	mutex_unlock(&vq->mutex);
	kref_put(&zc->ref, vh_zc_release);
}

/**
 * vh_zc_exit() - wait until every zero-copy context is freed (module exit)
 *
 * No device is open and every context dropped its module reference, the
 * last thing its RCU free does: wait for those callbacks to return.
 */
void vh_zc_exit(void)
{
	rcu_barrier();
	WARN_ON_ONCE(atomic_read(&vh_zc_live));
}
