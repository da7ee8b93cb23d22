// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmaccel_vic - the eventfd-to-eventfd coalescer behind VMACCEL_VIC_CREATE.
 *
 * A wait-queue entry on the source eventfd consumes its counter on every
 * wake-up and feeds the completions to an engine instance; the engine's
 * deliveries signal the target eventfd.  The coalescer is an anon-inode file
 * whose ioctls tune and inspect the engine.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/anon_inodes.h>
#include <linux/atomic.h>
#include <linux/compat.h>
#include <linux/err.h>
#include <linux/eventfd.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/irq_work.h>
#include <linux/minmax.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/poll.h>
#include <linux/rcupdate.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/uaccess.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>
#include <vmaccel/vic.h>

#include "vic.h"

/**
 * struct vic_fd - an eventfd coalescer
 * @vic: the engine instance; its deliver callback is vic_fd_deliver().
 * @src: source eventfd context (our own reference).
 * @dst: target eventfd context (our own reference).
 * @src_wqh: the source's wait-queue head, whose lock serialises
 *	eventfd_ctx_do_read() on @src; set by vic_fd_queue_proc().
 * @wait: our entry on @src_wqh; on it from creation until release.
 * @pt: poll table used once, to add @wait through vfs_poll().
 * @signal_work: signals @dst for deliveries made where nested eventfd
 *	signalling is not allowed (inside the source's own wake-up).  An
 *	irq_work runs as soon as the CPU re-enables interrupts, i.e. right
 *	after the source's eventfd_signal() or write() returns, so the
 *	detour costs a self-IPI rather than a scheduler round trip.  Not
 *	used on PREEMPT_RT (see @signal_rt_work).
 * @signal_rt_work: @signal_work's job on PREEMPT_RT, where an irq_work
 *	without IRQ_WORK_HARD_IRQ runs in a per-CPU thread with interrupts
 *	and preemption enabled, so that a grace period no longer waits for
 *	it (see vic_fd_destroy()); a work item never runs on two CPUs at
 *	once and cancel_work_sync() waits for it.
 * @unsignalled: deliveries waiting for @signal_work (or @signal_rt_work);
 *	atomic.
 * @drain_work: keeps draining a semaphore-mode source that still held
 *	units after a bounded drain (see vic_fd_take()), in process context.
 * @stopping: set at release so that @drain_work stops early.
 * @by_src: entry in @src_node's out list; vic_fd_lock.
 * @by_dst: entry in @dst_node's in list; vic_fd_lock.
 * @src_node: the graph node of @src; vic_fd_lock.
 * @dst_node: the graph node of @dst; vic_fd_lock.
 * @rcu: drops the eventfd references and frees the coalescer after a
 *	grace period (see vic_fd_destroy()).
 *
 * Everything except @unsignalled is set before the coalescer is visible
 * and constant until release.
 */
struct vic_fd {
	struct vmaccel_vic *vic;
	struct eventfd_ctx *src;
	struct eventfd_ctx *dst;
	wait_queue_head_t *src_wqh;
	wait_queue_entry_t wait;
	poll_table pt;
	struct irq_work signal_work;
	struct work_struct signal_rt_work;
	atomic_long_t unsignalled;
	struct work_struct drain_work;
	bool stopping;
	struct hlist_node by_src;
	struct hlist_node by_dst;
	struct vic_fd_node *src_node;
	struct vic_fd_node *dst_node;
	struct rcu_head rcu;
};

/* Semaphore-mode units taken per wake-up with the source's lock held. */
#define VIC_FD_DRAIN_BATCH	256

/**
 * struct vic_fd_node - an eventfd that coalescers read or signal
 * @out: coalescers whose source it is (vic_fd.by_src).
 * @in: coalescers whose target it is (vic_fd.by_dst).
 * @nr_out: entries on @out, at most VIC_FD_MAX_DEGREE.
 * @nr_in: entries on @in, at most VIC_FD_MAX_DEGREE.
 *
 * In vic_fd_nodes, indexed by the eventfd context's address, while it has
 * an edge.  Everything is protected by vic_fd_lock.
 */
struct vic_fd_node {
	struct hlist_head out;
	struct hlist_head in;
	unsigned int nr_out;
	unsigned int nr_in;
};

