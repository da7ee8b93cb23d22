// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmaccel_vhost_net - a vhost-net device for stock VMMs.
 *
 * Module init/exit, the misc device /dev/vmaccel-vhost-net, the standard
 * vhost-net ioctls of <linux/vhost.h>, the vmaccel extension ioctls of
 * <linux/vmaccel_vhost.h> and the per-device worker thread, which runs in
 * the owner's address space.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cgroup.h>
#include <linux/compat.h>
#include <linux/eventfd.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/kthread.h>
#include <linux/miscdevice.h>
#include <linux/mmu_context.h>
#include <linux/module.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>

#include "vhnet.h"
#define CREATE_TRACE_POINTS
#include "trace.h"

#define VH_FEATURES ((1ULL << VIRTIO_F_NOTIFY_ON_EMPTY) | \
		     (1ULL << VIRTIO_RING_F_INDIRECT_DESC) | \
		     (1ULL << VIRTIO_RING_F_EVENT_IDX) | \
		     (1ULL << VHOST_NET_F_VIRTIO_NET_HDR) | \
		     (1ULL << VIRTIO_F_ANY_LAYOUT) | \
		     (1ULL << VHOST_F_LOG_ALL) | \
		     (1ULL << VIRTIO_NET_F_MRG_RXBUF) | \
		     (1ULL << VIRTIO_F_VERSION_1))

struct vh_totals vh_totals;

static LIST_HEAD(vh_devices);
static DEFINE_MUTEX(vh_devices_lock);
static unsigned int vh_next_id;

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

static void vh_flush(struct vh_dev *d)
{
	struct vh_flush f;

	if (!d->worker)
		return;
	init_completion(&f.done);
	llist_add(&f.node, &d->flushes);
	wake_up_process(d->worker);
	wait_for_completion(&f.done);
}

static int vh_worker(void *data)
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

static void vh_poll_init(struct vh_poll *p, struct vh_vq *vq, __poll_t mask,
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

static void vh_deliver(void *ctx)
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

/*
 * Stop a queue's backend.  The socket's wake-up hook is unhooked and the
 * backend cleared in one critical section of the queue's mutex: a handler
 * runs under that mutex and looks at @vq->sock first, so none can re-arm
 * the hook on this socket afterwards (one that did would leave a wait-queue
 * entry on the socket's memory, freed by the fput() below).  Batched RX
 * packets go back to the backend's ring and the TX batch's page-fragment
 * cache is freed in the same section; then zero-copy buffers are waited
 * for and returned (to the guest's ring only when @user: the caller runs
 * in the owner's address space), then the socket is dropped.
 */
static void vh_vq_stop_backend(struct vh_vq *vq, bool user)
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
	mutex_unlock(&vq->mutex);
}

/*
 * Everything back to the state after open(); the caller holds d->mutex.
 * Guest memory is written only when the caller runs in the owner's mm
 * (not in release() by another task, nor at the owner's exit).
 */
static void vh_dev_reset(struct vh_dev *d)
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

/* ---- device ioctls ---- */

static bool vh_is_owner(struct vh_dev *d)
{
	return d->mm && d->mm == current->mm;
}

static long vh_set_owner(struct vh_dev *d)
{
	struct task_struct *w;
	int ret;

	if (d->mm)
		return -EBUSY;
	d->mm = get_task_mm(current);
	if (!d->mm)
		return -EINVAL;
	w = kthread_create(vh_worker, d, "vhost-vmaccel-%d", current->pid);
	if (IS_ERR(w)) {
		ret = PTR_ERR(w);
		goto err;
	}
	get_task_struct(w);
	ret = cgroup_attach_task_all(current, w);
	if (ret) {
		kthread_stop(w);
		put_task_struct(w);
		goto err;
	}
	WRITE_ONCE(d->worker, w);
	wake_up_process(w);
	return 0;
err:
	mmput(d->mm);
	d->mm = NULL;
	return ret;
}

static unsigned int vh_hdr_len(u64 features)
{
	if (features & ((1ULL << VIRTIO_NET_F_MRG_RXBUF) |
			(1ULL << VIRTIO_F_VERSION_1)))
		return sizeof(struct virtio_net_hdr_mrg_rxbuf);
	return sizeof(struct virtio_net_hdr);
}

