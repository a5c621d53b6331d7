//! What the detectors read: environment variables and small files, behind a
//! trait so that tests can hand them fixtures instead of this machine's.

use std::io::Read;
use std::path::{Path, PathBuf};

/// Files larger than this are read only up to it: a detector never holds
/// more than this much of one file (mountinfo on a busy host is the largest).
const MAX_FILE_BYTES: u64 = 1 << 20;

pub(crate) trait System {
    /// An environment variable, trimmed; `None` when unset or empty.
    fn env(&self, name: &str) -> Option<String>;
    /// A file's text (at most [`MAX_FILE_BYTES`]); `None` when unreadable.
    fn read(&self, path: &str) -> Option<String>;
}

/// This process's environment and file system.
pub(crate) struct ThisMachine;

impl System for ThisMachine {
    fn env(&self, name: &str) -> Option<String> {
        std::env::var(name)
            .ok()
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    }

    fn read(&self, path: &str) -> Option<String> {
        read_bounded(Path::new(path))
    }
}

fn read_bounded(path: &Path) -> Option<String> {
    let file = std::fs::File::open(path).ok()?;
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES).read_to_end(&mut bytes).ok()?;
    Some(String::from_utf8_lossy(&bytes).into_owned())
}

/// A directory standing in for `/`, and a fixed environment (tests).
#[cfg_attr(not(test), allow(dead_code))]
pub(crate) struct Fixture {
    pub(crate) root: PathBuf,
    pub(crate) env: Vec<(&'static str, &'static str)>,
}

impl System for Fixture {
    fn env(&self, name: &str) -> Option<String> {
        self.env
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    }

    fn read(&self, path: &str) -> Option<String> {
        read_bounded(&self.root.join(path.trim_start_matches('/')))
    }
}
