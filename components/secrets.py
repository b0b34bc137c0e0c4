"""Secrets (multicluster:secrets): External Secrets Operator on every cluster, reading its own cloud's secret
manager with a keyless identity; never a secret copied between clusters or written into the program.

Per cluster, `ClusterSecrets` installs the pinned chart (its CRDs with it), then the ClusterSecretStore `cloud` over
the cluster's own secret manager in its own region, one ClusterSecretStore per extra store the cluster may read
(its cloud; in a partitioned fleet its residency: config/secrets.py store_readers), and in each team namespace a
SecretStore `team` allowed only the team's prefix. The cluster stores are closed to team namespaces
(`conditions`: namespaces without the team label), so a team reads only through its own store.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypedDict

import pulumi
import pulumi_kubernetes as k8s

from .access import Access
from .access_common import TEAM_LABEL
from .charts import chart
from .cluster import ClusterPort
from .config.secrets import OWN_STORE, SecretsConfig
from .fleetplan import FleetPlan
from .secrets_aws import AwsSecrets
from .secrets_common import (
    CONTROLLER,
    NAMESPACE,
    PLATFORM_ACCOUNT,
    STORES_API,
    TEAM_ACCOUNT,
    CloudSecrets,
    SecretsProps,
)
from .secrets_gcp import GcpSecrets

EXTERNAL_SECRETS = chart("external-secrets")
# A cluster store serves every namespace but the teams' (ClusterSecretStore spec.conditions[].namespaceSelector).
PLATFORM_ONLY = [{"namespaceSelector": {"matchExpressions": [{"key": TEAM_LABEL, "operator": "DoesNotExist"}]}}]


# The identities of each cloud, chosen once by the cluster's cloud.
def _aws(name: str, props: SecretsProps, parent: pulumi.Resource) -> CloudSecrets:
    return AwsSecrets(name, props, parent)


def _gcp(name: str, props: SecretsProps, parent: pulumi.Resource) -> CloudSecrets:
    return GcpSecrets(name, props, parent)


CLOUD_SECRETS: Mapping[str, Callable[[str, SecretsProps, pulumi.Resource], CloudSecrets]] = {"aws": _aws, "gcp": _gcp}


class SecretsOutputs(TypedDict):
    """`secrets`: the fleet's secret prefix and each cluster's ClusterSecretStores."""

    prefix: str
    stores: dict[str, list[str]]


class ClusterSecrets(pulumi.ComponentResource):
    """External Secrets, its identities and stores on one cluster."""

    TYPE = "multicluster:secrets:ClusterSecrets"

    def __init__(
        self,
        name: str,
        props: SecretsProps,
        block: SecretsConfig,
        namespaces: Mapping[str, pulumi.Resource],
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__(self.TYPE, name, None, opts)
        cluster = props.cluster
        self._provider = cluster.k8s_provider
        cloud = CLOUD_SECRETS[cluster.cloud](name, props, self)
        namespace = k8s.core.v1.Namespace(
            f"{name}-ns", metadata={"name": NAMESPACE}, opts=self._opts(depends_on=cluster.ready)
        )
        release = k8s.helm.v3.Release(
            f"{name}-operator",
            name="external-secrets",
            chart=EXTERNAL_SECRETS.name,
            version=block.chart_version,
            repository_opts={"repo": EXTERNAL_SECRETS.repository},
            namespace=namespace.metadata.name,
            values={
                "installCRDs": True,
                "fullnameOverride": CONTROLLER,
                # The controller's own account holds no cloud identity (secrets_common.PLATFORM_ACCOUNT).
                "serviceAccount": {"create": True, "name": CONTROLLER},
            },
            atomic=True,
            timeout=600,
            opts=self._opts(depends_on=[*cluster.ready, namespace, *cloud.access]),
        )
        platform = k8s.core.v1.ServiceAccount(
            f"{name}-platform-account",
            metadata={"name": PLATFORM_ACCOUNT, "namespace": NAMESPACE, "annotations": cloud.platform_annotations},
            opts=self._opts(depends_on=[namespace]),
        )
        after = self._opts(depends_on=[release, platform, *cloud.access])
        self.stores = [OWN_STORE, *(s.name for s in props.extra)]
        for store in (None, *props.extra):
            store_name = store.name if store is not None else OWN_STORE
            k8s.apiextensions.CustomResource(
                f"{name}-store-{store_name}",
                api_version=STORES_API,
                kind="ClusterSecretStore",
                metadata={"name": store_name},
                spec={"provider": cloud.provider(store), "conditions": PLATFORM_ONLY},
                opts=after,
            )
        for team in props.teams:
            in_team = self._opts(depends_on=[release, *cloud.access, namespaces[team]])
            account = k8s.core.v1.ServiceAccount(
                f"{name}-team-{team}-account",
                metadata={"name": TEAM_ACCOUNT, "namespace": team, "annotations": cloud.team_annotations[team]},
                opts=in_team,
            )
            k8s.apiextensions.CustomResource(
                f"{name}-team-{team}-store",
                api_version=STORES_API,
                kind="SecretStore",
                metadata={"name": "team", "namespace": team},
                spec={"provider": cloud.team_provider(team)},
                opts=pulumi.ResourceOptions.merge(in_team, pulumi.ResourceOptions(depends_on=[account])),
            )
        self.register_outputs({"stores": self.stores})

    def _opts(self, **kwargs: Any) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self, provider=self._provider, **kwargs)


class FleetSecrets(pulumi.ComponentResource):
    TYPE = "multicluster:secrets:FleetSecrets"

    def __init__(
        self,
        name: str,
        plan: FleetPlan,
        clusters: Mapping[str, ClusterPort],
        access: Access | None,
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__(self.TYPE, name, None, opts)
        block = plan.block(SecretsConfig)
        assert block is not None  # built only with its block
        self.prefix = plan.prefix
        self.clusters: dict[str, ClusterSecrets] = {}
        for cluster, port in clusters.items():
            namespaces: Mapping[str, pulumi.Resource] = access.namespaces(cluster) if access is not None else {}
            props = SecretsProps(
                cluster=port,
                prefix=plan.prefix,
                teams=tuple(namespaces),
                extra=tuple(s for s in block.stores if cluster in plan.secret_readers.get(s.name, ())),
            )
            self.clusters[cluster] = ClusterSecrets(
                f"{cluster}-secrets", props, block, namespaces, pulumi.ResourceOptions(parent=self)
            )
        self.register_outputs(self.outputs())

    def outputs(self) -> SecretsOutputs:
        return {"prefix": self.prefix, "stores": {name: c.stores for name, c in self.clusters.items()}}


def build_secrets(plan: FleetPlan, clusters: Mapping[str, ClusterPort], access: Access | None) -> FleetSecrets | None:
    if plan.block(SecretsConfig) is None:
        return None
    return FleetSecrets("secrets", plan, clusters, access)