static bool vh_log_access_ok(struct vh_dev *d, u64 log_base)
{
	struct vhost_iotlb_map *m;

	if (!d->umem)
		return true;
	for (m = vhost_iotlb_itree_first(d->umem, 0, U64_MAX); m;
	     m = vhost_iotlb_itree_next(m, 0, U64_MAX)) {
		u64 first = m->start / PAGE_SIZE / 8;
		u64 last = m->last / PAGE_SIZE / 8;

		if (!access_ok((void __user *)(unsigned long)(log_base + first),
			       last - first + 1))
			return false;
	}
	return true;
}

static long vh_set_features(struct vh_dev *d, u64 features)
{
	unsigned int i, hlen;
	bool running = false;

	if (features & ~VH_FEATURES)
		return -EOPNOTSUPP;
	for (i = 0; i < VH_NVQS; i++)
		running |= !!READ_ONCE(d->vqs[i].sock);
	/* Only dirty logging may change while a backend runs. */
	if (running && ((features ^ d->features) & ~(1ULL << VHOST_F_LOG_ALL)))
		return -EBUSY;
	/*
	 * Logging may be acked before the log base is set (QEMU does so when
	 * it starts the device during a migration); nothing is logged until
	 * then (vh_logging()).
	 */
	if ((features & (1ULL << VHOST_F_LOG_ALL)) && d->log_base &&
	    !vh_log_access_ok(d, d->log_base))
		return -EFAULT;
	hlen = vh_hdr_len(features);
	for (i = 0; i < VH_NVQS; i++) {
		struct vh_vq *vq = &d->vqs[i];

		mutex_lock(&vq->mutex);
		if (features & (1ULL << VHOST_NET_F_VIRTIO_NET_HDR)) {
			vq->vhost_hlen = hlen;
			vq->sock_hlen = 0;
		} else {
			vq->vhost_hlen = 0;
			vq->sock_hlen = hlen;
		}
		mutex_unlock(&vq->mutex);
	}
	for (i = 0; i < VH_NVQS; i++)
		mutex_lock_nested(&d->vqs[i].mutex, i);
	d->features = features;
	for (i = 0; i < VH_NVQS; i++)
		mutex_unlock(&d->vqs[i].mutex);
	return 0;
}

static long vh_set_log_fd(struct vh_dev *d, int __user *argp)
{
	struct eventfd_ctx *ctx = NULL, *old;
	unsigned int i;
	int fd;

	if (get_user(fd, argp))
		return -EFAULT;
	if (fd != -1) {
		ctx = eventfd_ctx_fdget(fd);
		if (IS_ERR(ctx))
			return PTR_ERR(ctx);
	}
	for (i = 0; i < VH_NVQS; i++)
		mutex_lock_nested(&d->vqs[i].mutex, i);
	old = d->log_ctx;
	d->log_ctx = ctx;
	for (i = 0; i < VH_NVQS; i++)
		mutex_unlock(&d->vqs[i].mutex);
	if (old)
		eventfd_ctx_put(old);
	return 0;
}

static long vh_set_log_base(struct vh_dev *d, u64 __user *argp)
{
	unsigned int i;
	u64 base;

	if (copy_from_user(&base, argp, sizeof(base)))
		return -EFAULT;
	if (base != (unsigned long)base || !vh_log_access_ok(d, base))
		return -EFAULT;
	for (i = 0; i < VH_NVQS; i++)
		mutex_lock_nested(&d->vqs[i].mutex, i);
	d->log_base = base;
	for (i = 0; i < VH_NVQS; i++)
		mutex_unlock(&d->vqs[i].mutex);
	return 0;
}

/* ---- queue ioctls ---- */

