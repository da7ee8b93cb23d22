// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmaccel_vhost_net - batched TX copies.
 *
 * A small TX packet costs the backend more in the per-packet sendmsg()
 * (socket checks, an skb allocation and its accounting against sk_sndbuf)
 * than in copying its bytes.  tun and macvtap take a second form of
 * sendmsg(): msg_control is a struct tun_msg_ctl of type TUN_MSG_PTR whose
 * @ptr is an array of @num struct xdp_buff, each a page fragment that
 * starts with a struct tun_xdp_hdr (the fragment's size and the
 * virtio-net header) and holds the frame after some headroom, with room
 * for a struct skb_shared_info at its end.  The backend builds an skb
 * around each fragment (build_skb(), no copy), applies the virtio-net
 * header and hands it on; every fragment's page reference passes to the
 * backend, which frees it on error.  The form has no per-packet result and
 * no sk_sndbuf accounting, so it is used only when the backend's sndbuf is
 * unlimited (INT_MAX, the tun default and what QEMU sets on its taps).
 *
 * vh_handle_tx() offers each copied packet to vh_txb_add(); a packet that
 * is not eligible (too long for the tx_batch_max_len knob or for one
 * page, shorter than an Ethernet header, a virtio-net header the backend
 * would refuse, no memory) is left untouched and the caller sends the batch
 * and then the packet the old way, so packets leave in ring order.  The
 * batch is sent when full (tx_batch_pkts), before any per-packet send,
 * and before the handler returns for whatever reason; the descriptors of
 * its packets go to the used ring only after that sendmsg().  The page
 * fragments come from a per-queue page_frag_cache (mm/page_alloc.c),
 * drained when the backend stops and when the device is closed.
 */
#include <linux/if_ether.h>
#include <linux/if_tun.h>
#include <linux/mm.h>
#include <linux/net.h>
#include <linux/skbuff.h>
#include <linux/slab.h>
#include <linux/uio.h>
#include <net/sock.h>
#include <net/xdp.h>

#include "vhost.h"
#include "trace.h"

/* Room for struct skb_shared_info at the end of each fragment. */
#define VH_TXB_SHINFO	SKB_DATA_ALIGN(sizeof(struct skb_shared_info))
/* Headroom: the usual skb headroom, or XDP's when a program is attached. */
#define VH_TXB_PAD	max_t(unsigned int, NET_SKB_PAD + NET_IP_ALIGN, \
			      sizeof(struct tun_xdp_hdr))
#define VH_TXB_PAD_XDP	(XDP_PACKET_HEADROOM + NET_IP_ALIGN)

/**
 * vh_txb_len_limit() - longest frame a batch can hold
 *
 * Return: the largest tx_batch_max_len: a frame of that length, the XDP
 * headroom and the shared info fit in one page.
 */
unsigned int vh_txb_len_limit(void)
{
	return PAGE_SIZE - VH_TXB_SHINFO - SKB_DATA_ALIGN(VH_TXB_PAD_XDP);
}

/**
 * vh_txb_alloc() - allocate the batch array of a TX queue
 * @vq: TX queue, not yet in use.
 *
 * Return: 0 or -ENOMEM.
 */
int vh_txb_alloc(struct vh_vq *vq)
{
	vq->txb.xdp = kcalloc(VH_TXB_MAX, sizeof(*vq->txb.xdp),
			      GFP_KERNEL_ACCOUNT);
	return vq->txb.xdp ? 0 : -ENOMEM;
}

/**
 * vh_txb_free() - free the batch array (the cache must be drained)
 * @vq: queue, no longer in use.
 */
void vh_txb_free(struct vh_vq *vq)
{
	WARN_ON_ONCE(vq->txb.frag.va || vq->txb.n);
	kfree(vq->txb.xdp);
	vq->txb.xdp = NULL;
}

/**
 * vh_txb_begin() - set the batch policy for one run of the TX handler
 * @vq: TX queue, mutex held, backend set.
 *
 * Reads the knobs once per run; batching is off for a backend whose
 * sk_sndbuf is limited (TUN_MSG_PTR would bypass that limit).
 */
void vh_txb_begin(struct vh_vq *vq)
{
	struct vh_txb *b = &vq->txb;
	struct sock *sk = vq->sock->sk;

	lockdep_assert_held(&vq->mutex);
	b->max_n = min(READ_ONCE(vh_txb_pkts), VH_TXB_MAX);
	b->max_len = READ_ONCE(vh_txb_max_len);
	if (!b->xdp || b->max_n < 2 || READ_ONCE(sk->sk_sndbuf) != INT_MAX)
		b->max_len = 0;
	b->pad = sock_flag(sk, SOCK_XDP) ? VH_TXB_PAD_XDP : VH_TXB_PAD;
}

/**
 * vh_txb_add() - copy one TX packet into the batch
 * @vq: TX queue, mutex held, vh_txb_begin() called in this run.
 * @from: the packet after the device's header: backend header + frame.
 * @len: bytes in @from.
 * @head: its descriptor head.
 *
 * The caller must send the batch first when it is full (vh_txb_flush()).
 *
 * Return: 0 when the packet is in the batch (@from consumed); otherwise a
 * negative errno and @from is untouched, for the per-packet path:
 * -ENOSPC (not eligible: batching off, too short or too long, a header
 * the backend would refuse), -ENOMEM, -EFAULT (guest memory unreadable;
 * the per-packet path reports it as before).
 */
