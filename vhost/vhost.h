/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * vmaccel_vhost_net - private definitions shared by the files of the module.
 *
 * Locking, outermost first:
 *   vh_dev.mutex   device configuration (owner, features, memory table,
 *                  log base, backends); taken by the ioctls.
 *   vh_vq.mutex    one virtqueue's ring state, backend and stats; taken by
 *                  the ioctls that touch the queue and by the worker while it
 *                  runs the queue's handler.
 *   vh_vq.call_lock the call eventfd, read by the vic deliver callback in
 *                  atomic context.
 *   vh_zc.lock     zero-copy slots, taken from the skb destructor (any
 *                  context).
 *   vh_txb         TX batch: no lock of its own, owned by the TX queue's
 *                  vh_vq.mutex (the worker fills and flushes it inside one
 *                  vh_handle_tx() call; teardown drains it under the mutex).
 */
#ifndef _VMACCEL_VHOST_H
#define _VMACCEL_VHOST_H

#include <linux/eventfd.h>
#include <linux/kref.h>
#include <linux/llist.h>
#include <linux/mm_types.h>
#include <linux/mutex.h>
#include <linux/poll.h>
#include <linux/sched.h>
#include <linux/skbuff.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/uio.h>
#include <linux/vhost.h>
#include <linux/vhost_iotlb.h>
#include <linux/virtio_net.h>
#include <linux/virtio_ring.h>
#include <linux/vmaccel_vhost.h>
#include <vmaccel/vic.h>

#define VH_NVQS		VMACCEL_VHOST_NVQS
#define VH_RX		VMACCEL_VHOST_VQ_RX
#define VH_TX		VMACCEL_VHOST_VQ_TX
#define VH_RING_MAX	32768U	/* largest split ring (virtio limit) */
#define VH_IOV_MAX	UIO_MAXIOV
#define VH_MAX_PKT	(65536U + 14U + 4U)	/* 64 KiB GSO + Ethernet + VLAN */
#define VH_MEM_REGIONS_MAX 509U		/* like vhost's max_mem_regions cap */
#define VH_RX_BATCH	64U	/* packets taken from the backend ring at once */
#define VH_USED_BATCH	64U	/* RX used elements written per index update */
#define VH_TXB_MAX	64U	/* most TX packets handed over in one batch */

/* Work bits of the worker thread. */
enum {
	VH_WORK_RX = 0,
	VH_WORK_TX = 1,
};

/**
 * struct vh_poll - a wait-queue hook that queues a handler on wake-up
 * @wait: the entry on the polled file's wait queue.
 * @pt: poll table used to find the wait queue.
 * @wqh: the wait queue @wait is on, or NULL when not polling.
 * @mask: events that queue the work.
 * @dev: device whose worker runs the work.
 * @bit: work bit to set.
 * @kick: true for a kick eventfd (counts kicks).
 * @vq: queue the hook belongs to.
 *
 * Started and stopped under the owning queue's mutex.
 */
struct vh_poll {
	wait_queue_entry_t wait;
	poll_table pt;
	wait_queue_head_t *wqh;
	__poll_t mask;
	struct vh_dev *dev;
	unsigned int bit;
	bool kick;
	struct vh_vq *vq;
};

/**
 * struct vh_zslot - one zero-copy TX buffer in flight
 * @ubuf: handed to the backend in msg_control; its callback completes the
 *	slot.
 * @zc: owning zero-copy context.
 * @head: descriptor head to return to the guest.
 * @state: VH_ZS_FREE, VH_ZS_INFLIGHT, VH_ZS_DONE.
 * @ok: the backend sent the pages without copying them.
 * @called: the completion callback ran.
 * @cancel: the send failed after the callback ran: reap without
 *	returning the head.
 * @sent: send time, for the completion latency: the context's @now,
 *	read once per pass of the TX handler with ktime_get_coarse_ns(), tick
 *	resolution, no clocksource read per packet (an HPET read, or
 *	local_clock() on an unstable TSC, cost 7 % of the TX worker's time in
 *	the test VM; the coarse clock once per packet still cost 2 %).
 * @node: on the context's done list.
 *
 * @state, @head and @cancel change only under the queue's mutex; @ok,
 * @called and @node are written by the callback before it publishes the
 * slot on the done list.
 */
struct vh_zslot {
	struct ubuf_info ubuf;
	struct vh_zc *zc;
	u16 head;
	u8 state;
	bool ok;
	bool called;
	bool cancel;
	u64 sent;
	struct llist_node node;
};

enum { VH_ZS_FREE = 0, VH_ZS_INFLIGHT = 1, VH_ZS_DONE = 2 };

