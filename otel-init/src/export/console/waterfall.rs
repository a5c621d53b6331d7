//! One indented waterfall per finished trace: name, kind, duration, a bar
//! scaled to the trace, status and the attributes that matter most.

use super::super::pipeline::{BatchSink, BoxFuture};
use opentelemetry::trace::{SpanId, SpanKind, Status, TraceId};
use opentelemetry_sdk::trace::SpanData;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::time::{Duration, Instant, SystemTime};

const BAR_WIDTH: usize = 40;
const NAME_WIDTH: usize = 34;
/// Traces held while waiting for their root span, at most.
const MAX_PENDING_TRACES: usize = 256;
/// Spans held per trace, at most.
const MAX_SPANS_PER_TRACE: usize = 1000;
/// A trace whose root has not ended after this long is printed as it is.
const MAX_WAIT: Duration = Duration::from_secs(30);

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

/// How long a fragment whose root has a remote parent waits for the rest of
/// its trace: when a service calls itself, the caller's spans end later.
const REMOTE_ROOT_GRACE: Duration = Duration::from_millis(500);

struct PendingTrace {
    spans: Vec<SpanData>,
    first_seen: Instant,
    /// Set when a root with a remote parent ended: print at this instant.
    print_at: Option<Instant>,
}

/// Buffers spans per trace and prints a trace when its local root ends.
pub(crate) struct ConsoleSpanSink {
    pending: HashMap<TraceId, PendingTrace>,
    out: Box<dyn FnMut(&str) + Send>,
}

impl ConsoleSpanSink {
    pub(crate) fn stderr() -> Self {
        Self::with_output(Box::new(|s: &str| {
            let mut err = std::io::stderr().lock();
            let _ = err.write_all(s.as_bytes());
        }))
    }

    pub(crate) fn with_output(out: Box<dyn FnMut(&str) + Send>) -> Self {
        Self {
            pending: HashMap::new(),
            out,
        }
    }

    fn accept(&mut self, span: SpanData) {
        let trace_id = span.span_context.trace_id();
        let is_trace_root = span.parent_span_id == SpanId::INVALID;
        let is_remote_root = !is_trace_root && span.parent_span_is_remote;
        if !self.pending.contains_key(&trace_id) && self.pending.len() >= MAX_PENDING_TRACES {
            self.print_oldest();
        }
        let entry = self
            .pending
            .entry(trace_id)
            .or_insert_with(|| PendingTrace {
                spans: Vec::new(),
                first_seen: Instant::now(),
                print_at: None,
            });
        if entry.spans.len() < MAX_SPANS_PER_TRACE {
            entry.spans.push(span);
        }
        if is_remote_root && entry.print_at.is_none() {
            entry.print_at = Some(Instant::now() + REMOTE_ROOT_GRACE);
        }
        if let Some(t) = is_trace_root
            .then(|| self.pending.remove(&trace_id))
            .flatten()
        {
            (self.out)(&render_trace(&t.spans));
        }
    }

    /// Prints the fragments whose grace after a remote-parent root has passed.
    fn print_ready(&mut self) {
        let now = Instant::now();
        let ready: Vec<TraceId> = self
            .pending
            .iter()
            .filter(|(_, t)| t.print_at.is_some_and(|at| at <= now))
            .map(|(id, _)| *id)
            .collect();
        for id in ready {
            if let Some(t) = self.pending.remove(&id) {
                (self.out)(&render_trace(&t.spans));
            }
        }
    }

    fn print_oldest(&mut self) {
        let oldest = self
            .pending
            .iter()
            .min_by_key(|(_, t)| t.first_seen)
            .map(|(id, _)| *id);
        if let Some(t) = oldest.and_then(|id| self.pending.remove(&id)) {
            (self.out)(&render_trace(&t.spans));
        }
    }

    fn print_stale(&mut self, older_than: Duration) {
        let stale: Vec<TraceId> = self
            .pending
            .iter()
            .filter(|(_, t)| t.first_seen.elapsed() >= older_than)
            .map(|(id, _)| *id)
            .collect();
        for id in stale {
            if let Some(t) = self.pending.remove(&id) {
                (self.out)(&render_trace(&t.spans));
            }
        }
    }
}

