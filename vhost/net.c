// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmaccel_vhost_net - the TX and RX handlers and the tun/tap backends.
 *
 * TX: each available chain is one packet; it is sent with sendmsg() on the
 * backend socket, by copy or zero-copy (see zcopy.c), or, when small,
 * copied into a batch that goes to the backend in one sendmsg() (see
 * txbatch.c); its head is batched into the used ring; one used-index update and at most one
 * notification per batch.  RX: packets are taken from the backend's ring
 * (tun/macvtap export it) in batches; for the one at the head of the batch
 * enough chains are taken (several with mergeable buffers), recvmsg() with
 * that packet in msg_control writes it into them and the number of buffers
 * goes into the header; used elements are published in batches too.
 * Packets left in the batch go back to the backend's ring when the backend
 * stops (vh_rx_stop()).  Each handler stops after a weight of
 * packets or bytes and queues itself again, so neither queue nor the
 * worker can monopolise the CPU.
 */
#include <linux/file.h>
#include <linux/if_tap.h>
#include <linux/if_tun.h>
#include <linux/net.h>
#include <linux/ptr_ring.h>
#include <linux/sched/clock.h>
#include <linux/skb_array.h>
#include <linux/socket.h>
#include <linux/uio.h>
#include <net/sock.h>
#include <net/xdp.h>

#include "vhost.h"
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

/*
 * Busy-poll until @ready() or until @end, the deadline of the handler's
 * pass: the first wait of a pass sets it (@end 0), so busyloop_timeout
 * bounds the polling of a whole pass, not of each wait.
 */