/**
 * struct vh_zc - zero-copy state of one TX queue
 * @ref: one reference per in-flight slot plus one for the queue; the last
 *	put frees the context after an RCU grace period (it may outlive the
 *	device when an skb stalls); the context holds a module reference
 *	until then.
 * @done: slots completed by the backend, not yet returned to the guest.
 * @dev: device to wake; NULL once the queue let go of the context.
 * @lock: protects @dev against the queue detaching.
 * @nslots: size of @slots.
 * @inflight: slots in flight (handed to the backend, not yet reaped).
 * @outstanding: slots handed to the backend whose callback has not run:
 *	their skbs still reference guest pages.
 * @stalled: a slot has been outstanding longer than the policy's
 *	stall_ms: new packets are copied until it completes.
 * @scanned: @now when @stalled was last computed.
 * @rcu: frees the context (vh_zc_release()).
 * @slots: the slots; a free slot is found by scanning from @next.
 * @next: scan start.
 * @now: coarse clock, read by vh_zc_reap() under the queue's mutex at the
 *	start of each pass of the TX handler (and at stop): the send and
 *	completion times of that pass.
 */
struct vh_zc {
	struct kref ref;
	struct llist_head done;
	struct vh_dev *dev;
	spinlock_t lock;	/* protects @dev */
	unsigned int nslots;
	atomic_t inflight;
	atomic_t outstanding;
	bool stalled;
	u64 scanned;
	struct rcu_head rcu;
	unsigned int next;
	u64 now;
	struct vh_zslot slots[];
};

struct xdp_buff;

/**
 * struct vh_txb - TX packets copied into page fragments, not yet sent
 * @frag: page-fragment cache the packets are copied into (kernel
 *	page_frag_cache: one reference per fragment, handed to the backend
 *	with the packet); drained when the backend stops and on close.
 * @xdp: VH_TXB_MAX buffers in the layout tun and macvtap take with
 *	TUN_MSG_PTR (struct tun_xdp_hdr at data_hard_start, then the frame).
 * @heads: descriptor head of each batched packet, returned to the guest
 *	after the batch's sendmsg().
 * @n: packets in the batch.
 * @max_n: batch size for this run of the handler (sysfs tx_batch_pkts).
 * @max_len: longest frame batched in this run (sysfs tx_batch_max_len),
 *	0 when this backend cannot take batches (sk_sndbuf limited).
 * @pad: headroom before the frame in this run (XDP headroom when an XDP
 *	program is attached to the backend).
 *
 * TX queue only (@xdp is NULL on RX).  Everything under the queue's
 * mutex; the batch is empty whenever the mutex is not held by
 * vh_handle_tx().
 */
struct vh_txb {
	struct page_frag_cache frag;
	struct xdp_buff *xdp;
	u16 heads[VH_TXB_MAX];
	unsigned int n;
	unsigned int max_n;
	unsigned int max_len;
	unsigned int pad;
};

/**
 * struct vh_vq - one split virtqueue
 * @dev: owning device.
 * @mutex: protects everything below except where noted.
 * @index: VH_RX or VH_TX.
 * @num: ring size (a power of two), 0 until set.
 * @desc: descriptor table (owner's user address).
 * @avail: available ring.
 * @used: used ring.
 * @addr_set: SET_VRING_ADDR succeeded.
 * @log_used: log used-ring writes at @log_addr (VHOST_VRING_F_LOG).
 * @log_addr: guest-physical address of the used ring, for the dirty log.
 * @last_avail_idx: next available entry to take.
 * @avail_idx: last avail->idx read.
 * @last_used_idx: next used entry to write.
 * @signalled_used: used index at the last notification (event idx).
 * @signalled_valid: @signalled_used is meaningful.
 * @kick: kick eventfd's file, polled by @kick_poll.
 * @call: call eventfd; written under @call_lock too.
 * @call_lock: protects @call for the vic deliver callback.
 * @err: error eventfd.
 * @kick_poll: wake-up hook on @kick.
 * @sock_poll: wake-up hook on the backend socket.
 * @sock: backend socket, NULL when stopped.
 * @sock_file: the file holding @sock.
 * @rx_ring: RX only: the backend's ring of received packets (tun's tx_ring
 *	or macvtap's ring), NULL when the backend has none; valid while
 *	@sock_file is held.
 * @rxq: RX only: packets taken from @rx_ring in one batch, owned by this
 *	queue until received, given back to @rx_ring when the backend stops.
 * @rxq_head: next packet of @rxq to receive.
 * @rxq_tail: packets in @rxq.
 * @sock_hlen: virtio-net header bytes the backend adds/expects.
 * @vhost_hlen: header bytes this device adds/strips (VHOST_NET_F_VIRTIO_NET_HDR).
 * @busyloop_timeout: VHOST_SET_VRING_BUSYLOOP_TIMEOUT value, microseconds.
 * @tmap: the memory-table entry of the last translation, NULL after the
 *	table changed (set to NULL under every queue's mutex).
 * @iov: scratch I/O vector.
 * @iov_off: where vh_ring_get() starts storing into @iov.
 * @logv: guest-physical segments written by the current RX packet.
 * @nlog: entries in @logv.
 * @heads: used elements waiting to be written.
 * @nheads: entries in @heads, at most @num (what one flush may write).
 * @unnotified: used elements published since the last vh_notify().
 * @unnotified_pkts: RX only: packets those elements hold (a mergeable
 *	packet takes several); on TX each element is one packet.
 * @run: packets published on this queue since the other queue of the
 *	device last published one: more than two is a stream for vic (see
 *	vh_notify_cif()).  Atomic, not under @mutex: the other queue resets it
 *	under its own mutex.
 * @vic: interrupt coalescer of this queue's notifications.
 * @zc: zero-copy context (TX only), NULL when zero-copy is unused.
 * @zc_backoff: packets still to copy before trying zero-copy again.
 * @zc_window: recent zero-copy completions counted for the failure rate.
 * @zc_window_fail: failures among @zc_window.
 * @txb: TX only: the batch of copied packets (txbatch.c).
 * @stats: counters, under @mutex.
 * @kicks: kicks seen (counted in the wake-up hook).
 * @notifies: notifications delivered (counted in the vic callback).
 * @zc_failed: zero-copy completions that copied after all.
 * @zc_worst_ns: worst zero-copy completion latency.
 */