/*
 * Every eventfd coalescer is an edge src -> dst of a graph whose nodes are
 * eventfds, so that CREATE can refuse an edge that would close a cycle
 * (a -> b and b -> a would bounce one completion between them forever in
 * interrupt context) or make a chain longer than VIC_FD_MAX_CHAIN, with
 * work bounded by a constant whatever the number of coalescers, as epoll
 * bounds its nesting checks: a node's edges are found through its own
 * lists (one xarray lookup), each eventfd has at most VIC_FD_MAX_DEGREE
 * coalescers on either side (this also bounds what one signal of a target
 * wakes, in the backstop's hard interrupt), and a check visits at most
 * VIC_FD_MAX_WALK edges in each direction.
 */
static DEFINE_MUTEX(vic_fd_lock);
static DEFINE_XARRAY(vic_fd_nodes);

/* Coalescers on one path of chained coalescers, at most. */
#define VIC_FD_MAX_CHAIN	4
/* Coalescers reading, or signalling, one eventfd, at most. */
#define VIC_FD_MAX_DEGREE	64
/* Edges one CREATE may visit in each direction, at most. */
#define VIC_FD_MAX_WALK		128

/* vic_fd_lock: the walk's queue (eventfd, coalescers on the path to it). */
static struct {
	struct eventfd_ctx *ctx;
	unsigned int depth;
} vic_fd_walk_q[VIC_FD_MAX_WALK + 1];

static struct vic_fd_node *vic_fd_node(struct eventfd_ctx *ctx)
{
	lockdep_assert_held(&vic_fd_lock);
	return xa_load(&vic_fd_nodes, (unsigned long)ctx);
}

/* Queue @ctx at @depth; false when the walk is over budget. */
static bool vic_fd_walk_push(unsigned int *tail, struct eventfd_ctx *ctx,
			     unsigned int depth)
{
	lockdep_assert_held(&vic_fd_lock);
	if (*tail > VIC_FD_MAX_WALK)
		return false;
	vic_fd_walk_q[*tail].ctx = ctx;
	vic_fd_walk_q[(*tail)++].depth = depth;
	return true;
}

/*
 * Walk the coalescers chained after eventfd @from (@down) or before it,
 * breadth first; a diamond is walked once per path, which the budget
 * bounds.  Return: the most coalescers on one path from @from; -ELOOP if
 * the walk meets @stop (a cycle) or exceeds VIC_FD_MAX_WALK edges.
 */
static int vic_fd_chain_len(struct eventfd_ctx *from, struct eventfd_ctx *stop,
			    bool down)
{
	unsigned int head = 0, tail = 0, longest = 0;
	struct vic_fd_node *node;
	struct vic_fd *e;

	lockdep_assert_held(&vic_fd_lock);
	vic_fd_walk_push(&tail, from, 0);
	while (head < tail) {
		struct eventfd_ctx *ctx = vic_fd_walk_q[head].ctx;
		unsigned int depth = vic_fd_walk_q[head++].depth;

		if (ctx == stop)
			return -ELOOP;
		longest = max(longest, depth);
		node = vic_fd_node(ctx);
		if (!node)
			continue;
		if (down) {
			hlist_for_each_entry(e, &node->out, by_src)
				if (!vic_fd_walk_push(&tail, e->dst, depth + 1))
					return -ELOOP;
		} else {
			hlist_for_each_entry(e, &node->in, by_dst)
				if (!vic_fd_walk_push(&tail, e->src, depth + 1))
					return -ELOOP;
		}
	}
	return longest;
}

/*
 * May the edge @src -> @dst be added?  Not if @dst leads back to @src
 * (-ELOOP), nor if a path through it would chain more than
 * VIC_FD_MAX_CHAIN coalescers or checking would take more than the budget
 * (-ELOOP), nor if either eventfd already has VIC_FD_MAX_DEGREE
 * coalescers on that side (-EMLINK).  Return: 0 or a negative errno.
 */
static int vic_fd_check_edge(struct eventfd_ctx *src, struct eventfd_ctx *dst)
{
	struct vic_fd_node *sn = vic_fd_node(src), *dn = vic_fd_node(dst);
	int down, up;

	lockdep_assert_held(&vic_fd_lock);
	if ((sn && sn->nr_out >= VIC_FD_MAX_DEGREE) ||
	    (dn && dn->nr_in >= VIC_FD_MAX_DEGREE))
		return -EMLINK;
	down = vic_fd_chain_len(dst, src, true);
	if (down < 0)
		return down;
	up = vic_fd_chain_len(src, NULL, false);
	if (up < 0)
		return up;
	return up + 1 + down > VIC_FD_MAX_CHAIN ? -ELOOP : 0;
}

