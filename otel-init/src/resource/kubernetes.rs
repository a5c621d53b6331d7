//! Kubernetes pod, namespace and node, from the environment variables a
//! pod's downward API is usually mapped to:
//!
//! ```yaml
//! env:
//!   - name: K8S_POD_NAME
//!     valueFrom: { fieldRef: { fieldPath: metadata.name } }
//!   - name: K8S_POD_UID
//!     valueFrom: { fieldRef: { fieldPath: metadata.uid } }
//!   - name: K8S_NAMESPACE_NAME
//!     valueFrom: { fieldRef: { fieldPath: metadata.namespace } }
//!   - name: K8S_NODE_NAME
//!     valueFrom: { fieldRef: { fieldPath: spec.nodeName } }
//! ```
//!
//! The names the OpenTelemetry Operator injects (`OTEL_RESOURCE_ATTRIBUTES_POD_NAME`,
//! `…_POD_UID`, `…_NODE_NAME`) and the common `POD_NAME`, `POD_UID`,
//! `POD_NAMESPACE` and `NODE_NAME` are read too. Inside a pod (where
//! Kubernetes sets `KUBERNETES_SERVICE_HOST`) the namespace falls back to the
//! service account's namespace file and the pod name to `HOSTNAME`, which is
//! the pod's name unless the pod spec sets another.

use super::system::System;
use opentelemetry::KeyValue;
use opentelemetry_semantic_conventions::resource as rc;

const POD_NAME: [&str; 3] = [
    "K8S_POD_NAME",
    "OTEL_RESOURCE_ATTRIBUTES_POD_NAME",
    "POD_NAME",
];
const POD_UID: [&str; 3] = ["K8S_POD_UID", "OTEL_RESOURCE_ATTRIBUTES_POD_UID", "POD_UID"];
const NAMESPACE: [&str; 2] = ["K8S_NAMESPACE_NAME", "POD_NAMESPACE"];
const NODE_NAME: [&str; 3] = [
    "K8S_NODE_NAME",
    "OTEL_RESOURCE_ATTRIBUTES_NODE_NAME",
    "NODE_NAME",
];
const NAMESPACE_FILE: &str = "/var/run/secrets/kubernetes.io/serviceaccount/namespace";

pub(crate) fn detect(system: &dyn System, out: &mut Vec<KeyValue>) {
    let first = |names: &[&str]| names.iter().find_map(|n| system.env(n));
    let in_pod = system.env("KUBERNETES_SERVICE_HOST").is_some();
    let pod_name = first(&POD_NAME).or_else(|| in_pod.then(|| system.env("HOSTNAME")).flatten());
    let namespace = first(&NAMESPACE).or_else(|| {
        in_pod
            .then(|| system.read(NAMESPACE_FILE))
            .flatten()
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
    });
    let found = [
        (rc::K8S_POD_NAME, pod_name),
        (rc::K8S_POD_UID, first(&POD_UID)),
        (rc::K8S_NAMESPACE_NAME, namespace),
        (rc::K8S_NODE_NAME, first(&NODE_NAME)),
    ];
    for (key, value) in found {
        if let Some(value) = value {
            out.push(KeyValue::new(key, value));
        }
    }
}
