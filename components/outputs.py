"""The stack outputs that tools read besides the capability that writes them (the offline plan's reports, the PR
comment): one typed definition of their keys, so that the type checker holds writer and readers to the same names.
Values are Pulumi inputs on the program's side and plain JSON once exported. A capability whose outputs only the
operator reads (`pulumi stack output`) keeps its TypedDict beside its component (access, policy, cost, secrets).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NotRequired, TypedDict

import pulumi


class ClusterOutputs(TypedDict):
    """`clusters.<name>`: what every cluster exports, whatever its cloud."""

    name: pulumi.Input[str]
    cloud: str
    region: str
    role: str
    endpoint: pulumi.Input[str]
    certificateAuthority: pulumi.Input[str]
    # What the fleet's callers and Pulumi use (GKE: the DNS-based endpoint, no CA to pin).
    apiServer: pulumi.Input[str]
    apiServerCa: pulumi.Input[str] | None
    networkId: pulumi.Input[str]
    cidr: str
    egressAddresses: pulumi.Input[list[str]]


class EksClusterOutputs(ClusterOutputs):
    vpcId: pulumi.Input[str]
    zoneIds: Any
    privateRouteTableIds: Any
    nodeSecurityGroupId: pulumi.Input[str | None]
    oidcProviderArn: pulumi.Input[str]
    oidcIssuer: pulumi.Input[str]


class GkeClusterOutputs(ClusterOutputs):
    project: str
    networkName: pulumi.Input[str]
    subnetwork: pulumi.Input[str]
    podCidr: str | None  # None: GKE allocates the pod range
    serviceCidr: str
    workloadIdentityPool: str
    dnsEndpoint: pulumi.Input[str | None]
    controlPlane: str


class RegistrationOutputs(TypedDict):
    """`gitops.clusters[]`: one cluster as Argo CD knows it."""

    name: str
    server: pulumi.Input[str]
    labels: dict[str, str]


class DnsRecordOutputs(TypedDict):
    """`dns.records.<name>`: one public name, how it is routed and how fast it fails over."""

    fqdn: str
    routing: str
    failoverSeconds: int | None  # None: one cluster answers, nothing to fail over to
    endpoints: dict[str, list[str]]
    residencies: NotRequired[dict[str, str]]


class DnsOutputs(TypedDict):
    """`dns`: the zone, its records and health checks."""

    provider: str
    zone: str
    zoneId: pulumi.Input[str]
    nameServers: pulumi.Input[Sequence[str]] | None
    records: dict[str, DnsRecordOutputs]
    healthChecks: dict[str, pulumi.Output[str]]
    ingressAddresses: dict[str, pulumi.Output[str]]  # each cluster's entry: its load balancer's hostname or IP
    answers: dict[str, pulumi.Output[list[str]]]  # the addresses its records answer (reserved ones on AWS)


class MeshGroupOutputs(TypedDict):
    """`mesh.meshes.<group>`: one mesh (the fleet's, or a residency's) and its root of trust."""

    meshId: str
    clusters: list[str]
    rootCertificate: pulumi.Input[str]


class MeshOutputs(TypedDict):
    """`mesh`: the provider, each mesh group, and the gateways' addresses per cluster."""

    provider: str
    meshes: dict[str, MeshGroupOutputs]
    ingressAddresses: dict[str, pulumi.Output[str]]
    eastWestAddresses: dict[str, pulumi.Output[str]]


class DrillOutputs(TypedDict):
    """`backup.<cluster>.drill`: the cluster's scheduled restore drill over its peers."""

    cron: str
    namespaces: list[str]
    sources: list[str]  # the peers' read-only storage locations, restored in turn
    timeoutMinutes: int
    expectedRpoMinutes: int


