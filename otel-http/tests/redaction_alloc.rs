//! Redaction costs no allocation when a query or URL has nothing to redact
//! (the common case on the request path), and redacting allocates once.
//! Counted with a global allocator that counts this thread's allocations.

use otel_http::redact::QueryRedaction;
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: forwards to the system allocator; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.with(|n| n.set(n.get() + 1));
        // SAFETY: the caller's contract is passed on unchanged.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller's contract is passed on unchanged.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static COUNTING: Counting = Counting;

fn allocations(f: impl FnOnce()) -> usize {
    let before = ALLOCATIONS.with(Cell::get);
    f();
    ALLOCATIONS.with(Cell::get) - before
}

#[test]
fn nothing_to_redact_allocates_nothing() {
    let default = QueryRedaction::new();
    let extra = QueryRedaction::new().with_keys(["otp", "card_number"]);
    for query in [
        "page=2&q=shoes&sort=price",
        "id=%41%42;flag;&&tokens=x&my_token=y",
        "sig&token=REDACTED",
    ] {
        let n = allocations(|| {
            std::hint::black_box(default.redact_query(std::hint::black_box(query)));
            std::hint::black_box(extra.redact_query(std::hint::black_box(query)));
        });
        assert_eq!(n, 0, "{query}");
    }
    let n = allocations(|| {
        std::hint::black_box(default.redact_url(std::hint::black_box(
            "https://api.example.com/v1/items?page=2&q=shoes#top",
        )));
    });
    assert_eq!(n, 0);
}

#[test]
fn redacting_allocates_once() {
    let default = QueryRedaction::new();
    let n = allocations(|| {
        std::hint::black_box(default.redact_query(std::hint::black_box(
            "page=2&Token=t&s%69g=x;password=p&q=shoes",
        )));
    });
    assert_eq!(n, 1);
    let n = allocations(|| {
        std::hint::black_box(default.redact_url(std::hint::black_box(
            "https://user:pw@api.example.com/v1?page=2&api_key=k#top",
        )));
    });
    assert_eq!(n, 2, "the query, then the URL");
}
