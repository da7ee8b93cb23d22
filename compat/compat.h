/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * vmaccel kernel compatibility layer.
 *
 * Kbuild force-includes this header into every module source, before the
 * source's own includes.  The modules are written against the newest
 * supported kernel's API (6.12); each shim below gives an older supported
 * kernel (6.1, from 6.1.64 on) that API, with a comment naming the release
 * that changed it.  All version tests of the suite live in this file: the
 * module sources carry none.
 */
#ifndef _VMACCEL_COMPAT_H
#define _VMACCEL_COMPAT_H

/*
 * The includes below pull in <linux/printk.h>, which would fix pr_fmt to
 * its default before a source's own "#define pr_fmt": this is the suite's
 * one definition (sources may repeat it as is; a different one needs an
 * #undef first).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/version.h>

#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 1, 64)
#error "vmaccel needs Linux 6.1.64 or later (inode ctime accessors)"
#endif

/*
 * Declarations the shims rename or wrap come first, so that the function-like
 * macros below do not apply to the kernel's own prototypes.
 */
#include <linux/eventfd.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/kernfs.h>
#include <linux/kobject.h>
#include <linux/mm.h>
#include <linux/shrinker.h>
#include <linux/skbuff.h>
#include <linux/slab.h>

/*
 * 6.2: an mm's RSS counters became per-CPU counters, whose plain read
 * (get_mm_counter) misses what each CPU has not folded in yet; the exact
 * value is their sum.  6.1's are atomics (each thread's faults batched in
 * up to 64 pages), read as they are.  Not a 6.12 name: get_mm_counter_sum()
 * came with later stable releases.
 */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 2, 0)
#define vmaccel_mm_counter_sum(mm, member) get_mm_counter(mm, member)
#else
#define vmaccel_mm_counter_sum(mm, member) \
	percpu_counter_sum_positive(&(mm)->rss_stat[member])
#endif

#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 12, 0)
/* 6.12: struct fd is read through fd_file() (and tested with fd_empty()). */
#define fd_file(f) ((f).file)
#define fd_empty(f) (!(f).file)

/*
 * 6.12: folio_mapcount() is inline; in 6.1 it is out of line and not
 * exported.  The suite asks it of order-0 folios, whose page_mapcount()
 * is the same number.
 */
#define folio_mapcount(folio) page_mapcount(&(folio)->page)
#endif

#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 10, 0)
/* 6.10: ubuf_info's completion callback moved into const ubuf_info_ops. */
struct ubuf_info_ops {
	void (*complete)(struct sk_buff *skb, struct ubuf_info *uarg,
			 bool zerocopy_success);
	int (*link_skb)(struct sk_buff *skb, struct ubuf_info *uarg);
};

static inline void vmaccel_compat_ubuf_set_ops(struct ubuf_info *uarg,
					       const struct ubuf_info_ops *ops)
{
	uarg->callback = ops->complete;
}
#else
static inline void vmaccel_compat_ubuf_set_ops(struct ubuf_info *uarg,
					       const struct ubuf_info_ops *ops)
{
	uarg->ops = ops;
}
#endif

#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 9, 0)
/* 6.9: page_frag_alloc_align() takes the alignment, not a mask. */
#define page_frag_alloc_align(nc, fragsz, gfp_mask, align) \
	page_frag_alloc_align(nc, fragsz, gfp_mask, -(align))
#endif

#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 8, 0)
/* 6.8: eventfd_signal() lost its count argument; it always adds 1. */
#define eventfd_signal(ctx) eventfd_signal(ctx, 1)
#endif

#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 7, 0)
/* 6.7: inode atime and mtime are read and set through accessors. */
static inline struct timespec64 inode_get_mtime(const struct inode *inode)
{
	return inode->i_mtime;
}

static inline struct timespec64 inode_set_mtime_to_ts(struct inode *inode,
						      struct timespec64 ts)
{
	inode->i_mtime = ts;
	return ts;
}

static inline struct timespec64 inode_get_atime(const struct inode *inode)
{
	return inode->i_atime;
}

static inline struct timespec64 inode_set_atime_to_ts(struct inode *inode,
						      struct timespec64 ts)
{
	inode->i_atime = ts;
	return ts;
}

/* 6.7: simple_inode_init_ts() sets a new inode's three times to now. */
static inline struct timespec64 simple_inode_init_ts(struct inode *inode)
{
	struct timespec64 ts = inode_set_ctime_current(inode);

	inode_set_atime_to_ts(inode, ts);
	inode_set_mtime_to_ts(inode, ts);
	return ts;
}

/*
 * 6.7: shrinkers are allocated by the kernel: shrinker_alloc(), then the
 * callbacks are set, then shrinker_register() (which cannot fail), and
 * shrinker_free() unregisters and frees.  6.1 exports register_shrinker()
 * only, which allocates and can fail, so the shim registers a shrinker of
 * its own at allocation time whose callbacks forward to the caller's once
 * shrinker_register() has published them; until then it reports nothing.
 */