static long vh_set_backend(struct vh_dev *d, struct vhost_vring_file __user *argp)
{
	struct vhost_vring_file s;
	struct file *file = NULL;
	struct socket *sock = NULL;
	struct vh_vq *vq;
	__virtio16 used;
	long ret = 0;

	if (copy_from_user(&s, argp, sizeof(s)))
		return -EFAULT;
	if (s.index >= VH_NVQS)
		return -ENOBUFS;
	vq = &d->vqs[s.index];
	if (s.fd != -1) {
		sock = vh_get_socket(s.fd, &file);
		if (IS_ERR(sock))
			return PTR_ERR(sock);
	}
	mutex_lock(&vq->mutex);
	if (file && file == vq->sock_file) {
		mutex_unlock(&vq->mutex);
		fput(file);
		return 0;
	}
	if (sock && (!vq->num || !vq->addr_set)) {
		mutex_unlock(&vq->mutex);
		fput(file);
		return -EFAULT;
	}
	if (sock && get_user(used, &vq->used->idx)) {
		mutex_unlock(&vq->mutex);
		fput(file);
		return -EFAULT;
	}
	mutex_unlock(&vq->mutex);

	/* Detach the old backend (waits for zero-copy buffers). */
	vh_vq_stop_backend(vq, true);
	if (!sock)
		return 0;

	mutex_lock(&vq->mutex);
	/*
	 * The used index again: stopping the old backend may have published
	 * entries (zero-copy buffers, the last batch) since the check above.
	 */
	if (get_user(used, &vq->used->idx)) {
		mutex_unlock(&vq->mutex);
		fput(file);
		return -EFAULT;
	}
	vq->sock = sock;
	vq->sock_file = file;
	vq->last_used_idx = __virtio16_to_cpu(true, used);
	vq->signalled_valid = false;
	vq->nheads = 0;
	vq->unnotified = 0;
	if (s.index == VH_TX)
		ret = vh_zc_start(vq);
	if (ret) {
		vq->sock = NULL;
		vq->sock_file = NULL;
		mutex_unlock(&vq->mutex);
		fput(file);
		return ret;
	}
	if (s.index == VH_RX) {
		vh_rx_start(vq);
		vh_poll_start(&vq->sock_poll, file);
	}
	mutex_unlock(&vq->mutex);
	vh_queue_work(d, s.index == VH_TX ? VH_WORK_TX : VH_WORK_RX);
	return 0;
}

static long vh_vring_ioctl(struct vh_dev *d, unsigned int cmd,
			   void __user *argp)
{
	struct vhost_vring_state s;
	struct vhost_vring_file f;
	struct vhost_vring_addr a;
	struct eventfd_ctx *ctx = NULL, *old;
	struct file *kick;
	struct vh_vq *vq;
	long ret = 0;
	u32 idx;

	if (get_user(idx, (u32 __user *)argp))
		return -EFAULT;
	if (idx >= VH_NVQS)
		return -ENOBUFS;
	vq = &d->vqs[idx];

	mutex_lock(&vq->mutex);
	switch (cmd) {
	case VHOST_SET_VRING_NUM:
		if (copy_from_user(&s, argp, sizeof(s))) {
			ret = -EFAULT;
			break;
		}
		if (vq->sock) {
			ret = -EBUSY;
			break;
		}
		if (!s.num || s.num > VH_RING_MAX || (s.num & (s.num - 1))) {
			ret = -EINVAL;
			break;
		}
		vq->num = s.num;
		vq->addr_set = false;
		break;
	case VHOST_SET_VRING_BASE:
		if (copy_from_user(&s, argp, sizeof(s))) {
			ret = -EFAULT;
			break;
		}
		if (vq->sock) {
			ret = -EBUSY;
			break;
		}
		if (s.num > 0xffff) {
			ret = -EINVAL;
			break;
		}
		vq->last_avail_idx = s.num;
		vq->avail_idx = s.num;
		break;
	case VHOST_GET_VRING_BASE:
		s.index = idx;
		s.num = vq->last_avail_idx;
		if (copy_to_user(argp, &s, sizeof(s)))
			ret = -EFAULT;
		break;
	case VHOST_SET_VRING_ADDR:
		if (copy_from_user(&a, argp, sizeof(a))) {
			ret = -EFAULT;
			break;
		}
		ret = vh_ring_check_addr(vq, &a);
		if (ret)
			break;
		vq->desc = u64_to_user_ptr(a.desc_user_addr);
		vq->avail = u64_to_user_ptr(a.avail_user_addr);
		vq->used = u64_to_user_ptr(a.used_user_addr);
		vq->log_used = !!(a.flags & (1U << VHOST_VRING_F_LOG));
		vq->log_addr = a.log_guest_addr;
		vq->addr_set = true;
		break;
	case VHOST_SET_VRING_KICK:
		if (copy_from_user(&f, argp, sizeof(f))) {
			ret = -EFAULT;
			break;
		}
		kick = NULL;
		if (f.fd != -1) {
			kick = eventfd_fget(f.fd);
			if (IS_ERR(kick)) {
				ret = PTR_ERR(kick);
				break;
			}
		}
		vh_poll_stop(&vq->kick_poll);
		if (vq->kick)
			fput(vq->kick);
		vq->kick = kick;
		if (kick)
			vh_poll_start(&vq->kick_poll, kick);
		break;
	case VHOST_SET_VRING_CALL:
	case VHOST_SET_VRING_ERR:
		if (copy_from_user(&f, argp, sizeof(f))) {
			ret = -EFAULT;
			break;
		}
		if (f.fd != -1) {
			ctx = eventfd_ctx_fdget(f.fd);
			if (IS_ERR(ctx)) {
				ret = PTR_ERR(ctx);
				break;
			}
		}
		if (cmd == VHOST_SET_VRING_ERR) {
			old = vq->err;
			vq->err = ctx;
		} else {
			spin_lock_irq(&vq->call_lock);
			old = vq->call;
			vq->call = ctx;
			spin_unlock_irq(&vq->call_lock);
		}
		if (old)
			eventfd_ctx_put(old);
		break;
	case VHOST_SET_VRING_BUSYLOOP_TIMEOUT:
		if (copy_from_user(&s, argp, sizeof(s))) {
			ret = -EFAULT;
			break;
		}
		if (s.num > USEC_PER_SEC) {
			ret = -EINVAL;
			break;
		}
		vq->busyloop_timeout = s.num;
		break;
	case VHOST_GET_VRING_BUSYLOOP_TIMEOUT:
		s.index = idx;
		s.num = vq->busyloop_timeout;
		if (copy_to_user(argp, &s, sizeof(s)))
			ret = -EFAULT;
		break;
	default:
		ret = -ENOTTY;
	}
	mutex_unlock(&vq->mutex);
	return ret;
}

