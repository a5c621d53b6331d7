//! The storefront demo: three services whose traces solve the 20-second
//! mystery of `docs/demo.md`.
//!
//! ```text
//! cargo run -p storefront                 # all three services; the storefront on 127.0.0.1:8080
//! cargo run -p storefront -- --fixed-pool # the same with a pool of 20 connections instead of 2
//! cargo run -p storefront --bin storefront-load -- load   # in another terminal
//! ```
//!
//! Without a command-line role the binary is a launcher: it runs itself three
//! times, as `--role inventory`, `--role payment` and `--role storefront`,
//! each child with its own `OTEL_SERVICE_NAME` (one process holds one global
//! tracer provider, and a service name is a property of the provider's
//! resource, so three services means three processes, as in production). The
//! launcher forwards the children's log lines to its standard output, so one
//! stream holds the JSON logs of all three, and stops them when it is
//! interrupted.
//!
//! Environment: `STOREFRONT_ADDR` (default `127.0.0.1:8080`),
//! `INVENTORY_ADDR` and `PAYMENT_ADDR` (default `127.0.0.1:0`, any free
//! port), `DATABASE_URL` (a `postgres://` URL; SQLite in a temporary file
//! otherwise), `STOREFRONT_POOL_SIZE` (default 2; `--fixed-pool` makes it
//! 20), `STOREFRONT_HOLD_MS` (how long each stock query holds its
//! connection, default 60), and the standard `OTEL_*` variables: with no
//! `OTEL_EXPORTER_OTLP_ENDPOINT` every service prints its part of each trace
//! as a waterfall on standard error.

mod config;
mod database;
mod inventory;
mod launcher;
mod payment;
mod roles;
mod sampling;
mod shop;
mod shutdown;
mod telemetry;

use config::{Command, Role};
use std::process::ExitCode;

fn main() -> ExitCode {
    let command = match Command::from_args(std::env::args().skip(1)) {
        Ok(command) => command,
        Err(message) => {
            eprintln!("storefront: {message}\n\n{}", config::USAGE);
            return ExitCode::from(2);
        }
    };
    let runtime = match storefront::start_runtime("storefront") {
        Ok(runtime) => runtime,
        Err(code) => return code,
    };
    let result = match command {
        Command::Help => {
            println!("{}", config::USAGE);
            Ok(())
        }
        Command::Launch { fixed_pool } => runtime.block_on(launcher::run(fixed_pool)),
        Command::Role {
            role,
            supervised,
            fixed_pool,
        } => runtime.block_on(roles::run(role, supervised, fixed_pool)),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("storefront: {e}");
            ExitCode::FAILURE
        }
    }
}

/// What a service or the launcher reports when it cannot go on.
type BoxError = Box<dyn std::error::Error + Send + Sync>;

impl Role {
    /// The `service.name` of this role.
    fn service_name(self) -> &'static str {
        match self {
            Role::Storefront => "storefront",
            Role::Inventory => "inventory",
            Role::Payment => "payment",
        }
    }
}
