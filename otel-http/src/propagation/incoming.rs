//! What a request's trace headers said, kept in the [`Context`] beside the
//! remote span context, so the injector can send on what the SDK's span
//! context cannot carry:
//!
//! - the **random** flag (W3C Trace Context Level 2, section 3.2.2.5.2):
//!   opentelemetry_sdk 0.33 gives an unsampled child span `TraceFlags::default()`,
//!   clearing the flag the caller set (`SdkTracer::build_with_context`);
//! - a **tracestate** list that opentelemetry's `TraceState` rejects although
//!   Level 2 allows it (section 3.3.1.3.1: its key check caps the part after
//!   `@` at 13 characters and allows one `@` only).
//!
//! The server span's context is built on the extracted one
//! (`Context::with_span` keeps every value), and so is every outgoing
//! request's, so the record reaches the injector without any help from the
//! HTTP crates.

use super::traceparent::KNOWN_FLAGS;
use opentelemetry::Context;
use opentelemetry::trace::{SpanContext, TraceContextExt as _, TraceFlags, TraceId, TraceState};
use std::sync::Arc;

/// The random flag (W3C Trace Context Level 2, section 3.2.2.5.2).
pub(crate) const RANDOM: u8 = 0x02;

/// The validated incoming trace headers of one trace.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct IncomingTrace {
    trace_id: TraceId,
    /// The sampled and random flags as received.
    flags: u8,
    /// When the span context's trace state could not hold the whole list:
    /// that trace state (while a span's own state equals it, nobody changed
    /// it) and the whole validated list. `None` in the common case, which
    /// then costs no copy of the trace state.
    full_state: Option<(TraceState, Arc<str>)>,
}

/// `cx` with a record of the remote span context `sc` just extracted, and of
/// the full `tracestate` list when `sc`'s trace state could not hold it;
/// `cx` itself when the record would tell the injector nothing it does not
/// conclude without it: the caller set the random flag, the propagator's own
/// trace ids are random (`random_trace_ids`: without a record it sets the
/// flag for the trace's local spans anyway), the span context holds the
/// whole list, and `cx` has no record of the trace (a foreign format's,
/// which would then speak for it). The record is a value in the context's
/// map, the largest part of what extracting a context costs; most callers
/// that set the random flag are this workspace's own.
pub(crate) fn record(
    cx: Context,
    sc: &SpanContext,
    full_state: Option<Arc<str>>,
    random_trace_ids: bool,
) -> Context {
    if random_trace_ids
        && full_state.is_none()
        && sc.trace_flags().to_u8() & RANDOM != 0
        && of_trace(&cx, sc.trace_id()).is_none()
    {
        return cx;
    }
    cx.with_value(IncomingTrace {
        trace_id: sc.trace_id(),
        flags: sc.trace_flags().to_u8() & KNOWN_FLAGS,
        full_state: full_state.map(|full| (sc.trace_state().clone(), full)),
    })
}

/// `cx` with a record of `sc`, extracted from a format without a random
/// flag or `tracestate` (B3, Jaeger), unless `cx` already holds a record of
/// the same trace: a `traceparent` for the same trace id knows more.
pub(crate) fn record_foreign(cx: Context, sc: &SpanContext) -> Context {
    if of_trace(&cx, sc.trace_id()).is_some() || random_traceparent_of(&cx, sc.trace_id()) {
        return cx;
    }
    cx.with_value(IncomingTrace {
        trace_id: sc.trace_id(),
        flags: sc.trace_flags().to_u8() & KNOWN_FLAGS & !RANDOM,
        full_state: None,
    })
}

/// Whether `cx` holds the remote span context of a `traceparent` of
/// `trace_id` with the random flag, which [`record`] leaves unrecorded (only
/// a `traceparent` carries that flag).
fn random_traceparent_of(cx: &Context, trace_id: TraceId) -> bool {
    let span = cx.span();
    let sc = span.span_context();
    sc.is_remote() && sc.trace_id() == trace_id && sc.trace_flags().to_u8() & RANDOM != 0
}

