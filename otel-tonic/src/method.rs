//! The RPC method of a request path: `/package.Service/Method` gives
//! `rpc.method = package.Service/Method`; anything else is not a gRPC method
//! this crate recognises (`_OTHER`, the original kept in `rpc.method_original`).
//!
//! Each layer keeps the methods it has seen in a bounded table ([`Methods`]),
//! so that a call finds its method's shared name, the bound series of its
//! successful calls and (on a client) its target without allocating or
//! hashing an attribute set.

use crate::metrics::{CallMetrics, OkSeries};
use opentelemetry::StringValue;
use otel_http::series::SeriesCache;
use std::borrow::Cow;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock, OnceLock};

/// The longest method name recognised (longer paths are `_OTHER`).
const MAX_LEN: usize = 256;

/// How many methods a layer remembers; past that, a call's method is made
/// for the call (as before the table: an allocation and a hashed series).
const MAX_METHODS: usize = 256;

/// How many of them a server's layer keeps from their first call, before
/// any call of them has succeeded. The rest of the table takes methods once
/// a call of theirs succeeds (see [`Method::succeeded`]): a server's callers
/// can send any path, and paths sent only to be refused fill no more than
/// this. A client's paths are its own code's: its table takes any method at
/// its first call.
const MAX_UNPROVEN: usize = MAX_METHODS / 2;

/// How many span names the process keeps as `&'static str` (see
/// [`static_name`]): at most this many names of at most [`MAX_LEN`] bytes,
/// 64 KiB, are ever leaked.
const MAX_STATIC_NAMES: usize = 256;

/// The span name of a method as a `&'static str`, which the SDK takes
/// without a copy (its span names are `Cow<'static, str>`): made once per
/// method name for the whole process, like the `&'static str` paths of
/// tonic's generated code, and never freed; `None` once
/// [`MAX_STATIC_NAMES`] names are kept (the name is then copied per span).
fn static_name(full: &str) -> Option<&'static str> {
    static NAMES: LazyLock<SeriesCache<Box<str>, &'static str>> =
        LazyLock::new(|| SeriesCache::new(MAX_STATIC_NAMES));
    NAMES.with_borrowed(
        full,
        || {
            let name: &'static str = Box::leak(Box::from(full));
            Some((full.into(), name))
        },
        |name| *name,
    )
}

/// What the calls of one method share.
#[derive(Debug)]
pub(crate) struct Known {
    full: Arc<str>,
    /// The span name as a `&'static str`, made at the method's first
    /// success (so that paths sent only to be refused take no place in the
    /// process's names); `None` inside when the process keeps no more.
    span_name: OnceLock<Option<&'static str>>,
    /// The bound series of its successful calls; `None` for a method made
    /// for one call (the table was full), which would bind it in vain.
    ok: Option<OkSeries>,
    /// The first target a client called it on: later calls to the same
    /// target refer to it (see [`CallTarget`]) instead of sharing a copy.
    target: OnceLock<Target>,
    /// The layer's duration histogram, for a method of the layer's table:
    /// a call then holds one reference count (the method's), not two. Each
    /// is a write to memory that the workers of a multi-threaded runtime
    /// share, made twice per call.
    metrics: Option<CallMetrics>,
    /// The layer's own target (`OtelClientLayerBuilder::target`), for the
    /// calls whose request names none: referred to, not copied.
    layer_target: Option<Target>,
    /// For a method made for one call that the layer's table did not take
    /// (see [`MAX_UNPROVEN`]): the table, which takes it when the call
    /// succeeds.
    admit: Option<Admit>,
}

/// A layer's table and what its methods hold of the layer's.
#[derive(Debug, Clone)]
struct Admit {
    table: Arc<Table>,
    layer: Option<Arc<LayerShared>>,
}

type Table = SeriesCache<Box<str>, Arc<Known>>;

/// The target a client calls, for `server.address` / `server.port`.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    pub address: StringValue,
    pub port: Option<u16>,
}

/// The target of a client call: the one its method keeps ([`Known`]'s), or
/// one of its own.
#[derive(Debug)]
pub(crate) enum CallTarget {
    /// No target (a server's call, or a client's without one).
    None,
    /// The target its method keeps.
    Kept,
    /// The layer's target, which its method holds.
    Layer,
    /// Another target.
    Own(Target),
}

/// `rpc.method` of a call: the full method, or `None` for `_OTHER`.
#[derive(Debug, Clone)]
pub(crate) struct Method(Option<Arc<Known>>);

impl PartialEq for Method {
    fn eq(&self, other: &Self) -> bool {
        self.full() == other.full()
    }
}

impl Method {
    /// The method of a path made for one call, and the original path when it
    /// is not a gRPC method.
    #[cfg(test)]
    pub(crate) fn of_path(path: &str) -> (Method, Option<&str>) {
        match parse(path) {
            Some(full) => (Method(Some(Arc::new(Known::new(full, None, None)))), None),
            None => (Method(None), Some(path)),
        }
    }

