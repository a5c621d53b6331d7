//! The command line and the environment variables of the demo.

use std::time::Duration;

/// Printed for `--help` and after a bad argument.
pub const USAGE: &str = "\
usage: storefront [--fixed-pool]                 run the three services (the launcher)
       storefront --role <storefront|inventory|payment> [--fixed-pool]   run one service

  --fixed-pool   the inventory's database pool gets 20 connections instead of 2

environment:
  STOREFRONT_ADDR       storefront address (default 127.0.0.1:8080)
  INVENTORY_ADDR        inventory address (default 127.0.0.1:0: any free port)
  PAYMENT_ADDR          payment address (default 127.0.0.1:0)
  INVENTORY_URL         where the storefront finds the inventory (set by the launcher)
  PAYMENT_URL           where the storefront finds the payment service (set by the launcher)
  DATABASE_URL          postgres://... for PostgreSQL; SQLite in a temporary file when unset
  STOREFRONT_POOL_SIZE  connections in the inventory's pool (default 2, or 20 with --fixed-pool)
  STOREFRONT_HOLD_MS    how long each stock query holds its connection (default 60)
  OTEL_*                the standard OpenTelemetry variables; without OTEL_EXPORTER_OTLP_ENDPOINT
                        each service prints its traces as waterfalls on stderr";

/// The pool size of the small (starving) pool.
pub const SMALL_POOL: u32 = 2;
/// The pool size `--fixed-pool` gives.
pub const FIXED_POOL: u32 = 20;

/// One of the three services.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Takes checkouts, asks the inventory, charges through the payment service.
    Storefront,
    /// Answers stock levels from the database.
    Inventory,
    /// Charges cards (a simulated gateway).
    Payment,
}

impl Role {
    /// Parses a `--role` value.
    pub fn parse(value: &str) -> Option<Role> {
        match value {
            "storefront" => Some(Role::Storefront),
            "inventory" => Some(Role::Inventory),
            "payment" => Some(Role::Payment),
            _ => None,
        }
    }

    /// The variable holding this role's listening address, and its default.
    pub fn addr_variable(self) -> (&'static str, &'static str) {
        match self {
            Role::Storefront => ("STOREFRONT_ADDR", "127.0.0.1:8080"),
            Role::Inventory => ("INVENTORY_ADDR", "127.0.0.1:0"),
            Role::Payment => ("PAYMENT_ADDR", "127.0.0.1:0"),
        }
    }

    /// The address this role listens on.
    pub fn listen_addr(self) -> String {
        let (variable, default) = self.addr_variable();
        env_or(variable, default)
    }
}

/// What the binary was asked to do.
#[derive(Debug, PartialEq, Eq)]
pub enum Command {
    /// Print the usage.
    Help,
    /// Run the three services as children.
    Launch {
        /// Give the inventory the large pool.
        fixed_pool: bool,
    },
    /// Run one service.
    Role {
        /// Which one.
        role: Role,
        /// Started by the launcher: announce the address, stop when stdin closes.
        supervised: bool,
        /// Give the inventory the large pool.
        fixed_pool: bool,
    },
}

impl Command {
    /// Parses the arguments (without the program name).
    pub fn from_args(args: impl IntoIterator<Item = String>) -> Result<Command, String> {
        let mut role = None;
        let mut supervised = false;
        let mut fixed_pool = false;
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "-h" | "--help" => return Ok(Command::Help),
                "--fixed-pool" => fixed_pool = true,
                "--supervised" => supervised = true,
                "--role" => {
                    let value = args.next().ok_or("--role needs a value")?;
                    role = Some(Role::parse(&value).ok_or_else(|| {
                        format!("unknown role {value:?}: expected storefront, inventory or payment")
                    })?);
                }
                other => return Err(format!("unknown argument {other:?}")),
            }
        }
        Ok(match role {
            Some(role) => Command::Role {
                role,
                supervised,
                fixed_pool,
            },
            None => Command::Launch { fixed_pool },
        })
    }
}

/// The inventory's database settings.
#[derive(Debug, Clone)]
pub struct DatabaseSettings {
    /// `DATABASE_URL`, when set and not empty.
    pub url: Option<String>,
    /// Connections in the pool.
    pub pool_size: u32,
    /// How long each stock query holds its connection.
    pub hold: Duration,
}

impl DatabaseSettings {
    /// From the environment; `fixed_pool` wins over `STOREFRONT_POOL_SIZE`.
    pub fn from_env(fixed_pool: bool) -> Result<DatabaseSettings, String> {
        let pool_size = if fixed_pool {
            FIXED_POOL
        } else {
            parse_env("STOREFRONT_POOL_SIZE", SMALL_POOL, |n| n >= 1)?
        };
        let hold_ms = parse_env("STOREFRONT_HOLD_MS", 60u64, |_| true)?;
        Ok(DatabaseSettings {
            url: std::env::var("DATABASE_URL").ok().filter(|u| !u.is_empty()),
            pool_size,
            hold: Duration::from_millis(hold_ms),
        })
    }
}

/// A variable's value, or `default` when unset or empty.
pub fn env_or(variable: &str, default: &str) -> String {
    std::env::var(variable)
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| default.to_owned())
}

/// Parses a numeric variable; unset or empty gives `default`.
fn parse_env<T: std::str::FromStr + Copy>(
    variable: &str,
    default: T,
    valid: impl Fn(T) -> bool,
) -> Result<T, String> {
    match std::env::var(variable) {
        Ok(v) if !v.trim().is_empty() => v
            .trim()
            .parse()
            .ok()
            .filter(|n| valid(*n))
            .ok_or_else(|| format!("invalid {variable}={v:?}")),
        _ => Ok(default),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Command, String> {
        Command::from_args(args.iter().map(|s| s.to_string()))
    }

    #[test]
    fn no_role_launches() {
        assert_eq!(parse(&[]), Ok(Command::Launch { fixed_pool: false }));
        assert_eq!(
            parse(&["--fixed-pool"]),
            Ok(Command::Launch { fixed_pool: true })
        );
    }

    #[test]
    fn roles_parse() {
        assert_eq!(
            parse(&["--role", "inventory", "--supervised"]),
            Ok(Command::Role {
                role: Role::Inventory,
                supervised: true,
                fixed_pool: false
            })
        );
        assert!(parse(&["--role", "warehouse"]).is_err());
        assert!(parse(&["--role"]).is_err());
        assert!(parse(&["--pool"]).is_err());
    }
}