struct vmaccel_compat_shrinker {
	struct shrinker shrinker;	/* the caller's: callbacks, private_data */
	struct shrinker real;		/* the one 6.1 knows */
	bool registered;
};

static inline struct vmaccel_compat_shrinker *
vmaccel_compat_shrinker_of(struct shrinker *real)
{
	return container_of(real, struct vmaccel_compat_shrinker, real);
}

static inline unsigned long
vmaccel_compat_shrink_count(struct shrinker *real, struct shrink_control *sc)
{
	struct vmaccel_compat_shrinker *c = vmaccel_compat_shrinker_of(real);

	/* Pairs with shrinker_register(): the callbacks are set. */
	if (!smp_load_acquire(&c->registered))
		return 0;
	return c->shrinker.count_objects(&c->shrinker, sc);
}

static inline unsigned long
vmaccel_compat_shrink_scan(struct shrinker *real, struct shrink_control *sc)
{
	struct vmaccel_compat_shrinker *c = vmaccel_compat_shrinker_of(real);

	/* Pairs with shrinker_register(): the callbacks are set. */
	if (!smp_load_acquire(&c->registered))
		return SHRINK_STOP;
	return c->shrinker.scan_objects(&c->shrinker, sc);
}

static inline __printf(2, 3) struct shrinker *
shrinker_alloc(unsigned int flags, const char *fmt, ...)
{
	struct vmaccel_compat_shrinker *c;
	va_list args;
	char *name;
	int err;

	c = kzalloc(sizeof(*c), GFP_KERNEL);
	if (!c)
		return NULL;
	va_start(args, fmt);
	name = kvasprintf(GFP_KERNEL, fmt, args);
	va_end(args);
	if (!name) {
		kfree(c);
		return NULL;
	}
	c->shrinker.flags = flags;
	c->shrinker.seeks = DEFAULT_SEEKS;
	c->real.flags = flags;
	c->real.seeks = DEFAULT_SEEKS;
	c->real.count_objects = vmaccel_compat_shrink_count;
	c->real.scan_objects = vmaccel_compat_shrink_scan;
	err = register_shrinker(&c->real, "%s", name);
	kfree(name);
	if (err) {
		kfree(c);
		return NULL;
	}
	return &c->shrinker;
}

static inline void shrinker_register(struct shrinker *shrinker)
{
	struct vmaccel_compat_shrinker *c =
		container_of(shrinker, struct vmaccel_compat_shrinker, shrinker);

	/*
	 * seeks and batch change on a registered shrinker.  6.1's
	 * do_shrink_slab() reads seeks only after count_objects() returned
	 * non-zero, which the forwarder does only once it has seen
	 * registered (acquire), so the release below orders that store.
	 * batch is read before the count: one call racing this one may
	 * still size its batches with the default (SHRINK_BATCH), a hint
	 * only, and our only user (balloon) keeps the default anyway.
	 */
	c->real.seeks = shrinker->seeks;
	c->real.batch = shrinker->batch;
	/* Publishes the callbacks to the forwarders above. */
	smp_store_release(&c->registered, true);
}

static inline void shrinker_free(struct shrinker *shrinker)
{
	struct vmaccel_compat_shrinker *c;

	if (!shrinker)
		return;
	c = container_of(shrinker, struct vmaccel_compat_shrinker, shrinker);
	unregister_shrinker(&c->real);
	kfree(c);
}
#endif

#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 6, 0)
/*
 * 6.6: mm_kobj (/sys/kernel/mm) is no longer exported.  It is still
 * declared, so the name is kept and resolves to the kobject of the "mm"
 * directory under kernel_kobj (a sysfs directory's node points to its
 * kobject); /sys/kernel/mm lives as long as the kernel does.  NULL when
 * it is missing: the callers then fail, never fall back to the sysfs root.
 */
static inline struct kobject *vmaccel_compat_mm_kobj(void)
{
	struct kernfs_node *kn = kernfs_find_and_get(kernel_kobj->sd, "mm");
	struct kobject *kobj;

	if (!kn)
		return NULL;
	kobj = kn->priv;
	kernfs_put(kn);
	return kobj;
}

#define mm_kobj vmaccel_compat_mm_kobj()
#endif

#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 6, 0)
/* 6.6: generic_fillattr() takes the statx request mask. */
#define generic_fillattr(idmap, request_mask, inode, stat) \
	generic_fillattr(idmap, inode, stat)
#endif

#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 3, 0)
/* 6.3: VMA flags are changed through vm_flags_set() and friends. */
static inline void vm_flags_set(struct vm_area_struct *vma, vm_flags_t flags)
{
	vma->vm_flags |= flags;
}

static inline void vm_flags_clear(struct vm_area_struct *vma, vm_flags_t flags)
{
	vma->vm_flags &= ~flags;
}

/*
 * 6.3: inode operations take a struct mnt_idmap (nop_mnt_idmap for no
 * mapping) where 6.1 took the mount's user namespace (init_user_ns).
 */
#define mnt_idmap user_namespace
#define nop_mnt_idmap init_user_ns
#endif

#endif /* _VMACCEL_COMPAT_H */
