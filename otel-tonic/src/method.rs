//! The RPC method of a request path: `/package.Service/Method` gives
//! `rpc.method = package.Service/Method`; anything else is not a gRPC method
//! this crate recognises (`_OTHER`, the original kept in `rpc.method_original`).

use std::sync::Arc;

/// The longest method name recognised (longer paths are `_OTHER`).
const MAX_LEN: usize = 256;

/// `rpc.method` of a call: the full method, or `None` for `_OTHER`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Method(Option<Arc<str>>);

impl Method {
    /// The method of a request path.
    pub(crate) fn of_path(path: &str) -> (Method, Option<&str>) {
        match parse(path) {
            Some(full) => (Method(Some(Arc::from(full))), None),
            None => (Method(None), Some(path)),
        }
    }

    /// A method the instrumentation does not recognise.
    pub(crate) fn other() -> Method {
        Method(None)
    }

    /// The value of `rpc.method`.
    pub(crate) fn as_str(&self) -> &str {
        self.0.as_deref().unwrap_or("_OTHER")
    }

    /// The full method, if recognised.
    pub(crate) fn full(&self) -> Option<&Arc<str>> {
        self.0.as_ref()
    }

    /// The span name: the full method, or `grpc` (`rpc.system.name`) when
    /// the method is `_OTHER`.
    pub(crate) fn span_name(&self) -> String {
        match &self.0 {
            Some(m) => String::from(&**m),
            None => String::from("grpc"),
        }
    }
}

/// `package.Service/Method` from `/package.Service/Method`: exactly two
/// non-empty segments of visible ASCII, at most [`MAX_LEN`] bytes.
/// One pass over the bytes (it runs on every call).
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
mod tests {
    use super::*;

    #[test]
    fn methods() {
        let m = |p| Method::of_path(p).0.as_str().to_owned();
        assert_eq!(m("/shop.Payment/Charge"), "shop.Payment/Charge");
        assert_eq!(m("/Echo/Echo"), "Echo/Echo");
        for other in [
            "",
            "/",
            "/a",
            "/a/",
            "//b",
            "/a/b/c",
            "a/b",
            "/a b/c",
            "/a/b c",
            "/a/\u{e9}",
            "/a//",
        ] {
            assert_eq!(m(other), "_OTHER", "{other:?}");
        }
        assert_eq!(m(&format!("/a/{}", "b".repeat(300))), "_OTHER");
        assert_eq!(Method::of_path("/x").1, Some("/x"));
        assert_eq!(Method::other().span_name(), "grpc");
    }
}