static bool vh_busy_wait(struct vh_vq *vq, bool (*ready)(struct vh_vq *),
			 u64 *end)
{
	if (!vq->busyloop_timeout)
		return false;
	if (!*end)
		*end = local_clock() + (u64)vq->busyloop_timeout * NSEC_PER_USEC;
	while (local_clock() < *end && !need_resched()) {
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
	if (vh_used_flush(vq)) {
		vh_vq_error(vq, -EFAULT);
		return;
	}
	vh_notify(vq);
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
	u64 poll_end = 0;
	bool zc;
	u16 head;
	int ret;

	mutex_lock(&vq->mutex);
	sock = vq->sock;
	if (!sock || !vq->num || !vq->addr_set)
		goto out;
	vh_zc_reap(vq);
	vh_txb_begin(vq);
	vh_disable_notify(vq);
	for (;;) {
		if (vq->txb.n >= vq->txb.max_n && vh_txb_flush(vq)) {
			vh_vq_error(vq, -EFAULT);
			break;
		}
		ret = vh_ring_get(vq, &out, &in, &head, false);
		if (ret == -EAGAIN) {
			/* Nothing more for now: the batch leaves before any wait. */
			if (vh_txb_flush(vq)) {
				vh_vq_error(vq, -EFAULT);
				break;
			}
			/*
			 * A retry costs a turn of the weight like a packet
			 * does: a guest that moves its avail index to and fro
			 * must not keep the handler (and vq->mutex) here.
			 */
			if (vh_busy_wait(vq, vh_tx_ready, &poll_end))
				goto turn;
			if (unlikely(vh_enable_notify(vq))) {
				vh_disable_notify(vq);
				goto turn;
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
			if (vh_txb_flush(vq)) {
				vh_vq_error(vq, -EFAULT);
				break;
			}
			vq->stats.dropped++;
			atomic64_inc(&vh_totals.dropped);
			trace_vh_tx(vq->dev->id, head, len, -EMSGSIZE, false);
			if (vh_used_push(vq, head, 0)) {
				vh_vq_error(vq, -EFAULT);
				break;
			}
			/* A drop counts towards the weight like a send. */
			len = 0;
			goto next;
		}
		iov_iter_advance(&msg.msg_iter, vq->vhost_hlen);
		len -= vq->vhost_hlen;

		zc = vh_zc_choose(vq, len);
		/* Inline length check: large packets skip the batch code. */
		if (!zc && len <= vq->txb.max_len + vq->sock_hlen &&
		    !vh_txb_add(vq, &msg.msg_iter, len, head)) {
			len -= vq->sock_hlen;
			goto next;
		}
		/* Sent on its own: everything taken before it goes first. */
		if (vq->txb.n && vh_txb_flush(vq)) {
			vh_ring_discard(vq, 1);
			vh_vq_error(vq, -EFAULT);
			break;
		}
		zs = zc ? vh_zc_get(vq, head) : NULL;
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
		/*
		 * A zero-copy send that failed for good left no skb: the
		 * buffer goes back now (vh_zc_sent() made sure the slot never
		 * returns it).
		 */
		if (!zs || ret < 0) {
			if (!zs)
				vq->stats.copies++;
			if (vh_used_push(vq, head, 0)) {
				vh_vq_error(vq, -EFAULT);
				break;
			}
		}
next:
		bytes += len;
turn:
		if (++pkts >= vh_tx_weight || bytes >= VH_WEIGHT_BYTES) {
			vh_queue_work(vq->dev, VH_WORK_TX);
			break;
		}
	}
	if (vh_txb_flush(vq))
		vh_vq_error(vq, -EFAULT);
	vh_tx_done(vq);
out:
	mutex_unlock(&vq->mutex);
}

/* Length of a packet on a tun/tap ring: an skb or (tun) an XDP frame. */
static int vh_rx_ptr_len(void *ptr)
{
	if (tun_is_xdp_frame(ptr))
		return tun_ptr_to_xdp(ptr)->len;
	return __skb_array_len_with_tag(ptr);
}

/*
 * Length of the next packet, 0 when there is none.  With a backend ring
 * the packets are taken from it VH_RX_BATCH at a time (one lock round trip
 * for the batch instead of a peek and a consume per packet); the packet at
 * the head of the batch is the next one.
 */
static int vh_rx_peek(struct vh_vq *vq)
{
	if (!vq->rx_ring)
		return vq->sock->ops->peek_len(vq->sock);
	if (vq->rxq_head == vq->rxq_tail) {
		vq->rxq_head = 0;
		vq->rxq_tail = ptr_ring_consume_batched(vq->rx_ring, vq->rxq,
							VH_RX_BATCH);
		if (!vq->rxq_tail)
			return 0;
	}
	return vh_rx_ptr_len(vq->rxq[vq->rxq_head]);
}

/*
 * The packet vh_rx_peek() reported, for msg_control: tun and macvtap
 * receive that packet instead of one from their ring and always consume it
 * (free it on error).  NULL without a backend ring (recvmsg takes the head
 * of the socket's queue).
 */
static void *vh_rx_take(struct vh_vq *vq)
{
	if (!vq->rx_ring)
		return NULL;
	return vq->rxq[vq->rxq_head++];
}

static bool vh_rx_ready(struct vh_vq *vq)
{
	if (!vq->rx_ring)
		return vq->sock->ops->peek_len(vq->sock) > 0;
	return vq->rxq_head != vq->rxq_tail || !ptr_ring_empty(vq->rx_ring);
}

/**
 * vh_rx_start() - find the packet ring of a new RX backend
 * @vq: RX queue, mutex held, @vq->sock_file just set.
 */
void vh_rx_start(struct vh_vq *vq)
{
	struct ptr_ring *r;

	lockdep_assert_held(&vq->mutex);
	r = tun_get_tx_ring(vq->sock_file);
	if (IS_ERR(r))
		r = tap_get_ptr_ring(vq->sock_file);
	vq->rx_ring = IS_ERR(r) ? NULL : r;
	vq->rxq_head = 0;
	vq->rxq_tail = 0;
}

/**
 * vh_rx_stop() - give the batched packets back to the backend
 * @vq: RX queue, mutex held, before the backend file is dropped.
 *
 * The packets go back to the head of the backend's ring in their order, so
 * the next reader (a new backend of this queue, the VMM's read()) gets them;
 * those that no longer fit are freed.  Nothing stays in the queue.
 */
void vh_rx_stop(struct vh_vq *vq)
{
	lockdep_assert_held(&vq->mutex);
	if (vq->rx_ring && vq->rxq_head != vq->rxq_tail)
		ptr_ring_unconsume(vq->rx_ring, vq->rxq + vq->rxq_head,
				   vq->rxq_tail - vq->rxq_head, tun_ptr_free);
	vq->rxq_head = 0;
	vq->rxq_tail = 0;
	vq->rx_ring = NULL;
}

/*
 * Take chains for an RX packet of @need bytes (header included): one chain,
 * or as many as needed with mergeable buffers.  Returns the number of
 * chains taken (their heads and lengths in vq->heads from vq->nheads on,
 * not yet counted in vq->nheads), 0 when the ring ran out (nothing is
 * kept), -ENOSPC when the used batch would exceed the ring (publish it and
 * try again; a guest that re-offers heads still in flight gets there), or
 * another negative error.
 */
static int vh_rx_bufs(struct vh_vq *vq, size_t need, unsigned int *niov,
		      bool mrg, u64 *avail_len)
{
	struct vring_used_elem *heads = vq->heads + vq->nheads;
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
		/* One flush writes at most num used elements. */
		if (vq->nheads + count >= vq->num) {
			ret = -ENOSPC;
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
		heads[count].id = (__force __virtio32)cpu_to_le32(head);
		heads[count].len = (__force __virtio32)
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

/* Publish the batched used elements and notify; false on a ring fault. */
static bool vh_rx_publish(struct vh_vq *vq)
{
	u16 before = vq->last_used_idx;

	if (vh_used_flush(vq)) {
		vh_vq_error(vq, -EFAULT);
		/*
		 * Entries not published: nor are their packets.  (A failed
		 * dirty log fails the flush after it published them.)
		 */
		if (vq->last_used_idx == before)
			vq->unnotified_pkts = 0;
		return false;
	}
	vh_notify(vq);
	return true;
}

/* Drop the next packet without touching guest memory. */
static void vh_rx_drop(struct vh_vq *vq, int plen)
{
	struct msghdr msg = { .msg_flags = MSG_DONTWAIT | MSG_TRUNC };
	struct socket *sock = vq->sock;
	char scratch[16];
	struct kvec kv = { .iov_base = scratch, .iov_len = sizeof(scratch) };

	/* Received truncated into a kernel buffer, which consumes it. */
	iov_iter_kvec(&msg.msg_iter, READ, &kv, 1, sizeof(scratch));
	msg.msg_control = vh_rx_take(vq);
	sock->ops->recvmsg(sock, &msg, sizeof(scratch), MSG_DONTWAIT | MSG_TRUNC);
	vq->stats.dropped++;
	atomic64_inc(&vh_totals.dropped);
	trace_vh_rx(vq->dev->id, plen, 0, -EMSGSIZE);
}

/*
 * Count a packet (received or dropped) towards the handler's weight; true
 * when the handler must stop and queue itself again.
 */
static bool vh_rx_weighed(struct vh_vq *vq, unsigned int *pkts, size_t bytes)
{
	if (++*pkts < vh_rx_weight && bytes < VH_WEIGHT_BYTES)
		return false;
	vh_queue_work(vq->dev, VH_WORK_RX);
	return true;
}

/**
 * vh_handle_rx() - move packets from the backend into the RX ring
 * @vq: the RX queue; called by the worker.
 *
 * While it runs, the queue is off the backend's wait queue (a wake-up per
 * arriving packet would only set a bit that is already set); it goes back
 * on when the backend has no packet left.  When the guest's buffers run
 * out the queue waits for a kick instead, and an interrupt vic holds back
 * is delivered at once.  Used elements are published
 * VH_USED_BATCH at a time, each batch with one index update and at most
 * one notification.
 */
void vh_handle_rx(struct vh_vq *vq)
{
	struct virtio_net_hdr_mrg_rxbuf hdr = {
		.hdr.gso_type = VIRTIO_NET_HDR_GSO_NONE,
	};
	struct msghdr msg = { .msg_flags = MSG_DONTWAIT | MSG_TRUNC };
	bool mrg = vh_has(vq->dev, VIRTIO_NET_F_MRG_RXBUF), drained = false;
	bool starved = false;
	unsigned int pkts = 0, i, niov;
	size_t bytes = 0, need, hlen, left;
	struct vring_used_elem *heads;
	struct iov_iter it;
	struct socket *sock;
	u64 room, poll_end = 0;
	int count, ret, plen;

	mutex_lock(&vq->mutex);
	sock = vq->sock;
	if (!sock || !vq->num || !vq->addr_set ||
	    (!vq->rx_ring && !sock->ops->peek_len))
		goto out;
	hlen = vq->vhost_hlen + vq->sock_hlen;
	vh_disable_notify(vq);
	vh_poll_stop(&vq->sock_poll);
	for (;;) {
		plen = vh_rx_peek(vq);
		if (plen <= 0) {
			/* Retries cost a turn of the weight (see TX). */
			if (vh_busy_wait(vq, vh_rx_ready, &poll_end)) {
				if (vh_rx_weighed(vq, &pkts, bytes))
					break;
				continue;
			}
			drained = true;
			break;
		}
		if (vq->nheads >= VH_USED_BATCH && !vh_rx_publish(vq))
			break;
		need = plen + hlen;
		vq->nlog = 0;
		heads = vq->heads + vq->nheads;
		count = vh_rx_bufs(vq, need, &niov, mrg, &room);
		if (count == 0) {
			/* No room: wait for the guest's next kick. */
			if (unlikely(vh_enable_notify(vq))) {
				vh_disable_notify(vq);
				if (vh_rx_weighed(vq, &pkts, bytes))
					break;
				continue;
			}
			starved = true;
			break;
		}
		if (count == -EMSGSIZE) {
			vh_rx_drop(vq, plen);
			if (vh_rx_weighed(vq, &pkts, bytes))
				break;
			continue;
		}
		if (count == -ENOSPC) {
			if (!vh_rx_publish(vq) || vh_rx_weighed(vq, &pkts, bytes))
				break;
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
		msg.msg_control = vh_rx_take(vq);
		ret = sock->ops->recvmsg(sock, &msg, need - vq->vhost_hlen,
					 MSG_DONTWAIT | MSG_TRUNC);
		if (unlikely(ret != (int)(need - vq->vhost_hlen))) {
			/*
			 * Truncated (buffers too small) or gone: the packet is
			 * dropped and the buffers are reused.
			 */
			vh_ring_discard(vq, count);
			vq->stats.dropped++;
			atomic64_inc(&vh_totals.dropped);
			trace_vh_rx(vq->dev->id, plen, count, ret < 0 ? ret : -EMSGSIZE);
			if (ret == -EAGAIN) {
				drained = true;
				break;
			}
			if (vh_rx_weighed(vq, &pkts, bytes))
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
				/* The packet is lost; its buffers are not. */
				vh_ring_discard(vq, count);
				vq->stats.dropped++;
				atomic64_inc(&vh_totals.dropped);
				trace_vh_rx(vq->dev->id, plen, count, -EFAULT);
				vh_vq_error(vq, -EFAULT);
				break;
			}
		}
		/* Last chain gets what is left; used lengths are exact. */
		left = need;
		for (i = 0; i < (unsigned int)count; i++) {
			u32 l = le32_to_cpu((__force __le32)heads[i].len);

			l = min_t(size_t, l, left);
			heads[i].len = (__force __virtio32)cpu_to_le32(l);
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
		vq->nheads += count;
		vq->unnotified_pkts++;
		trace_vh_rx(vq->dev->id, plen, count, 0);
		vq->stats.packets++;
		vq->stats.bytes += plen;
		atomic64_inc(&vh_totals.rx_packets);
		atomic64_add(plen, &vh_totals.rx_bytes);
		bytes += plen;
		if (vh_rx_weighed(vq, &pkts, bytes))
			break;
	}
	if (drained)
		vh_poll_start(&vq->sock_poll, vq->sock_file);
	vh_rx_publish(vq);
	/*
	 * Packets wait and the guest has no buffer left: it posts more when
	 * it handles its interrupt, so one vic holds back goes out now, not
	 * at the backstop.
	 */
	if (starved)
		vmaccel_vic_flush(vq->vic);
out:
	mutex_unlock(&vq->mutex);
}
