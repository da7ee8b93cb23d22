// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmaccel_ksm - the merge scanner.
 *
 * Like ksmd: a kernel thread visits pages_to_scan file pages of every
 * vmaccelfs file, then sleeps sleep_millisecs.  It takes the pages of a
 * file in chunks of up to VK_CHUNK, in three phases:
 *   1. classify: per page (struct vk_item) one xxh64 checksum; a page whose
 *      checksum changed since the previous pass is volatile and left alone
 *      for this pass (a page seen for the first time is a candidate at
 *      once).  A page is a merge candidate if its checksum is the zero
 *      page's, or a key of the stable tree (merged pages, by group,
 *      checksum and content), or that of an item of the unstable tree
 *      (this pass's unmerged pages, rebuilt every pass); the others go into
 *      the unstable tree.  No content is compared yet.
 *   2. unmap the candidates and their unstable-tree partners, one
 *      unmap_mapping_range() per run of consecutive indices: write
 *      protection (every later write faults into ->page_mkwrite) with one
 *      TLB flush per run instead of one per page.
 *      A page pinned for DMA is skipped in phase 1, before it is unmapped.
 *   3. merge each candidate under its file's lock, once nothing but the
 *      index and the scanner holds it (so nobody maps, pins or writes it):
 *      a zero page is checked with memchr_inv() and joins its group's zero
 *      page; else one memcmp() against the stable page of its key, or
 *      against its unstable partner (both files' locks held), which then
 *      becomes a new stable page.  A candidate that does not merge goes
 *      into the unstable tree.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/freezer.h>
#include <linux/highmem.h>
#include <linux/kthread.h>
#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/string.h>
#include <linux/wait.h>
#include <linux/xxhash.h>

#include "ksm.h"
#define CREATE_TRACE_POINTS
#include "trace.h"

unsigned int vk_run = KSM_RUN_STOP;	/* as upstream: the admin starts it */
unsigned int vk_pages_to_scan = 100;
unsigned int vk_sleep_millisecs = 20;
unsigned int vk_max_page_sharing = 256;
bool vk_use_zero_pages = true;
bool vk_merge_across_groups;

atomic_long_t vk_pages_shared;
atomic_long_t vk_sharing_total;
atomic_long_t vk_zero_sharing;
atomic_long_t vk_nr_items;
unsigned long vk_pages_unshared;
unsigned long vk_full_scans;
atomic_long_t vk_pages_scanned;
atomic_long_t vk_cow_breaks;
atomic_long_t vk_pages_pinned;

/* Serializes the scanner, the file list and the unstable tree. */
DEFINE_MUTEX(vk_scan_mutex);
/* Protects the stable tree and the vk_spage sharing counts. */
DEFINE_SPINLOCK(vk_stable_lock);

/* vk_scan_mutex: */
static LIST_HEAD(vk_inodes);
static struct list_head *cursor;	/* NULL: a pass starts; &vk_inodes: ends */
static pgoff_t cursor_index;
static unsigned long pass_pages;
static unsigned long scan_seq = 1;
static struct rb_root unstable_root = RB_ROOT;
/* vk_stable_lock: */
static struct rb_root stable_root = RB_ROOT;

static struct kmem_cache *item_cache;
static struct task_struct *vk_thread;
static DECLARE_WAIT_QUEUE_HEAD(vk_thread_wait);
static u64 zero_csum;

static u32 key_group(u32 group)
{
	return READ_ONCE(vk_merge_across_groups) ? 0 : group;
}

/**
 * vk_page_merged() - whether a file page is a merged (stable) page
 * @page: a page held by a file index.
 *
 * Return: true when @page is merged.
 */
bool vk_page_merged(struct page *page)
{
	return !!vk_page_spage(page);
}

/**
 * vk_page_spage() - the struct vk_spage of a merged file page
 * @page: a page held by a file index.
 *
 * Return: the vk_spage, or NULL when @page is not merged.  It lives while
 * the index the caller found @page at holds it.
 */
struct vk_spage *vk_page_spage(struct page *page)
{
	unsigned long priv = READ_ONCE(page->private);

	return priv & VK_OWNED ? NULL : (struct vk_spage *)priv;
}

/**
 * vk_page_zero() - whether a merged page is a zero page
 * @page: a page held by a file index whose vk_inode.lock the caller holds.
 *
 * Return: true when @page is a merged zero page.
 */
bool vk_page_zero(struct page *page)
{
	struct vk_spage *sp = vk_page_spage(page);

	return sp && sp->key->zero;
}

/**
 * vk_release_slot() - drop a file index's reference on its page
 * @page: the page that left the index.
 *
 * A private page stops being movable (under its page lock, which this
 * takes) and goes with its last reference.  A merged page loses one
 * sharer; when none is left it leaves the stable tree and is freed with
 * its last reference.
 *
 * Context: process context, may sleep; the index was cleared under
 * vk_inode.lock; the page's lock not held.
 */
void vk_release_slot(struct page *page)
{
	struct vk_stable_key *key = NULL;
	struct vk_spage *sp;
	bool dead = false;

	if (!vk_page_merged(page)) {
		lock_page(page);
		vk_page_disown(page);
		unlock_page(page);
		put_page(page);
		return;
	}
	spin_lock(&vk_stable_lock);
	sp = (struct vk_spage *)page_private(page);
	sp->sharing--;
	atomic_long_dec(&vk_sharing_total);
	if (sp->key->zero)
		atomic_long_dec(&vk_zero_sharing);
	if (!sp->sharing) {
		dead = true;
		list_del(&sp->link);
		if (list_empty(&sp->key->pages)) {
			key = sp->key;
			rb_erase(&key->node, &stable_root);
		}
		set_page_private(page, 0);
		atomic_long_dec(&vk_pages_shared);
	}
	spin_unlock(&vk_stable_lock);
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

/*
 * A merged page with a memory error is never read: it sorts before every
 * content of its key, so a search for that content goes on to the right
 * and a new merged page of it is linked there.
 */
static int cmp_content(const void *a, struct page *page)
{
	void *b;
	int ret;

	if (PageHWPoison(page))
		return 1;
	b = kmap_local_page(page);
	ret = memcmp(a, b, PAGE_SIZE);
	kunmap_local(b);
	return ret;
}

/*
 * The key of (group, csum, content) or the place to link a new one.  With
 * @zero the caller checked that @content is all zeroes: the group's zero
 * key matches without a comparison.
 */
static struct vk_stable_key *stable_search(u32 group, u64 csum,
					   const void *content, bool zero,
					   struct rb_node ***linkp,
					   struct rb_node **parentp)
{
	struct rb_node **link = &stable_root.rb_node, *parent = NULL;

	lockdep_assert_held(&vk_stable_lock);
	while (*link) {
		struct vk_stable_key *key;
		struct vk_spage *first;
		int cmp;

		parent = *link;
		key = rb_entry(parent, struct vk_stable_key, node);
		cmp = cmp_key(group, csum, key);
		if (!cmp && !(zero && key->zero)) {
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

/* Whether the stable tree holds a key (@group, @csum): no content compare. */
static bool stable_has(u32 group, u64 csum)
{
	struct rb_node *node;
	bool found = false;

	spin_lock(&vk_stable_lock);
	node = stable_root.rb_node;
	while (node && !found) {
		int cmp = cmp_key(group, csum,
				  rb_entry(node, struct vk_stable_key, node));

		found = !cmp;
		node = cmp < 0 ? node->rb_left : node->rb_right;
	}
	spin_unlock(&vk_stable_lock);
	return found;
}

/*
 * Check under vi->lock that @page at @index is ours to merge: still there,
 * not merged, referenced by the index and the scanner only (so neither
 * mapped nor pinned: its content cannot change while vi->lock is held), the
 * file still in @group, and no memory error reported for it.
 */
static bool mergeable_now(struct vk_inode *vi, pgoff_t index,
			  struct page *page, u32 group)
{
	lockdep_assert_held(&vi->lock);
	return xa_load(&vi->pages, index) == page && !vk_page_merged(page) &&
	       page_count(page) == 2 && !page_mapped(page) &&
	       !PageHWPoison(page) && key_group(vi->group) == group;
}

/* Make @page, locked, a merged page of @key with @sharing users. */
static struct vk_spage *spage_add(struct vk_stable_key *key,
				  struct vk_spage *sp, struct page *page,
				  unsigned long sharing)
{
	lockdep_assert_held(&vk_stable_lock);
	VM_WARN_ON_ONCE_PAGE(!PageLocked(page), page);
	vk_page_disown(page);	/* a merged page is not movable */
	sp->page = page;
	sp->key = key;
	sp->sharing = sharing;
	list_add_tail(&sp->link, &key->pages);
	get_page(page);	/* the stable tree's reference */
	set_page_private(page, (unsigned long)sp);
	atomic_long_inc(&vk_pages_shared);
	atomic_long_add(sharing, &vk_sharing_total);
	if (key->zero)
		atomic_long_add(sharing, &vk_zero_sharing);
	return sp;
}

/*
 * A merged page of @key with room for one more sharer, or NULL.  One with a
 * memory error takes no more sharers.
 */
static struct vk_spage *key_room(struct vk_stable_key *key)
{
	struct vk_spage *s;

	lockdep_assert_held(&vk_stable_lock);
	list_for_each_entry(s, &key->pages, link)
		if (s->sharing < READ_ONCE(vk_max_page_sharing) &&
		    !PageHWPoison(s->page))
			return s;
	return NULL;
}

/*
 * The key to add a new merged page of @content to, linked into the stable
 * tree from @newkey if new.  NULL when a merged page of that content still
 * has room: merge_stable() could not use it just now (the page was busy),
 * and a second page would only split the sharers; the next pass merges.
 */
static struct vk_stable_key *stable_get_key(u32 group, u64 csum,
					    const void *content, bool zero,
					    struct vk_stable_key **newkey)
{
	struct vk_stable_key *key;
	struct rb_node **link, *parent;

	lockdep_assert_held(&vk_stable_lock);
	key = stable_search(group, csum, content, zero, &link, &parent);
	if (key)
		return key_room(key) ? NULL : key;
	key = *newkey;
	*newkey = NULL;
	key->group = group;
	key->csum = csum;
	key->zero = zero;
	INIT_LIST_HEAD(&key->pages);
	rb_link_node(&key->node, parent, link);
	rb_insert_color(&key->node, &stable_root);
	return key;
}

/*
 * A merge candidate found by the first phase of a chunk: its index was
 * unmapped by the second phase; the third merges it under the file's lock.
 */
struct vk_cand {
	struct page *page;		/* referenced */
	struct vk_item *item;
	struct vk_item *partner;	/* unstable-tree match, or NULL */
	pgoff_t index;
	u64 csum;
	bool zero;			/* csum says zero page (unverified) */
};

/* Pages per chunk: merged with one unmap per run of candidates. */
#define VK_CHUNK	64

/* vk_scan_mutex: */
static struct vk_cand cands[VK_CHUNK];
static struct vk_item *partners[VK_CHUNK];
static struct page *chunk_pages[VK_CHUNK];
static pgoff_t chunk_index[VK_CHUNK];

/*
 * Replace the candidate's page by a merged page of the same content: the
 * group's zero page for a zero page (checked with memchr_inv()), else the
 * stable page whose content memcmp() finds equal.  Return: true if merged.
 */
static bool merge_stable(struct vk_inode *vi, struct vk_cand *c, u32 group)
{
	struct vk_stable_key *key;
	struct vk_spage *sp = NULL;
	struct page *stable = NULL;
	void *addr;

	mutex_lock(&vi->lock);
	/*
	 * A fault that mapped the page may still hold its lock (its reference
	 * went with the mapping we removed): the page must not be freed under
	 * it.  Index entries are only replaced with the old page locked.  The
	 * checks come after it, as in merge_pair() (isolation needs it).
	 */
	if (!trylock_page(c->page))
		goto out;
	if (!mergeable_now(vi, c->index, c->page, group)) {
		unlock_page(c->page);
		goto out;
	}
	addr = kmap_local_page(c->page);
	if (c->zero && memchr_inv(addr, 0, PAGE_SIZE))
		c->zero = false;
	spin_lock(&vk_stable_lock);
	key = stable_search(group, c->csum, addr, c->zero, NULL, NULL);
	if (key)
		sp = key_room(key);
	if (sp) {
		stable = sp->page;
		sp->sharing++;
		atomic_long_inc(&vk_sharing_total);
		if (key->zero)
			atomic_long_inc(&vk_zero_sharing);
		get_page(stable);	/* the index's reference */
	}
	spin_unlock(&vk_stable_lock);
	kunmap_local(addr);
	if (stable) {
		/* The index exists: replacing its entry allocates nothing. */
		WARN_ON_ONCE(xa_is_err(xa_store(&vi->pages, c->index, stable,
						GFP_KERNEL)));
		trace_vk_merge(vi->vfs_inode.i_ino, c->index,
			       page_to_pfn(stable), key->zero);
	}
	if (stable)
		vk_page_disown(c->page);	/* it left its index */
	unlock_page(c->page);
	if (stable)
		put_page(c->page);	/* the index's reference */
out:
	mutex_unlock(&vi->lock);
	return !!stable;
}

/* A zero page with no room on a zero page of its group becomes one. */
static bool promote_zero(struct vk_inode *vi, struct vk_cand *c, u32 group)
{
	struct vk_stable_key *newkey, *key;
	struct vk_spage *sp;
	bool ok = false;
	void *addr;

	sp = kzalloc(sizeof(*sp), GFP_KERNEL);
	newkey = kzalloc(sizeof(*newkey), GFP_KERNEL);
	if (!sp || !newkey)
		goto out;
	mutex_lock(&vi->lock);
	if (!trylock_page(c->page))
		goto unlock;
	addr = kmap_local_page(c->page);
	ok = mergeable_now(vi, c->index, c->page, group) &&
	     !memchr_inv(addr, 0, PAGE_SIZE);
	if (ok) {
		spin_lock(&vk_stable_lock);
		key = stable_get_key(group, zero_csum, addr, true, &newkey);
		ok = !!key;
		if (ok) {
			spage_add(key, sp, c->page, 1);
			sp = NULL;
		}
		spin_unlock(&vk_stable_lock);
	}
	kunmap_local(addr);
	unlock_page(c->page);
unlock:
	mutex_unlock(&vi->lock);
out:
	kfree(sp);
	kfree(newkey);
	return ok;
}

/* The page at @vi/@index with a reference, if it is not merged. */
static struct page *get_unmerged(struct vk_inode *vi, pgoff_t index)
{
	struct page *page;

	mutex_lock(&vi->lock);
	page = xa_load(&vi->pages, index);
	if (page && vk_page_merged(page))
		page = NULL;
	if (page)
		get_page(page);
	mutex_unlock(&vi->lock);
	return page;
}

static void item_unlink(struct vk_item *item)
{
	lockdep_assert_held(&vk_scan_mutex);
	if (item->seq == scan_seq) {
		rb_erase(&item->node, &unstable_root);
		vk_pages_unshared--;
	}
	item->seq = 0;
}

static void item_free(struct vk_item *item)
{
	item_unlink(item);
	xa_erase(&item->vi->items, item->index);
	kmem_cache_free(item_cache, item);
	atomic_long_dec(&vk_nr_items);
}

/* The first unstable-tree item with @group and @csum, or NULL. */
static struct vk_item *unstable_lookup(u32 group, u64 csum)
{
	struct rb_node *node = unstable_root.rb_node;

	lockdep_assert_held(&vk_scan_mutex);
	while (node) {
		struct vk_item *t = rb_entry(node, struct vk_item, node);

		if (group == t->group && csum == t->csum)
			return t;
		if (group != t->group)
			node = group < t->group ? node->rb_left : node->rb_right;
		else
			node = csum < t->csum ? node->rb_left : node->rb_right;
	}
	return NULL;
}

/* Insert @item by its group and checksum (equal keys go right). */
static void unstable_insert(struct vk_item *item)
{
	struct rb_node **link = &unstable_root.rb_node, *parent = NULL;

	lockdep_assert_held(&vk_scan_mutex);
	while (*link) {
		struct vk_item *t;
		bool left;

		parent = *link;
		t = rb_entry(parent, struct vk_item, node);
		if (item->group != t->group)
			left = item->group < t->group;
		else
			left = item->csum < t->csum;
		link = left ? &parent->rb_left : &parent->rb_right;
	}
	rb_link_node(&item->node, parent, link);
	rb_insert_color(&item->node, &unstable_root);
	item->seq = scan_seq;
	vk_pages_unshared++;
}

/*
 * The candidate's page and the page of its unstable-tree partner, both
 * unmapped and unreferenced by others, are compared under both files'
 * locks; if equal the partner becomes a merged page with two users and
 * replaces the candidate's page.  Return: true if merged.
 *
 * Two vk_inode.locks are nested only here, under vk_scan_mutex.
 */
static bool merge_pair(struct vk_inode *vi, struct vk_cand *c, u32 group)
{
	struct vk_item *t = c->partner;
	struct vk_stable_key *newkey, *key;
	struct page *other;
	struct vk_spage *sp;
	bool ok = false;
	void *a, *b;

	item_unlink(t);
	other = get_unmerged(t->vi, t->index);
	if (!other)
		return false;
	sp = kzalloc(sizeof(*sp), GFP_KERNEL);
	newkey = kzalloc(sizeof(*newkey), GFP_KERNEL);
	if (!sp || !newkey)
		goto out;
	mutex_lock(&vi->lock);
	if (t->vi != vi)
		mutex_lock_nested(&t->vi->lock, SINGLE_DEPTH_NESTING);
	/*
	 * Both pages locked first: isolation for migration takes a reference
	 * without the file's lock, but not without the page's.  Merging an
	 * isolated page would have the migration core report it moved.
	 */
	if (!trylock_page(c->page))
		goto unlock;
	if (!trylock_page(other)) {
		unlock_page(c->page);
		goto unlock;
	}
	if (!mergeable_now(vi, c->index, c->page, group) ||
	    !mergeable_now(t->vi, t->index, other, group)) {
		unlock_page(other);
		unlock_page(c->page);
		goto unlock;
	}
	a = kmap_local_page(c->page);
	b = kmap_local_page(other);
	/*
	 * The checksum was taken before the pages were unmapped.  If the
	 * content changed since, merge_stable() looked under the wrong key:
	 * leave the page for the next pass rather than add a second stable
	 * page of a content that may already have one with room.
	 */
	ok = !memcmp(a, b, PAGE_SIZE) && xxh64(b, PAGE_SIZE, 0) == c->csum;
	if (ok) {
		spin_lock(&vk_stable_lock);
		key = stable_get_key(group, c->csum, b, false, &newkey);
		ok = !!key;
		if (ok) {
			spage_add(key, sp, other, 2);
			sp = NULL;
		}
		spin_unlock(&vk_stable_lock);
	}
	if (ok) {
		get_page(other);	/* the candidate index's reference */
		WARN_ON_ONCE(xa_is_err(xa_store(&vi->pages, c->index, other,
						GFP_KERNEL)));
		trace_vk_merge(vi->vfs_inode.i_ino, c->index,
			       page_to_pfn(other), false);
	}
	kunmap_local(b);
	kunmap_local(a);
	unlock_page(other);
	if (ok)
		vk_page_disown(c->page);	/* it left its index */
	unlock_page(c->page);
	if (ok)
		put_page(c->page);	/* the index's reference */
unlock:
	if (t->vi != vi)
		mutex_unlock(&t->vi->lock);
	mutex_unlock(&vi->lock);
out:
	/* Not merged: the partner stays a candidate for the rest of the pass. */
	if (!ok && !vk_page_merged(other) && t->seq != scan_seq)
		unstable_insert(t);
	put_page(other);
	kfree(sp);
	kfree(newkey);
	return ok;
}

/*
 * First phase for one unmerged page of a chunk: checksum and volatility,
 * then whether it may merge (a zero page, a stable key or an unstable item
 * with its checksum).  A page that may not is inserted into the unstable
 * tree.  Return: true when *c is filled in as a candidate.
 */
static bool classify(struct vk_inode *vi, pgoff_t index, struct page *page,
		     u32 group, struct vk_cand *c)
{
	struct vk_item *item = xa_load(&vi->items, index);
	bool first = false;
	void *addr;
	u64 csum;

	if (!item) {
		item = kmem_cache_zalloc(item_cache, GFP_KERNEL);
		if (!item)
			return false;
		item->vi = vi;
		item->index = index;
		if (xa_is_err(xa_store(&vi->items, index, item, GFP_KERNEL))) {
			kmem_cache_free(item_cache, item);
			return false;
		}
		atomic_long_inc(&vk_nr_items);
		first = true;
	}
	item_unlink(item);
	addr = kmap_local_page(page);
	csum = xxh64(addr, PAGE_SIZE, 0);
	kunmap_local(addr);
	if (!first && csum != item->csum) {
		/* Volatile: changed since the previous pass. */
		item->csum = csum;
		return false;
	}
	item->csum = csum;
	item->group = group;
	c->page = page;
	c->item = item;
	c->index = index;
	c->csum = csum;
	c->partner = NULL;
	c->zero = READ_ONCE(vk_use_zero_pages) && csum == zero_csum;
	if (c->zero)
		return true;
	/* A partner too: the stable pages of this content may be full. */
	c->partner = unstable_lookup(group, csum);
	if (c->partner || stable_has(group, csum))
		return true;
	unstable_insert(item);
	return false;
}

static int cmp_partner(const void *a, const void *b)
{
	const struct vk_item *x = *(const struct vk_item **)a;
	const struct vk_item *y = *(const struct vk_item **)b;

	if (x->vi != y->vi)
		return x->vi < y->vi ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

static void unmap_run(struct vk_inode *vi, pgoff_t first, pgoff_t last)
{
	unmap_mapping_range(vi->vfs_inode.i_mapping, (loff_t)first << PAGE_SHIFT,
			    (loff_t)(last - first + 1) << PAGE_SHIFT, 0);
}

/*
 * Second phase: write-protect the candidates and their partners by
 * unmapping them, one unmap_mapping_range() (one TLB flush) per run of
 * consecutive indices instead of one per page.  A page mapped again before
 * the third phase is simply not merged this pass.
 */
static void unmap_candidates(struct vk_inode *vi, unsigned int n)
{
	unsigned int i, j, np = 0;

	for (i = 0; i < n; i = j) {
		for (j = i + 1; j < n && cands[j].index == cands[j - 1].index + 1; j++)
			;
		if (mapping_mapped(vi->vfs_inode.i_mapping))
			unmap_run(vi, cands[i].index, cands[j - 1].index);
	}
	for (i = 0; i < n; i++)
		if (cands[i].partner)
			partners[np++] = cands[i].partner;
	sort(partners, np, sizeof(partners[0]), cmp_partner, NULL);
	for (i = 0; i < np; i = j) {
		struct vk_item *t = partners[i];

		for (j = i + 1; j < np && partners[j]->vi == t->vi &&
		     partners[j]->index <= partners[j - 1]->index + 1; j++)
			;
		if (mapping_mapped(t->vi->vfs_inode.i_mapping))
			unmap_run(t->vi, t->index, partners[j - 1]->index);
	}
}

/* Whether @index is in a mergeable range, cached in @first, @last, @on. */
static bool index_mergeable(struct vk_inode *vi, pgoff_t index,
			    pgoff_t *first, pgoff_t *last, bool *on)
{
	MA_STATE(mas, &vi->mergeable, index, index);
	void *entry;

	if (index >= *first && index <= *last)
		return *on;
	rcu_read_lock();
	entry = mas_walk(&mas);
	rcu_read_unlock();
	*first = mas.index;
	*last = mas.last;
	*on = entry == VK_MERGEABLE;
	if (index < *first || index > *last) {	/* not a range: no cache */
		*first = 1;
		*last = 0;
	}
	return entry == VK_MERGEABLE;
}

/* Forget the items of indices in [@first, @last] that hold no page. */
static void free_gap_items(struct vk_inode *vi, pgoff_t first, pgoff_t last)
{
	struct vk_item *item;
	unsigned long index;

	if (first > last)
		return;
	xa_for_each_range(&vi->items, index, item, first, last)
		item_free(item);
}

/*
 * Scan up to @budget (at most VK_CHUNK) pages of @vi from cursor_index in
 * three phases: classify every page (one checksum each), unmap the merge
 * candidates in runs, merge them.  Return: the pages scanned; 0 when the
 * file has no page left at or after cursor_index.
 */
static unsigned int scan_chunk(struct vk_inode *vi, unsigned int budget,
			       u64 *merged)
{
	XA_STATE(xas, &vi->pages, cursor_index);
	pgoff_t mfirst = 1, mlast = 0, next = cursor_index;
	unsigned int n = 0, nc = 0, i;
	struct page *page;
	bool on = false;
	u32 group;

	lockdep_assert_held(&vk_scan_mutex);
	/* A page queued for re-arming holds a reference: merging wants none. */
	vk_rearm_flush();
	mutex_lock(&vi->lock);
	rcu_read_lock();
	xas_for_each(&xas, page, ULONG_MAX) {
		if (xas_retry(&xas, page))
			continue;
		get_page(page);
		chunk_pages[n] = page;
		chunk_index[n] = xas.xa_index;
		if (++n == budget)
			break;
	}
	rcu_read_unlock();
	group = key_group(vi->group);
	mutex_unlock(&vi->lock);
	if (!n) {
		free_gap_items(vi, cursor_index, ULONG_MAX);
		return 0;
	}

	for (i = 0; i < n; i++) {
		pgoff_t index = chunk_index[i];

		page = chunk_pages[i];
		if (index > next)
			free_gap_items(vi, next, index - 1);
		next = index + 1;
		/*
		 * A page with a memory error is never read again, and its
		 * mappings go (merged or not), so that every later touch
		 * faults and gets the error instead of the memory.
		 */
		if (PageHWPoison(page)) {
			if (page_mapped(page))
				unmap_run(vi, index, index);
			put_page(page);
			continue;
		}
		if (!vk_page_merged(page))
			vk_page_rearm(page);
		if (!index_mergeable(vi, index, &mfirst, &mlast, &on)) {
			struct vk_item *item = xa_load(&vi->items, index);

			if (item)
				item_free(item);
			put_page(page);
			continue;
		}
		pass_pages++;
		atomic_long_inc(&vk_pages_scanned);
		/*
		 * A page pinned for DMA (FOLL_PIN: io_uring fixed buffers,
		 * VFIO, O_DIRECT) cannot merge; it is left out before the
		 * second phase would unmap it, and out of the unstable tree,
		 * where it would be unmapped as a partner.
		 */
		if (!vk_page_merged(page) &&
		    folio_maybe_dma_pinned(page_folio(page))) {
			atomic_long_inc(&vk_pages_pinned);
			put_page(page);
			continue;
		}
		if (vk_page_merged(page) ||
		    !classify(vi, index, page, group, &cands[nc])) {
			put_page(page);
			continue;
		}
		nc++;	/* the candidate keeps the page reference */
	}
	if (chunk_index[n - 1] == ULONG_MAX)
		cursor = cursor->next;	/* the cursor's file is done */
	else
		cursor_index = chunk_index[n - 1] + 1;

	if (nc)
		unmap_candidates(vi, nc);
	for (i = 0; i < nc; i++) {
		struct vk_cand *c = &cands[i];
		bool done = merge_stable(vi, c, group);

		if (done) {
			(*merged)++;
		} else if (c->zero) {
			done = promote_zero(vi, c, group);
		} else if (c->partner && c->partner->seq == scan_seq) {
			done = merge_pair(vi, c, group);
			*merged += done;
		}
		/* Not merged: a candidate for the rest of the pass. */
		if (!done && c->item->seq != scan_seq)
			unstable_insert(c->item);
		put_page(c->page);
	}
	return n;
}

static void pass_end(void)
{
	lockdep_assert_held(&vk_scan_mutex);
	if (cursor)
		vk_full_scans++;
	trace_vk_pass(vk_full_scans, pass_pages);
	cursor = NULL;
	scan_seq++;
	unstable_root = RB_ROOT;
	vk_pages_unshared = 0;
}

/*
 * Scan the next chunk of up to @budget pages.  Return: false at the end of
 * a pass, true when pages (or an empty file) were consumed; *merged counts
 * merges, *scanned the pages looked at.
 */
static bool scan_step(u64 *merged, u64 *scanned, unsigned long budget)
{
	struct list_head *was;
	unsigned int n;

	if (!cursor) {
		if (list_empty(&vk_inodes)) {
			pass_pages = 0;
			return false;	/* no file: no pass */
		}
		cursor = vk_inodes.next;
		cursor_index = 0;
		pass_pages = 0;
	}
	if (cursor == &vk_inodes) {
		pass_end();
		return false;
	}
	was = cursor;
	n = scan_chunk(list_entry(cursor, struct vk_inode, link),
		       min_t(unsigned long, budget, VK_CHUNK), merged);
	*scanned += n;
	if (!n || cursor != was) {
		if (cursor == was)
			cursor = cursor->next;
		cursor_index = 0;
	}
	return true;
}

/*
 * The thread's batch: up to @budget pages, across a pass end if needed.
 * vk_scan_mutex is taken for one chunk at a time, so that closing a file,
 * SET_GROUP and the knobs wait for at most one chunk; run is checked under
 * it before every chunk (run=2 must not be followed by a merge).
 */
static void scan_batch(unsigned long budget)
{
	u64 merged = 0, scanned = 0;
	bool stop;

	while (scanned < budget) {
		mutex_lock(&vk_scan_mutex);
		/* A pass that found no page at all ends the batch. */
		stop = READ_ONCE(vk_run) != KSM_RUN_MERGE ||
		       (!scan_step(&merged, &scanned, budget - scanned) &&
			!cursor && !pass_pages);
		mutex_unlock(&vk_scan_mutex);
		if (stop)
			break;
		cond_resched();
	}
}

/**
 * vk_scan_passes() - run full passes now, in the caller's context
 * @passes: number of full passes.
 * @merged: returns the file pages merged.
 * @scanned: returns the file pages looked at.
 *
 * A pass in progress is abandoned and a new one starts.  vk_scan_mutex is
 * held for one chunk at a time; the thread may scan chunks of the same
 * passes in between (they share the cursor), and the call returns once
 * @passes passes ended after it started.
 *
 * Context: process context, takes vk_scan_mutex.
 * Return: 0, or -EINTR on a fatal signal.
 */
int vk_scan_passes(unsigned int passes, u64 *merged, u64 *scanned)
{
	unsigned long target;

	*merged = 0;
	*scanned = 0;
	if (mutex_lock_killable(&vk_scan_mutex))
		return -EINTR;
	if (cursor) {
		cursor = NULL;	/* a fresh pass, not counted as full */
		pass_end();
	}
	target = vk_full_scans + passes;
	/* No file: no pass ends, and there is nothing to do. */
	while ((long)(vk_full_scans - target) < 0 && !list_empty(&vk_inodes)) {
		scan_step(merged, scanned, VK_CHUNK);
		mutex_unlock(&vk_scan_mutex);
		if (fatal_signal_pending(current))
			return -EINTR;
		cond_resched();
		if (mutex_lock_killable(&vk_scan_mutex))
			return -EINTR;
	}
	mutex_unlock(&vk_scan_mutex);
	return 0;
}

/**
 * vk_inode_add() - make a new regular file visible to the scanner
 * @vi: the file.
 */
void vk_inode_add(struct vk_inode *vi)
{
	mutex_lock(&vk_scan_mutex);
	list_add_tail(&vi->link, &vk_inodes);
	mutex_unlock(&vk_scan_mutex);
}

static void free_items(struct vk_inode *vi, pgoff_t start, pgoff_t last)
{
	struct vk_item *item;
	unsigned long index;

	lockdep_assert_held(&vk_scan_mutex);
	xa_for_each_range(&vi->items, index, item, start, last)
		item_free(item);
}

/**
 * vk_inode_remove() - forget a file that is being evicted
 * @vi: the file.
 */
void vk_inode_remove(struct vk_inode *vi)
{
	mutex_lock(&vk_scan_mutex);
	if (cursor == &vi->link) {
		cursor = vi->link.next;
		cursor_index = 0;
	}
	list_del_init(&vi->link);
	free_items(vi, 0, ULONG_MAX);
	xa_destroy(&vi->items);
	mutex_unlock(&vk_scan_mutex);
}

/**
 * vk_set_group() - move a file to another merge group
 * @vi: the file.
 * @group: the new group.
 *
 * The file's candidates leave the unstable tree and its merged pages get
 * private copies (they were merged under the old group); only then, with
 * no merged page left (the scanner waits for vk_scan_mutex), does the
 * file join @group.  On failure it stays in its old group, so no page
 * merged under one group is ever used by a file of another.  A merged
 * page with a memory error cannot be copied: the file then stays in its
 * group (-EHWPOISON).
 *
 * Return: 0, -ENOMEM, -EINTR or -EHWPOISON.
 */
int vk_set_group(struct vk_inode *vi, u32 group)
{
	int err;

	if (mutex_lock_killable(&vk_scan_mutex))
		return -EINTR;
	free_items(vi, 0, ULONG_MAX);
	err = vk_break_range(vi, 0, ULONG_MAX);
	if (!err) {
		mutex_lock(&vi->lock);
		vi->group = group;
		mutex_unlock(&vi->lock);
	}
	mutex_unlock(&vk_scan_mutex);
	return err;
}

/**
 * vk_set_mergeable() - allow or stop merging in a range of a file
 * @vi: the file.
 * @start: first page index.
 * @last: last page index.
 * @on: allow (true) or stop (false); stopping unmerges the range.
 *
 * Return: 0, -ENOMEM or -EINTR.
 */
int vk_set_mergeable(struct vk_inode *vi, pgoff_t start, pgoff_t last,
		     bool on)
{
	int err;

	if (mutex_lock_killable(&vk_scan_mutex))
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
			/* A merged page with a memory error stays merged. */
			if (err == -EHWPOISON)
				err = 0;
		}
	}
	mutex_unlock(&vk_scan_mutex);
	return err;
}

/**
 * vk_unmerge_all() - give every merged file page a private copy
 *
 * Context: vk_scan_mutex held.  Also frees the scanner's per-page
 * state, like run=2 upstream.
 * Return: 0, -ENOMEM or -EINTR.
 */
int vk_unmerge_all(void)
{
	struct vk_inode *vi;
	int err;

	lockdep_assert_held(&vk_scan_mutex);
	cursor = NULL;
	pass_end();
	list_for_each_entry(vi, &vk_inodes, link) {
		free_items(vi, 0, ULONG_MAX);
		err = vk_break_range(vi, 0, ULONG_MAX);
		/* A merged page with a memory error stays merged. */
		if (err && err != -EHWPOISON)
			return err;
	}
	return 0;
}

/**
 * vk_files_show() - one line of counters per vmaccelfs file (debugfs)
 * @m: the seq_file.
 */
void vk_files_show(struct seq_file *m)
{
	struct vmaccel_ksm_file_stats st;
	struct vk_inode *vi;

	seq_puts(m, "ino group size resident merged shared sharing zero cow_breaks\n");
	mutex_lock(&vk_scan_mutex);
	list_for_each_entry(vi, &vk_inodes, link) {
		if (vk_file_stats(vi, &st))
			continue;
		seq_printf(m, "%lu %u %llu %llu %llu %llu %llu %llu %llu\n",
			   vi->vfs_inode.i_ino, st.group, st.size, st.resident,
			   st.merged, st.shared, st.sharing, st.zero,
			   st.cow_breaks);
	}
	mutex_unlock(&vk_scan_mutex);
}

/**
 * vk_scan_wake() - wake the scanner thread after a knob changed
 */
void vk_scan_wake(void)
{
	wake_up_interruptible(&vk_thread_wait);
}

static bool vk_thread_should_run(void)
{
	return READ_ONCE(vk_run) == KSM_RUN_MERGE || kthread_should_stop();
}

static int vk_scan_thread(void *unused)
{
	set_freezable();
	set_user_nice(current, 5);
	while (!kthread_should_stop()) {
		if (READ_ONCE(vk_run) == KSM_RUN_MERGE)
			scan_batch(READ_ONCE(vk_pages_to_scan));
		try_to_freeze();
		if (READ_ONCE(vk_run) == KSM_RUN_MERGE) {
			long timeout;

			timeout = msecs_to_jiffies(READ_ONCE(vk_sleep_millisecs));
			wait_event_interruptible_timeout(vk_thread_wait,
							 kthread_should_stop(),
							 timeout);
		} else {
			wait_event_interruptible(vk_thread_wait,
						 vk_thread_should_run());
		}
	}
	return 0;
}

/**
 * vk_scan_pid() - the scanner thread's pid
 *
 * Return: its pid in the initial namespace.
 */
pid_t vk_scan_pid(void)
{
	return vk_thread ? task_pid_nr(vk_thread) : 0;
}

/**
 * vk_scan_init() - create the item cache and start the scanner thread
 *
 * Return: 0 or a negative errno.
 */
int vk_scan_init(void)
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
	vk_thread = kthread_run(vk_scan_thread, NULL, "vmaccel_ksmd");
	if (IS_ERR(vk_thread)) {
		kmem_cache_destroy(item_cache);
		return PTR_ERR(vk_thread);
	}
	return 0;
}

/**
 * vk_scan_exit() - stop the scanner thread (every file is gone)
 */
void vk_scan_exit(void)
{
	kthread_stop(vk_thread);
	vk_thread = NULL;
	kmem_cache_destroy(item_cache);
}