    /// A method made for one call, which `admit`'s table takes when the call
    /// succeeds.
    fn for_one_call(full: &str, admit: Admit) -> Method {
        let mut known = Known::new(full, None, None);
        known.admit = Some(admit);
        Method(Some(Arc::new(known)))
    }

    /// A method the instrumentation does not recognise.
    pub(crate) fn other() -> Method {
        Method(None)
    }

    /// The value of `rpc.method`.
    pub(crate) fn as_str(&self) -> &str {
        self.full().map_or("_OTHER", |m| m)
    }

    /// The full method, if recognised.
    pub(crate) fn full(&self) -> Option<&Arc<str>> {
        self.0.as_ref().map(|known| &known.full)
    }

    /// The bound series of the method's successful calls, when the layer
    /// keeps one for it.
    pub(crate) fn ok_series(&self) -> Option<&OkSeries> {
        self.0.as_ref().and_then(|known| known.ok.as_ref())
    }

    /// A call of the method succeeded: a method kept by the layer's table
    /// names its later spans with a `&'static str` from now on; one the
    /// table did not take yet enters it, served, if there is room.
    pub(crate) fn succeeded(&self) {
        let Some(known) = self.0.as_ref() else {
            return;
        };
        if known.ok.is_some() {
            known.span_name.get_or_init(|| static_name(&known.full));
        } else if let Some(admit) = &known.admit {
            keep_served(&admit.table, &known.full, admit.layer.as_deref());
        }
    }

    /// Whether the method is in the layer's table (see [`Methods`] and
    /// [`MAX_UNPROVEN`]); a method made for one call is not.
    pub(crate) fn listed(&self) -> bool {
        self.ok_series().is_some()
    }

    /// Whether a call of this method has succeeded through this layer, so
    /// that the server it reached serves it: a server gives `rpc.method` at
    /// the span's start for such a method, where the sampler sees it (its
    /// status cannot make it unrecognised).
    pub(crate) fn served(&self) -> bool {
        self.0
            .as_ref()
            .is_some_and(|known| known.span_name.get().is_some())
    }

    /// The call's target: the method's own when it is the same (`host` and
    /// `port`), else a new one (the first becomes the method's).
    pub(crate) fn target(&self, host: &str, port: Option<u16>) -> CallTarget {
        let make = || Target {
            address: Arc::<str>::from(host).into(),
            port,
        };
        let Some(known) = self.0.as_ref().filter(|known| known.ok.is_some()) else {
            return CallTarget::Own(make());
        };
        // The first target kept; another thread's, if it came first.
        let kept = known.target.get_or_init(make);
        if kept.address.as_str() == host && kept.port == port {
            CallTarget::Kept
        } else {
            CallTarget::Own(make())
        }
    }

    /// The target of a call whose request names none: the layer's, held
    /// by the method when it is in the layer's table.
    pub(crate) fn layer_target(&self, layer: &Target) -> CallTarget {
        match self.0.as_ref().filter(|known| known.layer_target.is_some()) {
            Some(_) => CallTarget::Layer,
            None => CallTarget::Own(layer.clone()),
        }
    }

    /// The target of a call of this method.
    pub(crate) fn resolve<'a>(&'a self, target: &'a CallTarget) -> Option<&'a Target> {
        match target {
            CallTarget::None => None,
            CallTarget::Kept => self.0.as_ref().and_then(|known| known.target.get()),
            CallTarget::Layer => self
                .0
                .as_ref()
                .and_then(|known| known.layer_target.as_ref()),
            CallTarget::Own(t) => Some(t),
        }
    }

    /// The layer's duration histogram, when the method is in its table.
    pub(crate) fn metrics(&self) -> Option<&CallMetrics> {
        self.0.as_ref().and_then(|known| known.metrics.as_ref())
    }

    /// The span name: the full method, or `grpc` (`rpc.system.name`) when
    /// the method is `_OTHER`; borrowed once the method has succeeded.
    pub(crate) fn span_name(&self) -> Cow<'static, str> {
        match &self.0 {
            Some(known) => match known.span_name.get().copied().flatten() {
                Some(name) => Cow::Borrowed(name),
                None => Cow::Owned(String::from(&*known.full)),
            },
            None => Cow::Borrowed("grpc"),
        }
    }
}

impl Known {
    /// A method of a layer's table, with the bound series of its
    /// successful calls.
    fn kept(full: &str, layer: Option<&LayerShared>) -> Arc<Known> {
        Arc::new(Known::new(full, Some(OkSeries::default()), layer))
    }

    fn new(full: &str, ok: Option<OkSeries>, layer: Option<&LayerShared>) -> Self {
        Self {
            full: Arc::from(full),
            span_name: OnceLock::new(),
            ok,
            target: OnceLock::new(),
            metrics: layer.map(|l| l.metrics.clone()),
            layer_target: layer.and_then(|l| l.target.clone()),
            admit: None,
        }
    }
}

/// The methods a layer has seen, by full name.
#[derive(Debug)]
pub(crate) struct Methods {
    table: Arc<Table>,
    /// How many methods the table took from their first call, and how many
    /// it takes so ([`MAX_UNPROVEN`]).
    unproven: AtomicUsize,
    max_unproven: usize,
    /// What each method kept holds of the layer's.
    layer: Option<Arc<LayerShared>>,
}

