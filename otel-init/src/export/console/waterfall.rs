//! One indented waterfall per finished trace: name, kind, duration, a bar
//! scaled to the trace, status and the attributes that matter most.

use opentelemetry::trace::{SpanId, SpanKind, Status};
use opentelemetry_sdk::trace::SpanData;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::time::{Duration, SystemTime};

const BAR_WIDTH: usize = 40;
const NAME_WIDTH: usize = 34;
/// Attributes shown beside a span, in this order, when present.
const KEY_ATTRIBUTES: &[&str] = &[
    "http.request.method",
    "http.route",
    "url.full",
    "url.path",
    "http.response.status_code",
    "server.address",
    "db.system.name",
    "db.query.text",
    "db.response.status_code",
    "error.type",
    "messaging.system",
    "rpc.method",
];

/// Renders the spans of one trace as an indented waterfall.
///
/// ```
/// # use otel_init::opentelemetry::trace::{SpanContext, SpanId, SpanKind, Status, TraceFlags, TraceId, TraceState};
/// # use otel_init::opentelemetry::InstrumentationScope;
/// # use otel_init::opentelemetry_sdk::trace::{SpanData, SpanEvents, SpanLinks};
/// # use std::time::{Duration, SystemTime};
/// # fn span(id: u64, parent: u64, name: &str, start_ms: u64, end_ms: u64) -> SpanData {
/// #     let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
/// #     SpanData {
/// #         span_context: SpanContext::new(TraceId::from(7u128), SpanId::from(id), TraceFlags::SAMPLED, false, TraceState::default()),
/// #         parent_span_id: SpanId::from(parent),
/// #         parent_span_is_remote: false,
/// #         span_kind: if parent == 0 { SpanKind::Server } else { SpanKind::Client },
/// #         name: name.to_owned().into(),
/// #         start_time: t0 + Duration::from_millis(start_ms),
/// #         end_time: t0 + Duration::from_millis(end_ms),
/// #         attributes: Vec::new(),
/// #         dropped_attributes_count: 0,
/// #         events: SpanEvents::default(),
/// #         links: SpanLinks::default(),
/// #         status: Status::Unset,
/// #         instrumentation_scope: InstrumentationScope::builder("doc").build(),
/// #     }
/// # }
/// use otel_init::export::console::render_trace;
/// // span(id, parent id, name, start ms, end ms), as the SDK hands them over:
/// let trace = render_trace(&[
///     span(2, 1, "SELECT cart", 5, 15),
///     span(1, 0, "GET /cart", 0, 20),
/// ]);
/// let lines: Vec<&str> = trace.lines().collect();
/// assert!(lines[0].starts_with("trace 00000000000000000000000000000007 · 2 spans · 20.0 ms"));
/// assert!(lines[1].starts_with("  GET /cart")); // the root first,
/// assert!(lines[2].starts_with("    SELECT cart")); // then its children, indented
/// assert_eq!(render_trace(&[]), "");
/// ```
pub fn render_trace(spans: &[SpanData]) -> String {
    let complete = spans
        .iter()
        .any(|s| s.parent_span_id == SpanId::INVALID || s.parent_span_is_remote);
    let note = if complete {
        Note::None
    } else {
        Note::RootNotEnded
    };
    render(spans, note, 0, false)
}

/// What the header says about a trace's completeness.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Note {
    /// Its root arrived: nothing to say.
    None,
    /// Its root had not arrived when it was printed.
    RootNotEnded,
    /// Printed early, root not arrived, because too many traces were waiting.
    TooManyWaiting,
    /// Spans that arrived after their trace was printed.
    Continued,
}

/// Renders one trace; `not_kept` spans were left out; `show_ids` adds a line of
/// ids under each span.
pub(crate) fn render(spans: &[SpanData], note: Note, not_kept: usize, show_ids: bool) -> String {
    let Some(first) = spans.first() else {
        return String::new();
    };
    let start = spans
        .iter()
        .map(|s| s.start_time)
        .min()
        .unwrap_or(first.start_time);
    let end = spans
        .iter()
        .map(|s| s.end_time)
        .max()
        .unwrap_or(first.end_time);
    let total = end
        .duration_since(start)
        .unwrap_or_default()
        .max(Duration::from_nanos(1));
    let ids: HashMap<SpanId, usize> = spans
        .iter()
        .enumerate()
        .map(|(i, s)| (s.span_context.span_id(), i))
        .collect();
    let mut children: HashMap<Option<usize>, Vec<usize>> = HashMap::new();
    for (i, s) in spans.iter().enumerate() {
        let parent = ids.get(&s.parent_span_id).copied().filter(|p| *p != i);
        children.entry(parent).or_default().push(i);
    }
    for list in children.values_mut() {
        list.sort_by_key(|i| spans[*i].start_time);
    }
    let mut out = String::new();
    let _ = write!(
        out,
        "trace {} · {} span{} · {}",
        first.span_context.trace_id(),
        spans.len(),
        if spans.len() == 1 { "" } else { "s" },
        fmt_duration(total),
    );
    if not_kept > 0 {
        let _ = write!(out, " · {not_kept} more not shown");
    }
    out.push_str(match note {
        Note::None => "",
        Note::RootNotEnded => " · incomplete (root not ended)",
        Note::TooManyWaiting => " · incomplete (root not ended; too many traces waiting)",
        Note::Continued => " · continued (spans that ended after the trace was printed)",
    });
    out.push('\n');
    let mut stack: Vec<(usize, usize)> = children
        .get(&None)
        .map(|roots| roots.iter().rev().map(|i| (*i, 0)).collect())
        .unwrap_or_default();
    while let Some((i, depth)) = stack.pop() {
        render_line(&mut out, &spans[i], depth, start, total);
        if show_ids {
            render_ids(&mut out, &spans[i], depth);
        }
        if let Some(kids) = children.get(&Some(i)) {
            stack.extend(kids.iter().rev().map(|k| (*k, depth + 1)));
        }
    }
    out
}

