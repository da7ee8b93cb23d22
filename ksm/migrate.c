// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmaccel_ksm - guest RAM that compaction, memory offlining and soft offline
 * can move.
 *
 * vmaccelfs pages are not in the page cache (a merged page backs many
 * indices of many files), so they are not on the LRU.  A private (not
 * merged) file page is instead a non-LRU movable page, the kernel's
 * interface for driver pages (struct movable_operations, as zsmalloc and
 * the balloon compaction code use it): it is allocated with __GFP_MOVABLE,
 * marked with __SetPageMovable() (where the kernel allows: VK_MOVABLE),
 * and knows its place in the file:
 * page->private is its vk_inode tagged with %VK_OWNED, page->index its
 * index.  The migration core isolates it under its page lock (isolate),
 * asks us to move it (migrate) and gives it back when that failed
 * (putback, nothing to do: an isolated page never leaves its index).
 *
 * Moving a page: with the old page locked no fault can map it again (a
 * fault maps a page under its lock), so its user mappings are removed, and
 * under the file's lock the page must still sit at its index, unmapped,
 * referenced by the index and the isolation only (no reader, no pin, no
 * scanner).  The content is copied, the new page takes the index, and the
 * memory cgroup charge goes with it (see vk_migrate_page()).
 *
 * A page the core may migrate carries our operations in page->mapping,
 * which the fault path takes for an address space once in a while: after
 * ->page_mkwrite() gave it a page to map writable, it reads page->mapping
 * to throttle the dirtying (fault_dirty_shared_page()), still under the
 * page lock that ->page_mkwrite() returned it with.  So ->page_mkwrite()
 * takes the operations away first (a NULL address space there) and a
 * work item puts them back once the fault path is done with the page
 * (vk_page_writing()): a page is not movable for that long, once per
 * page per writable mapping.
 *
 * A page stops being movable under its page lock when it leaves its index
 * (truncation, the merge that replaces it) and when it becomes a merged
 * page, which backs many indices and stays where it is.  The migration
 * core checks that under the same lock before it calls us, so a page it
 * hands us still belongs to a live file.
 */
#include <linux/highmem.h>
#include <linux/migrate.h>
#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>

#include "ksm.h"

atomic_long_t vk_pages_migrated;
/* Write faults that found their page isolated and retried (debugfs). */
atomic_t vk_isolated_faults;

/* Pages whose operations vk_page_writing() took away: pfn -> page, ref'd. */
static DEFINE_XARRAY(vk_rearm);
static void vk_rearm_fn(struct work_struct *work);
static DECLARE_DELAYED_WORK(vk_rearm_work, vk_rearm_fn);
/*
 * The work runs at once: it waits for each page's lock, which the fault
 * path holds until it is done with page->mapping, so a page is unmovable
 * only for the fault itself.  Pages queued while it runs join its batch.
 * (A delay of 10 ms kept a page that is written through a fresh mapping
 * every few microseconds unmovable all the time.)
 */
#define VK_REARM_DELAY	0

/* Whether @page carries our movable operations.  Stable under its lock. */
static bool vk_page_armed(struct page *page)
{
	unsigned long m = (unsigned long)READ_ONCE(page->mapping);

	return (m & ~(unsigned long)PAGE_MAPPING_FLAGS) ==
	       (unsigned long)&vk_movable_ops;
}

/*
 * Take the movable operations of @page away (locked).  The page keeps the
 * movable type while it is isolated: the migration core tells a page whose
 * owner released it from an LRU page by it, and then reports the page
 * migrated without calling us.  Otherwise page->mapping goes back to NULL,
 * so that memory offlining and compaction see a page they cannot move
 * rather than one they would try to isolate for ever.
 */
static void vk_unarm(struct page *page)
{
	__ClearPageMovable(page);
	if (!PageIsolated(page))
		page->mapping = NULL;
}

/**
 * vk_page_owner() - the file a private file page belongs to
 * @page: a page of a vmaccelfs file.
 *
 * Return: the vk_inode, or NULL for a merged page or one that left its
 * file.  Stable under the page lock.
 */
struct vk_inode *vk_page_owner(struct page *page)
{
	unsigned long priv = READ_ONCE(page->private);

	if (!(priv & VK_OWNED))
		return NULL;
	return (struct vk_inode *)(priv & ~VK_OWNED);
}

