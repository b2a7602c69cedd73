"""Checks of Herald's deployment files that the schemas cannot make (scripts/check-deploy runs it).

    check_deploy.py k8s RENDERED.yaml      the objects of a rendered overlay agree with each other
    check_deploy.py grafana DASHBOARD.json the dashboard is what dashboard.py builds, and loads
                                           through Grafana's Foundation SDK models
"""

import json
import pathlib
import subprocess
import sys

import yaml

SENDERS = {"fcm", "apns", "hms", "webpush"}
# KEDA's nats-jetstream trigger (https://keda.sh/docs/scalers/nats-jetstream/).
JETSTREAM_REQUIRED = {"natsServerMonitoringEndpoint", "account", "stream", "consumer", "lagThreshold"}
JETSTREAM_OPTIONAL = {"activationLagThreshold", "useHttps"}


def fail(message: str) -> None:
    sys.exit(f"check_deploy: {message}")


def check_k8s(path: str) -> None:
    objects = [o for o in yaml.safe_load_all(open(path)) if o]
    by_kind: dict[str, dict[str, dict]] = {}
    for o in objects:
        by_kind.setdefault(o["kind"], {})[o["metadata"]["name"]] = o
    deployments = by_kind.get("Deployment", {})
    expected = {f"herald-{s}" for s in ["ingest", "router", "receipt", "dispatcher"]} | {
        f"herald-sender-{p}" for p in SENDERS
    }
    if set(deployments) != expected:
        fail(f"{path}: deployments {sorted(deployments)}, expected {sorted(expected)}")
    for name, d in deployments.items():
        labels = d["spec"]["template"]["metadata"]["labels"]
        if d["spec"]["selector"]["matchLabels"].items() - labels.items():
            fail(f"{name}: its selector does not select its own pods")
        (container,) = d["spec"]["template"]["spec"]["containers"]
        for need in ["readinessProbe", "livenessProbe", "resources", "lifecycle"]:
            if need not in container:
                fail(f"{name}: no {need}")
        pre_stop = container["lifecycle"]["preStop"]["exec"]["command"]
        if pre_stop[:2] != ["herald", "drain"]:
            fail(f"{name}: the preStop hook does not drain: {pre_stop}")
        if not d["spec"]["template"]["spec"]["securityContext"].get("runAsNonRoot"):
            fail(f"{name}: may run as root")
        for limit in ["cpu", "memory"]:
            if limit not in container["resources"].get("limits", {}):
                fail(f"{name}: no {limit} limit")
        if name.startswith("herald-sender-"):
            provider = name.removeprefix("herald-sender-")
            env = {e["name"]: e.get("value") for e in container.get("env", [])}
            if env.get("HERALD_SENDER_PROVIDER") != provider:
                fail(f"{name}: HERALD_SENDER_PROVIDER is {env.get('HERALD_SENDER_PROVIDER')}")
    selects = lambda selector, name: not (  # noqa: E731
        selector.items() - deployments[name]["spec"]["template"]["metadata"]["labels"].items()
    )
    for name, pdb in by_kind.get("PodDisruptionBudget", {}).items():
        if name not in deployments or not selects(pdb["spec"]["selector"]["matchLabels"], name):
            fail(f"PodDisruptionBudget {name} selects no deployment of its name")
    missing = set(deployments) - set(by_kind.get("PodDisruptionBudget", {}))
    if missing:
        fail(f"no PodDisruptionBudget for {sorted(missing)}")
    for name, svc in by_kind.get("Service", {}).items():
        if name not in deployments or not selects(svc["spec"]["selector"], name):
            fail(f"Service {name} selects no deployment of its name")
    scaled = {}
    for kind in ["HorizontalPodAutoscaler", "ScaledObject"]:
        for name, o in by_kind.get(kind, {}).items():
            target = o["spec"]["scaleTargetRef"]["name"]
            if target not in deployments:
                fail(f"{kind} {name} scales {target}, which is not deployed")
            if target in scaled:
                fail(f"{target} is scaled by both {scaled[target]} and {kind} {name}")
            scaled[target] = f"{kind} {name}"
    for name, o in by_kind.get("ScaledObject", {}).items():
        if o["apiVersion"] != "keda.sh/v1alpha1":
            fail(f"ScaledObject {name}: apiVersion {o['apiVersion']}")
        provider = o["spec"]["scaleTargetRef"]["name"].removeprefix("herald-sender-")
        triggers = o["spec"]["triggers"]
        jetstream = [t["metadata"] for t in triggers if t["type"] == "nats-jetstream"]
        for meta in jetstream:
            keys = set(meta)
            if JETSTREAM_REQUIRED - keys or keys - JETSTREAM_REQUIRED - JETSTREAM_OPTIONAL:
                fail(f"ScaledObject {name}: nats-jetstream metadata {sorted(keys)}")
            if not all(isinstance(v, str) for v in meta.values()):
                fail(f"ScaledObject {name}: KEDA metadata values are strings")
        # The streams and durable consumers the sender of that provider reads: every send, the
        # bulk lane and the urgent lane.
        watched = sorted((meta["stream"], meta["consumer"]) for meta in jetstream)
        wanted = sorted([("HERALD_SEND", f"sender-{provider}"),
                         ("HERALD_BULK", f"sender-{provider}-bulk"),
                         ("HERALD_URGENT", f"sender-{provider}-urgent")])
        if watched != wanted:
            fail(f"ScaledObject {name}: watches {watched}, not {wanted}")
        if o["spec"]["minReplicaCount"] < 1:
            fail(f"ScaledObject {name}: a sender scaled to zero leaves its consumer's gauges unread")
    for provider in SENDERS:
        if f"herald-sender-{provider}" not in scaled:
            fail(f"{path}: herald-sender-{provider} is not scaled")


def check_grafana(path: str) -> None:
    from grafana_foundation_sdk.cog.plugins import register_default_plugins
    from grafana_foundation_sdk.models.dashboard import Dashboard

    written = json.load(open(path))
    builder = pathlib.Path(__file__).parent.parent / "deploy" / "grafana" / "dashboard.py"
    built = json.loads(subprocess.run([sys.executable, builder], check=True,
                                      capture_output=True, text=True).stdout)
    if built != written:
        fail(f"{path} is not what {builder} builds: run it again")
    register_default_plugins()
    loaded = Dashboard.from_json(written)
    if loaded.title != "Herald" or not loaded.panels:
        fail(f"{path}: loaded without a title or panels")
    for panel in loaded.panels:
        for target in getattr(panel, "targets", None) or []:
            if not getattr(target, "expr", None):
                fail(f"{path}: panel {panel.title!r} has a query without an expression")


if __name__ == "__main__":
    what, path = sys.argv[1:3]
    {"k8s": check_k8s, "grafana": check_grafana}[what](path)
    print(f"check_deploy: {what} {path}: ok")
