// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmaccel_vhost_net - the TX and RX handlers and the tun/tap backends.
 *
 * TX: each available chain is one packet; it is sent with sendmsg() on the
 * backend socket, by copy or zero-copy (see zcopy.c), and its head is
 * batched into the used ring; one used-index update and at most one
 * notification per batch.  RX: the packet length is peeked from the
 * socket, enough chains for it are taken (several with mergeable
 * buffers), recvmsg() writes the packet into them and the number of
 * buffers goes into the header.  Each handler stops after a weight of
 * packets or bytes and queues itself again, so neither queue nor the
 * worker can monopolise the CPU.
 */
#include <linux/file.h>
#include <linux/if_tap.h>
#include <linux/if_tun.h>
#include <linux/net.h>
#include <linux/sched/clock.h>
#include <linux/socket.h>
#include <linux/uio.h>
#include <net/sock.h>

#include "vhnet.h"
#include "trace.h"

#define VH_WEIGHT_BYTES	0x80000

/**
 * vh_get_socket() - the socket of a tun/tap or macvtap file descriptor
 * @fd: descriptor.
 * @filep: set to the file (a reference) on success.
 *
 * Return: the socket, ERR_PTR(-EBADF) or ERR_PTR(-ENOTSOCK).
 */
struct socket *vh_get_socket(int fd, struct file **filep)
{
	struct file *file = fget(fd);
	struct socket *sock;

	if (!file)
		return ERR_PTR(-EBADF);
	sock = tun_get_socket(file);
	if (IS_ERR(sock))
		sock = tap_get_socket(file);
	if (IS_ERR(sock)) {
		fput(file);
		return ERR_PTR(-ENOTSOCK);
	}
	*filep = file;
	return sock;
}

static bool vh_busy_wait(struct vh_vq *vq, bool (*ready)(struct vh_vq *))
{
	u64 end;

	if (!vq->busyloop_timeout)
		return false;
	end = local_clock() + (u64)vq->busyloop_timeout * NSEC_PER_USEC;
	while (local_clock() < end && !need_resched()) {
		if (ready(vq))
			return true;
		cpu_relax();
	}
	return false;
}

static bool vh_tx_ready(struct vh_vq *vq)
{
	return !vh_ring_empty(vq);
}

static void vh_tx_done(struct vh_vq *vq)
{
	unsigned int n = vq->nheads;

	if (vh_used_flush(vq)) {
		vh_vq_error(vq, -EFAULT);
		return;
	}
	vh_notify(vq, n);
}

/**
 * vh_handle_tx() - send what the guest queued on the TX ring
 * @vq: the TX queue; called by the worker.
 */
void vh_handle_tx(struct vh_vq *vq)
{
	struct msghdr msg = { .msg_flags = MSG_DONTWAIT };
	unsigned int out, in, pkts = 0;
	size_t len, bytes = 0;
	struct tun_msg_ctl ctl;
	struct vh_zslot *zs;
	struct socket *sock;
	u16 head;
	int ret;

	mutex_lock(&vq->mutex);
	sock = vq->sock;
	if (!sock || !vq->num || !vq->addr_set)
		goto out;
	vh_zc_reap(vq);
	vh_disable_notify(vq);
	for (;;) {
		ret = vh_ring_get(vq, &out, &in, &head, false);
		if (ret == -EAGAIN) {
			if (vh_busy_wait(vq, vh_tx_ready))
				continue;
			if (unlikely(vh_enable_notify(vq))) {
				vh_disable_notify(vq);
				continue;
			}
			break;
		}
		if (ret) {
			vh_vq_error(vq, ret);
			break;
		}
		if (in) {
			vh_ring_discard(vq, 1);
			vh_vq_error(vq, -EINVAL);
			break;
		}
		iov_iter_init(&msg.msg_iter, WRITE, vq->iov, out,
			      iov_length(vq->iov, out));
		len = iov_iter_count(&msg.msg_iter);
		if (len < vq->vhost_hlen || len - vq->vhost_hlen > VH_MAX_PKT +
		    vq->sock_hlen) {
			/* Malformed or oversized: drop it, return the buffer. */
			vq->stats.dropped++;
			atomic64_inc(&vh_totals.dropped);
			trace_vh_tx(vq->dev->id, head, len, -EMSGSIZE, false);
			if (vh_used_push(vq, head, 0)) {
				vh_vq_error(vq, -EFAULT);
				break;
			}
			continue;
		}
		iov_iter_advance(&msg.msg_iter, vq->vhost_hlen);
		len -= vq->vhost_hlen;

		zs = NULL;
		if (vh_zc_choose(vq, len))
			zs = vh_zc_get(vq, head);
		if (zs) {
			ctl.type = TUN_MSG_UBUF;
			ctl.ptr = &zs->ubuf;
			ctl.num = 0;
			msg.msg_control = &ctl;
			msg.msg_controllen = sizeof(ctl);
		} else {
			msg.msg_control = NULL;
			msg.msg_controllen = 0;
		}
		ret = sock->ops->sendmsg(sock, &msg, len);
		if (zs)
			vh_zc_sent(vq, zs, ret);
		if (unlikely(ret == -EAGAIN || ret == -ENOMEM ||
			     ret == -ENOBUFS)) {
			/* Backend full: retry this chain on write space. */
			vh_ring_discard(vq, 1);
			vh_poll_start(&vq->sock_poll, vq->sock_file);
			break;
		}
		vh_poll_stop(&vq->sock_poll);
		trace_vh_tx(vq->dev->id, head, len, ret < 0 ? ret : 0, !!zs);
		if (ret < 0 || (size_t)ret != len) {
			vq->stats.dropped++;
			atomic64_inc(&vh_totals.dropped);
		} else {
			len -= vq->sock_hlen;
			vq->stats.packets++;
			vq->stats.bytes += len;
			atomic64_inc(&vh_totals.tx_packets);
			atomic64_add(len, &vh_totals.tx_bytes);
		}
		if (!zs) {
			vq->stats.copies++;
			if (vh_used_push(vq, head, 0)) {
				vh_vq_error(vq, -EFAULT);
				break;
			}
		}
		bytes += len;
		if (++pkts >= vh_tx_weight || bytes >= VH_WEIGHT_BYTES) {
			vh_queue_work(vq->dev, VH_WORK_TX);
			break;
		}
	}
	vh_tx_done(vq);
out:
	mutex_unlock(&vq->mutex);
}