static bool vk_isolate_page(struct page *page, isolate_mode_t mode)
{
	/*
	 * Locked by the caller: an owned page stays owned until unlocked.  A
	 * page pinned for DMA cannot move: it is not isolated (and unmapped)
	 * in vain, and compaction's skip hints learn about its pageblock.
	 */
	return vk_page_owner(page) && !PageHWPoison(page) &&
	       !folio_maybe_dma_pinned(page_folio(page));
}

/*
 * Hand the memory cgroup charge of @src to @dst.  Our pages are charged
 * as kernel memory (__GFP_ACCOUNT): memcg_data holds the charge's object
 * cgroup and its reference, which the page's free uncharges.  Moving the
 * word moves the charge, which is what the kernel's mem_cgroup_migrate()
 * does for the page cache (not exported, and written for charges that are
 * not kernel memory).  Both pages are locked and unmapped; @dst is fresh.
 */
static int vk_move_charge(struct page *dst, struct page *src)
{
#ifdef CONFIG_MEMCG
	if (dst->memcg_data)
		return -EBUSY;
	dst->memcg_data = src->memcg_data;
	src->memcg_data = 0;
#endif
	return 0;
}

static int vk_migrate_page(struct page *dst, struct page *src,
			   enum migrate_mode mode)
{
	struct vk_inode *vi = vk_page_owner(src);
	pgoff_t index = src->index;
	int err = -EAGAIN;

	/* Isolated owned pages stay owned: we are told only of live ones. */
	if (WARN_ON_ONCE(!vi))
		return -EBUSY;
	if (PageHWPoison(src))
		return -EBUSY;
	/*
	 * Beyond the index's, the isolation's and the mappings' references:
	 * a reader, a writer or a pin.  Do not unmap a page that cannot move.
	 */
	if (page_count(src) > 2 + folio_mapcount(page_folio(src)))
		return -EAGAIN;
	if (page_mapped(src)) {
		/* i_mmap_rwsem may sleep: not in asynchronous compaction. */
		if (mode == MIGRATE_ASYNC)
			return -EAGAIN;
		vk_unmap_index(vi, index);
	}
	/* Not to wait behind a scan or a fault of the file: try it. */
	if (!mutex_trylock(&vi->lock))
		return -EAGAIN;
	/* The index's reference and the isolation's: nobody else uses it. */
	if (xa_load(&vi->pages, index) != src || page_mapped(src) ||
	    page_count(src) != 2)
		goto out;
	/*
	 * With machine-check recovery, as upstream migration copies: soft
	 * offline moves pages that had corrected errors, and an uncorrected
	 * one met here must not bring the host down.
	 */
	if (copy_mc_user_highpage(dst, src, 0, NULL)) {
		memory_failure_queue(page_to_pfn(src), 0);
		err = -EIO;
		goto out;
	}
	err = vk_move_charge(dst, src);
	if (err)
		goto out;
	set_page_private(dst, (unsigned long)vi | VK_OWNED);
	dst->index = index;
	SetPageUptodate(dst);
	__SetPageMovable(dst, &vk_movable_ops);
	get_page(dst);		/* the index's reference */
	/* The index exists: replacing its entry allocates nothing. */
	WARN_ON_ONCE(xa_is_err(xa_store(&vi->pages, index, dst, GFP_NOWAIT)));
	vk_page_disown(src);
	put_page(src);		/* the index's reference */
	atomic_long_inc(&vk_pages_migrated);
	err = MIGRATEPAGE_SUCCESS;
out:
	mutex_unlock(&vi->lock);
	return err;
}

static void vk_putback_page(struct page *page)
{
	/* An isolated page never left its index: nothing to put back. */
}

const struct movable_operations vk_movable_ops = {
	.isolate_page = vk_isolate_page,
	.migrate_page = vk_migrate_page,
	.putback_page = vk_putback_page,
};

/**
 * vk_page_own() - make a new page the private page of a file index
 * @page: a page from vk_alloc_page(), not yet visible to anyone.
 * @vi: the file.
 * @index: the index it is about to be stored at.
 *
 * Context: vi->lock held.
 */
void vk_page_own(struct page *page, struct vk_inode *vi, pgoff_t index)
{
	lockdep_assert_held(&vi->lock);
	set_page_private(page, (unsigned long)vi | VK_OWNED);
	page->index = index;
	/* Its content is valid (6.12's MIGRATE_SYNC_LIGHT skips others). */
	SetPageUptodate(page);
	if (!VK_MOVABLE)
		return;
	/* Atomically: compaction may try the lock of any page it scans. */
	lock_page(page);
	__SetPageMovable(page, &vk_movable_ops);
	unlock_page(page);
}

