//! `host.*` and `os.*` attributes.

use super::system::System;
use opentelemetry::KeyValue;
use opentelemetry_semantic_conventions::resource as rc;

pub(crate) fn detect_host(system: &dyn System, out: &mut Vec<KeyValue>) {
    let name = system
        .read("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .or_else(|| system.env("HOSTNAME"));
    if let Some(name) = name {
        out.push(KeyValue::new(rc::HOST_NAME, name));
    }
    out.push(KeyValue::new(
        rc::HOST_ARCH,
        host_arch(std::env::consts::ARCH),
    ));
}

pub(crate) fn detect_os(system: &dyn System, out: &mut Vec<KeyValue>) {
    out.push(KeyValue::new(rc::OS_TYPE, os_type(std::env::consts::OS)));
    if let Some(description) = system
        .read("/etc/os-release")
        .or_else(|| system.read("/usr/lib/os-release"))
        .and_then(|text| pretty_name(&text))
    {
        out.push(KeyValue::new(rc::OS_DESCRIPTION, description));
    }
    if let Some(release) = system
        .read("/proc/sys/kernel/osrelease")
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
    {
        out.push(KeyValue::new(rc::OS_VERSION, release));
    }
}

/// The semantic conventions' `host.arch` values for Rust's target names.
pub(crate) fn host_arch(rust_arch: &str) -> &str {
    match rust_arch {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "arm" => "arm32",
        "x86" => "x86",
        "powerpc" => "ppc32",
        "powerpc64" => "ppc64",
        "s390x" => "s390x",
        other => other,
    }
}

/// The semantic conventions' `os.type` values for Rust's OS names.
pub(crate) fn os_type(rust_os: &str) -> &str {
    match rust_os {
        "macos" => "darwin",
        "dragonfly" => "dragonflybsd",
        "illumos" | "solaris" => "solaris",
        "aix" => "aix",
        other => other,
    }
}

/// `PRETTY_NAME` from an os-release file, unquoted.
fn pretty_name(os_release: &str) -> Option<String> {
    os_release.lines().find_map(|line| {
        let value = line.trim().strip_prefix("PRETTY_NAME=")?;
        let value = value.trim_matches(|c| c == '"' || c == '\'').trim();
        (!value.is_empty()).then(|| value.to_owned())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arch_and_os_names() {
        assert_eq!(host_arch("x86_64"), "amd64");
        assert_eq!(host_arch("aarch64"), "arm64");
        assert_eq!(host_arch("arm"), "arm32");
        assert_eq!(host_arch("riscv64"), "riscv64");
        assert_eq!(os_type("linux"), "linux");
        assert_eq!(os_type("macos"), "darwin");
        assert_eq!(os_type("windows"), "windows");
        assert_eq!(os_type("dragonfly"), "dragonflybsd");
    }

    #[test]
    fn os_release_pretty_name() {
        let text = "NAME=\"Debian GNU/Linux\"\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\n";
        assert_eq!(
            pretty_name(text).as_deref(),
            Some("Debian GNU/Linux 12 (bookworm)")
        );
        assert_eq!(
            pretty_name("PRETTY_NAME=Alpine\n").as_deref(),
            Some("Alpine")
        );
        assert_eq!(pretty_name("PRETTY_NAME=\"\"\nNAME=x\n"), None);
        assert_eq!(pretty_name(""), None);
    }
}
