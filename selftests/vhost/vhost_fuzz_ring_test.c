// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmaccel_vhost_net selftest: a hostile guest fuzzing the split rings.
 *
 * The test plays the guest.  Guest RAM is the memfd of vhost_util.h; the
 * memory table describes all of it, but in the VMM's mapping (the one the
 * table points to) a PROT_NONE guard page sits immediately before and
 * after the descriptor table, the avail ring and the used ring of the
 * queue under test, and around every buffer and indirect table: a device
 * access there is a fault (-EFAULT) for the device, never a write.  The
 * rings and buffers end right at the following guard page.  A second,
 * read-only mapping of the memfd (outside the memory table) lets the test
 * compare all of guest RAM against a shadow copy that holds what the guest
 * wrote: after each case, with the backend stopped, a byte that differs
 * from the shadow must lie in the used ring or in a buffer the guest made
 * device-writable in that case.
 *
 * For each seed (deterministic PRNG) the device gets a random ring size,
 * feature set (event index, mergeable RX buffers, notify on empty) and TX
 * mode (copy, batched copy or zero-copy); then cases on the RX and TX
 * queues, each on a fresh ring set up with VHOST_SET_VRING_BASE at a random
 * base (so every case also checks that the device recovers from the last
 * one): first clean traffic through the tap, which must arrive byte-exact
 * with an interrupt, then one mutation: avail index jumps, heads out of
 * range or re-offered while in flight, descriptor loops, next out of
 * range, indirect tables nested, empty, misaligned, looping, in a guard
 * page or huge, lengths that wrap or add up past 4 GiB, chains mixing
 * device-readable and -writable parts, buffers in guard pages or outside
 * the memory table, zero-length descriptors, random event-index and flag
 * values, a scribbled used ring, or a guest thread rewriting descriptors
 * and the avail ring at random while the device works.  Each mutation
 * has its expected outcome: a guest error (the error eventfd fires,
 * nothing is consumed), a drop (the buffer comes back, nothing leaves),
 * normal delivery, or (the thread) anything.  Always: nothing written
 * outside the allowed bytes, guard pages untouched, every written page
 * in the dirty log when logging, never more used entries than the guest
 * offered, used ids in range.  The kernel log is checked by the runner.
 *
 * VMACCEL_FUZZ_SEEDS sets the number of seeds (default 160, 120 in the
 * debug tier), VMACCEL_FUZZ_SEED the first one, VMACCEL_FUZZ_SECS a time
 * budget after which no new seed starts (default 60, 120 in the debug
 * tier; the seeds run are printed).
 */
#include "vhost_util.h"

#include <pthread.h>
#include <sched.h>

#define PG		4096u
#define FZ_AREA(q)	(0x200000u + (q) * 0x180000u)	/* RAM offset */
#define FZ_DESC_PG	1
#define FZ_AVAIL_PG	3
#define FZ_USED_PG	5
#define FZ_IND_PG	8	/* table k on page 8 + 2k, guards between */
#define FZ_NIND		32
#define FZ_BIG_PG	72	/* 8 pages without guards: a 2048-entry table */
#define FZ_BUF_PG	81	/* buffer k on page 81 + 2k, guards between */
#define FZ_NBUF		128
#define FZ_PAGES	337	/* the last guard page is 336 */
#define FZ_MAXF		1514u	/* longest frame */
#define FZ_CASES	8	/* cases per seed */
#define FZ_MAXSEG	4	/* segments the test remembers per chain */

enum {
	K_CLEAN, K_AVAIL_JUMP, K_HEAD_OOR, K_NEXT_OOR, K_LOOP, K_IND_NESTED,
	K_IND_ZERO, K_IND_BADLEN, K_IND_LOOP, K_IND_NEXT, K_IND_GUARD,
	K_IND_HUGE, K_OUT_OF_TABLE, K_LEN_WRAP, K_LEN_SUM, K_LEN_4G, K_MIX,
	K_GUARD_BUF, K_GUARD_EDGE, K_REOFFER, K_EVENT_IDX, K_USED_SCRIBBLE,
	K_ZERO_LEN, K_RACE, K_N
};

static const char * const kname[K_N] = {
	"clean", "avail_jump", "head_oor", "next_oor", "loop", "ind_nested",
	"ind_zero", "ind_badlen", "ind_loop", "ind_next", "ind_guard",
	"ind_huge", "out_of_table", "len_wrap", "len_sum", "len_4g", "mix",
	"guard_buf", "guard_edge", "reoffer", "event_idx", "used_scribble",
	"zero_len", "race",
};

/* What a mutation must do. */
enum { OUT_OK, OUT_ERR, OUT_DROP, OUT_ANY };

struct seg {
	__u64 gpa;
	__u32 len;
};

struct fz {
	struct vh_vm *vm;
	__u8 *chk;		/* read-only view of the memfd, not in the table */
	__u8 *shadow;		/* what guest RAM must hold */
	__u8 *allow;		/* bitmap: bytes the device may write now */
	unsigned long long rs;
	__u8 *logmap;		/* dirty log (VHOST_SET_LOG_BASE) */
	unsigned int num;
	bool evidx, mrg, zc, log;
	/* the case */
	unsigned int qi;
	__u32 area;
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	__u32 used_off;
	__u16 base;		/* SET_VRING_BASE of this case */
	__u16 aidx;		/* next avail index to publish */
	__u32 published;	/* avail entries published in this case */
	unsigned int dnext, nind, nbuf;
	struct seg chain[256][FZ_MAXSEG];
	unsigned int nseg[256];
	unsigned int tag;	/* frame tag of the case */
	unsigned int nexp;	/* TX: frames expected, in order */
	__u16 exp_len[64];
	__u16 exp_idx[64];
	unsigned int rxn;	/* RX: frames injected in the case */
	__u16 rx_len[64];
	/* totals */
	unsigned long cases, per_kind[K_N], errors, drops, recoveries;
	unsigned long tx_frames, rx_frames, diff_bytes, logged_pages;
};

