//! `container.id`, as the OpenTelemetry SDKs of other languages find it:
//! from the cgroup path (cgroup v1) or, where the cgroup namespace hides it
//! (cgroup v2), from the container runtime's bind mounts in mountinfo.

use super::system::System;

/// The container id of this process, if it runs in a container.
pub(crate) fn container_id(system: &dyn System) -> Option<String> {
    system
        .read("/proc/self/cgroup")
        .and_then(|text| from_cgroup(&text))
        .or_else(|| {
            system
                .read("/proc/self/mountinfo")
                .and_then(|text| from_mountinfo(&text))
        })
}

/// cgroup v1 (and v2 without a cgroup namespace): the last path segment of a
/// line, e.g. `/docker/<id>`, `/kubepods/burstable/pod…/<id>`,
/// `/system.slice/docker-<id>.scope`, `…/cri-containerd-<id>.scope`,
/// `…/crio-<id>.scope`, `…/libpod-<id>.scope`.
pub(crate) fn from_cgroup(text: &str) -> Option<String> {
    text.lines().find_map(|line| {
        // hierarchy-ID:controller-list:cgroup-path; the path may hold ':'.
        let path = line.splitn(3, ':').nth(2)?;
        let last = path.rsplit('/').next()?;
        let last = last.strip_suffix(".scope").unwrap_or(last);
        let id = last.rsplit(['-', ':']).next()?;
        is_container_id(id).then(|| id.to_owned())
    })
}

/// cgroup v2 with a cgroup namespace (`0::/`): the runtime bind-mounts the
/// container's `hostname`, `hosts` and `resolv.conf` from a directory named
/// by its id, e.g. `/var/lib/docker/containers/<id>/hostname`,
/// `/var/lib/containerd/…/sandboxes/<id>/hostname`,
/// `/var/lib/containers/storage/overlay-containers/<id>/userdata/hostname`.
pub(crate) fn from_mountinfo(text: &str) -> Option<String> {
    text.lines().find_map(|line| {
        // mount-ID parent-ID major:minor root mount-point ...
        let root = line.split_whitespace().nth(3)?;
        let mut segments = root.rsplit('/');
        let file = segments.next()?;
        if !matches!(file, "hostname" | "hosts" | "resolv.conf") {
            return None;
        }
        // The nearest parent directory that is an id: `<id>/hostname` or
        // `<id>/userdata/hostname`.
        segments
            .take(2)
            .find(|s| is_container_id(s))
            .map(str::to_owned)
    })
}

/// Docker, containerd, CRI-O and Podman ids: 64 lowercase hex digits.
fn is_container_id(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "a3f1c0d2e4b5968778695a4b3c2d1e0f1a2b3c4d5e6f708192a3b4c5d6e7f809";

    #[test]
    fn cgroup_v1_runtimes() {
        for line in [
            format!("12:memory:/docker/{ID}"),
            format!(
                "11:cpu,cpuacct:/kubepods/burstable/pod5f1e2c3d-1111-2222-3333-444455556666/{ID}"
            ),
            format!("1:name=systemd:/system.slice/docker-{ID}.scope"),
            format!(
                "0::/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod1.slice/cri-containerd-{ID}.scope"
            ),
            format!("5:devices:/kubepods.slice/crio-{ID}.scope"),
            format!("0::/machine.slice/libpod-{ID}.scope"),
        ] {
            let text = format!("13:rdma:/\n{line}\n");
            assert_eq!(from_cgroup(&text).as_deref(), Some(ID), "{line}");
        }
    }

    #[test]
    fn cgroup_lines_without_an_id() {
        for text in [
            "0::/\n",
            "0::/user.slice/user-1000.slice/session-2.scope\n",
            "12:memory:/docker/not-an-id\n",
            "garbage\n",
            "",
        ] {
            assert_eq!(from_cgroup(text), None, "{text:?}");
        }
        // Uppercase or too short is not a runtime's id.
        assert_eq!(
            from_cgroup(&format!("1:cpu:/docker/{}", ID.to_uppercase())),
            None
        );
        assert_eq!(from_cgroup(&format!("1:cpu:/docker/{}", &ID[1..])), None);
    }

    #[test]
    fn mountinfo_runtimes() {
        for root in [
            format!("/var/lib/docker/containers/{ID}/hostname"),
            format!("/var/lib/docker/containers/{ID}/resolv.conf"),
            format!("/var/lib/containerd/io.containerd.grpc.v1.cri/sandboxes/{ID}/hostname"),
            format!("/var/lib/containers/storage/overlay-containers/{ID}/userdata/hosts"),
        ] {
            let text = format!(
                "600 599 0:123 / / rw,relatime - overlay overlay rw\n\
                 612 600 254:1 {root} /etc/hostname rw,relatime - ext4 /dev/vda1 rw\n"
            );
            assert_eq!(from_mountinfo(&text).as_deref(), Some(ID), "{root}");
        }
    }

    #[test]
    fn mountinfo_without_a_container() {
        let host = "22 1 254:1 / / rw,relatime shared:1 - ext4 /dev/vda1 rw\n\
                    23 22 0:21 / /proc rw - proc proc rw\n\
                    24 22 254:1 /etc/hostname /etc/hostname rw - ext4 /dev/vda1 rw\n";
        assert_eq!(from_mountinfo(host), None);
        // An id-looking directory that is not the parent of a runtime file.
        let other =
            format!("30 22 254:1 /srv/{ID}/data/files/hostname /x rw - ext4 /dev/vda1 rw\n");
        assert_eq!(from_mountinfo(&other), None);
        assert_eq!(from_mountinfo("short line\n"), None);
    }
}