/* The node of @ctx, created if it has none.  NULL: out of memory. */
static struct vic_fd_node *vic_fd_node_get(struct eventfd_ctx *ctx)
{
	struct vic_fd_node *node = vic_fd_node(ctx);

	if (node)
		return node;
	node = kzalloc(sizeof(*node), GFP_KERNEL_ACCOUNT);
	if (!node)
		return NULL;
	if (xa_err(xa_store(&vic_fd_nodes, (unsigned long)ctx, node,
			    GFP_KERNEL_ACCOUNT))) {
		kfree(node);
		return NULL;
	}
	return node;
}

/* Drop @ctx's node once no coalescer uses it. */
static void vic_fd_node_put(struct eventfd_ctx *ctx, struct vic_fd_node *node)
{
	lockdep_assert_held(&vic_fd_lock);
	if (node->nr_in || node->nr_out)
		return;
	xa_erase(&vic_fd_nodes, (unsigned long)ctx);
	kfree(node);
}

static int vic_fd_add_edge(struct vic_fd *f)
{
	lockdep_assert_held(&vic_fd_lock);
	f->src_node = vic_fd_node_get(f->src);
	if (!f->src_node)
		return -ENOMEM;
	f->dst_node = vic_fd_node_get(f->dst);
	if (!f->dst_node) {
		vic_fd_node_put(f->src, f->src_node);
		return -ENOMEM;
	}
	hlist_add_head(&f->by_src, &f->src_node->out);
	f->src_node->nr_out++;
	hlist_add_head(&f->by_dst, &f->dst_node->in);
	f->dst_node->nr_in++;
	return 0;
}

static void vic_fd_del_edge(struct vic_fd *f)
{
	lockdep_assert_held(&vic_fd_lock);
	hlist_del(&f->by_src);
	f->src_node->nr_out--;
	vic_fd_node_put(f->src, f->src_node);
	hlist_del(&f->by_dst);
	f->dst_node->nr_in--;
	vic_fd_node_put(f->dst, f->dst_node);
}

static void vic_fd_complete(struct vic_fd *f, u64 cnt)
{
	if (cnt)
		vmaccel_vic_complete(f->vic, cnt, VMACCEL_VIC_CIF_UNKNOWN);
}

/*
 * Take what the source holds.  A plain eventfd hands out its whole counter
 * in one read; a semaphore-mode one hands out 1 per read, so it is read at
 * most VIC_FD_DRAIN_BATCH times here (the lock is held with interrupts
 * off) and *@more tells whether units may be left.  Called with the
 * source's wait-queue lock held; the caller feeds the result to the engine.
 */
static u64 vic_fd_take(struct vic_fd *f, bool *more)
{
	u64 cnt, total = 0;
	int i;

	/* The lock is held with interrupts off (preemptible on RT). */
	lockdep_assert_held(&f->src_wqh->lock);
	for (i = 0; i < VIC_FD_DRAIN_BATCH; i++) {
		eventfd_ctx_do_read(f->src, &cnt);
		if (!cnt) {
			*more = false;
			return total;
		}
		total += cnt;
	}
	*more = true;
	return total;
}

/* Process context: drain a semaphore-mode source batch by batch. */
static void vic_fd_drain_work(struct work_struct *work)
{
	struct vic_fd *f = container_of(work, struct vic_fd, drain_work);
	unsigned long flags;
	bool more;
	u64 cnt;

	do {
		spin_lock_irqsave(&f->src_wqh->lock, flags);
		cnt = vic_fd_take(f, &more);
		spin_unlock_irqrestore(&f->src_wqh->lock, flags);
		vic_fd_complete(f, cnt);
		cond_resched();
	} while (more && !READ_ONCE(f->stopping));
}

static void vic_fd_signal(struct vic_fd *f)
{
	long n = atomic_long_xchg(&f->unsignalled, 0);

	for (; n > 0; n--)
		eventfd_signal(f->dst);
}

static void vic_fd_signal_work(struct irq_work *work)
{
	vic_fd_signal(container_of(work, struct vic_fd, signal_work));
}

static void vic_fd_signal_rt_work(struct work_struct *work)
{
	vic_fd_signal(container_of(work, struct vic_fd, signal_rt_work));
}

/*
 * Engine deliver callback, no engine lock held: atomic context (hard
 * interrupt for the backstop) without PREEMPT_RT, preemptible task context
 * (the softirq thread for the backstop) with it.
 */
