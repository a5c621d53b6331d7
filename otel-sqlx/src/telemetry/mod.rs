//! Spans and metrics: the query span, the connection-wait span, the pool
//! instruments, and how errors are described.

pub(crate) mod acquire;
pub(crate) mod failure;
pub(crate) mod keys;
pub(crate) mod operation;
pub(crate) mod signals;
