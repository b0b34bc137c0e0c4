"""Config block `multicluster:secrets`: External Secrets Operator on every cluster, reading its own cloud's
secret manager with a keyless identity.

Each cluster gets a ClusterSecretStore `cloud` over its own cloud's secret manager in its own region (AWS Secrets
Manager through IRSA, Google Secret Manager through Workload Identity), its identity allowed only the secrets
named under the fleet's prefix (`<prefix>/` on AWS, `<prefix>_` on Google, the stack's name prefix); each team
namespace gets a SecretStore allowed only `<prefix>/<team>/` (`<prefix>_<team>_`). Extra `stores` add a
ClusterSecretStore on every cluster of the store's cloud that may read it: in a partitioned fleet, only the
clusters of the residency that holds the store's region.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import AfterValidator, Field

from .base import Issue, Model, dns_label, format_path
from .fleetview import BlockRules
from .regions import REGIONS_BY_CLOUD

if TYPE_CHECKING:
    from .clusters import ClusterConfig
    from .fleetview import FleetView

DEFAULT_CHART_VERSION = "2.9.0"  # external-secrets chart 2.9.0 (../shared/upstream/external-secrets)
OWN_STORE = "cloud"  # the ClusterSecretStore of each cluster's own secret manager


def store_name(value: str) -> str:
    dns_label(value, 40)
    if value == OWN_STORE:
        raise ValueError(f"'{OWN_STORE}' is each cluster's own store; name an extra store otherwise")
    return value


class ExtraStore(Model):
    """A further secret manager the clusters of its cloud read (a shared one, in one region)."""

    name: Annotated[str, AfterValidator(store_name)] = Field(description="Name of its ClusterSecretStore.")
    cloud: Literal["aws", "gcp"] = Field(description="AWS Secrets Manager or Google Secret Manager.")
    region: str = Field(description="Its region (Secret Manager's regional endpoint on GCP).")


class SecretsConfig(Model):
    """Secrets synced from the clouds' secret managers, never copied between clusters."""

    provider: Literal["cloud"] = Field(
        default="cloud", description="cloud: each cluster reads its own cloud's secret manager."
    )
    stores: list[ExtraStore] = Field(default_factory=list[ExtraStore], description="Extra stores, residency-checked.")
    chart_version: str = Field(default=DEFAULT_CHART_VERSION, description="external-secrets Helm chart version.")


def store_readers(config: FleetView, store: ExtraStore) -> list[ClusterConfig]:
    """The clusters that read an extra store: of its cloud, and in a partitioned fleet of the residency that holds
    its region (a cluster never reads secrets kept outside its residency)."""
    readers = [c for c in config.clusters if c.cloud == store.cloud]
    if config.topology != "partitioned":
        return readers
    holders = {key for key, r in config.residencies.items() if store.region in r.regions}
    return [c for c in readers if c.residency in holders]


def check(config: FleetView) -> list[Issue]:
    block = config.block(SecretsConfig)
    if block is None:
        return []
    issues: list[Issue] = []
    for i, store in enumerate(block.stores):
        at = ("secrets", "stores", i)
        if store.name in [s.name for s in block.stores[:i]]:
            issues.append(Issue(format_path((*at, "name")), f"'{store.name}' is listed twice"))
        if store.region not in REGIONS_BY_CLOUD[store.cloud]:
            issues.append(Issue(format_path((*at, "region")), f"'{store.region}' is not a region of {store.cloud}"))
            continue
        if config.topology == "partitioned" and not any(store.region in r.regions for r in config.residencies.values()):
            issues.append(
                Issue(
                    format_path((*at, "region")),
                    f"'{store.region}' is in no residency: its secrets would be kept outside every residency",
                )
            )
        elif not store_readers(config, store):
            issues.append(Issue(format_path(at), f"no {store.cloud} cluster may read it (same cloud, same residency)"))
    return issues


# Declared by the `multicluster:secrets` field of StackConfig: what validation and the fleet's needs call.
SECRETS_RULES = BlockRules(check)