static void vic_fd_deliver(void *ctx)
{
	struct vic_fd *f = ctx;

	if (eventfd_signal_allowed()) {
		eventfd_signal(f->dst);
		return;
	}
	/*
	 * Called from inside an eventfd wake-up (the source's): signalling
	 * another eventfd here could recurse or deadlock, so defer.  On
	 * PREEMPT_RT the irq_work would run in a thread anyway, and there
	 * only a work item can be waited for completely at teardown.
	 */
	atomic_long_inc(&f->unsignalled);
	if (IS_ENABLED(CONFIG_PREEMPT_RT))
		queue_work(system_highpri_wq, &f->signal_rt_work);
	else
		irq_work_queue(&f->signal_work);
}

/*
 * Wake-up callback on the source eventfd: called with the source's
 * wait-queue lock held, interrupts disabled (on PREEMPT_RT that lock is a
 * sleeping lock: preemptible task context, interrupts enabled).
 */
static int vic_fd_wakeup(wait_queue_entry_t *wait, unsigned int mode,
			 int sync, void *key)
{
	struct vic_fd *f = container_of(wait, struct vic_fd, wait);
	__poll_t events = key_to_poll(key);
	bool more;

	/*
	 * EPOLLHUP (source file closed) needs nothing: we hold our own
	 * reference and detach at release.  Kernel users of the context can
	 * still signal it, and those completions are still coalesced.
	 */
	if (!(events & EPOLLIN))
		return 0;

	/* Deliveries made here are deferred: see vic_fd_deliver(). */
	vic_fd_complete(f, vic_fd_take(f, &more));
	if (more)
		queue_work(system_wq, &f->drain_work);
	return 0;
}

static void vic_fd_queue_proc(struct file *file, wait_queue_head_t *wqh,
			      poll_table *pt)
{
	struct vic_fd *f = container_of(pt, struct vic_fd, pt);

	f->src_wqh = wqh;
	add_wait_queue(wqh, &f->wait);
}

/* After a grace period: no run of @signal_work is left (vic_fd_destroy()). */
static void vic_fd_free_rcu(struct rcu_head *rcu)
{
	struct vic_fd *f = container_of(rcu, struct vic_fd, rcu);

	eventfd_ctx_put(f->dst);
	eventfd_ctx_put(f->src);
	kfree(f);
}

/*
 * Tear down an attached coalescer: no more wake-ups, fold what the source
 * still holds, deliver everything, stop the timer and the work, then signal
 * what the work had not.
 */
static void vic_fd_destroy(struct vic_fd *f)
{
	unsigned long flags;
	u64 cnt = 0;
	bool more;

	eventfd_ctx_remove_wait_queue(f->src, &f->wait, &cnt);
	/*
	 * Only once detached does the edge leave the graph: before, a CREATE
	 * could close a cycle with a coalescer that still consumes its source.
	 */
	mutex_lock(&vic_fd_lock);
	vic_fd_del_edge(f);
	mutex_unlock(&vic_fd_lock);
	WRITE_ONCE(f->stopping, true);
	cancel_work_sync(&f->drain_work);
	/* One last batch; semaphore units beyond it stay in the source. */
	spin_lock_irqsave(&f->src_wqh->lock, flags);
	cnt += vic_fd_take(f, &more);
	spin_unlock_irqrestore(&f->src_wqh->lock, flags);
	vic_fd_complete(f, cnt);
	vmaccel_vic_flush(f->vic);
	vmaccel_vic_free(f->vic);
	/* Nothing queues @signal_work or @signal_rt_work from here on. */
	irq_work_sync(&f->signal_work);
	cancel_work_sync(&f->signal_rt_work);
	vic_fd_signal(f);
	/*
	 * irq_work_sync() waits for the last run of @signal_work only.  The
	 * work is queued on the CPU of the source's wake-up, and a wake-up on
	 * another CPU may queue it again while its callback still runs there
	 * (irq_work allows that): the second run can end, clearing
	 * IRQ_WORK_BUSY, while the first is still inside eventfd_signal(@dst),
	 * after which the first run's irq_work_single() writes @signal_work's
	 * flags.  Every run has interrupts disabled, so a grace period waits
	 * for all of them: only then may @f go, and @dst with it (our
	 * reference may be its last one).  vic_fd_exit() waits at unload.
	 * (Not so on PREEMPT_RT, where the irq_work would run preemptible in
	 * a thread: there @signal_rt_work is used instead, and
	 * cancel_work_sync() above has waited for it.)
	 */
	call_rcu(&f->rcu, vic_fd_free_rcu);
}

