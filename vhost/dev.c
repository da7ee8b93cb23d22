// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmaccel_vhost_net - a vhost-net device for stock VMMs.
 *
 * Module init/exit, the misc device /dev/vmaccel-vhost-net, open and
 * release, device and queue reset, and the list of open devices.  The
 * ioctls are in ioctl.c, the worker thread and wake-up hooks in worker.c.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/eventfd.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/kthread.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/sched/mm.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>

#include "vhost.h"
#define CREATE_TRACE_POINTS
#include "trace.h"

struct vh_totals vh_totals;

static LIST_HEAD(vh_devices);
static DEFINE_MUTEX(vh_devices_lock);
static unsigned int vh_next_id;

/* ---- open / release ---- */

static int vh_open(struct inode *inode, struct file *file)
{
	struct vh_dev *d;
	unsigned int i;
	int ret = -ENOMEM;

	d = kvzalloc(sizeof(*d), GFP_KERNEL_ACCOUNT);
	if (!d)
		return -ENOMEM;
	mutex_init(&d->mutex);
	init_llist_head(&d->flushes);
	vmaccel_vic_default_params(&d->vic_params);
	mutex_lock(&vh_param_lock);
	d->zpol = vh_zpol_default;
	mutex_unlock(&vh_param_lock);
	for (i = 0; i < VH_NVQS; i++) {
		struct vh_vq *vq = &d->vqs[i];

		vq->dev = d;
		vq->index = i;
		mutex_init(&vq->mutex);
		spin_lock_init(&vq->call_lock);
		vh_poll_init(&vq->kick_poll, vq, EPOLLIN, true);
		vh_poll_init(&vq->sock_poll, vq,
			     i == VH_RX ? EPOLLIN : EPOLLOUT, false);
		vq->iov = kvmalloc_array(VH_IOV_MAX, sizeof(*vq->iov),
					 GFP_KERNEL_ACCOUNT);
		vq->logv = kvmalloc_array(VH_IOV_MAX, sizeof(*vq->logv),
					  GFP_KERNEL_ACCOUNT);
		/* RX adds a packet's chains to a batch of up to VH_USED_BATCH. */
		vq->heads = kvmalloc_array(VH_IOV_MAX + VH_USED_BATCH,
					   sizeof(*vq->heads),
					   GFP_KERNEL_ACCOUNT);
		if (!vq->iov || !vq->logv || !vq->heads)
			goto err;
		if (i == VH_RX) {
			vq->rxq = kcalloc(VH_RX_BATCH, sizeof(*vq->rxq),
					  GFP_KERNEL_ACCOUNT);
			if (!vq->rxq)
				goto err;
		} else if (vh_txb_alloc(vq)) {
			goto err;
		}
		vq->vic = vmaccel_vic_alloc(&d->vic_params, vh_deliver, vq,
					    GFP_KERNEL_ACCOUNT);
		if (IS_ERR(vq->vic)) {
			ret = PTR_ERR(vq->vic);
			vq->vic = NULL;
			goto err;
		}
	}
	mutex_lock(&vh_devices_lock);
	d->id = ++vh_next_id;
	list_add_tail(&d->node, &vh_devices);
	mutex_unlock(&vh_devices_lock);
	atomic_inc(&vh_totals.devices);
	file->private_data = d;
	return stream_open(inode, file);
err:
	for (i = 0; i < VH_NVQS; i++) {
		vmaccel_vic_free(d->vqs[i].vic);
		kvfree(d->vqs[i].iov);
		kvfree(d->vqs[i].logv);
		kvfree(d->vqs[i].heads);
		kfree(d->vqs[i].rxq);
		vh_txb_free(&d->vqs[i]);
	}
	kvfree(d);
	return ret;
}