int vh_txb_add(struct vh_vq *vq, struct iov_iter *from, size_t len, u16 head)
{
	struct vh_txb *b = &vq->txb;
	unsigned int hlen = vq->sock_hlen, buflen;
	struct virtio_net_hdr gso = { 0 };
	struct iov_iter saved = *from;
	struct tun_xdp_hdr *th;
	struct xdp_buff *xdp;
	size_t flen;
	u16 need;
	void *buf;

	lockdep_assert_held(&vq->mutex);
	if (WARN_ON_ONCE(b->n >= b->max_n))
		return -ENOSPC;
	if (len < hlen)
		return -ENOSPC;
	flen = len - hlen;
	if (flen < ETH_HLEN || flen > b->max_len)
		return -ENOSPC;
	buflen = SKB_DATA_ALIGN(b->pad + flen) + VH_TXB_SHINFO;
	if (buflen > PAGE_SIZE)
		return -ENOSPC;

	if (hlen) {
		if (copy_from_iter(&gso, sizeof(gso), from) != sizeof(gso))
			goto fault;
		iov_iter_advance(from, hlen - sizeof(gso));
		/*
		 * The backend checksums from csum_start on; the linear part
		 * must reach past the checksum field (tun and macvtap fix
		 * hdr_len up the same way on their per-packet path and
		 * refuse a packet whose hdr_len is then beyond its end:
		 * leave such a packet to that path and its error).
		 */
		if (gso.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
			need = le16_to_cpu((__force __le16)gso.csum_start) +
			       le16_to_cpu((__force __le16)gso.csum_offset) + 2;
			if (need > le16_to_cpu((__force __le16)gso.hdr_len))
				gso.hdr_len = (__force __virtio16)cpu_to_le16(need);
		}
		if (le16_to_cpu((__force __le16)gso.hdr_len) > flen) {
			*from = saved;
			return -ENOSPC;
		}
	}

	buf = page_frag_alloc_align(&b->frag, buflen, GFP_KERNEL,
				    SMP_CACHE_BYTES);
	if (unlikely(!buf)) {
		*from = saved;
		return -ENOMEM;
	}
	if (copy_from_iter(buf + b->pad, flen, from) != flen) {
		page_frag_free(buf);
		goto fault;
	}
	th = buf;
	th->buflen = buflen;
	th->gso = gso;	/* all zero without a backend header: no offloads */
	xdp = &b->xdp[b->n];
	xdp_init_buff(xdp, buflen, NULL);
	xdp_prepare_buff(xdp, buf, b->pad, flen, true);
	b->heads[b->n++] = head;
	return 0;
fault:
	*from = saved;
	return -EFAULT;
}

/**
 * vh_txb_flush() - send the batch and return its descriptors
 * @vq: TX queue, mutex held.
 *
 * One sendmsg() hands every packet to the backend, which owns their
 * fragments from then on (it frees them itself on a bad packet); if the
 * backend refuses the whole batch (detached tun: -EBADFD) the fragments
 * are freed here and the packets count as dropped.  Then each descriptor
 * goes to the used ring (written with the next used-index update).
 *
 * Return: 0, or -EFAULT when the used ring cannot be written.
 */
int vh_txb_flush(struct vh_vq *vq)
{
	struct vh_txb *b = &vq->txb;
	struct tun_msg_ctl ctl = {
		.type = TUN_MSG_PTR,
		.num = b->n,
		.ptr = b->xdp,
	};
	struct msghdr msg = {
		.msg_control = &ctl,
		.msg_controllen = sizeof(ctl),
		.msg_flags = MSG_DONTWAIT,
	};
	unsigned int i, n = b->n;
	size_t bytes = 0;
	int ret, err = 0;

	lockdep_assert_held(&vq->mutex);
	if (!n)
		return 0;
	b->n = 0;
	iov_iter_kvec(&msg.msg_iter, WRITE, NULL, 0, 0);
	ret = vq->sock->ops->sendmsg(vq->sock, &msg, 0);
	trace_vh_tx_batch(vq->dev->id, n, ret < 0 ? ret : 0);
	for (i = 0; i < n; i++) {
		struct xdp_buff *xdp = &b->xdp[i];

		if (ret < 0)
			page_frag_free(xdp->data_hard_start);
		else
			bytes += xdp->data_end - xdp->data;
		if (!err)
			err = vh_used_push(vq, b->heads[i], 0);
	}
	vq->stats.copies += n;
	if (ret < 0) {
		vq->stats.dropped += n;
		atomic64_add(n, &vh_totals.dropped);
	} else {
		vh_poll_stop(&vq->sock_poll);	/* the backend took packets */
		vq->stats.packets += n;
		vq->stats.bytes += bytes;
		vq->stats.tx_batched += n;
		vq->stats.tx_batch_sends++;
		atomic64_add(n, &vh_totals.tx_packets);
		atomic64_add(bytes, &vh_totals.tx_bytes);
		atomic64_add(n, &vh_totals.tx_batched);
		atomic64_inc(&vh_totals.tx_batch_sends);
	}
	return err;
}

/**
 * vh_txb_drain() - free the batch's page-fragment cache
 * @vq: TX queue, mutex held, backend stopping or device closing (the
 *	worker is not in the handler).
 *
 * The batch itself is always empty here (the handler sends it before it
 * lets go of the mutex); fragments already handed to the backend keep
 * their own page references and are freed by the network stack.
 */
void vh_txb_drain(struct vh_vq *vq)
{
	struct vh_txb *b = &vq->txb;
	unsigned int i;

	lockdep_assert_held(&vq->mutex);
	if (WARN_ON_ONCE(b->n)) {
		for (i = 0; i < b->n; i++)
			page_frag_free(b->xdp[i].data_hard_start);
		b->n = 0;
	}
	if (b->frag.va) {
		__page_frag_cache_drain(virt_to_head_page(b->frag.va),
					b->frag.pagecnt_bias);
		b->frag.va = NULL;
	}
}
