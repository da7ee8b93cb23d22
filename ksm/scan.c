// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmaccel_ksm - the merge scanner.
 *
 * Like ksmd: a kernel thread visits pages_to_scan file pages of every
 * vmaccelfs file, then sleeps sleep_millisecs.  Per page (struct vk_item):
 *   - an xxh64 checksum; a page whose checksum changed since the previous
 *     pass is volatile and left alone for this pass (a page seen for the
 *     first time is a candidate at once);
 *   - a zero page merges with the zero page of its group at once;
 *   - otherwise the stable tree (merged pages, by group, checksum and
 *     content) is searched, then the unstable tree (candidates of this
 *     pass, rebuilt every pass); a match in the unstable tree becomes a new
 *     stable page.
 * Merging a page: unmap its index (write protection: every later write
 * faults into ->page_mkwrite), then under the file's lock check that the
 * index still holds it, that nobody else holds a reference (mapped or
 * pinned pages are not merged) and that the content is still equal, and
 * swap the merged page in.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/freezer.h>
#include <linux/highmem.h>
#include <linux/kthread.h>
#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/wait.h>
#include <linux/xxhash.h>

#include "ksm.h"
#define CREATE_TRACE_POINTS
#include "trace.h"

unsigned int ksm_run = KSM_RUN_MERGE;
unsigned int ksm_pages_to_scan = 100;
unsigned int ksm_sleep_millisecs = 20;
unsigned int ksm_max_page_sharing = 256;
bool ksm_use_zero_pages = true;
bool ksm_merge_across_groups;

atomic_long_t ksm_pages_shared;
atomic_long_t ksm_sharing_total;
atomic_long_t ksm_zero_sharing;
atomic_long_t ksm_nr_items;
unsigned long ksm_pages_unshared;
unsigned long ksm_full_scans;
atomic_long_t ksm_pages_scanned;
atomic_long_t ksm_cow_breaks;

/* Serializes the scanner, the file list and the unstable tree. */
DEFINE_MUTEX(ksm_scan_mutex);
/* Protects the stable tree and the vk_spage sharing counts. */
DEFINE_SPINLOCK(ksm_stable_lock);

/* ksm_scan_mutex: */
static LIST_HEAD(ksm_inodes);
static struct list_head *cursor;	/* NULL: a pass starts; &ksm_inodes: ends */
static pgoff_t cursor_index;
static unsigned long pass_pages;
static unsigned long scan_seq = 1;
static struct rb_root unstable_root = RB_ROOT;
/* ksm_stable_lock: */
static struct rb_root stable_root = RB_ROOT;

static struct kmem_cache *item_cache;
static struct task_struct *ksm_thread;
static DECLARE_WAIT_QUEUE_HEAD(ksm_thread_wait);
static u64 zero_csum;

static u32 key_group(u32 group)
{
	return READ_ONCE(ksm_merge_across_groups) ? 0 : group;
}

/**
 * ksm_page_merged() - whether a file page is a merged (stable) page
 * @page: a page held by a file index.
 *
 * Return: true when @page is merged.
 */
bool ksm_page_merged(struct page *page)
{
	return READ_ONCE(page->private) != 0;
}

/**
 * ksm_page_zero() - whether a merged page is a zero page
 * @page: a page held by a file index whose vk_inode.lock the caller holds.
 *
 * Return: true when @page is a merged zero page.
 */
bool ksm_page_zero(struct page *page)
{
	struct vk_spage *sp = (struct vk_spage *)page_private(page);

	return sp && sp->key->zero;
}

/**
 * ksm_release_slot() - drop a file index's reference on its page
 * @page: the page that left the index.
 *
 * A merged page loses one sharer; when none is left it leaves the stable
 * tree and is freed with its last reference.
 *
 * Context: process context; the index was cleared under vk_inode.lock.
 */
void ksm_release_slot(struct page *page)
{
	struct vk_stable_key *key = NULL;
	struct vk_spage *sp;
	bool dead = false;

	if (!ksm_page_merged(page)) {
		put_page(page);
		return;
	}
	spin_lock(&ksm_stable_lock);
	sp = (struct vk_spage *)page_private(page);
	sp->sharing--;
	atomic_long_dec(&ksm_sharing_total);
	if (sp->key->zero)
		atomic_long_dec(&ksm_zero_sharing);
	if (!sp->sharing) {
		dead = true;
		list_del(&sp->link);
		if (list_empty(&sp->key->pages)) {
			key = sp->key;
			rb_erase(&key->node, &stable_root);
		}
		set_page_private(page, 0);
		atomic_long_dec(&ksm_pages_shared);
	}
	spin_unlock(&ksm_stable_lock);
	put_page(page);
	if (dead) {
		put_page(page);	/* the stable tree's reference */
		kfree(sp);
		kfree(key);
	}
}