/// The record in `cx`, if it is about `trace_id`.
fn of_trace(cx: &Context, trace_id: TraceId) -> Option<&IncomingTrace> {
    cx.get::<IncomingTrace>()
        .filter(|incoming| incoming.trace_id == trace_id)
}

/// The flags to send for `sc` in `cx`: the sampled flag as the span has it;
/// the random flag as the caller sent it for this trace, or, for a trace this
/// process started (a local span and no record of its trace), set when its
/// ids come from a random generator (`random_trace_ids`).
pub(crate) fn flags_to_send(cx: &Context, sc: &SpanContext, random_trace_ids: bool) -> TraceFlags {
    let flags = sc.trace_flags().to_u8() & KNOWN_FLAGS;
    if flags & RANDOM != 0 {
        return TraceFlags::new(flags);
    }
    let random = match of_trace(cx, sc.trace_id()) {
        Some(incoming) => incoming.flags & RANDOM,
        // A remote span context injected as it is: its flags are what it has.
        None if sc.is_remote() => 0,
        None if random_trace_ids => RANDOM,
        None => 0,
    };
    TraceFlags::new(flags | random)
}

/// The `tracestate` list to send for `sc` in `cx`, before truncation: the
/// full incoming list while the span's trace state is the one extracted with
/// it, otherwise the span's own. `None` when empty.
pub(crate) fn tracestate_to_send(cx: &Context, sc: &SpanContext) -> Option<String> {
    if let Some((_, full)) = of_trace(cx, sc.trace_id())
        .and_then(|incoming| incoming.full_state.as_ref())
        .filter(|(extracted, _)| extracted == sc.trace_state())
    {
        return Some(full.to_string());
    }
    let header = sc.trace_state().header();
    (!header.is_empty()).then_some(header)
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry::trace::SpanId;

    fn sc(flags: u8, remote: bool, state: TraceState) -> SpanContext {
        SpanContext::new(
            TraceId::from(7u128),
            SpanId::from(9u64),
            TraceFlags::new(flags),
            remote,
            state,
        )
    }

    // W3C Trace Context Level 2, section 3.2.2.5.2 (random flag): forwarded
    // for the caller's trace, set for traces started here with random ids.
    #[test]
    fn random_flag_sources() {
        let incoming = record(
            Context::new(),
            &sc(0x02, true, TraceState::NONE),
            None,
            false,
        );
        // The SDK cleared the flags of an unsampled local child span.
        let child = sc(0x00, false, TraceState::NONE);
        assert_eq!(flags_to_send(&incoming, &child, true).to_u8(), 0x02);
        assert_eq!(flags_to_send(&incoming, &child, false).to_u8(), 0x02);
        let sampled_child = sc(0x01, false, TraceState::NONE);
        assert_eq!(flags_to_send(&incoming, &sampled_child, true).to_u8(), 0x03);
        // The caller did not claim random ids: neither do we.
        let plain = record(
            Context::new(),
            &sc(0x01, true, TraceState::NONE),
            None,
            false,
        );
        assert_eq!(flags_to_send(&plain, &sampled_child, true).to_u8(), 0x01);
        // Started here: random when the ids are.
        assert_eq!(flags_to_send(&Context::new(), &child, true).to_u8(), 0x02);
        assert_eq!(flags_to_send(&Context::new(), &child, false).to_u8(), 0x00);
        // A record of another trace says nothing about this one.
        let other = Context::new().with_value(IncomingTrace {
            trace_id: TraceId::from(8u128),
            flags: 0,
            full_state: None,
        });
        assert_eq!(flags_to_send(&other, &sampled_child, true).to_u8(), 0x03);
        // A bare remote context keeps its own flags.
        let remote = sc(0x01, true, TraceState::NONE);
        assert_eq!(flags_to_send(&Context::new(), &remote, true).to_u8(), 0x01);
    }

    #[test]
    fn foreign_formats_never_claim_random_ids_nor_replace_a_traceparent_record() {
        let b3 = record_foreign(Context::new(), &sc(0x01, true, TraceState::NONE));
        let child = sc(0x01, false, TraceState::NONE);
        assert_eq!(flags_to_send(&b3, &child, true).to_u8(), 0x01);
        let w3c = record(
            Context::new(),
            &sc(0x03, true, TraceState::NONE),
            None,
            false,
        );
        let both = record_foreign(w3c, &sc(0x01, true, TraceState::NONE));
        assert_eq!(flags_to_send(&both, &child, true).to_u8(), 0x03);
    }

    // Section 3.5 (mutating tracestate): sent on unchanged unless changed.
    #[test]
    fn the_full_list_is_sent_while_the_state_is_unchanged() {
        let api = TraceState::from_key_value([("a", "1")]).expect("valid");
        let full: Arc<str> = Arc::from("a=1,t@vendorwithalongname=2");
        let cx = record(
            Context::new(),
            &sc(0x01, true, api.clone()),
            Some(full.clone()),
            true,
        );
        let child = sc(0x01, false, api.clone());
        assert_eq!(tracestate_to_send(&cx, &child).as_deref(), Some(&*full));
        let changed = api.insert("b", "2").expect("valid");
        let child = sc(0x01, false, changed);
        assert_eq!(tracestate_to_send(&cx, &child).as_deref(), Some("b=2,a=1"));
        assert_eq!(
            tracestate_to_send(&Context::new(), &sc(0x01, false, TraceState::NONE)),
            None
        );
    }

    // A record left out changes nothing the injector sends: for every
    // incoming flag, random-id setting and list, a local child (sampled or
    // not), and a B3 context of the same trace extracted after it, what is
    // sent is what a record always made gives.
    #[test]
    fn a_record_is_left_out_only_when_it_would_change_nothing() {
        let api = TraceState::from_key_value([("a", "1")]).expect("valid");
        let full: Arc<str> = Arc::from("a=1,t@vendorwithalongname=2");
        for flags in 0..4u8 {
            for random in [true, false] {
                for full_state in [None, Some(full.clone())] {
                    let remote = sc(flags, true, api.clone());
                    let extract = |always: bool| {
                        let recorded = if always {
                            Context::new().with_value(IncomingTrace {
                                trace_id: remote.trace_id(),
                                flags: flags & KNOWN_FLAGS,
                                full_state: full_state.clone().map(|f| (api.clone(), f)),
                            })
                        } else {
                            record(Context::new(), &remote, full_state.clone(), random)
                        };
                        recorded.with_remote_span_context(remote.clone())
                    };
                    let (maybe, always) = (extract(false), extract(true));
                    let left_out = maybe.get::<IncomingTrace>().is_none();
                    assert_eq!(
                        left_out,
                        random && full_state.is_none() && flags & RANDOM != 0,
                        "{flags} {random} {full_state:?}"
                    );
                    let b3 = sc(0x01, true, TraceState::NONE);
                    let (maybe_b3, always_b3) = (
                        record_foreign(maybe.clone(), &b3),
                        record_foreign(always.clone(), &b3),
                    );
                    for child_flags in [0x00, 0x01] {
                        let child = sc(child_flags, false, api.clone());
                        for (a, b) in [(&maybe, &always), (&maybe_b3, &always_b3)] {
                            assert_eq!(
                                flags_to_send(a, &child, random),
                                flags_to_send(b, &child, random),
                                "{flags} {random} {full_state:?} {child_flags}"
                            );
                            assert_eq!(
                                tracestate_to_send(a, &child),
                                tracestate_to_send(b, &child)
                            );
                        }
                    }
                }
            }
        }
    }
}