static bool vh_rx_ready(struct vh_vq *vq)
{
	return vq->sock->ops->peek_len(vq->sock) > 0;
}

/*
 * Take chains for an RX packet of @need bytes (header included): one chain,
 * or as many as needed with mergeable buffers.  Returns the number of
 * chains taken (their heads and lengths in vq->heads from @base), 0 when
 * the ring ran out (nothing is kept), or a negative error.
 */
static int vh_rx_bufs(struct vh_vq *vq, size_t need, unsigned int *niov,
		      bool mrg, u64 *avail_len)
{
	unsigned int out, in, count = 0, total_iov = 0;
	size_t got = 0;
	u16 head;
	int ret;

	*avail_len = 0;
	while (got < need) {
		if (count >= VH_IOV_MAX || count >= vq->num) {
			ret = -ENOBUFS;
			goto fail;
		}
		/* Collect the segments of all chains in one vector. */
		vq->iov_off = total_iov;
		ret = vh_ring_get(vq, &out, &in, &head, vh_logging(vq));
		vq->iov_off = 0;
		if (ret == -EAGAIN) {
			ret = 0;
			goto fail;
		}
		if (ret) {
			if (ret == -ENOBUFS)
				ret = -E2BIG;
			goto fail;
		}
		if (out) {
			count++;
			ret = -EINVAL;
			goto fail;
		}
		vq->heads[count].id = (__force __virtio32)cpu_to_le32(head);
		vq->heads[count].len = (__force __virtio32)
			cpu_to_le32(iov_length(vq->iov + total_iov, in));
		got += iov_length(vq->iov + total_iov, in);
		total_iov += in;
		count++;
		if (!mrg)
			break;
	}
	if (got < need) {
		/* One chain too small for the packet (no mergeable buffers). */
		ret = -EMSGSIZE;
		goto fail;
	}
	*niov = total_iov;
	*avail_len = got;
	return count;
fail:
	vh_ring_discard(vq, count);
	return ret;
}

/**
 * vh_handle_rx() - move packets from the backend into the RX ring
 * @vq: the RX queue; called by the worker.
 */