/**
 * vh_vq_stop_backend() - stop a queue's backend
 * @vq: queue.
 * @user: guest memory may be written (the caller runs in the owner's mm).
 *
 * Stop a queue's backend.  The socket's wake-up hook is unhooked and the
 * backend cleared in one critical section of the queue's mutex: a handler
 * runs under that mutex and looks at @vq->sock first, so none can re-arm
 * the hook on this socket afterwards (one that did would leave a wait-queue
 * entry on the socket's memory, freed by the fput() below).  Batched RX
 * packets go back to the backend's ring and the TX batch's page-fragment
 * cache is freed in the same section; then zero-copy buffers are waited
 * for and returned (to the guest's ring only when @user: the caller runs
 * in the owner's address space), an interrupt vic holds back is delivered,
 * then the socket is dropped.
 */
void vh_vq_stop_backend(struct vh_vq *vq, bool user)
{
	struct file *f;

	mutex_lock(&vq->mutex);
	vh_poll_stop(&vq->sock_poll);
	f = vq->sock_file;
	if (f) {
		if (vq->index == VH_RX)
			vh_rx_stop(vq);
		else
			vh_txb_drain(vq);
		vq->sock = NULL;
		vq->sock_file = NULL;
	}
	mutex_unlock(&vq->mutex);
	if (!f)
		return;
	vh_zc_stop(vq, user);
	/*
	 * An interrupt vic still holds back goes out now, to the call
	 * eventfd the VMM still reads: after a stop it may look at that
	 * eventfd once and switch it off (QEMU does, to hand the guest what
	 * is pending); a backstop firing later would signal nobody.
	 */
	vmaccel_vic_flush(vq->vic);
	fput(f);
}

static void vh_vq_reset(struct vh_vq *vq)
{
	struct eventfd_ctx *call;

	mutex_lock(&vq->mutex);
	vh_poll_stop(&vq->kick_poll);
	if (vq->kick)
		fput(vq->kick);
	vq->kick = NULL;
	if (vq->err)
		eventfd_ctx_put(vq->err);
	vq->err = NULL;
	spin_lock_irq(&vq->call_lock);
	call = vq->call;
	vq->call = NULL;
	spin_unlock_irq(&vq->call_lock);
	if (call)
		eventfd_ctx_put(call);
	vq->num = 0;
	vq->desc = NULL;
	vq->avail = NULL;
	vq->used = NULL;
	vq->addr_set = false;
	vq->log_used = false;
	vq->log_addr = 0;
	vq->last_avail_idx = 0;
	vq->avail_idx = 0;
	vq->last_used_idx = 0;
	vq->signalled_valid = false;
	vq->busyloop_timeout = 0;
	/* As after open(): the next owner negotiates its features again. */
	vq->vhost_hlen = 0;
	vq->sock_hlen = 0;
	vq->nheads = 0;
	vq->unnotified = 0;
	vq->unnotified_pkts = 0;
	atomic_set(&vq->run, 0);
	mutex_unlock(&vq->mutex);
}

/**
 * vh_dev_reset() - everything back to the state after open()
 * @d: device, its mutex held.
 *
 * Guest memory is written only when the caller runs in the owner's mm
 * (not in release() by another task, nor at the owner's exit).
 */
void vh_dev_reset(struct vh_dev *d)
{
	bool user = d->mm && current->mm == d->mm;
	unsigned int i;

	lockdep_assert_held(&d->mutex);
	for (i = 0; i < VH_NVQS; i++)
		vh_vq_stop_backend(&d->vqs[i], user);
	for (i = 0; i < VH_NVQS; i++)
		vh_vq_reset(&d->vqs[i]);
	vh_flush(d);
	if (d->worker) {
		kthread_stop(d->worker);
		put_task_struct(d->worker);
		WRITE_ONCE(d->worker, NULL);
	}
	d->work = 0;
	for (i = 0; i < VH_NVQS; i++)
		vmaccel_vic_flush(d->vqs[i].vic);
	if (d->mm)
		mmput(d->mm);
	d->mm = NULL;
	for (i = 0; i < VH_NVQS; i++)
		d->vqs[i].tmap = NULL;	/* no worker, d->mutex held */
	vhost_iotlb_free(d->umem);
	d->umem = NULL;
	if (d->log_ctx)
		eventfd_ctx_put(d->log_ctx);
	d->log_ctx = NULL;
	d->log_base = 0;
	d->features = 0;
	d->backend_features = 0;
}

