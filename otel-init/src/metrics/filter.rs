//! The exemplar filter at record time: whether a measurement may become an
//! exemplar, and the ids of the span it was recorded in.

use crate::config::ExemplarFilter;
use opentelemetry::Context;
use opentelemetry::trace::TraceContextExt as _;

/// The trace id and span id of a measurement (all zeros outside a span).
pub(crate) type SpanIds = ([u8; 16], [u8; 8]);

/// `None` when `filter` refuses the measurement being recorded now.
///
/// `trace_based` looks at the current context only (one thread-local read,
/// no clone); a measurement outside a sampled span costs nothing more.
/// `always_on` keeps ids of sampled spans only: an unsampled span's trace is
/// never exported, so its ids would link to nothing (the instrumentation
/// makes only sampled spans current when it records a duration).
#[inline]
pub(crate) fn admit(filter: ExemplarFilter) -> Option<SpanIds> {
    match filter {
        ExemplarFilter::AlwaysOff => None,
        ExemplarFilter::TraceBased => Context::map_current(sampled_ids),
        ExemplarFilter::AlwaysOn => {
            Some(Context::map_current(sampled_ids).unwrap_or(([0; 16], [0; 8])))
        }
    }
}

fn sampled_ids(cx: &Context) -> Option<SpanIds> {
    let span = cx.span();
    let sc = span.span_context();
    sc.is_sampled()
        .then(|| (sc.trace_id().to_bytes(), sc.span_id().to_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry::trace::{SpanContext, SpanId, TraceFlags, TraceId, TraceState};

    fn in_span<T>(sampled: bool, f: impl FnOnce() -> T) -> T {
        let flags = if sampled {
            TraceFlags::SAMPLED
        } else {
            TraceFlags::default()
        };
        let sc = SpanContext::new(
            TraceId::from(7),
            SpanId::from(9),
            flags,
            false,
            TraceState::default(),
        );
        let _attached = Context::new().with_remote_span_context(sc).attach();
        f()
    }

    #[test]
    fn trace_based_admits_sampled_spans_only() {
        let ids = in_span(true, || admit(ExemplarFilter::TraceBased));
        assert_eq!(
            ids,
            Some((TraceId::from(7).to_bytes(), SpanId::from(9).to_bytes()))
        );
        assert_eq!(in_span(false, || admit(ExemplarFilter::TraceBased)), None);
        assert_eq!(admit(ExemplarFilter::TraceBased), None, "no span");
    }

    #[test]
    fn always_on_admits_everything_with_ids_of_sampled_spans() {
        let sampled = in_span(true, || admit(ExemplarFilter::AlwaysOn));
        assert_eq!(
            sampled,
            Some((TraceId::from(7).to_bytes(), SpanId::from(9).to_bytes()))
        );
        let unsampled = in_span(false, || admit(ExemplarFilter::AlwaysOn));
        assert_eq!(unsampled, Some(([0; 16], [0; 8])));
        assert_eq!(admit(ExemplarFilter::AlwaysOn), Some(([0; 16], [0; 8])));
    }

    #[test]
    fn always_off_admits_nothing() {
        assert_eq!(in_span(true, || admit(ExemplarFilter::AlwaysOff)), None);
    }
}
