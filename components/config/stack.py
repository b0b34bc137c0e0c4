"""The root of the stack config (`multicluster:*`) and the checks that span the fleet."""

from __future__ import annotations

import ipaddress
from itertools import combinations
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, PrivateAttr

from . import backup, connectivity, dns, gitops, mesh
from .backup import BackupConfig
from .base import Issue, Model, dns_label, format_path, short_path
from .clusters import AWS_MACHINE_TYPE, GCP_MACHINE_TYPE, ClusterConfig
from .connectivity import ConnectivityConfig
from .dns import DnsConfig
from .gitops import GitopsConfig
from .mesh import MeshConfig
from .regions import CONTINENTS, any_region

Topology = Literal["replicated", "partitioned"]
Failover = Literal["active-active", "active-passive"]


def continent_code(value: str) -> str:
    if value not in CONTINENTS:
        raise ValueError(f"'{value}' is not a continent code (one of {', '.join(CONTINENTS)})")
    return value


def country_code(value: str) -> str:
    if len(value) != 2 or not value.isalpha() or not value.isupper():
        raise ValueError(f"'{value}' is not an ISO 3166-1 alpha-2 country code (e.g. DE)")
    return value


def known_region(value: str) -> str:
    if any_region(value) is None:
        raise ValueError(f"'{value}' is not an AWS or GCP region")
    return value


class Residency(Model):
    """A data-residency zone of a partitioned fleet: where its data lives and whom it serves."""

    regions: list[Annotated[str, AfterValidator(known_region)]] = Field(
        min_length=1, description="AWS and GCP regions allowed to hold this residency's clusters and data."
    )
    continents: list[Annotated[str, AfterValidator(continent_code)]] = Field(
        default_factory=list, description="Continent codes whose users are routed here."
    )
    countries: list[Annotated[str, AfterValidator(country_code)]] = Field(
        default_factory=list, description="ISO country codes whose users are routed here."
    )
    default: bool = Field(False, description="Serves users from anywhere not listed; exactly one residency.")


class StackConfig(Model):
    """Everything under the `multicluster:` config namespace of a stack."""

    environment: Annotated[str, AfterValidator(lambda v: dns_label(v, 16))] = Field(
        description="Environment name used in names, tags and labels (e.g. prod, staging)."
    )
    topology: Topology = "replicated"
    failover: Failover = "active-passive"
    protect: bool | None = Field(
        None, description="Protect stateful resources; defaults to true when environment is prod."
    )
    clusters: list[ClusterConfig] = Field(min_length=1)
    residencies: dict[str, Residency] = Field(default_factory=dict)
    connectivity: ConnectivityConfig = Field(default_factory=ConnectivityConfig)
    mesh: MeshConfig | None = None
    gitops: GitopsConfig | None = None
    backup: BackupConfig | None = None
    dns: DnsConfig | None = None

    _gcp_project: str | None = PrivateAttr(None)

    @property
    def protected(self) -> bool:
        return self.protect if self.protect is not None else self.environment == "prod"

    @property
    def gcp_project(self) -> str | None:
        return self._gcp_project

    def project_of(self, cluster: ClusterConfig) -> str:
        project = cluster.project or self._gcp_project
        if project is None:
            raise ValueError(f"cluster {cluster.name} has no GCP project")
        return project

    def failover_groups(self) -> dict[str, list[ClusterConfig]]:
        """Clusters that fail over to each other: the fleet, or each residency when partitioned."""
        if self.topology == "replicated":
            return {"fleet": list(self.clusters)}
        groups: dict[str, list[ClusterConfig]] = {key: [] for key in self.residencies}
        for cluster in self.clusters:
            groups.setdefault(cluster.residency or "", []).append(cluster)
        return groups

    def cluster(self, name: str) -> ClusterConfig:
        return next(c for c in self.clusters if c.name == name)


# --- fleet-wide checks --------------------------------------------------------------------
# Each check takes the clusters that validated (None where an entry did not) and returns issues.

Clusters = list[ClusterConfig | None]


def _has(cluster: ClusterConfig | None, *fields: str) -> bool:
    """True when the entry exists and each field validated (salvaged entries may lack some)."""
    return cluster is not None and all(f in cluster.__dict__ for f in fields)


def check_unique_names(clusters: Clusters) -> list[Issue]:
    issues, seen = [], {}
    for i, cluster in enumerate(clusters):
        if not _has(cluster, "name"):
            continue
        if cluster.name in seen:
            issues.append(
                Issue(
                    format_path(("clusters", i, "name")),
                    f"'{cluster.name}' is already used by clusters[{seen[cluster.name]}]",
                )
            )
        else:
            seen[cluster.name] = i
    return issues


def check_overlaps(clusters: Clusters) -> list[Issue]:
    ranges = [
        (("clusters", i, "network", key), cidr)
        for i, cluster in enumerate(clusters)
        if _has(cluster, "network")
        for key, cidr in cluster.ranges.items()
    ]
    issues = []
    for (first_loc, first), (second_loc, second) in combinations(ranges, 2):
        if ipaddress.ip_network(first).overlaps(ipaddress.ip_network(second)):
            issues.append(Issue(format_path(second_loc), f"{second} overlaps {short_path(first_loc)}"))
    return issues