static int cmp_key(u32 group, u64 csum, const struct vk_stable_key *key)
{
	if (group != key->group)
		return group < key->group ? -1 : 1;
	if (csum != key->csum)
		return csum < key->csum ? -1 : 1;
	return 0;
}

static int cmp_content(const void *a, struct page *page)
{
	void *b = kmap_local_page(page);
	int ret = memcmp(a, b, PAGE_SIZE);

	kunmap_local(b);
	return ret;
}

/* The key of (group, csum, content) or the place to link a new one. */
static struct vk_stable_key *stable_search(u32 group, u64 csum,
					   const void *content,
					   struct rb_node ***linkp,
					   struct rb_node **parentp)
{
	struct rb_node **link = &stable_root.rb_node, *parent = NULL;

	lockdep_assert_held(&ksm_stable_lock);
	while (*link) {
		struct vk_stable_key *key;
		struct vk_spage *first;
		int cmp;

		parent = *link;
		key = rb_entry(parent, struct vk_stable_key, node);
		cmp = cmp_key(group, csum, key);
		if (!cmp) {
			first = list_first_entry(&key->pages, struct vk_spage,
						 link);
			cmp = cmp_content(content, first->page);
		}
		if (!cmp)
			return key;
		link = cmp < 0 ? &parent->rb_left : &parent->rb_right;
	}
	if (linkp) {
		*linkp = link;
		*parentp = parent;
	}
	return NULL;
}

/* A merged page of this content with room, with a reference, or NULL. */
static struct vk_spage *stable_find(u32 group, u64 csum, const void *content,
				    struct page **pagep)
{
	struct vk_stable_key *key;
	struct vk_spage *sp;

	spin_lock(&ksm_stable_lock);
	key = stable_search(group, csum, content, NULL, NULL);
	if (key) {
		list_for_each_entry(sp, &key->pages, link) {
			if (sp->sharing < READ_ONCE(ksm_max_page_sharing)) {
				get_page(sp->page);
				*pagep = sp->page;
				spin_unlock(&ksm_stable_lock);
				return sp;
			}
		}
	}
	spin_unlock(&ksm_stable_lock);
	return NULL;
}

/*
 * Check under vi->lock that @page at @index is ours to merge: still there,
 * not merged, referenced by the index and the scanner only (so neither
 * mapped nor pinned), the file still in @group.
 */
static bool mergeable_now(struct vk_inode *vi, pgoff_t index,
			  struct page *page, u32 group)
{
	lockdep_assert_held(&vi->lock);
	return xa_load(&vi->pages, index) == page && !ksm_page_merged(page) &&
	       page_count(page) == 2 && !page_mapped(page) &&
	       key_group(vi->group) == group;
}

/*
 * Make @page (held by @vi at @index, and by the caller) a merged page with
 * one sharer.  Return: the new struct vk_spage, or NULL.
 */
static struct vk_spage *stable_promote(struct vk_inode *vi, pgoff_t index,
				       struct page *page, u32 group, u64 csum,
				       bool zero)
{
	struct vk_stable_key *key, *newkey;
	struct rb_node **link, *parent;
	struct vk_spage *sp;
	void *addr;
	bool ok;

	sp = kzalloc(sizeof(*sp), GFP_KERNEL);
	newkey = kzalloc(sizeof(*newkey), GFP_KERNEL);
	if (!sp || !newkey)
		goto fail;
	vk_unmap_index(vi, index);
	mutex_lock(&vi->lock);
	addr = kmap_local_page(page);
	ok = mergeable_now(vi, index, page, group) &&
	     xxh64(addr, PAGE_SIZE, 0) == csum;
	if (ok) {
		spin_lock(&ksm_stable_lock);
		key = stable_search(group, csum, addr, &link, &parent);
		if (!key) {
			key = newkey;
			newkey = NULL;
			key->group = group;
			key->csum = csum;
			key->zero = zero;
			INIT_LIST_HEAD(&key->pages);
			rb_link_node(&key->node, parent, link);
			rb_insert_color(&key->node, &stable_root);
		}
		sp->page = page;
		sp->key = key;
		sp->sharing = 1;
		list_add_tail(&sp->link, &key->pages);
		get_page(page);
		set_page_private(page, (unsigned long)sp);
		atomic_long_inc(&ksm_pages_shared);
		atomic_long_inc(&ksm_sharing_total);
		if (key->zero)
			atomic_long_inc(&ksm_zero_sharing);
		spin_unlock(&ksm_stable_lock);
	}
	kunmap_local(addr);
	mutex_unlock(&vi->lock);
	if (ok) {
		kfree(newkey);
		return sp;
	}
fail:
	kfree(sp);
	kfree(newkey);
	return NULL;
}