/* ---- extension ioctls ---- */

static long vh_get_vq_stats(struct vh_dev *d, void __user *argp)
{
	struct vmaccel_vhost_vq_stats st;
	struct vmaccel_vic_stats vs;
	struct vh_vq *vq;

	if (copy_from_user(&st, argp, sizeof(st)))
		return -EFAULT;
	if (st.flags || st.index >= VH_NVQS || memchr_inv(st.reserved, 0, sizeof(st.reserved)))
		return -EINVAL;
	vq = &d->vqs[st.index];
	mutex_lock(&vq->mutex);
	st = vq->stats;
	st.flags = 0;
	st.index = vq->index;
	st.kicks = atomic64_read(&vq->kicks);
	st.notify_sent = atomic64_read(&vq->notifies);
	st.zcopy_failed = atomic64_read(&vq->zc_failed);
	st.pending = vq->zc ? atomic_read(&vq->zc->inflight) : 0;
	st.worst_completion_ns = atomic64_read(&vq->zc_worst_ns);
	mutex_unlock(&vq->mutex);
	vmaccel_vic_get_stats(vq->vic, &vs);
	st.notify_suppressed += vs.completions > vs.interrupts ?
				vs.completions - vs.interrupts : 0;
	if (copy_to_user(argp, &st, sizeof(st)))
		return -EFAULT;
	return 0;
}