/// The layer's duration histogram and target, held by each method of its
/// table.
#[derive(Debug)]
struct LayerShared {
    metrics: CallMetrics,
    target: Option<Target>,
}

impl Default for Methods {
    fn default() -> Self {
        Self::with_capacity(MAX_METHODS, MAX_UNPROVEN)
    }
}

impl Methods {
    /// A table of `capacity` methods, `unproven` of them taken from their
    /// first call.
    fn with_capacity(capacity: usize, unproven: usize) -> Self {
        Self {
            table: Arc::new(SeriesCache::new(capacity)),
            unproven: AtomicUsize::new(0),
            max_unproven: unproven,
            layer: None,
        }
    }

    /// A server layer's table, whose methods carry its duration histogram.
    pub(crate) fn server(metrics: CallMetrics) -> Self {
        Self {
            layer: Some(Arc::new(LayerShared {
                metrics,
                target: None,
            })),
            ..Self::default()
        }
    }

    /// A client layer's table, whose methods carry its duration histogram
    /// and target; it takes any method at its first call.
    pub(crate) fn client(metrics: CallMetrics, target: Option<Target>) -> Self {
        Self {
            layer: Some(Arc::new(LayerShared { metrics, target })),
            ..Self::with_capacity(MAX_METHODS, MAX_METHODS)
        }
    }

    /// Takes no method at its first call any more: from now on a method
    /// enters the table once a call of it succeeds (a server given the
    /// methods it serves, [`serve`](Self::serve)).
    pub(crate) fn only_proven(&mut self) {
        self.max_unproven = 0;
    }

    /// The method of a request path, and the original path when it is not a
    /// gRPC method. A method seen before is found without allocating.
    pub(crate) fn of_path<'p>(&self, path: &'p str) -> (Method, Option<&'p str>) {
        // Too long to be a method: not worth hashing.
        let Some(name) = path.strip_prefix('/').filter(|n| n.len() <= MAX_LEN) else {
            return (Method(None), Some(path));
        };
        // Whether the path was parsed here and found not to be a method, and
        // the method this thread made for the table.
        let mut refused = false;
        let mut made = None;
        let found = self.table.with_borrowed(
            name,
            || {
                let Some(full) = parse(path) else {
                    refused = true;
                    return None;
                };
                // Threads taking the last places at once may take a few more.
                if self.unproven.load(Ordering::Relaxed) >= self.max_unproven {
                    return None;
                }
                let known = Known::kept(full, self.layer.as_deref());
                made = Some(Arc::as_ptr(&known));
                Some((full.into(), known))
            },
            Arc::clone,
        );
        match found {
            Some(known) => {
                // Counted once taken: another thread's, made at the same
                // moment, may have been taken instead.
                if made == Some(Arc::as_ptr(&known)) {
                    self.unproven.fetch_add(1, Ordering::Relaxed);
                }
                (Method(Some(known)), None)
            }
            None if refused => (Method(None), Some(path)),
            // Not taken (the table is full, or holds as many methods not yet
            // proven as it keeps): made for this call, taken if it succeeds.
            None => {
                let admit = Admit {
                    table: Arc::clone(&self.table),
                    layer: self.layer.clone(),
                };
                match parse(path) {
                    Some(full) => (Method::for_one_call(full, admit), None),
                    None => (Method(None), Some(path)),
                }
            }
        }
    }

    /// Keeps `full` (`package.Service/Method`) as a method the server
    /// serves, named from its first call; ignored when it is not a method
    /// or the table is full.
    pub(crate) fn serve(&self, full: &str) {
        let path = format!("/{}", full.trim_start_matches('/'));
        if let Some(full) = parse(&path) {
            keep_served(&self.table, full, self.layer.as_deref());
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.table.len()
    }
}

/// Keeps `full` in `table` as a method known to be served (whose spans are
/// named with a `&'static str`), unless the table is full.
fn keep_served(table: &Table, full: &str, layer: Option<&LayerShared>) {
    table.with_borrowed(
        full,
        || Some((full.into(), Known::kept(full, layer))),
        |known| {
            known.span_name.get_or_init(|| static_name(&known.full));
        },
    );
}

/// `package.Service/Method` from `/package.Service/Method`: exactly two
/// non-empty segments of visible ASCII, at most [`MAX_LEN`] bytes.
/// One pass over the bytes (it runs on every call the table has not seen).
fn parse(path: &str) -> Option<&str> {
    let full = path.strip_prefix('/')?;
    let bytes = full.as_bytes();
    if bytes.len() > MAX_LEN {
        return None;
    }
    let mut slash = None;
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'/' {
            if slash.is_some() {
                return None;
            }
            slash = Some(i);
        } else if !b.is_ascii_graphic() {
            return None;
        }
    }
    let slash = slash?;
    (slash > 0 && slash + 1 < bytes.len()).then_some(full)
}

#[cfg(test)]
mod tests;