struct vh_vq {
	struct vh_dev *dev;
	struct mutex mutex;	/* the queue's state, see above */
	unsigned int index;
	unsigned int num;
	struct vring_desc __user *desc;
	struct vring_avail __user *avail;
	struct vring_used __user *used;
	bool addr_set;
	bool log_used;
	u64 log_addr;
	u16 last_avail_idx;
	u16 avail_idx;
	u16 last_used_idx;
	u16 signalled_used;
	bool signalled_valid;
	struct file *kick;
	struct eventfd_ctx *call;
	spinlock_t call_lock;	/* protects @call for vh_deliver() */
	struct eventfd_ctx *err;
	struct vh_poll kick_poll;
	struct vh_poll sock_poll;
	struct socket *sock;
	struct file *sock_file;
	struct ptr_ring *rx_ring;
	void **rxq;
	unsigned int rxq_head;
	unsigned int rxq_tail;
	unsigned int sock_hlen;
	unsigned int vhost_hlen;
	u32 busyloop_timeout;
	struct vhost_iotlb_map *tmap;
	struct iovec *iov;
	unsigned int iov_off;
	struct { u64 addr; u64 len; } *logv;
	unsigned int nlog;
	struct vring_used_elem *heads;
	unsigned int nheads;
	unsigned int unnotified;
	unsigned int unnotified_pkts;
	atomic_t run;
	struct vmaccel_vic *vic;
	struct vh_zc *zc;
	u32 zc_backoff;
	u32 zc_window;
	u32 zc_window_fail;
	struct vh_txb txb;
	struct vmaccel_vhost_vq_stats stats;
	atomic64_t kicks;
	atomic64_t notifies;
	atomic64_t zc_failed;
	atomic64_t zc_worst_ns;
};

/**
 * struct vh_dev - one open /dev/vmaccel-vhost-net
 * @mutex: device configuration (see the file comment).
 * @mm: owner's mm (a reference), NULL before VHOST_SET_OWNER.
 * @worker: the worker thread, running in @mm.
 * @work: pending work bits (VH_WORK_*).
 * @flushes: flush requests for the worker.
 * @features: acked features.
 * @backend_features: acked backend features (always 0).
 * @umem: memory table; replaced under every queue's mutex.
 * @log_base: dirty bitmap (owner's user address), 0 if none.
 * @log_ctx: eventfd signalled after dirty pages are logged.
 * @vic_params: coalescing parameters of this device.
 * @zpol: zero-copy policy of this device.
 * @vqs: the RX and TX queues.
 * @node: on the list of open devices (debugfs).
 * @id: device number for debugfs and tracepoints.
 */
struct vh_dev {
	struct mutex mutex;	/* device configuration */
	struct mm_struct *mm;
	struct task_struct *worker;
	unsigned long work;
	struct llist_head flushes;
	u64 features;
	u64 backend_features;
	struct vhost_iotlb *umem;
	u64 log_base;
	struct eventfd_ctx *log_ctx;
	struct vmaccel_vic_params vic_params;
	struct vmaccel_vhost_zcopy zpol;
	struct vh_vq vqs[VH_NVQS];
	struct list_head node;
	unsigned int id;
};