static long vh_ext_ioctl(struct vh_dev *d, unsigned int cmd, void __user *argp)
{
	struct vmaccel_vhost_zcopy z;
	struct vmaccel_vhost_vic v;
	unsigned int i;
	long ret;

	switch (cmd) {
	case VMACCEL_VHOST_GET_VQ_STATS:
		return vh_get_vq_stats(d, argp);
	case VMACCEL_VHOST_GET_VIC:
		memset(&v, 0, sizeof(v));
		mutex_lock(&d->mutex);
		v.params = d->vic_params;
		mutex_unlock(&d->mutex);
		return copy_to_user(argp, &v, sizeof(v)) ? -EFAULT : 0;
	case VMACCEL_VHOST_GET_ZCOPY:
		mutex_lock(&d->mutex);
		z = d->zpol;
		mutex_unlock(&d->mutex);
		return copy_to_user(argp, &z, sizeof(z)) ? -EFAULT : 0;
	case VMACCEL_VHOST_SET_VIC:
		if (copy_from_user(&v, argp, sizeof(v)))
			return -EFAULT;
		if (v.flags || v.reserved || vmaccel_vic_check_params(&v.params))
			return -EINVAL;
		mutex_lock(&d->mutex);
		ret = vh_is_owner(d) ? 0 : -EPERM;
		if (!ret) {
			d->vic_params = v.params;
			for (i = 0; i < VH_NVQS; i++)
				vmaccel_vic_set_params(d->vqs[i].vic, &v.params);
		}
		mutex_unlock(&d->mutex);
		return ret;
	case VMACCEL_VHOST_SET_ZCOPY:
		if (copy_from_user(&z, argp, sizeof(z)))
			return -EFAULT;
		ret = vh_zpol_check(&z);
		if (ret)
			return ret;
		mutex_lock(&d->mutex);
		ret = vh_is_owner(d) ? 0 : -EPERM;
		if (!ret) {
			mutex_lock(&d->vqs[VH_TX].mutex);
			d->zpol = z;
			mutex_unlock(&d->vqs[VH_TX].mutex);
		}
		mutex_unlock(&d->mutex);
		return ret;
	}
	return -ENOTTY;
}

static long vh_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct vh_dev *d = file->private_data;
	void __user *argp = (void __user *)arg;
	u64 features;
	long ret;

	if (_IOC_TYPE(cmd) == VMACCEL_IOCTL_TYPE)
		return vh_ext_ioctl(d, cmd, argp);

	switch (cmd) {
	case VHOST_GET_FEATURES:
		features = VH_FEATURES;
		return copy_to_user(argp, &features, sizeof(features)) ? -EFAULT : 0;
	case VHOST_GET_BACKEND_FEATURES:
		features = 0;
		return copy_to_user(argp, &features, sizeof(features)) ? -EFAULT : 0;
	case VHOST_SET_OWNER:
	case VHOST_RESET_OWNER:
	case VHOST_SET_FEATURES:
	case VHOST_SET_BACKEND_FEATURES:
	case VHOST_SET_MEM_TABLE:
	case VHOST_SET_LOG_BASE:
	case VHOST_SET_LOG_FD:
	case VHOST_NET_SET_BACKEND:
	case VHOST_SET_VRING_NUM:
	case VHOST_SET_VRING_BASE:
	case VHOST_GET_VRING_BASE:
	case VHOST_SET_VRING_ADDR:
	case VHOST_SET_VRING_KICK:
	case VHOST_SET_VRING_CALL:
	case VHOST_SET_VRING_ERR:
	case VHOST_SET_VRING_BUSYLOOP_TIMEOUT:
	case VHOST_GET_VRING_BUSYLOOP_TIMEOUT:
		break;
	default:
		return -ENOTTY;
	}

	mutex_lock(&d->mutex);
	if (cmd == VHOST_SET_OWNER) {
		ret = vh_set_owner(d);
		goto out;
	}
	if (!vh_is_owner(d)) {
		ret = -EPERM;
		goto out;
	}
	switch (cmd) {
	case VHOST_RESET_OWNER:
		vh_dev_reset(d);
		ret = 0;
		break;
	case VHOST_SET_FEATURES:
		ret = copy_from_user(&features, argp, sizeof(features)) ?
			-EFAULT : vh_set_features(d, features);
		break;
	case VHOST_SET_BACKEND_FEATURES:
		if (copy_from_user(&features, argp, sizeof(features)))
			ret = -EFAULT;
		else
			ret = features ? -EOPNOTSUPP : 0;
		break;
	case VHOST_SET_MEM_TABLE:
		ret = vh_set_mem_table(d, argp);
		break;
	case VHOST_SET_LOG_BASE:
		ret = vh_set_log_base(d, argp);
		break;
	case VHOST_SET_LOG_FD:
		ret = vh_set_log_fd(d, argp);
		break;
	case VHOST_NET_SET_BACKEND:
		ret = vh_set_backend(d, argp);
		break;
	default:
		ret = vh_vring_ioctl(d, cmd, argp);
	}
out:
	mutex_unlock(&d->mutex);
	return ret;
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
MODULE_AUTHOR("vmaccel");