static int vic_fd_release(struct inode *inode, struct file *file)
{
	vic_fd_destroy(file->private_data);
	return 0;
}

static long vic_fd_set_params(struct vic_fd *f, void __user *argp)
{
	struct vmaccel_vic_params p;

	if (copy_from_user(&p, argp, sizeof(p)))
		return -EFAULT;
	return vmaccel_vic_set_params(f->vic, &p);
}

static long vic_fd_get_params(struct vic_fd *f, void __user *argp)
{
	struct vmaccel_vic_params p;

	vmaccel_vic_get_params(f->vic, &p);
	if (copy_to_user(argp, &p, sizeof(p)))
		return -EFAULT;
	return 0;
}

static long vic_fd_get_stats(struct vic_fd *f, void __user *argp)
{
	struct vmaccel_vic_stats s;

	if (copy_from_user(&s, argp, sizeof(s)))
		return -EFAULT;
	if (s.flags)
		return -EINVAL;
	vmaccel_vic_get_stats(f->vic, &s);
	if (copy_to_user(argp, &s, sizeof(s)))
		return -EFAULT;
	return 0;
}

static long vic_fd_set_cif(struct vic_fd *f, void __user *argp)
{
	struct vmaccel_vic_cif c;

	if (copy_from_user(&c, argp, sizeof(c)))
		return -EFAULT;
	if (c.flags)
		return -EINVAL;
	vmaccel_vic_set_cif(f->vic, c.cif);
	return 0;
}

/**
 * vic_fd_ioctl() - ioctls on a coalescer fd
 * @file: the coalescer's anon-inode file.
 * @cmd: %VMACCEL_VIC_SET_PARAMS, %VMACCEL_VIC_GET_PARAMS,
 *	%VMACCEL_VIC_GET_STATS, %VMACCEL_VIC_SET_CIF or %VMACCEL_VIC_FLUSH.
 * @arg: user pointer to the command's structure (unused by FLUSH).
 *
 * SET_PARAMS validates every field.  GET_STATS requires the input flags to
 * be 0 and returns a snapshot with reserved fields zeroed.  SET_CIF requires
 * flags 0.  SET_PARAMS, SET_CIF and FLUSH may signal the target eventfd
 * before returning.
 *
 * Context: process context.
 * Return: 0; -EFAULT for a bad user pointer; -EINVAL for invalid input;
 * -ENOTTY for an unknown command.
 */
static long vic_fd_ioctl(struct file *file, unsigned int cmd,
			 unsigned long arg)
{
	struct vic_fd *f = file->private_data;
	void __user *argp = (void __user *)arg;

	switch (cmd) {
	case VMACCEL_VIC_SET_PARAMS:
		return vic_fd_set_params(f, argp);
	case VMACCEL_VIC_GET_PARAMS:
		return vic_fd_get_params(f, argp);
	case VMACCEL_VIC_GET_STATS:
		return vic_fd_get_stats(f, argp);
	case VMACCEL_VIC_SET_CIF:
		return vic_fd_set_cif(f, argp);
	case VMACCEL_VIC_FLUSH:
		vmaccel_vic_flush(f->vic);
		return 0;
	default:
		return -ENOTTY;
	}
}

static void vic_fd_show_fdinfo(struct seq_file *m, struct file *file)
{
	struct vic_fd *f = file->private_data;

	seq_printf(m, "vic-id:\t%u\n", vic_id(f->vic));
}

static const struct file_operations vic_fd_fops = {
	.owner = THIS_MODULE,
	.release = vic_fd_release,
	.unlocked_ioctl = vic_fd_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.show_fdinfo = vic_fd_show_fdinfo,
	.llseek = noop_llseek,
};

/**
 * vic_fd_create() - create an eventfd coalescer and its file descriptor
 * @src_fd: eventfd signalled once per completion (or with a count).
 * @dst_fd: eventfd to signal per coalesced interrupt; not the same eventfd.
 * @params: validated parameters of the engine.
 *
 * Takes references on both eventfd contexts, attaches to the source and
 * consumes anything it already holds, then installs an O_CLOEXEC fd.
 *
 * Context: process context.
 * Return: the new fd; -EBADF if an fd is not open; -EINVAL if it is not an
 * eventfd or both are the same eventfd; -ELOOP if coalescers would form a
 * cycle (@dst already leads to @src through other coalescers), a path of
 * more than VIC_FD_MAX_CHAIN chained coalescers, or one whose check visits
 * more than VIC_FD_MAX_WALK coalescers in either direction; -EMLINK if
 * @src already feeds, or @dst is already fed by, VIC_FD_MAX_DEGREE
 * coalescers; -ENOMEM;
 * -EMFILE/-ENFILE.
 */