fn render_line(
    out: &mut String,
    span: &SpanData,
    depth: usize,
    start: SystemTime,
    total: Duration,
) {
    let offset = span.start_time.duration_since(start).unwrap_or_default();
    let dur = span
        .end_time
        .duration_since(span.start_time)
        .unwrap_or_default();
    let lead = scale(offset, total).min(BAR_WIDTH - 1);
    let len = scale(dur, total).clamp(1, BAR_WIDTH - lead);
    let bar = format!(
        "{}{}{}",
        " ".repeat(lead),
        "█".repeat(len),
        " ".repeat(BAR_WIDTH - lead - len)
    );
    let mut name = format!("{}{}", "  ".repeat(depth), span.name);
    if name.chars().count() > NAME_WIDTH {
        name = name.chars().take(NAME_WIDTH - 1).collect::<String>() + "…";
    }
    let kind = match span.span_kind {
        SpanKind::Server => "SERVER",
        SpanKind::Client => "CLIENT",
        SpanKind::Producer => "PRODUCER",
        SpanKind::Consumer => "CONSUMER",
        SpanKind::Internal => "",
    };
    let _ = write!(
        out,
        "  {name:<NAME_WIDTH$} {kind:<8} {:>9} |{bar}|",
        fmt_duration(dur)
    );
    if let Status::Error { description } = &span.status {
        let _ = write!(out, " ERROR");
        if !description.is_empty() {
            let _ = write!(out, " ({description})");
        }
    }
    for key in KEY_ATTRIBUTES {
        if let Some(kv) = span.attributes.iter().find(|kv| kv.key.as_str() == *key) {
            let mut v = kv.value.to_string();
            if v.chars().count() > 60 {
                v = v.chars().take(59).collect::<String>() + "…";
            }
            let _ = write!(out, " {key}={v}");
        }
    }
    out.push('\n');
}

/// `trace_id=… span_id=… parent_span_id=… (remote) trace_flags=01 tracestate=…`,
/// indented under the span's name.
fn render_ids(out: &mut String, span: &SpanData, depth: usize) {
    let cx = &span.span_context;
    let _ = write!(
        out,
        "  {}  trace_id={} span_id={} parent_span_id=",
        "  ".repeat(depth),
        cx.trace_id(),
        cx.span_id()
    );
    if span.parent_span_id == SpanId::INVALID {
        out.push_str("none");
    } else {
        let _ = write!(out, "{}", span.parent_span_id);
        if span.parent_span_is_remote {
            out.push_str(" (remote)");
        }
    }
    let state = cx.trace_state().header();
    let _ = writeln!(
        out,
        " trace_flags={:02x} tracestate={}",
        cx.trace_flags().to_u8(),
        if state.is_empty() { "none" } else { &state }
    );
}

fn scale(d: Duration, total: Duration) -> usize {
    ((d.as_secs_f64() / total.as_secs_f64()) * BAR_WIDTH as f64).round() as usize
}