/* Replace @page at @index by the merged page @stable of @sp. */
static bool try_merge(struct vk_inode *vi, pgoff_t index, struct page *page,
		      u32 group, struct vk_spage *sp, struct page *stable)
{
	bool ok = false;
	void *addr;

	vk_unmap_index(vi, index);
	mutex_lock(&vi->lock);
	if (!mergeable_now(vi, index, page, group))
		goto out;
	addr = kmap_local_page(page);
	ok = !cmp_content(addr, stable);
	kunmap_local(addr);
	/*
	 * A fault that mapped the page may still hold its lock (its reference
	 * went with the mapping we removed): the page must not be freed under
	 * it.  Index entries are only replaced with the old page locked.
	 */
	if (!ok || !trylock_page(page)) {
		ok = false;
		goto out;
	}
	spin_lock(&ksm_stable_lock);
	ok = page_private(stable) == (unsigned long)sp && sp->sharing &&
	     sp->sharing < READ_ONCE(ksm_max_page_sharing);
	if (ok) {
		sp->sharing++;
		atomic_long_inc(&ksm_sharing_total);
		if (sp->key->zero)
			atomic_long_inc(&ksm_zero_sharing);
	}
	spin_unlock(&ksm_stable_lock);
	if (!ok) {
		unlock_page(page);
		goto out;
	}
	get_page(stable);
	/* The index exists: replacing its entry allocates nothing. */
	WARN_ON_ONCE(xa_is_err(xa_store(&vi->pages, index, stable, GFP_KERNEL)));
	unlock_page(page);
	trace_vmaccel_ksm_merge(vi->vfs_inode.i_ino, index, page_to_pfn(stable),
				sp->key->zero);
	put_page(page);	/* the index's reference */
out:
	mutex_unlock(&vi->lock);
	return ok;
}

static void item_unlink(struct vk_item *item)
{
	lockdep_assert_held(&ksm_scan_mutex);
	if (item->seq == scan_seq) {
		rb_erase(&item->node, &unstable_root);
		ksm_pages_unshared--;
	}
	item->seq = 0;
}

static void item_free(struct vk_item *item)
{
	item_unlink(item);
	xa_erase(&item->vi->items, item->index);
	kmem_cache_free(item_cache, item);
	atomic_long_dec(&ksm_nr_items);
}

/* The page at @vi/@index with a reference, if it is not merged. */
static struct page *get_unmerged(struct vk_inode *vi, pgoff_t index)
{
	struct page *page;

	mutex_lock(&vi->lock);
	page = xa_load(&vi->pages, index);
	if (page && ksm_page_merged(page))
		page = NULL;
	if (page)
		get_page(page);
	mutex_unlock(&vi->lock);
	return page;
}

/*
 * Search the unstable tree for an item with @item's group, checksum and
 * content; insert @item when there is none.  Return: the matching item,
 * its page referenced in *pagep, or NULL.
 */
static struct vk_item *unstable_search_insert(struct vk_item *item,
					      const void *content,
					      struct page **pagep)
{
	struct rb_node **link = &unstable_root.rb_node, *parent = NULL;

	while (*link) {
		struct vk_item *t;
		struct page *page;
		int cmp;

		parent = *link;
		t = rb_entry(parent, struct vk_item, node);
		if (item->group != t->group)
			cmp = item->group < t->group ? -1 : 1;
		else if (item->csum != t->csum)
			cmp = item->csum < t->csum ? -1 : 1;
		else
			cmp = 0;
		if (!cmp) {
			page = get_unmerged(t->vi, t->index);
			if (page && !cmp_content(content, page)) {
				*pagep = page;
				return t;
			}
			if (page)
				put_page(page);
			cmp = 1;	/* equal checksums go right */
		}
		link = cmp < 0 ? &parent->rb_left : &parent->rb_right;
	}
	rb_link_node(&item->node, parent, link);
	rb_insert_color(&item->node, &unstable_root);
	item->seq = scan_seq;
	ksm_pages_unshared++;
	return NULL;
}

