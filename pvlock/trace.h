/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * vmaccel_pvlock tracepoints: a waiter blocks, a blocked waiter wakes up, an
 * unlocker kicks the waiter holding the next ticket.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM vmaccel_pvlock

#if !defined(_VMACCEL_PVLOCK_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _VMACCEL_PVLOCK_TRACE_H

#include <linux/tracepoint.h>
#include <linux/types.h>

TRACE_EVENT(pvlock_block,
	    TP_PROTO(const void *lock, u16 ticket, u16 served, bool irqs_on),
	    TP_ARGS(lock, ticket, served, irqs_on),
	    TP_STRUCT__entry(__field(const void *, lock)
			     __field(u16, ticket)
			     __field(u16, served)
			     __field(bool, irqs_on)),
	    TP_fast_assign(__entry->lock = lock;
			   __entry->ticket = ticket;
			   __entry->served = served;
			   __entry->irqs_on = irqs_on;),
	    TP_printk("lock=%p ticket=%u served=%u irqs_on=%d",
		      __entry->lock, __entry->ticket, __entry->served,
		      __entry->irqs_on)
);

TRACE_EVENT(pvlock_wake,
	    TP_PROTO(const void *lock, u16 ticket, bool spurious),
	    TP_ARGS(lock, ticket, spurious),
	    TP_STRUCT__entry(__field(const void *, lock)
			     __field(u16, ticket)
			     __field(bool, spurious)),
	    TP_fast_assign(__entry->lock = lock;
			   __entry->ticket = ticket;
			   __entry->spurious = spurious;),
	    TP_printk("lock=%p ticket=%u spurious=%d",
		      __entry->lock, __entry->ticket, __entry->spurious)
);

TRACE_EVENT(pvlock_kick,
	    TP_PROTO(const void *lock, u16 ticket, int cpu),
	    TP_ARGS(lock, ticket, cpu),
	    TP_STRUCT__entry(__field(const void *, lock)
			     __field(u16, ticket)
			     __field(int, cpu)),
	    TP_fast_assign(__entry->lock = lock;
			   __entry->ticket = ticket;
			   __entry->cpu = cpu;),
	    TP_printk("lock=%p ticket=%u cpu=%d",
		      __entry->lock, __entry->ticket, __entry->cpu)
);

#endif /* _VMACCEL_PVLOCK_TRACE_H */

/* This part must be outside the include guard. */
#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE trace
#include <trace/define_trace.h>
