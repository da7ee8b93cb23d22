/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * vmaccel_vic - adaptive virtual interrupt coalescing (vIC), in-kernel API.
 *
 * A backend that raises guest interrupts for a virtual device (vhost, the
 * eventfd coalescer of /dev/vmaccel-vic) allocates one coalescer per
 * interrupt source, reports completions with vmaccel_vic_complete() and
 * raises the guest interrupt from the deliver callback.  See
 * Documentation/vic/design.rst.
 */
#ifndef _VMACCEL_VIC_H
#define _VMACCEL_VIC_H

#include <linux/gfp.h>
#include <linux/types.h>
#include <linux/vmaccel_vic.h>

struct vmaccel_vic;

/**
 * typedef vmaccel_vic_deliver_fn - raise one interrupt for a coalescer
 * @ctx: the context pointer given to vmaccel_vic_alloc().
 *
 * Called once per interrupt the coalescer decides to deliver, in the
 * context of the engine function's caller or of the backstop hrtimer (hard
 * interrupt; the softirq thread on PREEMPT_RT), without the coalescer's
 * lock held.  It must not sleep (beyond spinlock_t on PREEMPT_RT), must be
 * irq-safe and must not call vmaccel_vic_free() on its own coalescer.
 */
typedef void (*vmaccel_vic_deliver_fn)(void *ctx);

/*
 * Values of vmaccel_vic_complete()'s @cif other than a count:
 * VMACCEL_VIC_CIF_UNKNOWN: the last count given, else the rate estimate;
 * VMACCEL_VIC_CIF_RATE: the rate estimate, until a count is given again.
 */
#define VMACCEL_VIC_CIF_UNKNOWN	(-1)
#define VMACCEL_VIC_CIF_RATE	(-2)

void vmaccel_vic_default_params(struct vmaccel_vic_params *p);
int vmaccel_vic_check_params(const struct vmaccel_vic_params *p);
struct vmaccel_vic *vmaccel_vic_alloc(const struct vmaccel_vic_params *p,
				      vmaccel_vic_deliver_fn deliver, void *ctx,
				      gfp_t gfp);
void vmaccel_vic_free(struct vmaccel_vic *v);
void vmaccel_vic_complete(struct vmaccel_vic *v, u64 n, int cif);
bool vmaccel_vic_join(struct vmaccel_vic *v, u64 n, int cif);
void vmaccel_vic_set_cif(struct vmaccel_vic *v, unsigned int cif);
void vmaccel_vic_flush(struct vmaccel_vic *v);
int vmaccel_vic_set_params(struct vmaccel_vic *v,
			   const struct vmaccel_vic_params *p);
void vmaccel_vic_get_params(struct vmaccel_vic *v,
			    struct vmaccel_vic_params *p);
void vmaccel_vic_get_stats(struct vmaccel_vic *v,
			   struct vmaccel_vic_stats *s);

#endif /* _VMACCEL_VIC_H */