static bool index_mergeable(struct vk_inode *vi, pgoff_t index)
{
	return mtree_load(&vi->mergeable, index) == VK_MERGEABLE;
}

/* Scan one file page.  Return: true when it was merged. */
static bool scan_one(struct vk_inode *vi, pgoff_t index)
{
	struct vk_item *item = xa_load(&vi->items, index), *t;
	struct page *page, *other;
	struct vk_spage *sp;
	bool merged = false, first = false, zero = false;
	void *addr;
	u32 group;
	u64 csum;

	lockdep_assert_held(&ksm_scan_mutex);
	mutex_lock(&vi->lock);
	page = xa_load(&vi->pages, index);
	if (page)
		get_page(page);
	group = key_group(vi->group);
	mutex_unlock(&vi->lock);
	if (!page || !index_mergeable(vi, index)) {
		if (item)
			item_free(item);
		goto out;
	}
	pass_pages++;
	atomic_long_inc(&ksm_pages_scanned);
	if (ksm_page_merged(page))
		goto out;
	if (!item) {
		item = kmem_cache_zalloc(item_cache, GFP_KERNEL);
		if (!item)
			goto out;
		item->vi = vi;
		item->index = index;
		if (xa_is_err(xa_store(&vi->items, index, item, GFP_KERNEL))) {
			kmem_cache_free(item_cache, item);
			goto out;
		}
		atomic_long_inc(&ksm_nr_items);
		first = true;
	}
	item_unlink(item);
	addr = kmap_local_page(page);
	csum = xxh64(addr, PAGE_SIZE, 0);
	if (!first && csum != item->csum) {
		/* Volatile: changed since the previous pass. */
		item->csum = csum;
		kunmap_local(addr);
		goto out;
	}
	item->csum = csum;
	item->group = group;
	zero = READ_ONCE(ksm_use_zero_pages) && csum == zero_csum &&
	       !memchr_inv(addr, 0, PAGE_SIZE);
	sp = stable_find(group, csum, addr, &other);
	if (sp) {
		kunmap_local(addr);
		merged = try_merge(vi, index, page, group, sp, other);
		put_page(other);
		goto out;
	}
	if (zero) {
		/* Zero-page fast path: this page becomes the group's zero page. */
		kunmap_local(addr);
		stable_promote(vi, index, page, group, csum, true);
		goto out;
	}
	t = unstable_search_insert(item, addr, &other);
	kunmap_local(addr);
	if (t) {
		item_unlink(t);
		sp = stable_promote(t->vi, t->index, other, group, csum, false);
		if (sp)
			merged = try_merge(vi, index, page, group, sp, other);
		put_page(other);
	}
out:
	if (page)
		put_page(page);
	return merged;
}

static void pass_end(void)
{
	lockdep_assert_held(&ksm_scan_mutex);
	if (cursor)
		ksm_full_scans++;
	trace_vmaccel_ksm_pass(ksm_full_scans, pass_pages);
	cursor = NULL;
	scan_seq++;
	unstable_root = RB_ROOT;
	ksm_pages_unshared = 0;
}

/*
 * Scan the next file page.  Return: false at the end of a pass, true when
 * a page (or an empty stretch) was consumed; *merged counts merges.
 */
static bool scan_step(u64 *merged, u64 *scanned)
{
	struct vk_inode *vi;
	unsigned long a, b;
	bool pa, pb;

	if (!cursor) {
		if (list_empty(&ksm_inodes)) {
			pass_pages = 0;
			return false;	/* no file: no pass */
		}
		cursor = ksm_inodes.next;
		cursor_index = 0;
		pass_pages = 0;
	}
	if (cursor == &ksm_inodes) {
		pass_end();
		return false;
	}
	vi = list_entry(cursor, struct vk_inode, link);
	a = cursor_index;
	b = cursor_index;
	pa = xa_find(&vi->pages, &a, ULONG_MAX, XA_PRESENT);
	pb = xa_find(&vi->items, &b, ULONG_MAX, XA_PRESENT);
	if (!pa && !pb) {
		cursor = cursor->next;
		cursor_index = 0;
		return true;
	}
	if (!pa || (pb && b < a))
		a = b;
	(*scanned)++;
	if (scan_one(vi, a))
		(*merged)++;
	if (a == ULONG_MAX) {
		cursor = cursor->next;
		cursor_index = 0;
	} else {
		cursor_index = a + 1;
	}
	return true;
}

