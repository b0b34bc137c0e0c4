"""Secrets on GKE: Google Secret Manager through Workload Identity, each account allowed only its prefix.

Secrets are regional (Secret Manager regional secrets, `projects/<number>/locations/<region>/secrets/<id>`) so that a
residency's secrets stay in its regions; the stores name the region (`gcpsm.location`). Secret ids allow letters,
digits, `-` and `_` only, so the fleet's prefix is `<prefix>_` and a team's `<prefix>_<team>_`: `_` appears in neither
a stack prefix nor a team name (both DNS labels), so no prefix is the start of another (`web_` never matches
`web-app_...`, `prod_` never `prod-eu_...`). The grants are
`roles/secretmanager.secretAccessor` on the project with an IAM condition on the secret's resource name
(https://cloud.google.com/secret-manager/docs/access-control#conditions).
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_gcp as gcp

from .config.secrets import ExtraStore
from .gcp_apis import IAM, RESOURCE_MANAGER
from .gke import GkeCluster, service_account_id
from .secrets_common import NAMESPACE, PLATFORM_ACCOUNT, TEAM_ACCOUNT, SecretsProps

ACCESSOR = "roles/secretmanager.secretAccessor"
WI_ANNOTATION = "iam.gke.io/gcp-service-account"


def name_condition(number: str, regions: list[str], prefix: str) -> str:
    """An IAM condition admitting the secrets (and their versions) named `<prefix>...` in `regions`."""
    return " || ".join(
        f'resource.name.startsWith("projects/{number}/locations/{region}/secrets/{prefix}")' for region in regions
    )


class GcpSecrets:
    def __init__(self, name: str, props: SecretsProps, parent: pulumi.Resource):
        cluster = props.cluster
        if not isinstance(cluster, GkeCluster):
            raise TypeError(f"{name}: Google Secret Manager stores need a GKE cluster")
        self.cluster, self.props = cluster, props
        self.parent = parent
        self.access: list[pulumi.Resource] = []
        # The project's number, which Secret Manager's resource names carry: asked once for every account here.
        self.number = gcp.organizations.get_project_output(
            project_id=cluster.project,
            opts=pulumi.InvokeOutputOptions(parent=parent, provider=cluster.gcp_provider),
        ).number
        extra_regions = sorted({s.region for s in props.extra})  # other regions of the cluster's project
        platform = self._account(
            f"{name}-platform",
            "eso",
            NAMESPACE,
            PLATFORM_ACCOUNT,
            sorted({cluster.region, *extra_regions}),
            f"{props.prefix}_",
        )
        self.platform_annotations: dict[str, pulumi.Input[str]] = {WI_ANNOTATION: platform.email}
        self.team_annotations: dict[str, dict[str, pulumi.Input[str]]] = {}
        for team in props.teams:
            account = self._account(
                f"{name}-team-{team}", f"es-{team}", team, TEAM_ACCOUNT, [cluster.region], f"{props.prefix}_{team}_"
            )
            self.team_annotations[team] = {WI_ANNOTATION: account.email}

    def _account(
        self, name: str, purpose: str, namespace: str, account_name: str, regions: list[str], prefix: str
    ) -> gcp.serviceaccount.Account:
        cluster, props = self.cluster, self.props
        account = gcp.serviceaccount.Account(
            name,
            account_id=service_account_id(props.prefix, cluster.spec.name, purpose),
            display_name=f"External Secrets {namespace}/{account_name} on {cluster.gke_name}",
            project=cluster.project,
            opts=self.opts(IAM, *cluster.ready),
        )
        self.access.append(
            gcp.projects.IAMMember(
                f"{name}-read",
                project=cluster.project,
                role=ACCESSOR,
                member=account.member,
                condition={
                    "title": f"{prefix} secrets",
                    "description": f"Secrets named {prefix}* in {', '.join(regions)}",
                    "expression": self.number.apply(lambda n: name_condition(n, regions, prefix)),
                },
                opts=self.opts(RESOURCE_MANAGER),
            )
        )
        self.access.append(
            cluster.bind_workload_identity(
                f"{name}-workload-identity", account, (namespace, account_name), self.opts(IAM)
            )
        )
        return account

    def opts(self, api: str, *after: pulumi.Resource) -> pulumi.ResourceOptions:
        """A resource calling `api` in the cluster's project waits for its Service (components.gke)."""
        return pulumi.ResourceOptions(
            parent=self.parent, provider=self.cluster.gcp_provider, depends_on=[*self.cluster.waits_for(api), *after]
        )

    def provider(self, store: ExtraStore | None) -> dict[str, Any]:
        region = store.region if store is not None else self.cluster.region
        return self._store(region, {"name": PLATFORM_ACCOUNT, "namespace": NAMESPACE})

    def team_provider(self, team: str) -> dict[str, Any]:
        return self._store(self.cluster.region, {"name": TEAM_ACCOUNT})

    def _store(self, region: str, account: dict[str, str]) -> dict[str, Any]:
        cluster = self.cluster
        identity = {
            "clusterLocation": cluster.region,
            "clusterName": cluster.gke_name,
            "clusterProjectID": cluster.project,
            "serviceAccountRef": account,
        }
        return {"gcpsm": {"projectID": cluster.project, "location": region, "auth": {"workloadIdentity": identity}}}
