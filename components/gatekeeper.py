"""In-cluster policy (multicluster:policy): Gatekeeper on every cluster with the rules of the block.

Per cluster, `ClusterPolicy` installs the pinned Gatekeeper chart, then one ConstraintTemplate per rule
(components/gatekeeper_rules.py) and one Constraint of it. Gatekeeper generates each constraint's CRD from its
template asynchronously, and pulumi-kubernetes retries a create of a kind not yet served only briefly (about 30 s:
provider/pkg/await/await.go Creation, 5 retries from 1 s doubling), so every template is awaited until Gatekeeper
reports it created (`pulumi.com/waitFor: jsonpath={.status.created}=true`, which sets status.created once its
pods compiled it) and its constraint waits for it. In a first preview the constraint kinds are not served yet, and
the provider previews them as given (provider.go Create on a preview), as the judge does.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypedDict

import pulumi
import pulumi_kubernetes as k8s

from .charts import chart
from .cluster import ClusterPort
from .config.access import RESERVED_NAMESPACES
from .config.policy import PolicyConfig
from .fleetplan import FleetPlan
from .gatekeeper_rules import CONSTRAINTS_API, POLICY_RULES, TEMPLATES_API, constraint, template

GATEKEEPER = chart("gatekeeper")
NAMESPACE = "gatekeeper-system"
# pulumi-kubernetes waits for a custom resource's condition with this annotation (provider/pkg/await, waitFor).
WAIT_FOR = {"pulumi.com/waitFor": "jsonpath={.status.created}=true"}
# The platform's namespaces: its controllers keep running whatever the rules (drill copies `<ns>-drill` are the
# teams' own workloads and stay judged), and the clouds' own: GKE's managed Prometheus (gmp-system, gmp-public,
# components/gke.py managed_prometheus) and GKE-managed components (gke-managed-*).
EXEMPT = sorted({*RESERVED_NAMESPACES, "kube-*", "gmp-system", "gmp-public", "gke-managed-*"})


class PolicyOutputs(TypedDict):
    """`policy`: the rules Gatekeeper enforces, how, and where."""

    rules: list[str]
    mode: str
    clusters: list[str]


@dataclass(frozen=True)
class PolicyProps:
    """Props of one cluster's policy."""

    cluster: ClusterPort
    policy: PolicyConfig
    high_availability: bool  # three controller replicas (protected clusters) instead of one


class ClusterPolicy(pulumi.ComponentResource):
    """Gatekeeper, the rules' ConstraintTemplates and their Constraints on one cluster."""

    TYPE = "multicluster:policy:ClusterPolicy"

    def __init__(self, name: str, props: PolicyProps, opts: pulumi.ResourceOptions | None = None):
        super().__init__(self.TYPE, name, None, opts)
        cluster = props.cluster
        self._provider = cluster.k8s_provider
        namespace = k8s.core.v1.Namespace(
            f"{name}-ns",
            metadata={"name": NAMESPACE, "labels": {"app.kubernetes.io/part-of": "multicluster-policy"}},
            opts=self._opts(depends_on=cluster.ready),
        )
        self.release = k8s.helm.v3.Release(
            f"{name}-gatekeeper",
            name="gatekeeper",
            chart=GATEKEEPER.name,
            version=props.policy.chart_version,
            repository_opts={"repo": GATEKEEPER.repository},
            namespace=namespace.metadata.name,
            values=chart_values(props.high_availability),
            atomic=True,
            timeout=600,
            opts=self._opts(depends_on=[*cluster.ready, namespace]),
        )
        self.templates: dict[str, k8s.apiextensions.CustomResource] = {}
        self.constraints: dict[str, k8s.apiextensions.CustomResource] = {}
        for rule_name in props.policy.enforce:
            rule = POLICY_RULES[rule_name]
            made = k8s.apiextensions.CustomResource(
                f"{name}-{rule_name}-template",
                api_version=TEMPLATES_API,
                kind="ConstraintTemplate",
                metadata={"name": rule.template_name, "annotations": dict(WAIT_FOR)},
                spec=template(rule),
                opts=self._opts(depends_on=[self.release]),
            )
            self.templates[rule_name] = made
            self.constraints[rule_name] = k8s.apiextensions.CustomResource(
                f"{name}-{rule_name}",
                api_version=CONSTRAINTS_API,
                kind=rule.kind,
                metadata={"name": rule_name},
                spec=constraint(rule, props.policy, EXEMPT),
                opts=self._opts(depends_on=[made]),
            )
        self.register_outputs({"rules": list(props.policy.enforce), "mode": props.policy.mode})

    def _opts(self, **kwargs: Any) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self, provider=self._provider, **kwargs)


def chart_values(high_availability: bool) -> dict[str, Any]:
    """Gatekeeper's values: its defaults (webhook fails open, audit every 60 s, Prometheus metrics on port 8888
    `metrics`) with one controller replica on clusters that are not protected. The chart always renders a
    PodDisruptionBudget (pdb.controllerManager.minAvailable: 1): with one replica it would forbid every eviction and
    stall node drains and upgrades, so it allows them there."""
    if high_availability:
        return {"replicas": 3}
    return {"replicas": 1, "pdb": {"controllerManager": {"minAvailable": 0}}}


class Policy(pulumi.ComponentResource):
    """Every cluster's policy."""

    TYPE = "multicluster:policy:Policy"

    def __init__(
        self,
        name: str,
        plan: FleetPlan,
        clusters: Mapping[str, ClusterPort],
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__(self.TYPE, name, None, opts)
        policy = plan.block(PolicyConfig)
        assert policy is not None  # built only with its block
        self.policy = policy
        self.clusters = {
            cluster: ClusterPolicy(
                f"{cluster}-policy",
                PolicyProps(port, policy, plan.cluster(cluster).protect),
                opts=pulumi.ResourceOptions(parent=self),
            )
            for cluster, port in clusters.items()
        }
        self.register_outputs(self.outputs())

    def outputs(self) -> PolicyOutputs:
        return {"rules": list(self.policy.enforce), "mode": self.policy.mode, "clusters": sorted(self.clusters)}


def build_policy(plan: FleetPlan, clusters: Mapping[str, ClusterPort]) -> Policy | None:
    if plan.block(PolicyConfig) is None:
        return None
    return Policy("policy", plan, clusters)