impl BatchSink<SpanData> for ConsoleSpanSink {
    fn export(&mut self, batch: Vec<SpanData>) -> BoxFuture<'_, Result<(), String>> {
        for span in batch {
            self.accept(span);
        }
        self.print_ready();
        self.print_stale(MAX_WAIT);
        Box::pin(async { Ok(()) })
    }

    fn flush(&mut self) {
        self.print_stale(Duration::ZERO);
    }
}

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
    let complete = spans
        .iter()
        .any(|s| s.parent_span_id == SpanId::INVALID || s.parent_span_is_remote);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "trace {} · {} span{} · {}{}",
        first.span_context.trace_id(),
        spans.len(),
        if spans.len() == 1 { "" } else { "s" },
        fmt_duration(total),
        if complete {
            ""
        } else {
            " · incomplete (root not ended)"
        }
    );
    let mut stack: Vec<(usize, usize)> = children
        .get(&None)
        .map(|roots| roots.iter().rev().map(|i| (*i, 0)).collect())
        .unwrap_or_default();
    while let Some((i, depth)) = stack.pop() {
        render_line(&mut out, &spans[i], depth, start, total);
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
mod tests {
    use super::*;
    use opentelemetry::trace::{SpanContext, TraceFlags, TraceState};
    use opentelemetry::{InstrumentationScope, KeyValue};
    use opentelemetry_sdk::trace::{SpanEvents, SpanLinks};
    use std::sync::{Arc, Mutex};

    fn span(id: u64, parent: u64, name: &str, start_ms: u64, end_ms: u64) -> SpanData {
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        SpanData {
            span_context: SpanContext::new(
                TraceId::from(7u128),
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
    fn prints_when_the_root_ends_and_flushes_orphans() {
        let printed = Arc::new(Mutex::new(Vec::<String>::new()));
        let sink_out = printed.clone();
        let mut sink = ConsoleSpanSink::with_output(Box::new(move |s: &str| {
            if let Ok(mut p) = sink_out.lock() {
                p.push(s.to_owned());
            }
        }));
        sink.accept(span(2, 1, "child", 1, 2));
        assert!(printed.lock().map(|p| p.is_empty()).unwrap_or(false));
        sink.accept(span(1, 0, "root", 0, 3));
        assert_eq!(printed.lock().map(|p| p.len()).unwrap_or(0), 1);
        let mut orphan = span(5, 4, "orphan", 0, 1);
        orphan.span_context = SpanContext::new(
            TraceId::from(8u128),
            SpanId::from(5u64),
            TraceFlags::SAMPLED,
            false,
            TraceState::default(),
        );
        sink.accept(orphan);
        BatchSink::flush(&mut sink);
        let p = printed.lock().map(|p| p.clone()).unwrap_or_default();
        assert_eq!(p.len(), 2);
        assert!(p[1].contains("incomplete"));
    }

    #[test]
    fn a_service_calling_itself_prints_one_trace() {
        let printed = Arc::new(Mutex::new(Vec::<String>::new()));
        let sink_out = printed.clone();
        let mut sink = ConsoleSpanSink::with_output(Box::new(move |s: &str| {
            if let Ok(mut p) = sink_out.lock() {
                p.push(s.to_owned());
            }
        }));
        // The callee's server span (remote parent: the client span 2) ends first.
        let mut callee = span(3, 2, "POST /payments", 5, 10);
        callee.parent_span_is_remote = true;
        sink.accept(callee);
        sink.print_ready();
        assert!(
            printed.lock().map(|p| p.is_empty()).unwrap_or(false),
            "waits for the caller"
        );
        sink.accept(span(2, 1, "POST", 4, 11));
        sink.accept(span(1, 0, "GET /checkout", 0, 12));
        let p = printed.lock().map(|p| p.clone()).unwrap_or_default();
        assert_eq!(p.len(), 1);
        assert!(p[0].contains("3 spans"), "{}", p[0]);
        assert!(
            p[0].contains("      POST /payments"),
            "nested under the client span: {}",
            p[0]
        );
    }
}
