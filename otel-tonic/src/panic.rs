//! A panicking handler on a server: what its span records and, when the
//! layer catches it, the `UNKNOWN` status the client gets (as gRPC answers
//! a handler that ends without a status). The panic's message stays in the
//! span, not in the response.

use crate::call::Call;
use crate::code::Code;
use http::{HeaderMap, HeaderValue};

/// The class of error (`error.type`) of a panicking handler's call.
const ERROR_TYPE: &str = "panic";

/// The `grpc-message` a caught panic is answered with.
const ANSWER: HeaderValue = HeaderValue::from_static("handler%20panicked");

/// The panic's message: a `&str` or `String` payload, else `"panic"`.
fn message(payload: &(dyn std::any::Any + Send)) -> &str {
    payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("panic")
}

/// Records the panic as the call's failure: `UNKNOWN`, `error.type` `panic`,
/// the span's status description `handler panicked: <message>`.
pub(crate) fn record(call: &mut Call, payload: &(dyn std::any::Any + Send)) {
    call.fail(
        Code::UNKNOWN,
        ERROR_TYPE,
        format!("handler panicked: {}", message(payload)),
    );
}

/// The `grpc-status` and `grpc-message` of a caught panic, for a
/// trailers-only response's headers or the trailers that end a response
/// stream.
pub(crate) fn status(headers: &mut HeaderMap) {
    headers.insert(
        "grpc-status",
        HeaderValue::from(u16::from(Code::UNKNOWN.number())),
    );
    headers.insert("grpc-message", ANSWER);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_of_str_and_string_payloads() {
        assert_eq!(message(&"broke"), "broke");
        assert_eq!(message(&String::from("broke too")), "broke too");
        assert_eq!(message(&7u8), "panic");
        let mut headers = HeaderMap::new();
        status(&mut headers);
        assert_eq!(headers["grpc-status"], "2");
        assert_eq!(headers["grpc-message"], "handler%20panicked");
    }
}
