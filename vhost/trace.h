/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * vmaccel_vhost_net tracepoints: guest kick, TX packet, TX batch, RX packet,
 * zero-copy completion, guest notification, queue error.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM vmaccel_vhost_net

#if !defined(_VMACCEL_VHOST_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _VMACCEL_VHOST_TRACE_H

#include <linux/tracepoint.h>
#include <linux/types.h>

/* One queue of one device: a guest kick, or a guest notification. */
DECLARE_EVENT_CLASS(vh_queue_event,
		    TP_PROTO(unsigned int dev, unsigned int vq),
		    TP_ARGS(dev, vq),
		    TP_STRUCT__entry(__field(unsigned int, dev)
				     __field(unsigned int, vq)),
		    TP_fast_assign(__entry->dev = dev;
				   __entry->vq = vq;),
		    TP_printk("dev=%u vq=%u", __entry->dev, __entry->vq)
);

DEFINE_EVENT(vh_queue_event, vh_kick,
	     TP_PROTO(unsigned int dev, unsigned int vq),
	     TP_ARGS(dev, vq)
);

TRACE_EVENT(vh_tx,
	    TP_PROTO(unsigned int dev, u16 desc, size_t len, int err, bool zcopy),
	    TP_ARGS(dev, desc, len, err, zcopy),
	    TP_STRUCT__entry(__field(unsigned int, dev)
			     __field(u16, head)
			     __field(size_t, len)
			     __field(int, err)
			     __field(bool, zcopy)),
	    TP_fast_assign(__entry->dev = dev;
			   __entry->head = desc;
			   __entry->len = len;
			   __entry->err = err;
			   __entry->zcopy = zcopy;),
	    TP_printk("dev=%u head=%u len=%zu err=%d zcopy=%d", __entry->dev,
		      __entry->head, __entry->len, __entry->err, __entry->zcopy)
);

TRACE_EVENT(vh_rx,
	    TP_PROTO(unsigned int dev, int len, int bufs, int err),
	    TP_ARGS(dev, len, bufs, err),
	    TP_STRUCT__entry(__field(unsigned int, dev)
			     __field(int, len)
			     __field(int, bufs)
			     __field(int, err)),
	    TP_fast_assign(__entry->dev = dev;
			   __entry->len = len;
			   __entry->bufs = bufs;
			   __entry->err = err;),
	    TP_printk("dev=%u len=%d bufs=%d err=%d", __entry->dev,
		      __entry->len, __entry->bufs, __entry->err)
);

TRACE_EVENT(vh_zc_done,
	    TP_PROTO(unsigned int dev, u16 desc, bool ok, s64 latency_ns),
	    TP_ARGS(dev, desc, ok, latency_ns),
	    TP_STRUCT__entry(__field(unsigned int, dev)
			     __field(u16, head)
			     __field(bool, ok)
			     __field(s64, latency_ns)),
	    TP_fast_assign(__entry->dev = dev;
			   __entry->head = desc;
			   __entry->ok = ok;
			   __entry->latency_ns = latency_ns;),
	    TP_printk("dev=%u head=%u ok=%d latency_ns=%lld", __entry->dev,
		      __entry->head, __entry->ok, __entry->latency_ns)
);

TRACE_EVENT(vh_tx_batch,
	    TP_PROTO(unsigned int dev, unsigned int pkts, int err),
	    TP_ARGS(dev, pkts, err),
	    TP_STRUCT__entry(__field(unsigned int, dev)
			     __field(unsigned int, pkts)
			     __field(int, err)),
	    TP_fast_assign(__entry->dev = dev;
			   __entry->pkts = pkts;
			   __entry->err = err;),
	    TP_printk("dev=%u pkts=%u err=%d", __entry->dev, __entry->pkts,
		      __entry->err)
);

DEFINE_EVENT(vh_queue_event, vh_notify,
	     TP_PROTO(unsigned int dev, unsigned int vq),
	     TP_ARGS(dev, vq)
);

TRACE_EVENT(vh_error,
	    TP_PROTO(unsigned int dev, unsigned int vq, int err),
	    TP_ARGS(dev, vq, err),
	    TP_STRUCT__entry(__field(unsigned int, dev)
			     __field(unsigned int, vq)
			     __field(int, err)),
	    TP_fast_assign(__entry->dev = dev;
			   __entry->vq = vq;
			   __entry->err = err;),
	    TP_printk("dev=%u vq=%u err=%d", __entry->dev, __entry->vq,
		      __entry->err)
);

#endif /* _VMACCEL_VHOST_TRACE_H */

/* This part must be outside the include guard. */
#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE trace
#include <trace/define_trace.h>
