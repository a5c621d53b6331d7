//! The SDK's own diagnostics, written straight to stderr (never through
//! `tracing`, so an export problem can never feed itself back into the pipeline).
//! `OTEL_LOG_LEVEL` sets the verbosity.

use crate::config::DiagLevel;
use std::sync::atomic::{AtomicU8, Ordering};

static LEVEL: AtomicU8 = AtomicU8::new(DiagLevel::Info as u8);

pub(crate) fn set_level(level: DiagLevel) {
    LEVEL.store(level as u8, Ordering::Relaxed);
}

fn enabled(level: DiagLevel) -> bool {
    level as u8 <= LEVEL.load(Ordering::Relaxed) && level != DiagLevel::Off
}

pub(crate) fn warn(msg: impl std::fmt::Display) {
    emit(DiagLevel::Warn, "warning", msg);
}

pub(crate) fn info(msg: impl std::fmt::Display) {
    emit(DiagLevel::Info, "info", msg);
}

pub(crate) fn debug(msg: impl std::fmt::Display) {
    emit(DiagLevel::Debug, "debug", msg);
}

fn emit(level: DiagLevel, label: &str, msg: impl std::fmt::Display) {
    if enabled(level) {
        eprintln!("otel-init {label}: {msg}");
    }
}
