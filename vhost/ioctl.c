// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmaccel_vhost_net: the standard vhost-net ioctls of <linux/vhost.h> and
 * the vmaccel extension ioctls of <linux/vmaccel_vhost.h>.
 */
#include <linux/cgroup.h>
#include <linux/compat.h>
#include <linux/eventfd.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/kthread.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>

#include "vhost.h"
#include "trace.h"

#define VH_FEATURES ((1ULL << VIRTIO_F_NOTIFY_ON_EMPTY) | \
		     (1ULL << VIRTIO_RING_F_INDIRECT_DESC) | \
		     (1ULL << VIRTIO_RING_F_EVENT_IDX) | \
		     (1ULL << VHOST_NET_F_VIRTIO_NET_HDR) | \
		     (1ULL << VIRTIO_F_ANY_LAYOUT) | \
		     (1ULL << VHOST_F_LOG_ALL) | \
		     (1ULL << VIRTIO_NET_F_MRG_RXBUF) | \
		     (1ULL << VIRTIO_F_VERSION_1))

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
	vq->unnotified_pkts = 0;
	atomic_set(&vq->run, 0);
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
		/* The VMM is stopping the queue: nothing held back (see stop). */
		vmaccel_vic_flush(vq->vic);
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

/**
 * vh_ioctl() - the device's ioctls: standard vhost-net and vmaccel extensions
 * @file: an open /dev/vmaccel-vhost-net.
 * @cmd: ioctl number.
 * @arg: its argument.
 *
 * Return: 0 or a value the ioctl defines, or a negative errno.
 */
long vh_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
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
