//! The method table's and the path parser's unit tests.

use super::*;

const OTHERS: [&str; 11] = [
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
];

#[test]
fn methods() {
    let m = |p| Method::of_path(p).0.as_str().to_owned();
    assert_eq!(m("/shop.Payment/Charge"), "shop.Payment/Charge");
    assert_eq!(m("/Echo/Echo"), "Echo/Echo");
    for other in OTHERS {
        assert_eq!(m(other), "_OTHER", "{other:?}");
    }
    assert_eq!(m(&format!("/a/{}", "b".repeat(300))), "_OTHER");
    assert_eq!(Method::of_path("/x").1, Some("/x"));
    assert_eq!(Method::other().span_name(), "grpc");
}

#[test]
fn the_table_recognises_what_a_path_alone_does_and_shares_it() {
    let table = Methods::default();
    for path in OTHERS.into_iter().map(str::to_owned).chain([
        format!("/a/{}", "b".repeat(300)),
        "/shop.Payment/Charge".into(),
    ]) {
        let (alone, original) = Method::of_path(&path);
        assert_eq!(table.of_path(&path), (alone, original), "{path:?}");
    }
    assert_eq!(table.len(), 1, "only methods are kept");
    let (first, _) = table.of_path("/shop.Payment/Charge");
    let (second, _) = table.of_path("/shop.Payment/Charge");
    let (Some(first), Some(second)) = (first.0, second.0) else {
        panic!("a method");
    };
    assert!(Arc::ptr_eq(&first, &second), "found, not made again");
    assert!(first.ok.is_some());
}

#[test]
fn unproven_methods_take_half_the_table_and_successes_the_rest() {
    let full = Methods::default();
    for i in 0..MAX_METHODS {
        full.of_path(&format!("/a.B/M{i}"));
    }
    assert_eq!(full.len(), MAX_UNPROVEN, "paths only sent fill half");
    // A smaller table, so as to keep few of the process's static names.
    let table = Methods::with_capacity(4, 2);
    for i in 0..4 {
        table.of_path(&format!("/a.B/M{i}"));
    }
    assert_eq!(table.len(), 2);
    let (method, original) = table.of_path("/a.B/New");
    assert_eq!((method.as_str(), original), ("a.B/New", None));
    assert!(!method.listed(), "made for its call");
    assert!(method.ok_series().is_none(), "no series bound in vain");
    assert!(!method.served());
    method.succeeded();
    assert_eq!(table.len(), 3);
    let (again, _) = table.of_path("/a.B/New");
    assert!(again.listed() && again.served(), "taken when it succeeded");
    assert!(matches!(again.span_name(), Cow::Borrowed("a.B/New")));
    // Successes fill the rest; past that, methods are made for their
    // calls, successful or not.
    table.of_path("/c.D/Proven").0.succeeded();
    assert_eq!(table.len(), 4);
    table.of_path("/a.B/Late").0.succeeded();
    let (late, _) = table.of_path("/a.B/Late");
    assert_eq!(late.as_str(), "a.B/Late");
    assert!(!late.listed());
    assert_eq!(table.len(), 4);
}

#[test]
fn a_clients_table_takes_its_methods_at_their_first_call() {
    let table = Methods::client(CallMetrics::client(&noop_meter()), None);
    for i in 0..MAX_METHODS {
        table.of_path(&format!("/a.B/M{i}"));
    }
    assert_eq!(table.len(), MAX_METHODS);
    let mut given = Methods::default();
    given.only_proven();
    given.serve("a.B/Served");
    assert!(given.of_path("/a.B/Served").0.served());
    assert!(
        !given.of_path("/a.B/Other").0.listed(),
        "not before a success"
    );
}

#[test]
fn kept_methods_name_their_spans_without_a_copy() {
    let table = Methods::default();
    let (kept, _) = table.of_path("/shop.Payment/Refund");
    assert!(
        matches!(kept.span_name(), Cow::Owned(_)),
        "until a call succeeds"
    );
    assert!(!kept.served());
    kept.succeeded();
    assert!(kept.served());
    let (again, _) = Methods::default().of_path("/shop.Payment/Refund");
    again.succeeded();
    let (Cow::Borrowed(first), Cow::Borrowed(second)) = (kept.span_name(), again.span_name())
    else {
        panic!("static names");
    };
    assert_eq!(first, "shop.Payment/Refund");
    assert_eq!(first.as_ptr(), second.as_ptr(), "one name for the process");
    let (alone, _) = Method::of_path("/shop.Payment/Refund");
    alone.succeeded();
    assert!(!alone.served(), "a method made for one call keeps nothing");
    assert!(matches!(alone.span_name(), Cow::Owned(n) if n == "shop.Payment/Refund"));
    assert!(matches!(Method::other().span_name(), Cow::Borrowed("grpc")));
}

#[test]
fn a_target_is_kept_while_it_is_the_same() {
    let table = Methods::default();
    let (method, _) = table.of_path("/a.B/C");
    let kept = |t: &CallTarget| matches!(t, CallTarget::Kept);
    assert!(kept(&method.target("payment.internal", Some(50051))));
    assert!(kept(&method.target("payment.internal", Some(50051))));
    let payment = method.resolve(&CallTarget::Kept).expect("kept");
    assert_eq!(
        (payment.address.as_str(), payment.port),
        ("payment.internal", Some(50051))
    );
    assert!(matches!(method.layer_target(payment), CallTarget::Own(_)));
    let own = |t: CallTarget| match t {
        CallTarget::Own(t) => (t.address.as_str().to_owned(), t.port),
        other => panic!("{other:?}"),
    };
    assert_eq!(
        own(method.target("payment.internal", Some(50052))),
        ("payment.internal".to_owned(), Some(50052))
    );
    assert_eq!(
        own(method.target("refund.internal", Some(50051))),
        ("refund.internal".to_owned(), Some(50051))
    );
    let (alone, _) = Method::of_path("/a.B/C");
    assert_eq!(own(alone.target("h", None)), ("h".to_owned(), None));
    let layer = Target {
        address: "payment.internal".into(),
        port: Some(50051),
    };
    assert_eq!(
        own(alone.layer_target(&layer)),
        ("payment.internal".to_owned(), Some(50051))
    );
    let table = Methods::client(CallMetrics::client(&noop_meter()), Some(layer));
    let (method, _) = table.of_path("/a.B/C");
    let target = method.layer_target(&Target {
        address: "ignored: the method holds the layer's".into(),
        port: None,
    });
    assert!(matches!(target, CallTarget::Layer));
    let held = method.resolve(&target).expect("the layer's");
    assert_eq!(
        (held.address.as_str(), held.port),
        ("payment.internal", Some(50051))
    );
    assert!(alone.resolve(&CallTarget::Kept).is_none());
    assert!(alone.resolve(&CallTarget::None).is_none());
}

fn noop_meter() -> opentelemetry::metrics::Meter {
    use opentelemetry::metrics::MeterProvider as _;
    opentelemetry::metrics::noop::NoopMeterProvider::new().meter("test")
}

#[test]
fn kept_methods_carry_the_layers_histogram() {
    let table = Methods::server(CallMetrics::server(&noop_meter()));
    assert!(table.of_path("/a.B/C").0.metrics().is_some());
    assert!(
        table.of_path("/a/b/c").0.metrics().is_none(),
        "not a method"
    );
    assert!(Methods::default().of_path("/a.B/C").0.metrics().is_none());
    assert!(
        Method::of_path("/a.B/C").0.metrics().is_none(),
        "made for one call"
    );
}