static int vh_release(struct inode *inode, struct file *file)
{
	struct vh_dev *d = file->private_data;
	unsigned int i;

	mutex_lock(&vh_devices_lock);
	list_del(&d->node);
	mutex_unlock(&vh_devices_lock);

	mutex_lock(&d->mutex);
	vh_dev_reset(d);
	mutex_unlock(&d->mutex);
	for (i = 0; i < VH_NVQS; i++) {
		vmaccel_vic_free(d->vqs[i].vic);
		kvfree(d->vqs[i].iov);
		kvfree(d->vqs[i].logv);
		kvfree(d->vqs[i].heads);
		kfree(d->vqs[i].rxq);
		mutex_lock(&d->vqs[i].mutex);
		vh_txb_drain(&d->vqs[i]);
		mutex_unlock(&d->vqs[i].mutex);
		vh_txb_free(&d->vqs[i]);
		mutex_destroy(&d->vqs[i].mutex);
	}
	mutex_destroy(&d->mutex);
	atomic_dec(&vh_totals.devices);
	kvfree(d);
	return 0;
}

/**
 * vh_devices_show() - list open devices and their queues (debugfs)
 * @m: seq_file to print to.
 */
void vh_devices_show(struct seq_file *m)
{
	struct vh_dev *d;
	unsigned int i;

	mutex_lock(&vh_devices_lock);
	list_for_each_entry(d, &vh_devices, node) {
		for (i = 0; i < VH_NVQS; i++) {
			struct vh_vq *vq = &d->vqs[i];

			mutex_lock(&vq->mutex);
			seq_printf(m,
				   "dev %u %s num %u backend %d avail %u used %u packets %llu bytes %llu dropped %llu zc_sent %llu zc_failed %lld zc_fallback %llu copies %llu pending %d max_pending %u worst_ns %lld notifies %lld suppressed %llu kicks %lld errors %llu batches %llu tx_batched %llu tx_batch_sends %llu sock_poll %d\n",
				   d->id, i == VH_RX ? "rx" : "tx", vq->num,
				   !!vq->sock, vq->last_avail_idx,
				   vq->last_used_idx, vq->stats.packets,
				   vq->stats.bytes, vq->stats.dropped,
				   vq->stats.zcopy_sent,
				   atomic64_read(&vq->zc_failed),
				   vq->stats.zcopy_fallback, vq->stats.copies,
				   vq->zc ? atomic_read(&vq->zc->inflight) : 0,
				   vq->stats.max_pending,
				   atomic64_read(&vq->zc_worst_ns),
				   atomic64_read(&vq->notifies),
				   vq->stats.notify_suppressed,
				   atomic64_read(&vq->kicks), vq->stats.errors,
				   vq->stats.batches, vq->stats.tx_batched,
				   vq->stats.tx_batch_sends, !!vq->sock_poll.wqh);
			mutex_unlock(&vq->mutex);
		}
	}
	mutex_unlock(&vh_devices_lock);
}

static const struct file_operations vh_fops = {
	.owner = THIS_MODULE,
	.open = vh_open,
	.release = vh_release,
	.unlocked_ioctl = vh_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = noop_llseek,
};

static struct miscdevice vh_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "vmaccel-vhost-net",
	.fops = &vh_fops,
	.mode = 0600,
};

static int __init vh_init(void)
{
	int ret;

	vh_misc.groups = vh_attr_groups;
	ret = misc_register(&vh_misc);
	if (ret)
		return ret;
	vh_debugfs_init();
	return 0;
}

static void __exit vh_exit(void)
{
	vh_debugfs_exit();
	misc_deregister(&vh_misc);
	vh_zc_exit();
}

module_init(vh_init);
module_exit(vh_exit);

MODULE_LICENSE("GPL");
MODULE_VERSION(VMACCEL_VERSION);
MODULE_DESCRIPTION("vmaccel vhost-net device with zero-copy TX");
MODULE_AUTHOR("vmaccel developers");