/// `850 µs`, `12.3 ms`, `1.20 s`.
pub(crate) fn fmt_duration(d: Duration) -> String {
    let us = d.as_secs_f64() * 1e6;
    if us < 1000.0 {
        format!("{us:.0} µs")
    } else if us < 1e6 {
        format!("{:.1} ms", us / 1000.0)
    } else {
        format!("{:.2} s", us / 1e6)
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use opentelemetry::trace::{SpanContext, TraceFlags, TraceId, TraceState};
    use opentelemetry::{InstrumentationScope, KeyValue};
    use opentelemetry_sdk::trace::{SpanEvents, SpanLinks};

    pub(crate) fn span(id: u64, parent: u64, name: &str, start_ms: u64, end_ms: u64) -> SpanData {
        span_of(7, id, parent, name, start_ms, end_ms)
    }

    /// A span of trace `trace`, its times in ms from an instant in 2023.
    pub(crate) fn span_of(
        trace: u128,
        id: u64,
        parent: u64,
        name: &str,
        start_ms: u64,
        end_ms: u64,
    ) -> SpanData {
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        SpanData {
            span_context: SpanContext::new(
                TraceId::from(trace),
                SpanId::from(id),
                TraceFlags::SAMPLED,
                false,
                TraceState::default(),
            ),
            parent_span_id: SpanId::from(parent),
            parent_span_is_remote: false,
            span_kind: if parent == 0 {
                SpanKind::Server
            } else {
                SpanKind::Client
            },
            name: name.to_owned().into(),
            start_time: t0 + Duration::from_millis(start_ms),
            end_time: t0 + Duration::from_millis(end_ms),
            attributes: vec![KeyValue::new("http.route", "/products")],
            dropped_attributes_count: 0,
            events: SpanEvents::default(),
            links: SpanLinks::default(),
            status: if name.starts_with("wait") {
                Status::error("pool timed out")
            } else {
                Status::Unset
            },
            instrumentation_scope: InstrumentationScope::builder("t").build(),
        }
    }

    #[test]
    fn renders_nested_bars_scaled_to_the_trace() {
        let out = render_trace(&[
            span(2, 1, "waiting for connection", 0, 18_000),
            span(3, 1, "SELECT products", 18_000, 18_045),
            span(1, 0, "GET /products", 0, 20_000),
        ]);
        let lines: Vec<&str> = out.lines().collect();
        assert!(
            lines[0].starts_with("trace 00000000000000000000000000000007 · 3 spans · 20.00 s"),
            "{out}"
        );
        assert!(lines[1].starts_with("  GET /products"), "{out}");
        assert!(lines[1].contains(&format!("|{}|", "█".repeat(40))), "{out}");
        assert!(lines[2].starts_with("    waiting for connection"), "{out}");
        assert!(
            lines[2].contains("18.00 s") && lines[2].contains("ERROR (pool timed out)"),
            "{out}"
        );
        // 18 s of 20 s is 36 of 40 cells.
        assert!(
            lines[2].contains(&format!("|{}{}|", "█".repeat(36), " ".repeat(4))),
            "{out}"
        );
        assert!(
            lines[3].starts_with("    SELECT products") && lines[3].contains("45.0 ms"),
            "{out}"
        );
        assert!(
            lines[3].contains(&format!("|{}█{}|", " ".repeat(36), " ".repeat(3))),
            "{out}"
        );
        assert!(lines[1].contains("http.route=/products"));
    }

    #[test]
    fn ids_are_shown_under_each_span_on_request_only() {
        let state = TraceState::from_key_value([("rojo", "00f067aa0ba902b7"), ("congo", "t61")])
            .expect("valid tracestate");
        let mut root = span(1, 0, "GET /checkout", 0, 20);
        root.span_context = SpanContext::new(
            TraceId::from(7u128),
            SpanId::from(1u64),
            TraceFlags::new(0x03),
            false,
            state,
        );
        let mut remote = span(3, 9, "POST /payments", 5, 10);
        remote.parent_span_is_remote = true;
        let spans = [root, span(2, 1, "SELECT cart", 1, 4), remote];
        let out = render(&spans, Note::None, 0, true);
        let lines: Vec<&str> = out.lines().collect();
        let t = "trace_id=00000000000000000000000000000007";
        assert_eq!(lines.len(), 7, "{out}");
        assert!(lines[1].starts_with("  GET /checkout"), "{out}");
        assert_eq!(
            lines[2],
            format!(
                "    {t} span_id=0000000000000001 parent_span_id=none trace_flags=03 \
                 tracestate=rojo=00f067aa0ba902b7,congo=t61"
            )
        );
        assert!(lines[3].starts_with("    SELECT cart"), "{out}");
        assert_eq!(
            lines[4],
            format!(
                "      {t} span_id=0000000000000002 parent_span_id=0000000000000001 \
                 trace_flags=01 tracestate=none"
            )
        );
        // A span whose parent is in another process is a root here.
        assert!(lines[5].starts_with("  POST /payments"), "{out}");
        assert_eq!(
            lines[6],
            format!(
                "    {t} span_id=0000000000000003 parent_span_id=0000000000000009 (remote) \
                 trace_flags=01 tracestate=none"
            )
        );
        // Off by default: the same trace without the ids lines.
        let plain = render_trace(&spans);
        assert!(!plain.contains("span_id="), "{plain}");
        let without_ids: Vec<&str> = lines
            .iter()
            .copied()
            .filter(|l| !l.trim_start().starts_with("trace_id="))
            .collect();
        assert_eq!(plain.lines().collect::<Vec<_>>(), without_ids);
    }
}