/* splitmix64 */
static unsigned long long mix(unsigned long long *state)
{
	unsigned long long z = (*state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static unsigned long long rnd(struct fz *f)
{
	return mix(&f->rs);
}

static unsigned int rn(struct fz *f, unsigned int n)
{
	return n ? (unsigned int)(rnd(f) % n) : 0;
}

static bool fz_is_guard(unsigned int pg)
{
	if (pg < FZ_IND_PG - 1)
		return !(pg & 1);
	if (pg < FZ_BIG_PG)
		return pg & 1;
	if (pg < FZ_BUF_PG - 1)
		return false;
	return pg < FZ_PAGES && !(pg & 1);
}

static __u32 fz_off(struct fz *f, const void *p)
{
	return (__u32)((const __u8 *)p - f->vm->ram);
}

static __u64 fz_gpa(__u32 off)
{
	return VH_GPA_BASE + off;
}

/* The guest writes: guest RAM and the shadow. */
static void put(struct fz *f, void *dst, const void *src, size_t n)
{
	memcpy(dst, src, n);
	memcpy(f->shadow + fz_off(f, dst), src, n);
}

static void put16(struct fz *f, void *dst, __u16 v)
{
	__atomic_thread_fence(__ATOMIC_RELEASE);
	put(f, dst, &v, sizeof(v));
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

static void allow(struct fz *f, __u64 gpa, __u64 len)
{
	__u64 off, end;

	if (gpa < VH_GPA_BASE || gpa >= VH_GPA_BASE + VH_RAM_SIZE || !len)
		return;
	off = gpa - VH_GPA_BASE;
	end = len > VH_RAM_SIZE - off ? VH_RAM_SIZE : off + len;
	for (; off < end; off++)
		f->allow[off / 8] |= 1u << (off % 8);
}

static void set_desc(struct fz *f, struct vring_desc *t, unsigned int i,
		     __u64 addr, __u32 len, __u16 flags, __u16 next)
{
	struct vring_desc d = {
		.addr = addr, .len = len, .flags = flags, .next = next,
	};

	put(f, &t[i], &d, sizeof(d));
	if ((flags & VRING_DESC_F_WRITE) && !(flags & VRING_DESC_F_INDIRECT))
		allow(f, addr, len);
}

/* A buffer of @len bytes (<= PG) on its own page, at its start or end. */
static __u64 fz_buf(struct fz *f, __u32 len)
{
	__u32 pg = f->area + (FZ_BUF_PG + 2 * (f->nbuf++ % FZ_NBUF)) * PG;

	return fz_gpa(rn(f, 2) ? pg : pg + PG - len);
}

/* An indirect table of @n entries ending at its guard page. */
static struct vring_desc *fz_table(struct fz *f, unsigned int n, __u64 *gpa)
{
	__u32 off = f->area + (FZ_IND_PG + 2 * (f->nind++ % FZ_NIND)) * PG +
		    PG - n * 16;

	*gpa = fz_gpa(off);
	return (struct vring_desc *)(f->vm->ram + off);
}

static unsigned int dalloc(struct fz *f)
{
	return f->dnext++ % f->num;
}

static unsigned int dleft(struct fz *f)
{
	return f->dnext < f->num ? f->num - f->dnext : 0;
}

static void publish(struct fz *f, __u16 head)
{
	put16(f, &f->avail->ring[f->aidx % f->num], head);
	f->aidx++;
	f->published++;
	put16(f, &f->avail->idx, f->aidx);
}

/* The used event index (avail->ring[num]) the guest wants. */
static void used_event(struct fz *f, __u16 v)
{
	put16(f, &f->avail->ring[f->num], v);
}

/*
 * A chain over @n segments (device-writable when @w), direct when the
 * ring has room and the dice say so, else through an indirect table;
 * the head, the segments remembered for the content checks.
 */
static __u16 fz_chain(struct fz *f, const struct seg *s, unsigned int n,
		      bool w)
{
	__u16 fl = w ? VRING_DESC_F_WRITE : 0, head;
	unsigned int i, j, d, perm[256];
	struct vring_desc *t;
	__u64 tg;

	if (n <= dleft(f) && (n > 1 ? rn(f, 2) : rn(f, 4))) {
		head = dalloc(f);
		d = head;
		for (i = 0; i < n; i++) {
			unsigned int nx = i + 1 < n ? dalloc(f) : 0;

			set_desc(f, f->desc, d, s[i].gpa, s[i].len,
				 fl | (i + 1 < n ? VRING_DESC_F_NEXT : 0), nx);
			d = nx;
		}
	} else {
		/* Entry 0 first, the others in a random order. */
		head = dalloc(f);
		t = fz_table(f, n, &tg);
		for (i = 0; i < n; i++)
			perm[i] = i;
		for (i = n - 1; i > 1; i--) {
			j = 1 + rn(f, i);
			d = perm[i];
			perm[i] = perm[j];
			perm[j] = d;
		}
		for (i = 0; i < n; i++)
			set_desc(f, t, perm[i], s[i].gpa, s[i].len,
				 fl | (i + 1 < n ? VRING_DESC_F_NEXT : 0),
				 i + 1 < n ? perm[i + 1] : 0);
		set_desc(f, f->desc, head, tg, n * 16, VRING_DESC_F_INDIRECT, 0);
	}
	f->nseg[head] = n < FZ_MAXSEG ? n : FZ_MAXSEG;
	memcpy(f->chain[head], s, f->nseg[head] * sizeof(*s));
	return head;
}

/* The frame of packet @i of the case: tag and index after the header. */
static void fz_frame(struct fz *f, __u8 *fr, size_t len, unsigned int i)
{
	vh_frame(fr, len, f->tag + i);
	memcpy(fr + 14, &f->tag, 4);
	fr[18] = i & 0xff;
	fr[19] = i >> 8;
}

/* Queue a clean TX packet of @len frame bytes in 1..3 segments. */
static bool fz_tx_clean(struct fz *f, unsigned int len, unsigned int idx)
{
	__u8 pkt[VH_HLEN + FZ_MAXF];
	struct seg s[3];
	unsigned int n = 1 + rn(f, 3), i, off = 0, tot = VH_HLEN + len;

	if (!dleft(f) || f->nexp >= VH_ARRAY_SIZE(f->exp_len))
		return false;
	memset(pkt, 0, VH_HLEN);
	fz_frame(f, pkt + VH_HLEN, len, idx);
	for (i = 0; i < n; i++) {
		unsigned int l = i + 1 < n ? 1 + rn(f, tot - off - (n - i - 1)) :
			tot - off;

		if (l > tot - off - (n - i - 1))
			l = tot - off - (n - i - 1);
		s[i].len = l;
		s[i].gpa = fz_buf(f, l);
		put(f, vh_hva(f->vm, s[i].gpa), pkt + off, l);
		off += l;
	}
	publish(f, fz_chain(f, s, n, false));
	f->exp_len[f->nexp] = len;
	f->exp_idx[f->nexp++] = idx;
	return true;
}

/* Post a clean RX chain of 1..2 segments with @cap bytes in all. */
static bool fz_rx_clean(struct fz *f, unsigned int cap)
{
	struct seg s[2];
	unsigned int n = cap > 64 ? 1 + rn(f, 2) : 1, i;
	__u8 fill[PG];

	if (!dleft(f))
		return false;
	memset(fill, 0xee, sizeof(fill));
	s[0].len = n == 1 ? cap : 32 + rn(f, cap - 64);
	s[1].len = cap - s[0].len;
	for (i = 0; i < n; i++) {
		s[i].gpa = fz_buf(f, s[i].len);
		put(f, vh_hva(f->vm, s[i].gpa), fill, s[i].len);
	}
	publish(f, fz_chain(f, s, n, true));
	return true;
}

static int fz_inject(struct fz *f, unsigned int len)
{
	__u8 fr[FZ_MAXF];
	unsigned int i = f->rxn;

	if (i >= VH_ARRAY_SIZE(f->rx_len))
		return -1;
	fz_frame(f, fr, len, 1000 + i);
	f->rx_len[f->rxn++] = len;
	return vh_inject(f->vm, fr, len);
}

static __u16 used_idx(struct fz *f)
{
	return __atomic_load_n(&f->used->idx, __ATOMIC_ACQUIRE);
}

static __u64 efd_take(int fd)
{
	__u64 v = 0;

	if (read(fd, &v, sizeof(v)) != sizeof(v))
		return 0;
	return v;
}

static __u64 dropped(struct fz *f)
{
	struct vmaccel_vhost_vq_stats st;

	if (vh_stats(f->vm, f->qi, &st))
		return 0;
	return st.dropped;
}

static unsigned int wait_ms(void)
{
	const char *tier = getenv("VMACCEL_TIER");

	return tier && !strcmp(tier, "debug") ? 20000 : 5000;
}

/*
 * Wait until the used index reaches @target (1), the error eventfd fires
 * (-1) or the queue's dropped count reaches @drops, if not 0 (2); 0 after
 * the timeout.
 * *@calls counts the interrupts seen.
 */
static int fz_wait(struct fz *f, __u16 target, __u64 drops,
		   unsigned int *calls)
{
	struct vh_q *q = &f->vm->q[f->qi];
	__u64 end = vh_now_ms() + wait_ms();
	struct pollfd p[2] = {
		{ .fd = q->call, .events = POLLIN },
		{ .fd = q->err, .events = POLLIN },
	};

	for (;;) {
		if (poll(p, 2, 5) > 0) {
			if (p[0].revents & POLLIN)
				*calls += !!efd_take(q->call);
			if ((p[1].revents & POLLIN) && efd_take(q->err))
				return -1;
		}
		if (used_idx(f) == target)
			return 1;
		if (drops && dropped(f) >= drops)
			return 2;
		if (vh_now_ms() > end)
			return 0;
	}
}

/* Drain the queue's eventfds for @ms; true when neither fired. */
static bool fz_wait_quiet(struct fz *f, int ms)
{
	struct vh_q *q = &f->vm->q[f->qi];
	struct pollfd p[2] = {
		{ .fd = q->call, .events = POLLIN },
		{ .fd = q->err, .events = POLLIN },
	};
	bool quiet = poll(p, 2, ms) <= 0;

	efd_take(q->call);
	efd_take(q->err);
	return quiet;
}

static int backend(struct fz *f, int fd)
{
	return vh_set_backend(f->vm, f->qi, fd);
}

/* A fresh ring for the case at a random base; the backend is stopped. */
static int fz_ring_reset(struct fz *f)
{
	struct vhost_vring_state st = { .index = f->qi };
	__u8 zero[PG];

	memset(zero, 0, sizeof(zero));
	f->base = (__u16)rnd(f);
	if (rn(f, 4) == 0)
		f->base = (__u16)(0xffff - rn(f, 3));	/* wraps in the case */
	st.num = f->base;
	if (ioctl(f->vm->dev, VHOST_SET_VRING_BASE, &st))
		return -1;
	put(f, f->desc, zero, 16 * f->num);
	put(f, f->avail, zero, 6 + 2 * f->num);
	put(f, f->used, zero, 6 + 8 * f->num);
	f->aidx = f->base;
	f->published = 0;
	put16(f, &f->avail->idx, f->base);
	put16(f, &f->used->idx, f->base);
	memset(f->allow, 0, VH_RAM_SIZE / 8);
	allow(f, fz_gpa(f->used_off), 6 + 8 * f->num);
	return 0;
}

/* Lay out the rings of queue @qi for the seed's ring size. */
static int fz_ring_addr(struct fz *f, unsigned int qi)
{
	struct vhost_vring_state st = { .index = qi, .num = f->num };
	struct vhost_vring_addr a = { .index = qi };
	__u32 area = FZ_AREA(qi);

	f->qi = qi;
	f->area = area;
	f->desc = (void *)(f->vm->ram + area + FZ_DESC_PG * PG + PG - 16 * f->num);
	f->avail = (void *)(f->vm->ram + area + FZ_AVAIL_PG * PG + PG -
			    (6 + 2 * f->num));
	f->used_off = area + FZ_USED_PG * PG + ((PG - (6 + 8 * f->num)) & ~3u);
	f->used = (void *)(f->vm->ram + f->used_off);
	if (ioctl(f->vm->dev, VHOST_SET_VRING_NUM, &st))
		return -1;
	a.desc_user_addr = (uintptr_t)f->desc;
	a.avail_user_addr = (uintptr_t)f->avail;
	a.used_user_addr = (uintptr_t)f->used;
	a.log_guest_addr = fz_gpa(f->used_off);
	a.flags = f->log ? 1u << VHOST_VRING_F_LOG : 0;
	return ioctl(f->vm->dev, VHOST_SET_VRING_ADDR, &a);
}

/*
 * Guest RAM against the shadow, the backend stopped: every byte that
 * changed must be allowed, and with dirty logging on its page must be
 * marked in the log.  The shadow then takes the device's writes.
 */
static void fz_check_mem(struct __test_metadata *_metadata, struct fz *f,
			 unsigned int seed, int kind)
{
	unsigned long bad = 0, guard = 0, unlogged = 0;
	__u32 o, i, first = 0, pfn, ufirst = 0;
	__u8 now = 0, was = 0;

	for (o = 0; o < VH_RAM_SIZE; o += PG) {
		if (!memcmp(f->chk + o, f->shadow + o, PG))
			continue;
		pfn = (VH_GPA_BASE + o) / PG;
		if (f->log && !(f->logmap[pfn / 8] & (1u << (pfn % 8))) &&
		    !unlogged++)
			ufirst = o;
		for (i = o; i < o + PG; i++) {
			if (f->chk[i] == f->shadow[i])
				continue;
			f->diff_bytes++;
			if (f->allow[i / 8] & (1u << (i % 8)))
				continue;
			if (!bad++) {
				first = i;
				now = f->chk[i];
				was = f->shadow[i];
			}
			if (i >= FZ_AREA(0) && i < FZ_AREA(1) + FZ_PAGES * PG &&
			    fz_is_guard((i - FZ_AREA(i >= FZ_AREA(1))) / PG))
				guard++;
		}
		memcpy(f->shadow + o, f->chk + o, PG);
	}
	ASSERT_EQ(0ul, bad) {
		TH_LOG("seed %u case %s q%u: %lu bytes written where not allowed",
		       seed, kind < 0 ? "clean" : kname[kind], f->qi, bad);
		TH_LOG("(%lu in guard pages), first at RAM 0x%x: 0x%02x, was 0x%02x",
		       guard, first, now, was);
	}
	ASSERT_EQ(0ul, unlogged) {
		TH_LOG("seed %u case %s q%u: %lu pages written, not logged, first 0x%x",
		       seed, kind < 0 ? "clean" : kname[kind], f->qi, unlogged,
		       ufirst);
	}
	if (f->log) {
		for (i = 0; i < PG; i++)
			f->logged_pages += __builtin_popcount(f->logmap[i]);
		memset(f->logmap, 0, PG);
	}
}

/* Frames of this case the guest sent (TX), in order, byte-exact. */
static void fz_tx_frames(struct __test_metadata *_metadata, struct fz *f,
			 unsigned int seed, int kind, unsigned int want,
			 unsigned int most)
{
	__u8 got[FZ_MAXF + 64], exp[FZ_MAXF];
	__u64 end = vh_now_ms() + (want ? wait_ms() : 0);
	unsigned int n = 0;
	struct sockaddr_ll from;
	socklen_t fl;
	ssize_t len;

	for (;;) {
		struct pollfd p = { .fd = f->vm->pkt, .events = POLLIN };
		int left = n < want ? (int)(end - vh_now_ms()) : 0;

		if (poll(&p, 1, left > 0 ? left : 0) != 1)
			break;
		fl = sizeof(from);
		len = recvfrom(f->vm->pkt, got, sizeof(got), MSG_DONTWAIT,
			       (struct sockaddr *)&from, &fl);
		if (len < 20 || from.sll_pkttype == PACKET_OUTGOING ||
		    got[12] != (VH_ETHERTYPE >> 8) || memcmp(got + 14, &f->tag, 4))
			continue;
		if (n < want) {
			ASSERT_EQ(f->exp_len[n], len) {
				TH_LOG("seed %u case %s num %u%s%s: frame %u of %u",
				       seed, kind < 0 ? "clean" : kname[kind],
				       f->num, f->zc ? " zc" : "",
				       f->evidx ? " evidx" : "", n, want);
				TH_LOG("is packet %u, want packet %u",
				       got[18] | got[19] << 8, f->exp_idx[n]);
			}
			fz_frame(f, exp, len, f->exp_idx[n]);
			ASSERT_EQ(0, memcmp(got, exp, len)) {
				TH_LOG("seed %u case %s: frame %u differs", seed,
				       kind < 0 ? "clean" : kname[kind], n);
			}
		}
		n++;
	}
	f->tx_frames += n;
	ASSERT_GE(n, want) {
		TH_LOG("seed %u case %s: %u of %u frames left the tap", seed,
		       kind < 0 ? "clean" : kname[kind], n, want);
	}
	ASSERT_LE(n, most) {
		TH_LOG("seed %u case %s: %u frames left, at most %u offered",
		       seed, kind < 0 ? "clean" : kname[kind], n, most);
	}
}

/* Read @len bytes of the chain of @head into @out. */
static unsigned int fz_gather(struct fz *f, __u16 head, __u8 *out,
			      unsigned int len)
{
	unsigned int i, got = 0, l;

	for (i = 0; i < f->nseg[head] && got < len; i++) {
		l = f->chain[head][i].len;
		if (l > len - got)
			l = len - got;
		memcpy(out + got, f->chk + (f->chain[head][i].gpa - VH_GPA_BASE), l);
		got += l;
	}
	return got;
}

/*
 * The RX used entries from @from to @to carry frames @f0.. of the case,
 * byte-exact, in order (with mergeable buffers a frame may span several).
 */
static void fz_rx_check(struct __test_metadata *_metadata, struct fz *f,
			unsigned int seed, __u16 from, __u16 to,
			unsigned int f0)
{
	__u8 pkt[VH_HLEN + FZ_MAXF + PG], exp[FZ_MAXF];
	unsigned int fr = f0, nb, got, k;
	__u16 u = from;

	while (u != to) {
		struct vring_used_elem e = f->used->ring[u % f->num];

		got = fz_gather(f, e.id, pkt, e.len);
		nb = f->mrg ? pkt[10] | pkt[11] << 8 : 1;
		ASSERT_GE(nb, 1u);
		ASSERT_LE(nb, (unsigned int)(__u16)(to - u));
		for (k = 1; k < nb; k++) {
			struct vring_used_elem x = f->used->ring[(u + k) % f->num];

			ASSERT_LE(got + x.len, sizeof(pkt));
			got += fz_gather(f, x.id, pkt + got, x.len);
		}
		ASSERT_LT(fr, f->rxn);
		ASSERT_EQ(VH_HLEN + f->rx_len[fr], got) {
			TH_LOG("seed %u: RX frame %u: %u bytes in %u buffers",
			       seed, fr, got, nb);
		}
		fz_frame(f, exp, f->rx_len[fr], 1000 + fr);
		ASSERT_EQ(0, memcmp(pkt + VH_HLEN, exp, f->rx_len[fr])) {
			TH_LOG("seed %u: RX frame %u differs", seed, fr);
		}
		f->rx_frames++;
		fr++;
		u += nb;
	}
}

/* Frames the backend kept for a stopped RX queue: read them off the tap. */
static void fz_drain_tap(struct fz *f)
{
	__u8 buf[FZ_MAXF + 64];

	while (read(f->vm->tap, buf, sizeof(buf)) > 0)
		;
}

/*
 * Phase 1 of a case: clean traffic that must get through with an
 * interrupt (the ring was just reset: this also shows the recovery).
 * RX buffers are posted as the frames will use them (with mergeable
 * buffers a frame takes one or two), so none is left over.
 */
static void fz_clean(struct __test_metadata *_metadata, struct fz *f,
		     unsigned int seed)
{
	struct vh_q *q = &f->vm->q[f->qi];
	unsigned int p = 1 + rn(f, f->num / 4 < 4 ? f->num / 4 : 4), i;
	unsigned int calls = 0, len[4], e = 0, need, got, cap;
	__u16 u0 = f->aidx;
	int r;

	f->dnext = 0;
	for (i = 0; i < p; i++)
		len[i] = 60 + rn(f, FZ_MAXF - 59);
	for (i = 0; i < p; i++) {
		if (f->qi == 1) {
			ASSERT_TRUE(fz_tx_clean(f, len[i], i));
			e++;
			continue;
		}
		need = VH_HLEN + len[i];
		for (got = 0; got < need; got += cap, e++) {
			cap = f->mrg ? 1024 + rn(f, PG - 1024) :
				need + rn(f, PG - need + 1);
			ASSERT_TRUE(fz_rx_clean(f, cap));
		}
	}
	if (f->qi == 0)
		for (i = 0; i < p; i++)
			ASSERT_EQ(0, fz_inject(f, len[i]));
	/* Interrupt wanted for the last completion. */
	put16(f, &f->avail->flags, 0);
	if (f->evidx)
		used_event(f, (__u16)(u0 + e - 1));
	vh_kick(q);
	r = fz_wait(f, (__u16)(u0 + e), 0, &calls);
	ASSERT_EQ(1, r) {
		TH_LOG("seed %u q%u: clean traffic on a reset ring: %s, used %u of %u..%u",
		       seed, f->qi, r < 0 ? "guest error" : "timeout",
		       used_idx(f), u0, (__u16)(u0 + e));
	}
	/* The interrupt may come after the index. */
	if (!calls && vh_wait_efd(q->call, wait_ms()))
		calls++;
	ASSERT_GE(calls, 1u) {
		TH_LOG("seed %u q%u: clean traffic without an interrupt",
		       seed, f->qi);
	}
	if (f->qi == 0)
		fz_rx_check(_metadata, f, seed, u0, used_idx(f), 0);
}

/* The expected outcome of a mutation on this queue. */
static int fz_expect(struct fz *f, int kind)
{
	switch (kind) {
	case K_CLEAN: case K_IND_HUGE: case K_REOFFER: case K_EVENT_IDX:
	case K_USED_SCRIBBLE: case K_ZERO_LEN:
		return OUT_OK;
	case K_LEN_SUM: case K_LEN_4G:
		return f->qi == 1 ? OUT_DROP : OUT_OK;
	case K_GUARD_BUF:
		return OUT_DROP;
	case K_RACE:
		return OUT_ANY;
	case K_GUARD_EDGE:
		/* tun does not check the copy of the frame after the header. */
		return f->qi == 1 ? OUT_DROP : OUT_OK;
	case K_OUT_OF_TABLE:
		return OUT_ERR;
	default:
		return OUT_ERR;
	}
}

/*
 * Build the mutation @kind; returns the number of avail entries that
 * carry packets which must get through (OUT_OK) or be dropped (OUT_DROP).
 */
static unsigned int fz_mutate(struct fz *f, int kind, unsigned int *inject)
{
	bool rx = f->qi == 0, w = rx;
	__u16 fl = w ? VRING_DESC_F_WRITE : 0, h, h2;
	struct vring_desc *t;
	unsigned int i, n, len = 60 + rn(f, FZ_MAXF - 59);
	struct vring_desc d;
	struct seg s[4];
	__u64 g, tg;

	*inject = rx ? 1 + rn(f, 2) : 0;
	f->dnext = 0;
	switch (kind) {
	case K_CLEAN:
		n = 1 + rn(f, 3);
		for (i = 0; i < n && dleft(f); i++) {
			if (rx)
				fz_rx_clean(f, VH_HLEN + FZ_MAXF +
					    rn(f, PG - VH_HLEN - FZ_MAXF));
			else
				fz_tx_clean(f, 60 + rn(f, FZ_MAXF - 59), 100 + i);
		}
		*inject = rx ? i : 0;
		return i;
	case K_AVAIL_JUMP:
		/* One clean entry, then an index more than the ring ahead. */
		n = f->num + 1 + rn(f, 0x10000 - f->num - 1);
		put16(f, &f->avail->idx, (__u16)(f->aidx + n));
		return 0;
	case K_HEAD_OOR:
		h = dalloc(f);
		set_desc(f, f->desc, h, fz_buf(f, PG), PG, fl, 0);
		put16(f, &f->avail->ring[f->aidx % f->num],
		      (__u16)(f->num + rn(f, 0x10000 - f->num)));
		f->aidx++;
		f->published++;
		put16(f, &f->avail->idx, f->aidx);
		return 0;
	case K_NEXT_OOR:
		h = dalloc(f);
		set_desc(f, f->desc, h, fz_buf(f, 64), 64, fl | VRING_DESC_F_NEXT,
			 (__u16)(f->num + rn(f, 0x10000 - f->num)));
		publish(f, h);
		return 0;
	case K_LOOP:
		h = dalloc(f);
		h2 = rn(f, 2) ? dalloc(f) : h;
		set_desc(f, f->desc, h, fz_buf(f, 64), 64, fl | VRING_DESC_F_NEXT, h2);
		if (h2 != h)
			set_desc(f, f->desc, h2, fz_buf(f, 64), 64,
				 fl | VRING_DESC_F_NEXT, h);
		publish(f, h);
		return 0;
	case K_IND_NESTED:
		h = dalloc(f);
		t = fz_table(f, 2, &tg);
		set_desc(f, t, 0, fz_buf(f, 64), 64, fl | VRING_DESC_F_NEXT, 1);
		set_desc(f, t, 1, tg, 32, VRING_DESC_F_INDIRECT, 0);
		set_desc(f, f->desc, h, tg, 32, VRING_DESC_F_INDIRECT, 0);
		publish(f, h);
		return 0;
	case K_IND_ZERO:
	case K_IND_BADLEN:
		h = dalloc(f);
		t = fz_table(f, 4, &tg);
		set_desc(f, t, 0, fz_buf(f, 64), 64, fl, 0);
		n = kind == K_IND_ZERO ? 0 :
			rn(f, 2) ? 16 * 32768 + 16 * (1 + rn(f, 0x8000000)) :
			16 * rn(f, 4) + 1 + rn(f, 15);
		set_desc(f, f->desc, h, tg, n, VRING_DESC_F_INDIRECT, 0);
		publish(f, h);
		return 0;
	case K_IND_LOOP:
		h = dalloc(f);
		n = 2 + rn(f, 6);
		t = fz_table(f, n, &tg);
		for (i = 0; i < n; i++)
			set_desc(f, t, i, fz_buf(f, 64), 64, fl | VRING_DESC_F_NEXT,
				 i + 1 < n ? i + 1 : rn(f, n));
		set_desc(f, f->desc, h, tg, n * 16, VRING_DESC_F_INDIRECT, 0);
		publish(f, h);
		return 0;
	case K_IND_NEXT:
		h = dalloc(f);
		h2 = dalloc(f);
		t = fz_table(f, 1, &tg);
		set_desc(f, t, 0, fz_buf(f, 64), 64, fl, 0);
		set_desc(f, f->desc, h2, fz_buf(f, 64), 64, fl, 0);
		set_desc(f, f->desc, h, tg, 16,
			 VRING_DESC_F_INDIRECT | VRING_DESC_F_NEXT, h2);
		publish(f, h);
		return 0;
	case K_IND_GUARD:
		h = dalloc(f);
		if (rn(f, 2)) {
			/* The table itself in a guard page. */
			tg = fz_gpa(f->area + (FZ_IND_PG - 1 + 2 * rn(f, FZ_NIND)) * PG);
			set_desc(f, f->desc, h, tg + 16 * rn(f, 4), 16 * (1 + rn(f, 8)),
				 VRING_DESC_F_INDIRECT, 0);
		} else {
			/* Its last entry goes on into the guard page. */
			t = fz_table(f, 1, &tg);
			set_desc(f, t, 0, fz_buf(f, 64), 64, fl | VRING_DESC_F_NEXT, 1);
			set_desc(f, f->desc, h, tg, 32, VRING_DESC_F_INDIRECT, 0);
		}
		publish(f, h);
		return 0;
	case K_IND_HUGE:
		/* Counted as 32768 entries; only the first is read. */
		h = dalloc(f);
		t = fz_table(f, 1, &tg);
		tg -= PG - 16;
		t = (void *)((__u8 *)t - (PG - 16));
		if (rx) {
			len = FZ_MAXF;
			g = fz_buf(f, VH_HLEN + len);
			set_desc(f, t, 0, g, VH_HLEN + len, fl, 0);
		} else {
			__u8 pkt[VH_HLEN + FZ_MAXF];

			memset(pkt, 0, VH_HLEN);
			fz_frame(f, pkt + VH_HLEN, len, 200);
			g = fz_buf(f, VH_HLEN + len);
			put(f, vh_hva(f->vm, g), pkt, VH_HLEN + len);
			set_desc(f, t, 0, g, VH_HLEN + len, fl, 0);
			f->exp_len[f->nexp] = len;
			f->exp_idx[f->nexp++] = 200;
		}
		set_desc(f, f->desc, h, tg, 16 * 32768, VRING_DESC_F_INDIRECT, 0);
		f->nseg[h] = 1;
		f->chain[h][0].gpa = g;
		f->chain[h][0].len = VH_HLEN + len;
		publish(f, h);
		if (rx)
			*inject = 1;
		return 1;
	case K_OUT_OF_TABLE:
		h = dalloc(f);
		g = rn(f, 2) ? VH_GPA_BASE + VH_RAM_SIZE + rn(f, 1 << 20) :
			rn(f, VH_GPA_BASE - 64);
		if (rn(f, 2)) {
			set_desc(f, f->desc, h, g, 64, fl, 0);
		} else {
			/* An indirect table outside the table. */
			set_desc(f, f->desc, h, g & ~15ull, 64, VRING_DESC_F_INDIRECT, 0);
		}
		publish(f, h);
		return 0;
	case K_LEN_WRAP:
		/* Not allowed for writing: the chain is refused as a whole. */
		h = dalloc(f);
		if (rn(f, 2)) {
			d.addr = ~0ull - rn(f, PG);
			d.len = 0x1000 + rn(f, 0x100000);
		} else {
			/* From a buffer on past the end of guest RAM. */
			d.addr = fz_buf(f, 64);
			d.len = 0xffffffffu - rn(f, 0x1000);
		}
		d.flags = fl;
		d.next = 0;
		put(f, &f->desc[h], &d, sizeof(d));
		publish(f, h);
		return 0;
	case K_LEN_SUM:
		/* 64..256 segments of one page: far more than a packet. */
		h = dalloc(f);
		n = 64 + rn(f, 193);
		t = fz_table(f, n, &tg);
		g = fz_buf(f, PG);
		if (!rx) {
			__u8 pkt[PG];

			memset(pkt, 0, sizeof(pkt));
			fz_frame(f, pkt + VH_HLEN, 1000, 300);
			put(f, vh_hva(f->vm, g), pkt, PG);
		}
		for (i = 0; i < n; i++)
			set_desc(f, t, i, g, PG, fl | (i + 1 < n ? VRING_DESC_F_NEXT : 0),
				 i + 1);
		set_desc(f, f->desc, h, tg, n * 16, VRING_DESC_F_INDIRECT, 0);
		f->nseg[h] = 1;
		f->chain[h][0].gpa = g;
		f->chain[h][0].len = PG;
		publish(f, h);
		if (rx)
			*inject = 1;
		return 1;
	case K_LEN_4G:
		/*
		 * 1024 segments of 4 MiB (a whole region each): 4 GiB in all,
		 * 0 in 32 bits.  RX writes the frame at the start of RAM.
		 */
		h = dalloc(f);
		n = 1024;
		t = (void *)(f->vm->ram + f->area + FZ_BIG_PG * PG);
		tg = fz_gpa(f->area + FZ_BIG_PG * PG);
		for (i = 0; i < n; i++) {
			struct vring_desc d = {
				.addr = VH_GPA_BASE + (i & 1 ? VH_REGION_SPLIT : 0),
				.len = VH_REGION_SPLIT,
				.flags = fl | (i + 1 < n ? VRING_DESC_F_NEXT : 0),
				.next = i + 1,
			};

			put(f, &t[i], &d, sizeof(d));
		}
		if (rx) {
			/* Only the first bytes of RAM can be written. */
			allow(f, VH_GPA_BASE, VH_HLEN + FZ_MAXF);
		}
		set_desc(f, f->desc, h, tg, n * 16, VRING_DESC_F_INDIRECT, 0);
		f->nseg[h] = 1;
		f->chain[h][0].gpa = VH_GPA_BASE;
		f->chain[h][0].len = VH_REGION_SPLIT;
		publish(f, h);
		if (rx)
			*inject = 1;
		return 1;
	case K_MIX:
		h = dalloc(f);
		h2 = dalloc(f);
		if (rx && rn(f, 2)) {
			/* Device-writable, then device-readable. */
			set_desc(f, f->desc, h, fz_buf(f, 64), 64,
				 VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, h2);
			set_desc(f, f->desc, h2, fz_buf(f, 64), 64, 0, 0);
		} else {
			/* RX: readable first; TX: a writable part. */
			set_desc(f, f->desc, h, fz_buf(f, 64), 64,
				 VRING_DESC_F_NEXT, h2);
			set_desc(f, f->desc, h2, fz_buf(f, 64), 64,
				 VRING_DESC_F_WRITE, 0);
		}
		publish(f, h);
		return 0;
	case K_GUARD_BUF:
	case K_GUARD_EDGE:
		if (rx)
			len = FZ_MAXF;
		h = dalloc(f);
		g = fz_gpa(f->area + (FZ_BUF_PG - 1 + 2 * rn(f, FZ_NBUF)) * PG);
		if (kind == K_GUARD_BUF) {
			/* Entirely in a guard page: every packet is dropped. */
			set_desc(f, f->desc, h, g + rn(f, PG / 2), VH_HLEN + len, fl, 0);
			*inject = rx ? 1 + rn(f, 3) : 0;
		} else {
			/* From the end of a buffer page on into its guard. */
			set_desc(f, f->desc, h, g - 40, VH_HLEN + len, fl, 0);
			if (!rx) {
				__u8 pkt[40];

				memset(pkt, 0, sizeof(pkt));
				put(f, vh_hva(f->vm, g - 40), pkt, 40);
			}
			*inject = rx ? 1 : 0;
		}
		publish(f, h);
		return 1;
	case K_REOFFER:
		/* One chain made available 2..4 times before it completes. */
		n = 2 + rn(f, 3);
		if (n > f->num)
			n = f->num;
		if (rx) {
			s[0].len = VH_HLEN + FZ_MAXF;
			s[0].gpa = fz_buf(f, s[0].len);
			h = fz_chain(f, s, 1, true);
		} else {
			__u8 pkt[VH_HLEN + FZ_MAXF];

			memset(pkt, 0, VH_HLEN);
			fz_frame(f, pkt + VH_HLEN, len, 400);
			s[0].len = VH_HLEN + len;
			s[0].gpa = fz_buf(f, s[0].len);
			put(f, vh_hva(f->vm, s[0].gpa), pkt, s[0].len);
			h = fz_chain(f, s, 1, false);
			for (i = 0; i < n; i++) {
				f->exp_len[f->nexp] = len;
				f->exp_idx[f->nexp++] = 400;
			}
		}
		for (i = 0; i < n; i++)
			publish(f, h);
		*inject = rx ? n : 0;
		return n;
	case K_EVENT_IDX:
	case K_USED_SCRIBBLE:
		if (kind == K_EVENT_IDX) {
			put16(f, &f->avail->flags, (__u16)rnd(f));
			used_event(f, (__u16)rnd(f));
		} else {
			__u8 junk[8 * 256 + 6];

			for (i = 0; i < sizeof(junk); i++)
				junk[i] = (__u8)rnd(f);
			/* Not the index: the device does not read it back. */
			put(f, &f->used->flags, junk, 2);
			put(f, f->used->ring, junk + 2, 8 * f->num + 2);
		}
		n = 1 + rn(f, 3);
		for (i = 0; i < n && dleft(f); i++) {
			if (rx)
				fz_rx_clean(f, VH_HLEN + FZ_MAXF +
					    rn(f, PG - VH_HLEN - FZ_MAXF));
			else
				fz_tx_clean(f, 60 + rn(f, FZ_MAXF - 59), 500 + i);
		}
		*inject = rx ? i : 0;
		return i;
	case K_ZERO_LEN:
		/* Zero-length segments around a good one. */
		if (dleft(f) < 3)
			return fz_mutate(f, K_CLEAN, inject);
		h = dalloc(f);
		h2 = dalloc(f);
		n = dalloc(f);
		g = fz_buf(f, VH_HLEN + (rx ? FZ_MAXF : len));
		if (!rx) {
			__u8 pkt[VH_HLEN + FZ_MAXF];

			memset(pkt, 0, VH_HLEN);
			fz_frame(f, pkt + VH_HLEN, len, 600);
			put(f, vh_hva(f->vm, g), pkt, VH_HLEN + len);
			f->exp_len[f->nexp] = len;
			f->exp_idx[f->nexp++] = 600;
		}
		set_desc(f, f->desc, h, rn(f, 2) ? g : 0, 0, fl | VRING_DESC_F_NEXT, h2);
		set_desc(f, f->desc, h2, g, VH_HLEN + (rx ? FZ_MAXF : len),
			 fl | VRING_DESC_F_NEXT, n);
		set_desc(f, f->desc, n, ~0ull, 0, fl, 0);
		f->nseg[h] = 1;
		f->chain[h][0].gpa = g;
		f->chain[h][0].len = VH_HLEN + (rx ? FZ_MAXF : len);
		publish(f, h);
		*inject = rx ? 1 : 0;
		return 1;
	}
	return 0;
}

/*
 * K_RACE: a guest thread rewrites descriptors, avail entries and the avail
 * index at random while the device works on the ring (the main thread
 * kicks and, on RX, frames are waiting).  Descriptors point into buffer
 * pages (allowed when writable), guard pages or outside the memory table;
 * the indirect tables they use are filled by the thread in this case.
 */
struct racer {
	struct fz *f;
	unsigned long long rs;
	unsigned int iters;
	bool done;		/* atomic */
};

static unsigned int rr(struct racer *r, unsigned int n)
{
	return n ? (unsigned int)(mix(&r->rs) % n) : 0;
}

static void racer_desc(struct racer *r, struct vring_desc *t, unsigned int i,
		       unsigned int n)
{
	struct fz *f = r->f;
	__u16 fl = (rr(r, 2) ? VRING_DESC_F_WRITE : 0) |
		   (rr(r, 2) ? VRING_DESC_F_NEXT : 0);
	__u32 o, len;
	__u64 addr;

	switch (rr(r, 8)) {
	case 0:		/* a guard page */
		o = f->area + (FZ_BUF_PG - 1 + 2 * rr(r, FZ_NBUF)) * PG;
		addr = fz_gpa(o + rr(r, PG));
		len = rr(r, PG);
		break;
	case 1:		/* outside the memory table */
		addr = rr(r, VH_GPA_BASE);
		len = rr(r, PG);
		break;
	default:	/* in a buffer page */
		o = f->area + (FZ_BUF_PG + 2 * rr(r, FZ_NBUF)) * PG + rr(r, PG);
		addr = fz_gpa(o);
		len = rr(r, PG - o % PG + 1);
		break;
	}
	set_desc(f, t, i, addr, len, fl, rr(r, n + 2));
}

static void *racer(void *p)
{
	struct racer *r = p;
	struct fz *f = r->f;
	struct vring_desc *t;
	unsigned int i, k, n;
	__u64 tg;

	for (i = 0; i < r->iters; i++) {
		switch (rr(r, 8)) {
		case 0: case 1: case 2:
			racer_desc(r, f->desc, rr(r, f->num), f->num);
			break;
		case 3:		/* an indirect table */
			n = 1 + rr(r, 8);
			t = fz_table(f, n, &tg);
			for (k = 0; k < n; k++)
				racer_desc(r, t, k, n);
			set_desc(f, f->desc, rr(r, f->num), tg, n * 16,
				 VRING_DESC_F_INDIRECT, 0);
			break;
		case 4: case 5:
			put16(f, &f->avail->ring[rr(r, f->num)],
			      rr(r, f->num + f->num / 4));
			break;
		case 6:
			put16(f, &f->avail->idx,
			      (__u16)(f->aidx + rr(r, f->num + 1)));
			break;
		default:
			put16(f, &f->avail->idx, (__u16)(f->aidx + rr(r, 0x10000)));
			break;
		}
		if (i % 4 == 0)
			sched_yield();
	}
	__atomic_store_n(&r->done, true, __ATOMIC_RELEASE);
	return NULL;
}

static void fz_race(struct __test_metadata *_metadata, struct fz *f)
{
	struct racer r = { .f = f, .rs = rnd(f), .iters = 200 + rn(f, 400) };
	struct vh_q *q = &f->vm->q[f->qi];
	unsigned int i;
	pthread_t th;

	f->dnext = 0;
	/* Some clean chains for the device to start on. */
	for (i = 0; i < f->num / 2 && i < 8; i++) {
		if (f->qi == 0)
			fz_rx_clean(f, VH_HLEN + FZ_MAXF);
		else
			fz_tx_clean(f, 60 + rn(f, FZ_MAXF - 59), 700 + i);
	}
	if (f->qi == 0)
		for (i = 0; i < 8; i++)
			ASSERT_EQ(0, fz_inject(f, 60 + rn(f, FZ_MAXF - 59)));
	ASSERT_EQ(0, pthread_create(&th, NULL, racer, &r));
	while (!__atomic_load_n(&r.done, __ATOMIC_ACQUIRE)) {
		vh_kick(q);
		usleep(100);
	}
	pthread_join(th, NULL);
	vh_kick(q);
	/* Let the device settle (no assertion on what it did). */
	for (i = 0; i < 50; i++) {
		__u16 u = used_idx(f);

		if (fz_wait_quiet(f, 20) && used_idx(f) == u)
			break;
	}
}

/* One case: reset ring, clean traffic, one mutation, checks. */
static void fz_case(struct __test_metadata *_metadata, struct fz *f,
		    unsigned int seed, unsigned int qi, int kind,
		    bool after_error)
{
	struct vh_q *q = &f->vm->q[qi];
	struct vhost_vring_state st = { .index = qi };
	unsigned int inject, calls = 0, want, i, nexp1;
	__u16 u1, last, uend;
	__u64 drops;
	__u32 pub1;
	int x, r;

	f->qi = qi;
	ASSERT_EQ(0, fz_ring_addr(f, qi));
	ASSERT_EQ(0, fz_ring_reset(f));
	f->tag = (unsigned int)f->cases + 1;
	f->nexp = 0;
	f->rxn = 0;
	f->nind = 0;
	f->nbuf = 0;
	efd_take(q->err);
	efd_take(q->call);
	ASSERT_EQ(0, backend(f, f->vm->tap)) {
		TH_LOG("seed %u: SET_BACKEND on a reset ring: %s", seed,
		       strerror(errno));
	}
	fz_clean(_metadata, f, seed);
	if (after_error)
		f->recoveries++;
	u1 = used_idx(f);
	pub1 = f->published;
	nexp1 = f->nexp;
	f->nbuf = 0;

	/* Phase 2: the mutation. */
	x = fz_expect(f, kind);
	inject = 0;
	want = x == OUT_ANY ? 0 : fz_mutate(f, kind, &inject);
	drops = dropped(f) + inject;
	for (i = 0; i < inject; i++)
		ASSERT_EQ(0, fz_inject(f, 60 + rn(f, FZ_MAXF - 59)));
	if (kind != K_EVENT_IDX && f->evidx)
		used_event(f, u1);
	vh_kick(q);
	if (x == OUT_ANY) {
		fz_race(_metadata, f);
	} else if (x == OUT_ERR) {
		r = fz_wait(f, (__u16)(u1 + 0x8000), 0, &calls);
		ASSERT_EQ(-1, r) {
			TH_LOG("seed %u q%u case %s: no guest error reported (used %u, was %u)",
			       seed, qi, kname[kind], used_idx(f), u1);
		}
		f->errors++;
	} else if (x == OUT_DROP && qi == 0) {
		r = fz_wait(f, (__u16)(u1 + 0x8000), drops, &calls);
		ASSERT_EQ(2, r) {
			TH_LOG("seed %u q0 case %s: %s instead of %u drops",
			       seed, kname[kind], r < 0 ? "guest error" : "timeout",
			       inject);
		}
		f->drops++;
	} else if (want) {
		r = fz_wait(f, (__u16)(u1 + want), 0, &calls);
		ASSERT_EQ(1, r) {
			TH_LOG("seed %u q%u case %s: %s, used %u, want %u",
			       seed, qi, kname[kind],
			       r < 0 ? "guest error" : "timeout", used_idx(f),
			       (__u16)(u1 + want));
		}
		if (x == OUT_DROP)
			f->drops++;
	}
	ASSERT_EQ(0, backend(f, -1));
	ASSERT_EQ(0, ioctl(f->vm->dev, VHOST_GET_VRING_BASE, &st));
	last = st.num;
	uend = used_idx(f);

	/* Nothing written where it may not be; guard pages intact. */
	fz_check_mem(_metadata, f, seed, kind);
	/* Never more taken or returned than offered. */
	ASSERT_TRUE(x == OUT_ANY ||
		    (__u16)(last - f->base) <= f->published) {
		TH_LOG("seed %u q%u case %s: avail base %u, last %u, %u offered",
		       seed, qi, kname[kind], f->base, last, f->published);
	}
	ASSERT_LE((__u16)(uend - f->base), (__u16)(last - f->base)) {
		TH_LOG("seed %u q%u case %s: used %u..%u, taken to %u", seed,
		       qi, kname[kind], f->base, uend, last);
	}
	for (i = (__u16)(u1 - f->base); i < (__u16)(uend - f->base); i++) {
		struct vring_used_elem e = f->used->ring[(__u16)(f->base + i) % f->num];

		ASSERT_LT(e.id, f->num);
		ASSERT_LE(e.len, qi == 1 ? 0 : VH_HLEN + FZ_MAXF);
	}
	if (x == OUT_ERR) {
		/* The bad chain is not consumed. */
		ASSERT_EQ(u1, uend);
		ASSERT_EQ((__u16)(f->base + pub1), last);
	} else if (x != OUT_ANY) {
		/* No error reported late either. */
		ASSERT_EQ(0u, efd_take(q->err)) {
			TH_LOG("seed %u q%u case %s: a guest error", seed, qi,
			       kname[kind]);
		}
	}
	if (qi == 1) {
		unsigned int most = f->published;

		if (x != OUT_OK)
			f->nexp = nexp1;
		if (x == OUT_DROP || x == OUT_ERR)
			most = f->nexp;
		if (x == OUT_ANY)
			most = ~0u;
		fz_tx_frames(_metadata, f, seed, kind, f->nexp, most);
	} else {
		/* The frames (not a re-offered or truncated buffer). */
		if (x == OUT_OK && kind != K_REOFFER && kind != K_GUARD_EDGE &&
		    kind != K_LEN_4G)
			fz_rx_check(_metadata, f, seed, u1, uend,
				    f->rxn - inject);
		if (x == OUT_DROP)
			ASSERT_EQ(u1, uend);
		fz_drain_tap(f);
		/* The packet socket saw the injected frames go out. */
		fz_tx_frames(_metadata, f, seed, kind, 0, ~0u);
	}
	f->cases++;
	f->per_kind[kind]++;
}

static unsigned int env_uint(const char *name, unsigned int def)
{
	const char *s = getenv(name);

	return s && *s ? (unsigned int)strtoul(s, NULL, 0) : def;
}

FIXTURE(fuzz) {
	struct vh_vm vm;
	bool ready;	/* set up completely (the harness runs skipped bodies) */
	struct fz f;
};

FIXTURE_SETUP(fuzz)
{
	struct fz *f = &self->f;
	unsigned int q, pg;
	__u64 logbase;

	vh_fixture_setup(_metadata, &self->vm, VH_BASE_FEATURES, &self->ready);
	if (!self->ready)
		return;
	self->ready = false;
	f->vm = &self->vm;
	f->chk = mmap(NULL, VH_RAM_SIZE, PROT_READ, MAP_SHARED,
		      self->vm.memfd, 0);
	ASSERT_NE(MAP_FAILED, f->chk);
	f->shadow = malloc(VH_RAM_SIZE);
	f->allow = calloc(VH_RAM_SIZE / 8, 1);
	f->logmap = calloc(PG, 1);	/* one bit per page of guest RAM */
	ASSERT_NE(NULL, f->shadow);
	ASSERT_NE(NULL, f->allow);
	ASSERT_NE(NULL, f->logmap);
	logbase = (uintptr_t)f->logmap;
	ASSERT_EQ(0, ioctl(self->vm.dev, VHOST_SET_LOG_BASE, &logbase));
	memcpy(f->shadow, f->chk, VH_RAM_SIZE);
	/* Guard pages: in the memory table, PROT_NONE for the device. */
	for (q = 0; q < 2; q++)
		for (pg = 0; pg < FZ_PAGES; pg++)
			if (fz_is_guard(pg))
				ASSERT_EQ(0, mprotect(self->vm.ram + FZ_AREA(q) + pg * PG,
						      PG, PROT_NONE));
	ASSERT_EQ(0, fcntl(self->vm.tap, F_SETFL,
			   fcntl(self->vm.tap, F_GETFL) | O_NONBLOCK));
	self->ready = true;
}

FIXTURE_TEARDOWN(fuzz)
{
	if (self->f.chk && self->f.chk != MAP_FAILED)
		munmap(self->f.chk, VH_RAM_SIZE);
	free(self->f.shadow);
	free(self->f.allow);
	free(self->f.logmap);
	vh_vm_close(&self->vm);
}

/* Per-seed device configuration, backends stopped. */
static void fz_config(struct __test_metadata *_metadata, struct fz *f)
{
	static const unsigned int nums[] = { 4, 8, 16, 32, 64, 256 };
	static const unsigned int busy[] = { 0, 0, 0, 50 };
	struct vhost_vring_state st;
	struct vmaccel_vhost_zcopy z = {
		.min_len = 0, .max_pending = 64, .fail_pct = 100,
		.backoff_pkts = 1, .stall_ms = 1000,
	};
	__u64 feat = VH_BASE_FEATURES;

	f->num = nums[rn(f, VH_ARRAY_SIZE(nums))];
	f->evidx = rn(f, 2);
	f->mrg = rn(f, 2);
	f->zc = rn(f, 2);
	if (f->evidx)
		feat |= 1ull << VIRTIO_RING_F_EVENT_IDX;
	if (f->mrg)
		feat |= 1ull << VIRTIO_NET_F_MRG_RXBUF;
	if (rn(f, 4) == 0)
		feat |= 1ull << VIRTIO_F_NOTIFY_ON_EMPTY;
	f->log = rn(f, 3) == 0;
	if (f->log)
		feat |= 1ull << VHOST_F_LOG_ALL;
	/* Busy polling on both queues, in microseconds. */
	st.num = busy[rn(f, VH_ARRAY_SIZE(busy))];
	for (st.index = 0; st.index < 2; st.index++)
		ASSERT_EQ(0, ioctl(f->vm->dev, VHOST_SET_VRING_BUSYLOOP_TIMEOUT, &st));
	ASSERT_EQ(0, ioctl(f->vm->dev, VHOST_SET_FEATURES, &feat));
	if (f->zc)
		z.flags = VMACCEL_VHOST_ZCOPY_ENABLE;
	ASSERT_EQ(0, ioctl(f->vm->dev, VMACCEL_VHOST_SET_ZCOPY, &z));
}

TEST_F_TIMEOUT(fuzz, hostile_guest_rings, 900)
{
	const char *tier = getenv("VMACCEL_TIER");
	bool debug = tier && !strcmp(tier, "debug");
	unsigned int nseeds = env_uint("VMACCEL_FUZZ_SEEDS", debug ? 120 : 160);
	unsigned int first = env_uint("VMACCEL_FUZZ_SEED", 1);
	unsigned int secs = env_uint("VMACCEL_FUZZ_SECS", debug ? 120 : 60);
	__u64 t0 = vh_now_ms(), end = t0 + secs * 1000ull;
	struct fz *f = &self->f;
	unsigned int seed, c, k, run = 0;
	bool err = false;
	int kind;

	if (!self->ready)
		return;
	if (!vh_is_ours())
		SKIP(return, "vmaccel zero-copy policy and stats");
	TH_LOG("seeds %u..%u (VMACCEL_FUZZ_SEEDS, VMACCEL_FUZZ_SEED), at most %u s",
	       first, first + nseeds - 1, secs);
	for (seed = first; seed < first + nseeds; seed++) {
		if (run && vh_now_ms() > end)
			break;
		f->rs = seed * 0x2545f4914f6cdd1dull;
		fz_config(_metadata, f);
		for (c = 0; c < FZ_CASES; c++) {
			unsigned int qi = rn(f, 2);

			kind = c == 0 ? K_CLEAN : (int)rn(f, K_N);
			fz_case(_metadata, f, seed, qi, kind, err);
			err = fz_expect(f, kind) == OUT_ERR;
		}
		run++;
	}
	TH_LOG("%lu cases, %u seeds (%u..%u) in %llu ms", f->cases, run, first,
	       first + run - 1, (unsigned long long)(vh_now_ms() - t0));
	TH_LOG("%lu guest errors reported, %lu recoveries, %lu drop cases",
	       f->errors, f->recoveries, f->drops);
	TH_LOG("%lu TX and %lu RX frames checked byte-exact", f->tx_frames,
	       f->rx_frames);
	TH_LOG("%lu bytes changed, all allowed; %lu dirty pages logged",
	       f->diff_bytes, f->logged_pages);
	for (k = 0; k < K_N; k++)
		TH_LOG("  %-14s %lu", kname[k], f->per_kind[k]);
	printf("# vhost_fuzz_ring: %lu cases, %u seeds\n", f->cases, run);
}

TEST_HARNESS_MAIN