class BackupOutputs(TypedDict):
    """`backup.<cluster>`: one cluster's bucket, identity, schedules and what it can restore."""

    cloud: str
    region: str
    bucket: pulumi.Input[str]
    kmsKey: pulumi.Input[str]
    identity: pulumi.Input[str]
    storageLocation: str
    restoreLocations: list[str]  # the peers whose backups it can restore (read-only locations)
    schedules: list[str]
    chartVersion: str
    rpo: str  # the longest gap between backups, e.g. "1h"
    rpoMinutes: int
    drill: NotRequired[DrillOutputs]  # only when the cluster runs a restore drill


class GitopsOutputs(TypedDict):
    """`gitops`: the hub, Argo CD, the registered clusters and the identities it deploys with."""

    hub: str
    url: str
    namespace: str
    chartVersion: str
    highlyAvailable: bool
    project: str
    clusters: list[RegistrationOutputs]
    applications: dict[str, list[str]]  # application -> the clusters its ApplicationSet targets
    deployerRoleArn: NotRequired[pulumi.Input[str] | None]
    googleServiceAccount: NotRequired[pulumi.Input[str] | None]
    reconciles: NotRequired[bool]  # whether this Argo CD's application controller runs (false: a passive standby)
    standby: NotRequired[GitopsOutputs]  # the standby hub's Argo CD, when there is one


class LinkOutputs(TypedDict):
    """`connectivity.links.<a>--<b>`: one linked pair, what kind of link, and its cloud ids."""

    kind: str
    clusters: list[str]
    # AWS peering
    peeringConnectionId: NotRequired[pulumi.Input[str]]
    acceptStatus: NotRequired[pulumi.Input[str]]
    # GCP peering
    peeringIds: NotRequired[dict[str, pulumi.Output[str]]]
    states: NotRequired[dict[str, pulumi.Output[str]]]
    # HA VPN (its own, or the transit gateway's VPN of the pair's GKE cluster and AWS region)
    vpn: NotRequired[str]
    haVpnGateway: NotRequired[pulumi.Input[str]]
    cloudRouter: NotRequired[pulumi.Input[str]]
    externalVpnGateway: NotRequired[pulumi.Input[str]]
    transitGatewayId: NotRequired[pulumi.Input[str]]
    vpnGatewayId: NotRequired[pulumi.Input[str]]
    customerGatewayIds: NotRequired[list[pulumi.Output[str]]]
    vpnConnectionIds: NotRequired[list[pulumi.Output[str]]]
    tunnels: NotRequired[list[pulumi.Output[str]]]
    insideRanges: NotRequired[list[str]]
    asns: NotRequired[dict[str, int]]


class ConnectivityOutputs(TypedDict):
    """`connectivity`: the mode, every link, the transit gateways and the ASNs."""

    mode: str
    hub: str | None
    hubs: NotRequired[dict[str, str]]  # hub-spoke per residency: residency -> its hub
    awsGateway: str
    links: dict[str, LinkOutputs]
    vpns: dict[str, LinkOutputs]
    transitGateways: dict[str, dict[str, Any]]
    matrix: dict[str, dict[str, str]]
    asns: dict[str, int]
    controlPlanePeerings: dict[str, pulumi.Output[str]]


class TelemetryOutputs(TypedDict):
    """`observability.clusters.<name>`: what one cluster collects and where it goes."""

    hub: str
    metricsBucket: pulumi.Output[str]
    metricsIdentity: pulumi.Output[str]
    labels: dict[str, str]
    shipsTo: dict[str, pulumi.Input[str]]  # logs/traces -> the hub endpoint this cluster pushes to


class TelemetryHubOutputs(TypedDict):
    """`observability.hubs.<name>`: one hub's query endpoints, stores and scope."""

    scope: list[str]
    grafanaUrl: str
    queryUrl: str
    lokiUrl: str
    tempoUrl: str | None
    logsBucket: pulumi.Output[str]
    tracesBucket: pulumi.Output[str] | None
    retentionDays: dict[str, int]
    alertReceivers: list[str]


class ObservabilityOutputs(TypedDict):
    """`observability`: every hub and every cluster's telemetry."""

    hubs: dict[str, TelemetryHubOutputs]
    clusters: dict[str, TelemetryOutputs]