int vic_fd_create(int src_fd, int dst_fd,
		  const struct vmaccel_vic_params *params)
{
	struct eventfd_ctx *src, *dst;
	struct vmaccel_vic *vic;
	struct file *file;
	struct vic_fd *f;
	__poll_t events;
	bool more;
	struct fd sf;
	u64 cnt = 0;
	int fd, ret;

	sf = fdget(src_fd);
	if (fd_empty(sf))
		return -EBADF;
	src = eventfd_ctx_fileget(fd_file(sf));
	if (IS_ERR(src)) {
		ret = PTR_ERR(src);
		goto err_fdput;
	}
	dst = eventfd_ctx_fdget(dst_fd);
	if (IS_ERR(dst)) {
		ret = PTR_ERR(dst);
		goto err_src;
	}
	if (dst == src) {
		ret = -EINVAL;
		goto err_dst;
	}

	f = kzalloc(sizeof(*f), GFP_KERNEL_ACCOUNT);
	if (!f) {
		ret = -ENOMEM;
		goto err_dst;
	}
	vic = vmaccel_vic_alloc(params, vic_fd_deliver, f, GFP_KERNEL_ACCOUNT);
	if (IS_ERR(vic)) {
		ret = PTR_ERR(vic);
		goto err_free;
	}
	f->vic = vic;
	f->src = src;
	f->dst = dst;
	init_irq_work(&f->signal_work, vic_fd_signal_work);
	INIT_WORK(&f->signal_rt_work, vic_fd_signal_rt_work);
	INIT_WORK(&f->drain_work, vic_fd_drain_work);
	atomic_long_set(&f->unsignalled, 0);

	fd = get_unused_fd_flags(O_CLOEXEC);
	if (fd < 0) {
		ret = fd;
		goto err_vic;
	}

	/* Refuse a cycle of coalescers, or too long a chain. */
	mutex_lock(&vic_fd_lock);
	ret = vic_fd_check_edge(src, dst);
	if (!ret)
		ret = vic_fd_add_edge(f);
	if (ret) {
		mutex_unlock(&vic_fd_lock);
		put_unused_fd(fd);
		goto err_vic;
	}
	mutex_unlock(&vic_fd_lock);

	/* Attach: from here on wake-ups feed the engine. */
	init_waitqueue_func_entry(&f->wait, vic_fd_wakeup);
	init_poll_funcptr(&f->pt, vic_fd_queue_proc);
	events = vfs_poll(fd_file(sf), &f->pt);
	if (WARN_ON_ONCE(!f->src_wqh)) {
		/* An eventfd always queues on poll; nothing to detach. */
		mutex_lock(&vic_fd_lock);
		vic_fd_del_edge(f);
		mutex_unlock(&vic_fd_lock);
		put_unused_fd(fd);
		ret = -EINVAL;
		goto err_vic;
	}
	fdput(sf);
	if (events & EPOLLIN) {
		unsigned long flags;

		/* Not under the source's lock: this may signal @dst directly. */
		spin_lock_irqsave(&f->src_wqh->lock, flags);
		cnt = vic_fd_take(f, &more);
		spin_unlock_irqrestore(&f->src_wqh->lock, flags);
		vic_fd_complete(f, cnt);
		if (more)
			queue_work(system_wq, &f->drain_work);
	}

	file = anon_inode_getfile("[vmaccel-vic]", &vic_fd_fops, f,
				  O_RDWR | O_CLOEXEC);
	if (IS_ERR(file)) {
		put_unused_fd(fd);
		vic_fd_destroy(f);
		return PTR_ERR(file);
	}
	fd_install(fd, file);
	return fd;

err_vic:
	vmaccel_vic_free(vic);
err_free:
	kfree(f);
err_dst:
	eventfd_ctx_put(dst);
err_src:
	eventfd_ctx_put(src);
err_fdput:
	fdput(sf);
	return ret;
}

/**
 * vic_fd_exit() - wait for coalescers being freed, at module unload
 *
 * Context: process context; sleeps until every RCU callback freeing a
 * closed coalescer (vic_fd_free_rcu(), code of this module) has run.
 */
void vic_fd_exit(void)
{
	rcu_barrier();
}