/**
 * vk_page_disown() - a private page leaves its index or becomes merged
 * @page: a private file page (vk_page_owner() != NULL), locked.
 *
 * Migration leaves it alone from now on; page->private is 0 afterwards.
 * A page waiting to be re-armed leaves that queue too, with the queue's
 * reference: a file's pages are freed when it goes, not 10 ms later.
 */
void vk_page_disown(struct page *page)
{
	VM_WARN_ON_ONCE_PAGE(!PageLocked(page), page);
	if (vk_page_armed(page))
		vk_unarm(page);
	set_page_private(page, 0);
	/*
	 * A queued page is referenced, so no other page has its pfn; the
	 * work erases it before it takes the page lock, which we hold: one of
	 * us gets the entry and drops its reference (never the last: the
	 * caller holds one).
	 */
	if (xa_erase(&vk_rearm, page_to_pfn(page)))
		put_page(page);
}

/**
 * vk_page_writing() - a private page is about to be mapped writable
 * @page: a private file page, locked by ->page_mkwrite(), which returns it
 *	locked to the fault path; not isolated (the caller checked).
 *
 * The fault path reads page->mapping as an address space before it
 * unlocks the page: the movable operations go until the work item, which
 * waits for the page lock, puts them back.  Without memory for the work
 * item's list (no reclaim under the page lock), the page stays unmovable
 * until the scanner passes it (vk_page_rearm(); only while run=1) or its
 * next ->page_mkwrite() queues it again.
 *
 * Context: process context.
 */
void vk_page_writing(struct page *page)
{
	VM_WARN_ON_ONCE_PAGE(!PageLocked(page), page);
	VM_WARN_ON_ONCE_PAGE(PageIsolated(page), page);
	if (!VK_MOVABLE)
		return;
	if (vk_page_armed(page))
		vk_unarm(page);
	/*
	 * -EBUSY: queued already.  -ENOMEM: the scanner re-arms it when it
	 * next passes (vk_page_rearm()), if it runs.
	 */
	if (xa_insert(&vk_rearm, page_to_pfn(page), page,
		      GFP_NOWAIT | __GFP_NOWARN))
		return;
	get_page(page);
	queue_delayed_work(system_unbound_wq, &vk_rearm_work, VK_REARM_DELAY);
}

/* Re-arm @page (locked) if it still is a file's private, unarmed page. */
static void vk_rearm_locked(struct page *page)
{
	if (vk_page_owner(page) && !vk_page_armed(page) && !PageIsolated(page))
		__SetPageMovable(page, &vk_movable_ops);
}

static void vk_rearm_fn(struct work_struct *work)
{
	unsigned long pfn;
	struct page *page;

	xa_for_each(&vk_rearm, pfn, page) {
		/*
		 * vk_page_disown() may have taken it, with its reference; and
		 * once that reference is gone, the pfn may hold another queued
		 * page (queued anew, so the work runs again for it): take the
		 * entry only if it is still the page read.
		 */
		if (xa_cmpxchg(&vk_rearm, pfn, page, NULL, 0) != page)
			continue;
		lock_page(page);
		vk_rearm_locked(page);
		unlock_page(page);
		put_page(page);
		cond_resched();
	}
}

/**
 * vk_page_rearm() - give a private page its movable operations back
 * @page: a page of a vmaccelfs file, referenced by the caller, unlocked.
 *
 * For a page whose re-arming could not be queued: the scanner calls this
 * for each page it passes.  A page locked elsewhere (a fault may be using
 * page->mapping) is left for the next pass.
 *
 * Context: process context; no page lock held.
 */
void vk_page_rearm(struct page *page)
{
	if (!VK_MOVABLE || vk_page_armed(page) || !trylock_page(page))
		return;
	vk_rearm_locked(page);
	unlock_page(page);
}

/**
 * vk_rearm_flush() - wait until the pages queued for re-arming are done
 *
 * Context: process context, may sleep; no page lock held.  (A queued page
 * holds a reference, which the scanner's merge checks take for a user.)
 */
void vk_rearm_flush(void)
{
	if (!xa_empty(&vk_rearm))
		flush_delayed_work(&vk_rearm_work);
}

/**
 * vk_migrate_exit() - wait for the work that re-arms pages
 *
 * Context: module exit, after the last file is gone.
 */
void vk_migrate_exit(void)
{
	flush_delayed_work(&vk_rearm_work);
	WARN_ON(!xa_empty(&vk_rearm));
}