/* Device-wide totals (sysfs). */
struct vh_totals {
	atomic64_t tx_packets, tx_bytes, rx_packets, rx_bytes, dropped;
	atomic64_t zcopy_sent, zcopy_failed, notify_sent, errors, log_pages;
	atomic64_t tx_batched, tx_batch_sends, zcopy_orphaned;
	atomic_t devices;
};

extern struct vh_totals vh_totals;
extern struct mutex vh_param_lock;
extern struct vmaccel_vhost_zcopy vh_zpol_default;
extern unsigned int vh_tx_weight, vh_rx_weight;
extern unsigned int vh_txb_max_len, vh_txb_pkts;
extern const struct attribute_group *vh_attr_groups[];

static inline bool vh_has(const struct vh_dev *d, unsigned int bit)
{
	return d->features & (1ULL << bit);
}

/**
 * vh_logging() - is dirty logging on for a queue
 * @vq: queue, mutex held.
 *
 * Return: true when VHOST_F_LOG_ALL is acked and a log base is set.
 */
static inline bool vh_logging(const struct vh_vq *vq)
{
	return vh_has(vq->dev, VHOST_F_LOG_ALL) && vq->dev->log_base;
}

/* dev.c */
void vh_devices_show(struct seq_file *m);
void vh_vq_stop_backend(struct vh_vq *vq, bool user);
void vh_dev_reset(struct vh_dev *d);

/* worker.c */
void vh_queue_work(struct vh_dev *d, unsigned int bit);
void vh_vq_error(struct vh_vq *vq, int err);
void vh_flush(struct vh_dev *d);
int vh_worker(void *data);
void vh_poll_init(struct vh_poll *p, struct vh_vq *vq, __poll_t mask,
		  bool kick);
void vh_poll_start(struct vh_poll *p, struct file *file);
void vh_poll_stop(struct vh_poll *p);
void vh_deliver(void *ctx);

/* ioctl.c */
long vh_ioctl(struct file *file, unsigned int cmd, unsigned long arg);

/* mem.c */
int vh_set_mem_table(struct vh_dev *d, void __user *argp);
int vh_translate(struct vh_vq *vq, u64 gpa, u64 len, struct iovec *iov,
		 unsigned int max);
int vh_log_write(struct vh_vq *vq, u64 gpa, u64 len);

/* ring.c */
int vh_ring_get(struct vh_vq *vq, unsigned int *out, unsigned int *in,
		u16 *head, bool log);
void vh_ring_discard(struct vh_vq *vq, unsigned int n);
int vh_used_push(struct vh_vq *vq, u16 head, u32 len);
int vh_used_flush(struct vh_vq *vq);
void vh_notify(struct vh_vq *vq);
bool vh_enable_notify(struct vh_vq *vq);
void vh_disable_notify(struct vh_vq *vq);
bool vh_ring_empty(struct vh_vq *vq);
int vh_ring_check_addr(struct vh_vq *vq, const struct vhost_vring_addr *a);

/* net.c */
void vh_handle_tx(struct vh_vq *vq);
void vh_handle_rx(struct vh_vq *vq);
void vh_rx_start(struct vh_vq *vq);
void vh_rx_stop(struct vh_vq *vq);
struct socket *vh_get_socket(int fd, struct file **filep);

/* zcopy.c */
int vh_zc_start(struct vh_vq *vq);
void vh_zc_stop(struct vh_vq *vq, bool user);
void vh_zc_reap(struct vh_vq *vq);
bool vh_zc_choose(struct vh_vq *vq, size_t len);
struct vh_zslot *vh_zc_get(struct vh_vq *vq, u16 head);
void vh_zc_sent(struct vh_vq *vq, struct vh_zslot *s, int err);
int vh_zpol_check(const struct vmaccel_vhost_zcopy *p);
void vh_zc_exit(void);

/* txbatch.c */
int vh_txb_alloc(struct vh_vq *vq);
void vh_txb_free(struct vh_vq *vq);
void vh_txb_begin(struct vh_vq *vq);
int vh_txb_add(struct vh_vq *vq, struct iov_iter *from, size_t len, u16 head);
int vh_txb_flush(struct vh_vq *vq);
void vh_txb_drain(struct vh_vq *vq);
unsigned int vh_txb_len_limit(void);

/* debugfs.c */
void vh_debugfs_init(void);
void vh_debugfs_exit(void);

#endif /* _VMACCEL_VHOST_H */