/* The thread's batch: up to @budget pages, across a pass end if needed. */
static void scan_batch(unsigned long budget)
{
	u64 merged = 0, scanned = 0;

	while (scanned < budget) {
		/* A pass that found no page at all ends the batch. */
		if (!scan_step(&merged, &scanned) && (!cursor && !pass_pages))
			break;
		cond_resched();
	}
}

/**
 * ksm_scan_passes() - run full passes now, in the caller's context
 * @passes: number of full passes.
 * @merged: returns the file pages merged.
 * @scanned: returns the file pages looked at.
 *
 * A pass in progress is abandoned and a new one starts.
 *
 * Context: process context, takes ksm_scan_mutex.
 * Return: 0, or -EINTR on a fatal signal.
 */
int ksm_scan_passes(unsigned int passes, u64 *merged, u64 *scanned)
{
	unsigned int i;
	int err = 0;

	*merged = 0;
	*scanned = 0;
	if (mutex_lock_killable(&ksm_scan_mutex))
		return -EINTR;
	if (cursor) {
		cursor = NULL;	/* a fresh pass, not counted as full */
		pass_end();
	}
	for (i = 0; i < passes && !err; i++) {
		while (scan_step(merged, scanned)) {
			if (fatal_signal_pending(current)) {
				err = -EINTR;
				cursor = NULL;
				pass_end();
				break;
			}
			cond_resched();
		}
	}
	mutex_unlock(&ksm_scan_mutex);
	return err;
}

/**
 * ksm_inode_add() - make a new regular file visible to the scanner
 * @vi: the file.
 */
void ksm_inode_add(struct vk_inode *vi)
{
	mutex_lock(&ksm_scan_mutex);
	list_add_tail(&vi->link, &ksm_inodes);
	mutex_unlock(&ksm_scan_mutex);
}

static void free_items(struct vk_inode *vi, pgoff_t start, pgoff_t last)
{
	struct vk_item *item;
	unsigned long index;

	lockdep_assert_held(&ksm_scan_mutex);
	xa_for_each_range(&vi->items, index, item, start, last)
		item_free(item);
}

/**
 * ksm_inode_remove() - forget a file that is being evicted
 * @vi: the file.
 */
void ksm_inode_remove(struct vk_inode *vi)
{
	mutex_lock(&ksm_scan_mutex);
	if (cursor == &vi->link) {
		cursor = vi->link.next;
		cursor_index = 0;
	}
	list_del_init(&vi->link);
	free_items(vi, 0, ULONG_MAX);
	xa_destroy(&vi->items);
	mutex_unlock(&ksm_scan_mutex);
}

/**
 * ksm_set_group() - move a file to another merge group
 * @vi: the file.
 * @group: the new group.
 *
 * The file's candidates leave the unstable tree and its merged pages get
 * private copies (they were merged under the old group).
 *
 * Return: 0, -ENOMEM or -EINTR.
 */
int ksm_set_group(struct vk_inode *vi, u32 group)
{
	int err;

	if (mutex_lock_killable(&ksm_scan_mutex))
		return -EINTR;
	mutex_lock(&vi->lock);
	vi->group = group;
	mutex_unlock(&vi->lock);
	free_items(vi, 0, ULONG_MAX);
	err = vk_break_range(vi, 0, ULONG_MAX);
	mutex_unlock(&ksm_scan_mutex);
	return err;
}

/**
 * ksm_set_mergeable() - allow or stop merging in a range of a file
 * @vi: the file.
 * @start: first page index.
 * @last: last page index.
 * @on: allow (true) or stop (false); stopping unmerges the range.
 *
 * Return: 0, -ENOMEM or -EINTR.
 */
int ksm_set_mergeable(struct vk_inode *vi, pgoff_t start, pgoff_t last,
		      bool on)
{
	int err;

	if (mutex_lock_killable(&ksm_scan_mutex))
		return -EINTR;
	if (on) {
		err = mtree_store_range(&vi->mergeable, start, last,
					VK_MERGEABLE, GFP_KERNEL);
	} else {
		err = mtree_store_range(&vi->mergeable, start, last, NULL,
					GFP_KERNEL);
		if (!err) {
			free_items(vi, start, last);
			err = vk_break_range(vi, start,
					     last == ULONG_MAX ? ULONG_MAX : last + 1);
		}
	}
	mutex_unlock(&ksm_scan_mutex);
	return err;
}