def check_cloud_fields(clusters: Clusters, gcp_project: str | None) -> list[Issue]:
    issues = []
    for i, cluster in enumerate(clusters):
        if not _has(cluster, "cloud", "network", "node_pools"):
            continue
        at = ("clusters", i)
        pattern, example = (
            (AWS_MACHINE_TYPE, "m7i.large") if cluster.cloud == "aws" else (GCP_MACHINE_TYPE, "e2-standard-4")
        )
        for j, pool in enumerate(cluster.node_pools):
            if not pattern.match(pool.machine_type):
                issues.append(
                    Issue(
                        format_path((*at, "nodePools", j, "machineType")),
                        f"'{pool.machine_type}' is not a{'n' if cluster.cloud == 'aws' else ''} "
                        f"{cluster.cloud.upper()} machine type (e.g. {example})",
                    )
                )
        if cluster.cloud == "gcp":
            issues += _gcp_fields(cluster, at, gcp_project)
        else:
            issues += _aws_fields(cluster, at)
    return issues


def _gcp_fields(cluster: ClusterConfig, at: tuple, gcp_project: str | None) -> list[Issue]:
    issues = []
    if cluster.network.pod_cidr is None:
        issues.append(
            Issue(format_path((*at, "network", "podCidr")), "is required on GCP (the GKE pod secondary range)")
        )
    if cluster.network.master_cidr is None:
        issues.append(
            Issue(format_path((*at, "network", "masterCidr")), "is required on GCP (the GKE control-plane /28)")
        )
    if cluster.project is None and gcp_project is None:
        issues.append(Issue(format_path((*at, "project")), "is required when gcp:project is not set"))
    return issues


def _aws_fields(cluster: ClusterConfig, at: tuple) -> list[Issue]:
    gcp_only = {
        "master_cidr": ("network", "masterCidr"),
        "project": ("project",),
        "release_channel": ("releaseChannel",),
    }
    issues = []
    for field, loc in gcp_only.items():
        holder = cluster.network if field == "master_cidr" else cluster
        if field in holder.model_fields_set:
            issues.append(Issue(format_path((*at, *loc)), "applies to GCP clusters only"))
    return issues


def check_topology(
    config: StackConfig | None, clusters: Clusters, topology: str, failover: str, residencies: dict[str, Residency]
) -> list[Issue]:
    if topology == "partitioned":
        issues = _partitioned(clusters, residencies)
    else:
        issues = [
            Issue(format_path(("clusters", i, "residency")), "applies to the partitioned topology only")
            for i, c in enumerate(clusters)
            if _has(c, "residency") and c.residency is not None
        ]
        if residencies:
            issues.append(Issue(format_path(("residencies",)), "applies to the partitioned topology only"))
    return issues + _failover(clusters, topology, failover, residencies)


def _partitioned(clusters: Clusters, residencies: dict[str, Residency]) -> list[Issue]:
    issues = []
    if not residencies:
        return [Issue(format_path(("residencies",)), "is required by the partitioned topology")]
    defaults = [key for key, r in residencies.items() if r.default]
    if len(defaults) != 1:
        issues.append(
            Issue(
                format_path(("residencies",)),
                f"must have exactly one residency with default: true (found {len(defaults)}"
                f"{': ' + ', '.join(defaults) if defaults else ''})",
            )
        )
    for i, cluster in enumerate(clusters):
        if not _has(cluster, "region", "residency"):
            continue
        at = format_path(("clusters", i, "residency"))
        if cluster.residency is None:
            issues.append(Issue(at, "is required by the partitioned topology"))
        elif cluster.residency not in residencies:
            issues.append(
                Issue(
                    at,
                    f"'{cluster.residency}' is not a key of multicluster:residencies "
                    f"({', '.join(sorted(residencies))})",
                )
            )
        elif cluster.region not in residencies[cluster.residency].regions:
            issues.append(
                Issue(
                    format_path(("clusters", i, "region")),
                    f"'{cluster.region}' is outside residency '{cluster.residency}' "
                    f"(regions: {', '.join(residencies[cluster.residency].regions)})",
                )
            )
    return issues


def _failover(clusters: Clusters, topology: str, failover: str, residencies: dict[str, Residency]) -> list[Issue]:
    if not all(_has(c, "name", "role", "residency") for c in clusters):
        return []  # counting primaries over an incomplete fleet would mislead
    present = list(enumerate(clusters))
    if failover == "active-active":
        return [
            Issue(
                format_path(("clusters", i, "role")),
                "'standby' is never sent traffic in an active-active fleet "
                "(use role: primary, or failover: active-passive)",
            )
            for i, c in present
            if c.role == "standby"
        ]
    if topology == "replicated":
        groups = {None: present}
    else:
        groups = {key: [(i, c) for i, c in present if c.residency == key] for key in residencies}
    issues = []
    for key, members in groups.items():
        if not members:
            issues.append(Issue(format_path(("residencies", key)), "has no cluster"))
            continue
        primaries = [c.name for _, c in members if c.role == "primary"]
        if len(primaries) != 1:
            where = "the fleet" if key is None else f"residency '{key}'"
            issues.append(
                Issue(
                    format_path(("clusters",) if key is None else ("residencies", key)),
                    f"active-passive needs exactly one primary in {where}, found {len(primaries)}"
                    f"{' (' + ', '.join(primaries) + ')' if primaries else ''}",
                )
            )
    return issues


def fleet_issues(config: StackConfig) -> list[Issue]:
    """Every fleet-wide problem of a config whose entries are individually valid."""
    clusters: Clusters = list(config.clusters)
    return (
        check_unique_names(clusters)
        + check_overlaps(clusters)
        + check_cloud_fields(clusters, config.gcp_project)
        + check_topology(config, clusters, config.topology, config.failover, config.residencies)
        + extension_issues(config)
    )


def extension_issues(config: StackConfig) -> list[Issue]:
    """Checks of the optional capability blocks (connectivity, mesh, gitops, backup, dns)."""
    return [issue for block in (connectivity, mesh, gitops, backup, dns) for issue in block.check(config)]
