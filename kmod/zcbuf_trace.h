/* SPDX-License-Identifier: GPL-2.0 */
/*
 * zcbuf tracepoints: a buffer's way through the queue and the device.
 *
 *   echo 1 > /sys/kernel/tracing/events/zcbuf/enable
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM zcbuf

#if !defined(_ZCBUF_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _ZCBUF_TRACE_H

#include <linux/tracepoint.h>

DECLARE_EVENT_CLASS(zcbuf_buf_class,
	TP_PROTO(u32 index, u64 sequence),
	TP_ARGS(index, sequence),
	TP_STRUCT__entry(
		__field(u32, index)
		__field(u64, sequence)
	),
	TP_fast_assign(
		__entry->index = index;
		__entry->sequence = sequence;
	),
	TP_printk("index=%u sequence=%llu", __entry->index, __entry->sequence)
);

/* User space queued a buffer (sequence: 0). */
DEFINE_EVENT(zcbuf_buf_class, zcbuf_qbuf,
	TP_PROTO(u32 index, u64 sequence),
	TP_ARGS(index, sequence));

/* The device took a buffer and starts its DMA (sequence: 0). */
DEFINE_EVENT(zcbuf_buf_class, zcbuf_dma_start,
	TP_PROTO(u32 index, u64 sequence),
	TP_ARGS(index, sequence));

/* User space dequeued a completed buffer. */
DEFINE_EVENT(zcbuf_buf_class, zcbuf_dqbuf,
	TP_PROTO(u32 index, u64 sequence),
	TP_ARGS(index, sequence));

/* The device completed a buffer. */
TRACE_EVENT(zcbuf_complete,
	TP_PROTO(u32 index, u64 sequence, u64 bytesused, u32 flags),
	TP_ARGS(index, sequence, bytesused, flags),
	TP_STRUCT__entry(
		__field(u32, index)
		__field(u64, sequence)
		__field(u64, bytesused)
		__field(u32, flags)
	),
	TP_fast_assign(
		__entry->index = index;
		__entry->sequence = sequence;
		__entry->bytesused = bytesused;
		__entry->flags = flags;
	),
	TP_printk("index=%u sequence=%llu bytesused=%llu flags=%#x",
		  __entry->index, __entry->sequence, __entry->bytesused,
		  __entry->flags)
);

/* The device lost a frame: 0 no buffer queued, 1 injected. */
TRACE_EVENT(zcbuf_drop,
	TP_PROTO(int reason),
	TP_ARGS(reason),
	TP_STRUCT__entry(
		__field(int, reason)
	),
	TP_fast_assign(
		__entry->reason = reason;
	),
	TP_printk("reason=%s", __entry->reason ? "injected" : "no_buffer")
);

#endif /* _ZCBUF_TRACE_H */

/* This part must be outside the include guard. */
#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE zcbuf_trace
#include <trace/define_trace.h>