/**
 * ksm_unmerge_all() - give every merged file page a private copy
 *
 * Context: ksm_scan_mutex held.  Also frees the scanner's per-page
 * state, like run=2 upstream.
 * Return: 0, -ENOMEM or -EINTR.
 */
int ksm_unmerge_all(void)
{
	struct vk_inode *vi;
	int err;

	lockdep_assert_held(&ksm_scan_mutex);
	cursor = NULL;
	pass_end();
	list_for_each_entry(vi, &ksm_inodes, link) {
		free_items(vi, 0, ULONG_MAX);
		err = vk_break_range(vi, 0, ULONG_MAX);
		if (err)
			return err;
	}
	return 0;
}

/**
 * ksm_files_show() - one line of counters per vmaccelfs file (debugfs)
 * @m: the seq_file.
 */
void ksm_files_show(struct seq_file *m)
{
	struct vmaccel_ksm_file_stats st;
	struct vk_inode *vi;

	seq_puts(m, "ino group size resident merged shared sharing zero cow_breaks\n");
	mutex_lock(&ksm_scan_mutex);
	list_for_each_entry(vi, &ksm_inodes, link) {
		if (vk_file_stats(vi, &st))
			continue;
		seq_printf(m, "%lu %u %llu %llu %llu %llu %llu %llu %llu\n",
			   vi->vfs_inode.i_ino, st.group, st.size, st.resident,
			   st.merged, st.shared, st.sharing, st.zero,
			   st.cow_breaks);
	}
	mutex_unlock(&ksm_scan_mutex);
}

/**
 * ksm_scan_wake() - wake the scanner thread after a knob changed
 */
void ksm_scan_wake(void)
{
	wake_up_interruptible(&ksm_thread_wait);
}

static bool ksm_thread_should_run(void)
{
	return READ_ONCE(ksm_run) == KSM_RUN_MERGE || kthread_should_stop();
}

static int ksm_scan_thread(void *unused)
{
	set_freezable();
	set_user_nice(current, 5);
	while (!kthread_should_stop()) {
		mutex_lock(&ksm_scan_mutex);
		if (READ_ONCE(ksm_run) == KSM_RUN_MERGE)
			scan_batch(READ_ONCE(ksm_pages_to_scan));
		mutex_unlock(&ksm_scan_mutex);
		try_to_freeze();
		if (READ_ONCE(ksm_run) == KSM_RUN_MERGE) {
			long timeout;

			timeout = msecs_to_jiffies(READ_ONCE(ksm_sleep_millisecs));
			wait_event_interruptible_timeout(ksm_thread_wait,
							 kthread_should_stop(),
							 timeout);
		} else {
			wait_event_interruptible(ksm_thread_wait,
						 ksm_thread_should_run());
		}
	}
	return 0;
}

/**
 * ksm_scan_pid() - the scanner thread's pid
 *
 * Return: its pid in the initial namespace.
 */
pid_t ksm_scan_pid(void)
{
	return ksm_thread ? task_pid_nr(ksm_thread) : 0;
}

/**
 * ksm_scan_init() - create the item cache and start the scanner thread
 *
 * Return: 0 or a negative errno.
 */
int ksm_scan_init(void)
{
	void *zero = kzalloc(PAGE_SIZE, GFP_KERNEL);

	if (!zero)
		return -ENOMEM;
	zero_csum = xxh64(zero, PAGE_SIZE, 0);
	kfree(zero);
	item_cache = kmem_cache_create("vmaccel_ksm_item",
				       sizeof(struct vk_item), 0, 0, NULL);
	if (!item_cache)
		return -ENOMEM;
	ksm_thread = kthread_run(ksm_scan_thread, NULL, "vmaccel_ksmd");
	if (IS_ERR(ksm_thread)) {
		kmem_cache_destroy(item_cache);
		return PTR_ERR(ksm_thread);
	}
	return 0;
}

/**
 * ksm_scan_exit() - stop the scanner thread (every file is gone)
 */
void ksm_scan_exit(void)
{
	kthread_stop(ksm_thread);
	ksm_thread = NULL;
	kmem_cache_destroy(item_cache);
}
