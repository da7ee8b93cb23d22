// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmaccel_vhost_net: the per-device worker thread, which runs the queues'
 * handlers in the owner's address space, the wake-up hooks that queue it
 * (kick eventfds, backend sockets), and the notification the vic engine
 * delivers to the guest's call eventfd.
 */
#include <linux/eventfd.h>
#include <linux/kthread.h>
#include <linux/llist.h>
#include <linux/mmu_context.h>
#include <linux/poll.h>
#include <linux/sched.h>

#include "vhost.h"
#include "trace.h"

struct vh_flush {
	struct llist_node node;
	struct completion done;
};

/**
 * vh_queue_work() - make the worker run a handler
 * @d: device.
 * @bit: VH_WORK_RX or VH_WORK_TX.
 *
 * Context: any context.
 */
void vh_queue_work(struct vh_dev *d, unsigned int bit)
{
	struct task_struct *w = READ_ONCE(d->worker);

	if (w && !test_and_set_bit(bit, &d->work))
		wake_up_process(w);
}

/**
 * vh_vq_error() - report a guest error on a queue's error eventfd
 * @vq: queue, mutex held.
 * @err: negative errno, for the tracepoint.
 */
void vh_vq_error(struct vh_vq *vq, int err)
{
	lockdep_assert_held(&vq->mutex);
	vq->stats.errors++;
	atomic64_inc(&vh_totals.errors);
	trace_vh_error(vq->dev->id, vq->index, err);
	if (vq->err)
		eventfd_signal(vq->err);
}

/**
 * vh_flush() - wait until the worker has run what was queued before
 * @d: device; returns at once when it has no worker.
 */
void vh_flush(struct vh_dev *d)
{
	struct vh_flush f;

	if (!d->worker)
		return;
	init_completion(&f.done);
	llist_add(&f.node, &d->flushes);
	wake_up_process(d->worker);
	wait_for_completion(&f.done);
}

/**
 * vh_worker() - the device's worker thread, in the owner's address space
 * @data: the device.
 *
 * Return: 0, when stopped.
 */
int vh_worker(void *data)
{
	struct vh_dev *d = data;
	struct llist_node *fl, *n;
	struct vh_flush *f;
	unsigned long work;

	kthread_use_mm(d->mm);
	for (;;) {
		set_current_state(TASK_INTERRUPTIBLE);
		if (kthread_should_stop()) {
			__set_current_state(TASK_RUNNING);
			break;
		}
		fl = llist_del_all(&d->flushes);
		work = xchg(&d->work, 0);
		if (!work && !fl) {
			schedule();
			continue;
		}
		__set_current_state(TASK_RUNNING);
		if (work & BIT(VH_WORK_TX))
			vh_handle_tx(&d->vqs[VH_TX]);
		if (work & BIT(VH_WORK_RX))
			vh_handle_rx(&d->vqs[VH_RX]);
		llist_for_each_safe(fl, n, fl) {
			f = llist_entry(fl, struct vh_flush, node);
			complete(&f->done);
		}
		cond_resched();
	}
	kthread_unuse_mm(d->mm);
	return 0;
}

/* ---- wait-queue hooks on the kick eventfd and the backend socket ---- */

static int vh_poll_wake(wait_queue_entry_t *wait, unsigned int mode, int sync,
			void *key)
{
	struct vh_poll *p = container_of(wait, struct vh_poll, wait);

	if (!(key_to_poll(key) & p->mask))
		return 0;
	if (p->kick) {
		atomic64_inc(&p->vq->kicks);
		trace_vh_kick(p->dev->id, p->vq->index);
	}
	vh_queue_work(p->dev, p->bit);
	return 0;
}

static void vh_poll_queue(struct file *file, wait_queue_head_t *wqh,
			  poll_table *pt)
{
	struct vh_poll *p = container_of(pt, struct vh_poll, pt);

	if (p->wqh)
		return;
	p->wqh = wqh;
	add_wait_queue(wqh, &p->wait);
}

/**
 * vh_poll_init() - set up a wake-up hook of a queue, not started
 * @p: hook.
 * @vq: queue whose handler the hook queues.
 * @mask: poll events that queue it.
 * @kick: the hook is on the kick eventfd (counted as kicks).
 */
void vh_poll_init(struct vh_poll *p, struct vh_vq *vq, __poll_t mask,
		  bool kick)
{
	init_waitqueue_func_entry(&p->wait, vh_poll_wake);
	init_poll_funcptr(&p->pt, vh_poll_queue);
	p->wqh = NULL;
	p->mask = mask;
	p->dev = vq->dev;
	p->vq = vq;
	p->bit = vq->index == VH_TX ? VH_WORK_TX : VH_WORK_RX;
	p->kick = kick;
}

/**
 * vh_poll_start() - hook a queue's handler to a file's wake-ups
 * @p: hook, not started.
 * @file: eventfd or backend file.
 *
 * Queues the handler at once when the file is already ready.
 */
void vh_poll_start(struct vh_poll *p, struct file *file)
{
	__poll_t mask;

	lockdep_assert_held(&p->vq->mutex);
	if (p->wqh)
		return;
	mask = vfs_poll(file, &p->pt);
	if (mask & p->mask)
		vh_queue_work(p->dev, p->bit);
}

/**
 * vh_poll_stop() - unhook a wake-up hook
 * @p: hook, started or not.
 *
 * Under the owning queue's mutex, like vh_poll_start(): a hook is started
 * only by code that holds the mutex and has seen the file still attached.
 */
void vh_poll_stop(struct vh_poll *p)
{
	lockdep_assert_held(&p->vq->mutex);
	if (p->wqh) {
		remove_wait_queue(p->wqh, &p->wait);
		p->wqh = NULL;
	}
}

/* ---- notifications through the vic engine ---- */

/**
 * vh_deliver() - the vic engine's delivery: signal the guest's call eventfd
 * @ctx: the queue.
 *
 * Context: any context (vic delivers from hard interrupts too).
 */
void vh_deliver(void *ctx)
{
	struct vh_vq *vq = ctx;
	unsigned long flags;

	spin_lock_irqsave(&vq->call_lock, flags);
	if (vq->call) {
		eventfd_signal(vq->call);
		atomic64_inc(&vq->notifies);
		atomic64_inc(&vh_totals.notify_sent);
	}
	spin_unlock_irqrestore(&vq->call_lock, flags);
	trace_vh_notify(vq->dev->id, vq->index);
}