void vh_handle_rx(struct vh_vq *vq)
{
	struct virtio_net_hdr_mrg_rxbuf hdr = {
		.hdr.gso_type = VIRTIO_NET_HDR_GSO_NONE,
	};
	struct msghdr msg = { .msg_flags = MSG_DONTWAIT | MSG_TRUNC };
	unsigned int pkts = 0, i, niov, done = 0;
	bool mrg = vh_has(vq->dev, VIRTIO_NET_F_MRG_RXBUF);
	size_t bytes = 0, need, hlen, left;
	struct iov_iter it;
	struct socket *sock;
	u64 room;
	int count, ret, plen;

	mutex_lock(&vq->mutex);
	sock = vq->sock;
	if (!sock || !vq->num || !vq->addr_set || !sock->ops->peek_len)
		goto out;
	hlen = vq->vhost_hlen + vq->sock_hlen;
	vh_disable_notify(vq);
	for (;;) {
		plen = sock->ops->peek_len(sock);
		if (plen <= 0) {
			if (vh_busy_wait(vq, vh_rx_ready))
				continue;
			break;
		}
		need = plen + hlen;
		vq->nheads = 0;
		vq->nlog = 0;
		count = vh_rx_bufs(vq, need, &niov, mrg, &room);
		if (count == 0) {
			/* No room: wait for the guest's next kick. */
			if (unlikely(vh_enable_notify(vq))) {
				vh_disable_notify(vq);
				continue;
			}
			break;
		}
		if (count == -EMSGSIZE) {
			/*
			 * Drop the packet: receive it into a kernel scratch
			 * buffer, truncated; guest memory is not touched.
			 */
			char scratch[16];
			struct kvec kv = { .iov_base = scratch,
					   .iov_len = sizeof(scratch) };

			iov_iter_kvec(&msg.msg_iter, READ, &kv, 1, sizeof(scratch));
			sock->ops->recvmsg(sock, &msg, sizeof(scratch),
					   MSG_DONTWAIT | MSG_TRUNC);
			vq->stats.dropped++;
			atomic64_inc(&vh_totals.dropped);
			trace_vh_rx(vq->dev->id, plen, 0, -EMSGSIZE);
			continue;
		}
		if (count < 0) {
			vh_vq_error(vq, count);
			break;
		}
		iov_iter_init(&it, READ, vq->iov, niov, room);
		if (vq->vhost_hlen) {
			hdr.num_buffers = __cpu_to_virtio16(true, count);
			if (copy_to_iter(&hdr, vq->vhost_hlen, &it) !=
			    vq->vhost_hlen) {
				vh_ring_discard(vq, count);
				vh_vq_error(vq, -EFAULT);
				break;
			}
		}
		msg.msg_iter = it;
		ret = sock->ops->recvmsg(sock, &msg, need - vq->vhost_hlen,
					 MSG_DONTWAIT | MSG_TRUNC);
		if (unlikely(ret != (int)(need - vq->vhost_hlen))) {
			/*
			 * Truncated (buffers too small) or gone: the packet is
			 * dropped and the buffers are reused.
			 */
			vh_ring_discard(vq, count);
			vq->nheads = 0;
			vq->stats.dropped++;
			atomic64_inc(&vh_totals.dropped);
			trace_vh_rx(vq->dev->id, plen, count, ret < 0 ? ret : -EMSGSIZE);
			if (ret == -EAGAIN)
				break;
			continue;
		}
		if (mrg && !vq->vhost_hlen) {
			/* num_buffers lives after the 10-byte header. */
			__le16 nb = cpu_to_le16(count);

			iov_iter_init(&it, READ, vq->iov, niov, room);
			iov_iter_advance(&it, offsetof(struct virtio_net_hdr_mrg_rxbuf,
						       num_buffers));
			if (copy_to_iter(&nb, sizeof(nb), &it) != sizeof(nb)) {
				vh_vq_error(vq, -EFAULT);
				vq->nheads = 0;
				break;
			}
		}
		/* Last chain gets what is left; used lengths are exact. */
		left = need;
		for (i = 0; i < (unsigned int)count; i++) {
			u32 l = le32_to_cpu((__force __le32)vq->heads[i].len);

			l = min_t(size_t, l, left);
			vq->heads[i].len = (__force __virtio32)cpu_to_le32(l);
			left -= l;
		}
		if (vh_logging(vq)) {
			left = need;
			for (i = 0; i < vq->nlog && left; i++) {
				u64 l = min_t(u64, vq->logv[i].len, left);

				vh_log_write(vq, vq->logv[i].addr, l);
				left -= l;
			}
		}
		vq->nheads = count;
		if (vh_used_flush(vq)) {
			vh_vq_error(vq, -EFAULT);
			break;
		}
		done += count;
		trace_vh_rx(vq->dev->id, plen, count, 0);
		vq->stats.packets++;
		vq->stats.bytes += plen;
		atomic64_inc(&vh_totals.rx_packets);
		atomic64_add(plen, &vh_totals.rx_bytes);
		bytes += plen;
		if (++pkts >= vh_rx_weight || bytes >= VH_WEIGHT_BYTES) {
			vh_queue_work(vq->dev, VH_WORK_RX);
			break;
		}
	}
	vh_notify(vq, done);
out:
	mutex_unlock(&vq->mutex);
}
