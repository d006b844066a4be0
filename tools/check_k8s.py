#!/usr/bin/python3
"""Checks Kubernetes manifests offline: each document has the fields its kind requires,
and the references between them (selectors, the HPA's target, ConfigMaps mounted)
resolve. Usage: check_k8s.py FILE...  Prints one line per problem; exits 1 if any."""

import sys

import yaml

REQUIRED = {
    "ConfigMap": ["data"],
    "Deployment": ["spec.selector.matchLabels", "spec.template.metadata.labels",
                   "spec.template.spec.containers"],
    "Service": ["spec.ports", "spec.selector"],
    "PodDisruptionBudget": ["spec.selector.matchLabels"],
    "HorizontalPodAutoscaler": ["spec.scaleTargetRef.apiVersion", "spec.scaleTargetRef.kind",
                                "spec.scaleTargetRef.name", "spec.maxReplicas"],
    "NetworkPolicy": ["spec.podSelector"],
}
API_VERSIONS = {
    "ConfigMap": "v1", "Service": "v1", "Deployment": "apps/v1",
    "PodDisruptionBudget": "policy/v1", "HorizontalPodAutoscaler": "autoscaling/v2",
    "NetworkPolicy": "networking.k8s.io/v1",
}


def get(doc, path):
    for key in path.split("."):
        if not isinstance(doc, dict) or key not in doc:
            return None
        doc = doc[key]
    return doc


def matches(selector, labels):
    """Whether `labels` carry every key and value of `selector`."""
    return all(labels.get(k) == v for k, v in selector.items())


def check_containers(name, pod_spec, problems):
    for container in pod_spec.get("containers", []):
        for field in ("name", "image"):
            if not container.get(field):
                problems.append(f"Deployment {name}: a container has no {field}")
        for probe in ("livenessProbe", "readinessProbe"):
            grpc_probe = get(container, f"{probe}.grpc")
            if grpc_probe is not None and not isinstance(grpc_probe.get("port"), int):
                problems.append(f"Deployment {name}: {probe}.grpc.port must be a number")


def check(docs):
    problems = []
    by_kind = {}
    for doc in docs:
        kind, name = doc.get("kind"), get(doc, "metadata.name")
        if not kind or not name or not doc.get("apiVersion"):
            problems.append(f"a document lacks apiVersion, kind or metadata.name: {doc}")
            continue
        by_kind.setdefault(kind, {})[name] = doc
        if API_VERSIONS.get(kind) and doc["apiVersion"] != API_VERSIONS[kind]:
            problems.append(f"{kind} {name}: apiVersion should be {API_VERSIONS[kind]}")
        for path in REQUIRED.get(kind, []):
            value = get(doc, path)
            # An empty podSelector is meaningful (every pod); other fields must be set.
            if value is None or (value in ([], {}) and path != "spec.podSelector"):
                problems.append(f"{kind} {name}: missing {path}")
    for name, deployment in by_kind.get("Deployment", {}).items():
        selector = get(deployment, "spec.selector.matchLabels") or {}
        labels = get(deployment, "spec.template.metadata.labels") or {}
        if not matches(selector, labels):
            problems.append(f"Deployment {name}: its selector does not match its pod labels")
        pod_spec = get(deployment, "spec.template.spec") or {}
        check_containers(name, pod_spec, problems)
        for volume in pod_spec.get("volumes", []):
            config_map = get(volume, "configMap.name")
            if config_map and config_map not in by_kind.get("ConfigMap", {}):
                problems.append(f"Deployment {name}: mounts unknown ConfigMap {config_map}")
    pod_labels = [get(d, "spec.template.metadata.labels") or {}
                  for d in by_kind.get("Deployment", {}).values()]

    def selects_pods(selector):
        return any(matches(selector, labels) for labels in pod_labels)

    for kind, path in (("Service", "spec.selector"),
                       ("PodDisruptionBudget", "spec.selector.matchLabels"),
                       ("NetworkPolicy", "spec.podSelector.matchLabels")):
        for name, doc in by_kind.get(kind, {}).items():
            if not selects_pods(get(doc, path) or {}):
                problems.append(f"{kind} {name}: selects no pod of the Deployments")
    for name, hpa in by_kind.get("HorizontalPodAutoscaler", {}).items():
        target = get(hpa, "spec.scaleTargetRef.name")
        if target not in by_kind.get(get(hpa, "spec.scaleTargetRef.kind"), {}):
            problems.append(f"HorizontalPodAutoscaler {name}: unknown target {target}")
    return problems


def main():
    docs = []
    for path in sys.argv[1:]:
        with open(path) as f:
            docs.extend(d for d in yaml.safe_load_all(f) if d)
    problems = check(docs)
    for problem in problems:
        print(problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
