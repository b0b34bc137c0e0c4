"""The fleet's guardrails as plain functions over resources.

The same rules back the policy pack (`policy/__main__.py`, run by `pulumi preview/up --policy-pack policy`)
and the offline runner (`offline_plan/policy.py`, run over a captured plan). Importing this module
never starts the pack's server, and needs nothing but the standard library.

Property names are the engine's (camelCase), as both the pack and the offline plan see them. During a real
preview some values are not known yet: the pack turns them into `UNKNOWN`, and a rule never fails on a
value it cannot see (an unknown key ARN still means a key is set).
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, TypeGuard

PACK_NAME = "multicluster-guardrails"
MANDATORY = "mandatory"


class _Unknown:
    """A value the engine does not know yet (computed during the update)."""

    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN: Any = _Unknown()

# --- the resources the rules look at ---------------------------------------------------------------

EKS_CLUSTER = "aws:eks/cluster:Cluster"
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
GKE_CLUSTER = "gcp:container/cluster:Cluster"
GKE_NODE_POOL = "gcp:container/nodePool:NodePool"
S3_BUCKETS = ("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2")
S3_VERSIONING = ("aws:s3/bucketVersioning:BucketVersioning", "aws:s3/bucketVersioningV2:BucketVersioningV2")
S3_ENCRYPTION = (
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
)
S3_PUBLIC_ACCESS_BLOCK = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
GCS_BUCKET = "gcp:storage/bucket:Bucket"
ROUTE53_RECORD = "aws:route53/record:Record"
CLOUDDNS_RECORD_SET = "gcp:dns/recordSet:RecordSet"
HELM_RELEASE = "kubernetes:helm.sh/v3:Release"
VELERO_SCHEDULE = "kubernetes:velero.io/v1:Schedule"
K8S_SECRET = "kubernetes:core/v1:Secret"
CLUSTER_TYPES = (EKS_CLUSTER, GKE_CLUSTER)

EKS_LOG_TYPES = ("api", "audit", "authenticator", "controllerManager", "scheduler")
S3_PUBLIC_ACCESS_FLAGS = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
KMS_ALGORITHMS = ("aws:kms", "aws:kms:dsse")
DEFAULT_COMPUTE_ACCOUNT_SUFFIX = "-compute@developer.gserviceaccount.com"
MAX_HEALTH_CHECKED_TTL = 60
ARGOCD_CLUSTER_LABEL = "argocd.argoproj.io/secret-type"
ENVIRONMENT_TAG = "multicluster:environment"
ENVIRONMENT_LABEL = "multicluster_environment"


@dataclass(frozen=True)
class Resource:
    """One resource as a rule sees it: engine type, camelCase properties, options and wiring."""

    urn: str
    type: str
    name: str
    props: Mapping[str, Any]
    protect: bool = False
    parent: str | None = None
    provider: str | None = None  # provider URN
    provider_props: Mapping[str, Any] = field(default_factory=dict[str, Any])
    dependencies: tuple[str, ...] = ()


@dataclass(frozen=True)
class StackFacts:
    """What the stack config says, where a rule depends on it (None: the config could not be read)."""

    environment: str | None = None
    backup: bool | None = None
    gitops: bool | None = None


@dataclass(frozen=True)
class Violation:
    urn: str | None
    message: str


@dataclass(frozen=True)
class Rule:
    name: str
    description: str
    remediation: str
    scope: Literal["resource", "stack"]
    check: Callable[..., Iterable[Any]]
    types: tuple[str, ...] = ()


RULES: list[Rule] = []


def resource_rule(name: str, types: tuple[str, ...], description: str, remediation: str):
    """Register `check(resource, facts) -> messages` for resources of the given types."""

    def register(check: Callable[[Resource, StackFacts], Iterable[str]]):
        RULES.append(Rule(name, description, remediation, "resource", check, types))
        return check

    return register


def stack_rule(name: str, description: str, remediation: str):
    """Register `check(resources, facts) -> violations` over the whole stack."""

    def register(check: Callable[[list[Resource], StackFacts], Iterable[Violation]]):
        RULES.append(Rule(name, description, remediation, "stack", check))
        return check

    return register


# --- reading properties ---------------------------------------------------------------------------


def is_mapping(value: object) -> TypeGuard[Mapping[str, Any]]:
    """An object of the engine's properties (JSON-like: its keys are strings)."""
    return isinstance(value, Mapping)


def is_list(value: object) -> TypeGuard[list[Any]]:
    return isinstance(value, list)


def prop(data: Any, path: str, default: Any = None) -> Any:
    """Dotted lookup ('vpcConfig.endpointPublicAccess'); UNKNOWN as soon as a step is unknown."""
    for part in path.split("."):
        if data is UNKNOWN:
            return UNKNOWN
        if is_mapping(data) and part in data:
            data = data[part]
        elif is_list(data) and part.isdigit() and int(part) < len(data):
            data = data[int(part)]
        else:
            return default
    return data


def is_true(value: Any) -> bool:
    """True, 'true', or not known yet (a rule never fails on what it cannot see)."""
    return value is UNKNOWN or value is True or (isinstance(value, str) and value.lower() == "true")


def is_false(value: Any) -> bool:
    return value is False or (isinstance(value, str) and value.lower() == "false")


def is_set(value: Any) -> bool:
    return value is UNKNOWN or bool(value)


def as_list(value: Any) -> list[Any]:
    return value if is_list(value) else []


def provider_setting(resource: Resource, key: str) -> Any:
    """A provider input; nested provider inputs reach the engine as JSON text."""
    value = resource.provider_props.get(key)
    if isinstance(value, str) and value[:1] in "{[":
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def environment_of(resource: Resource, facts: StackFacts) -> str | None:
    """The stack's environment; else the one its provider tags or labels resources with."""
    if facts.environment:
        return facts.environment
    tags: object = prop(provider_setting(resource, "defaultTags"), "tags", {}) or {}
    labels: object = provider_setting(resource, "defaultLabels") or {}
    for found in (prop(tags, ENVIRONMENT_TAG), prop(labels, ENVIRONMENT_LABEL), prop(labels, "environment")):
        if isinstance(found, str):
            return found
    return None


def is_prod(resource: Resource, facts: StackFacts) -> bool:
    return environment_of(resource, facts) == "prod"


def label(resource: Resource) -> str:
    """How messages name a resource: its physical name where set, else its Pulumi name."""
    physical = resource.props.get("name")
    if not isinstance(physical, str):  # S3 buckets name themselves `bucket`, Kubernetes objects metadata.name
        physical = resource.props.get("bucket")
    if not isinstance(physical, str):
        metadata = resource.props.get("metadata")
        physical = metadata.get("name") if is_mapping(metadata) else None
    if isinstance(physical, str) and physical != resource.name:
        return f"'{physical}' ({resource.name})"
    return f"'{resource.name}'"


def urn_types(urn: str) -> list[str]:
    """The type chain a URN spells out (parents first): always known, even on a first preview.

    `urn:pulumi:<stack>::<project>::<parent type>$<type>::<name>` -> [parent type, type].
    """
    parts = urn.split("::")
    return parts[2].split("$") if len(parts) >= 4 else []


def deployed_by(resource: Resource, component_type: str) -> bool:
    """Whether the resource sits under a component of this type (read from its URN)."""
    return component_type in urn_types(resource.urn)[:-1]


def props_known(resource: Resource) -> bool:
    """False for a resource whose outputs the engine does not have yet: created through a provider that a
    first preview cannot configure (its stack policy props are empty)."""
    return bool(resource.props)


# --- EKS -------------------------------------------------------------------------------------------


@resource_rule(
    "eks-secrets-encryption",
    (EKS_CLUSTER,),
    "EKS clusters encrypt Kubernetes Secrets with a KMS key (envelope encryption).",
    "Set encryptionConfig: {resources: [secrets], provider: {keyArn: <KMS key ARN>}} (EksCluster does).",
)
def eks_secrets_encryption(r: Resource, facts: StackFacts) -> Iterable[str]:
    config = prop(r.props, "encryptionConfig")
    if config is UNKNOWN:
        return
    resources = prop(config, "resources")
    if resources is not UNKNOWN and "secrets" not in as_list(resources):
        yield f"EKS cluster {label(r)} does not encrypt Secrets: encryptionConfig.resources must include 'secrets'"
    if not is_set(prop(config, "provider.keyArn")):
        yield f"EKS cluster {label(r)} has no KMS key for Secrets: set encryptionConfig.provider.keyArn"


@resource_rule(
    "eks-control-plane-logs",
    (EKS_CLUSTER,),
    "EKS clusters send every control-plane log type to CloudWatch.",
    f"Set enabledClusterLogTypes to {list(EKS_LOG_TYPES)}.",
)
def eks_control_plane_logs(r: Resource, facts: StackFacts) -> Iterable[str]:
    enabled = prop(r.props, "enabledClusterLogTypes")
    if enabled is UNKNOWN:
        return
    missing = [t for t in EKS_LOG_TYPES if t not in as_list(enabled)]
    if missing:
        yield f"EKS cluster {label(r)} does not log {', '.join(missing)}: add them to enabledClusterLogTypes"


@resource_rule(
    "eks-private-endpoint",
    (EKS_CLUSTER,),
    "In prod, the EKS API server has its private endpoint on and is never open to 0.0.0.0/0.",
    "Set endpoint.privateAccess: true and list only trusted CIDRs in endpoint.publicAccessCidrs ([] = private).",
)
def eks_private_endpoint(r: Resource, facts: StackFacts) -> Iterable[str]:
    if not is_prod(r, facts):
        return
    if is_false(prop(r.props, "vpcConfig.endpointPrivateAccess", False)):
        yield f"EKS cluster {label(r)} has no private endpoint in prod: set vpcConfig.endpointPrivateAccess to true"
    public = prop(r.props, "vpcConfig.endpointPublicAccess", True)  # AWS default: public on
    if is_false(public) or public is UNKNOWN:
        return
    cidrs = prop(r.props, "vpcConfig.publicAccessCidrs")
    if cidrs is UNKNOWN:
        return
    if not cidrs:
        yield (
            f"EKS cluster {label(r)} exposes its API to 0.0.0.0/0 in prod (public endpoint without "
            "publicAccessCidrs): disable the public endpoint or restrict it to trusted CIDRs"
        )
    elif any(_is_everywhere(c) for c in as_list(cidrs)):
        yield (
            f"EKS cluster {label(r)} exposes its API to 0.0.0.0/0 in prod: remove it from "
            "vpcConfig.publicAccessCidrs (endpoint.publicAccessCidrs in the stack config)"
        )


def _is_everywhere(cidr: Any) -> bool:
    try:
        return isinstance(cidr, str) and ipaddress.ip_network(cidr, strict=False).prefixlen == 0
    except ValueError:
        return False


@resource_rule(
    "eks-imdsv2",
    (LAUNCH_TEMPLATE,),
    "Node launch templates require IMDSv2 (session tokens), so pods cannot steal node credentials via IMDSv1.",
    "Set metadataOptions: {httpTokens: required, httpPutResponseHopLimit: 2} on the launch template.",
)
def eks_imdsv2(r: Resource, facts: StackFacts) -> Iterable[str]:
    tokens = prop(r.props, "metadataOptions.httpTokens")
    if tokens is not UNKNOWN and tokens != "required":
        yield f"launch template {label(r)} allows IMDSv1: set metadataOptions.httpTokens to 'required'"


@resource_rule(
    "eks-encrypted-node-volumes",
    (LAUNCH_TEMPLATE,),
    "Node volumes are encrypted at rest.",
    "Give the launch template a blockDeviceMappings entry for the root device with ebs.encrypted: 'true'.",
)
def eks_encrypted_volumes(r: Resource, facts: StackFacts) -> Iterable[str]:
    mappings = prop(r.props, "blockDeviceMappings")
    if mappings is UNKNOWN:
        return
    volumes = [m for m in as_list(mappings) if is_mapping(m) and "ebs" in m]
    if not volumes:
        yield (
            f"launch template {label(r)} leaves the root volume to the AMI default (unencrypted unless the account "
            "enforces it): add a blockDeviceMappings entry with ebs.encrypted 'true'"
        )
    for mapping in volumes:
        if not is_true(prop(mapping, "ebs.encrypted")):
            device = mapping.get("deviceName", "?")
            yield f"launch template {label(r)} has an unencrypted volume {device}: set ebs.encrypted to 'true'"


# --- GKE -------------------------------------------------------------------------------------------


@resource_rule(
    "gke-private-nodes",
    (GKE_CLUSTER,),
    "GKE nodes have internal IP addresses only.",
    "Set privateClusterConfig.enablePrivateNodes: true (GkeCluster does).",
)
def gke_private_nodes(r: Resource, facts: StackFacts) -> Iterable[str]:
    legacy = prop(r.props, "privateClusterConfig.enablePrivateNodes")
    current = prop(r.props, "networkConfig.enablePrivateNodes")
    if not (is_true(legacy) or is_true(current)):
        yield f"GKE cluster {label(r)} gives nodes public IPs: set privateClusterConfig.enablePrivateNodes to true"


@resource_rule(
    "gke-workload-identity",
    (GKE_CLUSTER, GKE_NODE_POOL),
    "GKE uses Workload Identity: pods get Google identities through the GKE metadata server, never the node's.",
    "Set workloadIdentityConfig.workloadPool to '<project>.svc.id.goog' on the cluster and "
    "nodeConfig.workloadMetadataConfig.mode to GKE_METADATA on every node pool.",
)
def gke_workload_identity(r: Resource, facts: StackFacts) -> Iterable[str]:
    if r.type == GKE_CLUSTER:
        if not is_set(prop(r.props, "workloadIdentityConfig.workloadPool")):
            yield f"GKE cluster {label(r)} has no Workload Identity: set workloadIdentityConfig.workloadPool"
        return
    mode = prop(r.props, "nodeConfig.workloadMetadataConfig.mode")
    if mode is not UNKNOWN and mode != "GKE_METADATA":
        yield (
            f"GKE node pool {label(r)} exposes the node's metadata server to pods: "
            "set nodeConfig.workloadMetadataConfig.mode to GKE_METADATA"
        )


@resource_rule(
    "gke-shielded-nodes",
    (GKE_CLUSTER, GKE_NODE_POOL),
    "GKE nodes are Shielded VMs with Secure Boot.",
    "Set enableShieldedNodes: true on the cluster and nodeConfig.shieldedInstanceConfig.enableSecureBoot: true "
    "on every node pool.",
)
def gke_shielded_nodes(r: Resource, facts: StackFacts) -> Iterable[str]:
    if r.type == GKE_CLUSTER:
        if not is_true(prop(r.props, "enableShieldedNodes", False)):
            yield f"GKE cluster {label(r)} does not require Shielded nodes: set enableShieldedNodes to true"
        return
    if not is_true(prop(r.props, "nodeConfig.shieldedInstanceConfig.enableSecureBoot", False)):
        yield (
            f"GKE node pool {label(r)} boots without Secure Boot: "
            "set nodeConfig.shieldedInstanceConfig.enableSecureBoot to true"
        )


@resource_rule(
    "gke-no-legacy-abac",
    (GKE_CLUSTER,),
    "GKE clusters authorize with RBAC only (legacy ABAC grants broad rights).",
    "Set enableLegacyAbac: false (the default).",
)
def gke_no_legacy_abac(r: Resource, facts: StackFacts) -> Iterable[str]:
    abac = prop(r.props, "enableLegacyAbac", False)
    if abac is not UNKNOWN and is_true(abac):
        yield f"GKE cluster {label(r)} enables legacy ABAC: set enableLegacyAbac to false"


@resource_rule(
    "gke-no-default-service-account",
    (GKE_CLUSTER, GKE_NODE_POOL),
    "GKE nodes never run as the Compute Engine default service account (Editor on the whole project).",
    "Set nodeConfig.serviceAccount to a dedicated least-privilege account (GkeCluster creates one per cluster).",
)
def gke_no_default_service_account(r: Resource, facts: StackFacts) -> Iterable[str]:
    node_config = prop(r.props, "nodeConfig")
    if r.type == GKE_CLUSTER and not node_config:
        return  # the cluster defines no node config of its own (only its node pools run nodes)
    account = prop(node_config, "serviceAccount")
    if account is UNKNOWN:
        return
    if not account or account == "default" or str(account).endswith(DEFAULT_COMPUTE_ACCOUNT_SUFFIX):
        kind = "cluster" if r.type == GKE_CLUSTER else "node pool"
        yield (
            f"GKE {kind} {label(r)} runs nodes as the default compute service account: "
            "set nodeConfig.serviceAccount to a dedicated account"
        )


@resource_rule(
    "gke-secrets-encryption",
    (GKE_CLUSTER,),
    "GKE clusters encrypt Kubernetes Secrets with a Cloud KMS key (application-layer encryption).",
    "Set databaseEncryption: {state: ENCRYPTED, keyName: <Cloud KMS key id>} (GkeCluster does).",
)
def gke_secrets_encryption(r: Resource, facts: StackFacts) -> Iterable[str]:
    state = prop(r.props, "databaseEncryption.state")
    if state is UNKNOWN:
        return
    if state != "ENCRYPTED" or not is_set(prop(r.props, "databaseEncryption.keyName")):
        yield (
            f"GKE cluster {label(r)} does not encrypt Secrets with Cloud KMS: "
            "set databaseEncryption.state to ENCRYPTED and databaseEncryption.keyName"
        )


# --- backups ---------------------------------------------------------------------------------------


@stack_rule(
    "s3-bucket-hardened",
    "S3 buckets are versioned, encrypted with KMS and block every kind of public access.",
    "Give each bucket a BucketVersioning (status Enabled), a BucketServerSideEncryptionConfiguration "
    "(sseAlgorithm aws:kms) and a BucketPublicAccessBlock with all four flags true.",
)
def s3_bucket_hardened(resources: list[Resource], facts: StackFacts) -> Iterable[Violation]:
    for bucket in (r for r in resources if r.type in S3_BUCKETS):
        companions = [r for r in resources if _configures(r, bucket)]
        if not _s3_versioned(bucket, companions):
            yield Violation(
                bucket.urn,
                f"S3 bucket {label(bucket)} is not versioned: add a BucketVersioning "
                "with versioningConfiguration.status 'Enabled'",
            )
        if not _s3_kms(bucket, companions):
            yield Violation(
                bucket.urn,
                f"S3 bucket {label(bucket)} is not encrypted with KMS: add a "
                "BucketServerSideEncryptionConfiguration with sseAlgorithm 'aws:kms'",
            )
        blocks = [c for c in companions if c.type == S3_PUBLIC_ACCESS_BLOCK]
        missing = sorted(
            {flag for flag in S3_PUBLIC_ACCESS_FLAGS if not any(is_true(c.props.get(flag)) for c in blocks)}
        )
        if missing:
            yield Violation(
                bucket.urn,
                f"S3 bucket {label(bucket)} does not block public access "
                f"({', '.join(missing)}): add a BucketPublicAccessBlock with all four flags true",
            )


def _configures(companion: Resource, bucket: Resource) -> bool:
    """A bucket-level setting resource that applies to `bucket` (by dependency, or by name once known)."""
    if bucket.urn in companion.dependencies:
        return True
    target = companion.props.get("bucket")
    return isinstance(target, str) and target in (bucket.props.get("bucket"), bucket.props.get("id"))


def _s3_versioned(bucket: Resource, companions: list[Resource]) -> bool:
    inline = prop(bucket.props, "versioning.enabled")
    if is_true(inline) and inline is not None:
        return True
    return any(
        c.type in S3_VERSIONING and prop(c.props, "versioningConfiguration.status") in ("Enabled", UNKNOWN)
        for c in companions
    )


def _s3_kms(bucket: Resource, companions: list[Resource]) -> bool:
    configs = [c.props for c in companions if c.type in S3_ENCRYPTION]
    configs.append(prop(bucket.props, "serverSideEncryptionConfiguration", {}) or {})
    for config in configs:
        for rule in as_list(prop(config, "rules")) + as_list([prop(config, "rule")] if prop(config, "rule") else []):
            algorithm = prop(rule, "applyServerSideEncryptionByDefault.sseAlgorithm")
            if algorithm is UNKNOWN or algorithm in KMS_ALGORITHMS:
                return True
    return False


@resource_rule(
    "gcs-bucket-hardened",
    (GCS_BUCKET,),
    "GCS buckets use uniform bucket-level access, enforce public access prevention and keep object versions.",
    "Set uniformBucketLevelAccess: true, publicAccessPrevention: enforced and versioning.enabled: true.",
)
def gcs_bucket_hardened(r: Resource, facts: StackFacts) -> Iterable[str]:
    if not is_true(prop(r.props, "uniformBucketLevelAccess", False)):
        yield f"GCS bucket {label(r)} allows object ACLs: set uniformBucketLevelAccess to true"
    prevention = prop(r.props, "publicAccessPrevention")
    if prevention is not UNKNOWN and prevention != "enforced":
        yield f"GCS bucket {label(r)} can be made public: set publicAccessPrevention to 'enforced'"
    if not is_true(prop(r.props, "versioning.enabled", False)):
        yield f"GCS bucket {label(r)} is not versioned: set versioning.enabled to true"


@resource_rule(
    "buckets-protected-in-prod",
    (*S3_BUCKETS, GCS_BUCKET),
    "In prod, buckets (backups) are protected: Pulumi refuses to delete them.",
    "Create the bucket with ResourceOptions(protect=True, retain_on_delete=True) when the stack is protected.",
)
def buckets_protected(r: Resource, facts: StackFacts) -> Iterable[str]:
    if is_prod(r, facts) and not r.protect:
        yield f"bucket {label(r)} is not protected in prod: set protect (multicluster:protect true)"


# --- DNS -------------------------------------------------------------------------------------------


def _route53_routed(r: Resource) -> bool:
    return r.type == ROUTE53_RECORD and is_set(r.props.get("setIdentifier"))


def _route53_self_alias(r: Resource) -> bool:
    """An alias to another name of the same zone: it follows that name's health (evaluateTargetHealth)."""
    aliases = as_list(r.props.get("aliases"))
    return bool(aliases) and all(prop(a, "zoneId") == r.props.get("zoneId") for a in aliases)


@resource_rule(
    "dns-health-checks",
    (ROUTE53_RECORD, CLOUDDNS_RECORD_SET),
    "Every routed DNS record that points at a cluster is health-checked, so a failed cluster leaves the answers.",
    "Route53: set healthCheckId on each record with a setIdentifier (aliases within the zone need "
    "evaluateTargetHealth: true). Cloud DNS: set routingPolicy.healthCheck and healthCheckedTargets on every item.",
)
def dns_health_checks(r: Resource, facts: StackFacts) -> Iterable[str]:
    if r.type == ROUTE53_RECORD:
        if not _route53_routed(r):
            return
        if _route53_self_alias(r):
            if not all(is_true(prop(a, "evaluateTargetHealth", False)) for a in as_list(r.props.get("aliases"))):
                yield f"Route53 record {label(r)} aliases a routed name without evaluateTargetHealth: set it to true"
        elif not is_set(r.props.get("healthCheckId")):
            yield (
                f"Route53 record {label(r)} (set {r.props.get('setIdentifier')}) is routed without a health check: "
                "set healthCheckId"
            )
        return
    policy = prop(r.props, "routingPolicy")
    if not policy or policy is UNKNOWN:
        return
    if not is_set(prop(policy, "healthCheck")):
        yield f"Cloud DNS record set {label(r)} is routed without a health check: set routingPolicy.healthCheck"
    unchecked = [where for where, item in _clouddns_items(policy) if not is_set(prop(item, "healthCheckedTargets"))]
    if unchecked:
        yield (
            f"Cloud DNS record set {label(r)} answers without health checks in {', '.join(unchecked)}: "
            "use healthCheckedTargets instead of rrdatas"
        )


def _clouddns_items(policy: Mapping[str, Any]) -> list[tuple[str, Any]]:
    items = [(f"wrrs[{i}]", item) for i, item in enumerate(as_list(policy.get("wrrs")))]
    items += [(f"geos[{i}]", item) for i, item in enumerate(as_list(policy.get("geos")))]
    primary_backup = policy.get("primaryBackup")
    if is_mapping(primary_backup):
        items.append(("primaryBackup.primary", {"healthCheckedTargets": primary_backup.get("primary")}))
        backups = as_list(primary_backup.get("backupGeos"))
        items += [(f"primaryBackup.backupGeos[{i}]", item) for i, item in enumerate(backups)]
    return items


@resource_rule(
    "dns-health-checked-ttl",
    (ROUTE53_RECORD, CLOUDDNS_RECORD_SET),
    f"Health-checked DNS records have a TTL of at most {MAX_HEALTH_CHECKED_TTL} seconds, so failover is not "
    "hidden by resolver caches.",
    f"Set multicluster:dns.ttl to {MAX_HEALTH_CHECKED_TTL} or less.",
)
def dns_health_checked_ttl(r: Resource, facts: StackFacts) -> Iterable[str]:
    checked = is_set(r.props.get("healthCheckId")) if r.type == ROUTE53_RECORD else bool(prop(r.props, "routingPolicy"))
    ttl = r.props.get("ttl")
    if checked and isinstance(ttl, int | float) and not isinstance(ttl, bool) and ttl > MAX_HEALTH_CHECKED_TTL:
        yield f"DNS record {label(r)} is health-checked with TTL {int(ttl)}s: lower it to {MAX_HEALTH_CHECKED_TTL}s"


# --- the fleet as a whole -------------------------------------------------------------------------


@dataclass(frozen=True)
class FleetCluster:
    """A cluster of the fleet as the stack shows it: its component, control plane and Kubernetes providers."""

    name: str
    component: str
    control_plane: Resource
    region: str | None
    providers: frozenset[str]


def fleet_clusters(resources: list[Resource]) -> list[FleetCluster]:
    parents = {r.urn: r.parent for r in resources}
    clusters: list[FleetCluster] = []
    for plane in (r for r in resources if r.type in CLUSTER_TYPES and r.parent):
        component = plane.parent
        assert component is not None
        providers = frozenset(
            r.urn for r in resources if r.type == "pulumi:providers:kubernetes" and parents.get(r.urn) == component
        )
        region = plane.props.get("location") if plane.type == GKE_CLUSTER else plane.provider_props.get("region")
        name = component.rsplit("::", 1)[-1]
        clusters.append(FleetCluster(name, component, plane, region if isinstance(region, str) else None, providers))
    return sorted(clusters, key=lambda c: c.name)


def _in_cluster(resource: Resource, cluster: FleetCluster, parents: Mapping[str, str | None]) -> bool:
    """Deployed into the cluster: through one of its Kubernetes providers, or after its nodes."""
    if resource.provider in cluster.providers:
        return True
    return any(parents.get(dep) == cluster.component for dep in resource.dependencies)


@stack_rule(
    "prod-multi-region",
    "A prod fleet spans at least two regions, so a regional outage leaves a cluster serving.",
    "Add a cluster in another region (AWS or GCP) to the prod stack.",
)
def prod_multi_region(resources: list[Resource], facts: StackFacts) -> Iterable[Violation]:
    clusters = fleet_clusters(resources)
    if not clusters or not _stack_is_prod(clusters, facts):
        return
    regions = sorted({c.region for c in clusters if c.region})
    if len(regions) < 2:
        yield Violation(
            None,
            f"prod fleet runs in {len(regions)} region(s) ({', '.join(regions) or 'unknown'}): "
            "prod needs clusters in at least two regions",
        )


def _stack_is_prod(clusters: list[FleetCluster], facts: StackFacts) -> bool:
    return any(is_prod(c.control_plane, facts) for c in clusters)


VELERO_COMPONENT = "multicluster:backup:VeleroBackup"
ARGOCD_COMPONENT = "multicluster:gitops:ArgoCd"
REGISTRATION_COMPONENT = "multicluster:gitops:ClusterRegistration"


def _chart(r: Resource) -> str:
    return str(r.props.get("chart", "")).rsplit("/", 1)[-1]


def _velero_release(r: Resource) -> bool:
    """A Velero release: by its chart, or (outputs not known yet) by the component that deploys it."""
    if r.type != HELM_RELEASE:
        return False
    return _chart(r) == "velero" if props_known(r) else deployed_by(r, VELERO_COMPONENT)


def _has_schedules(r: Resource) -> bool:
    """Known outputs must show schedules; unknown ones are judged by `velero-schedules` on the inputs."""
    return r.type == VELERO_SCHEDULE or not props_known(r) or is_set(prop(r.props, "values.schedules"))


@stack_rule(
    "every-cluster-backed-up",
    "Every cluster has scheduled backups (Velero) once backups are configured, and prod always has them.",
    "Configure multicluster:backup with at least one schedule; it installs Velero with the schedules in every cluster.",
)
def every_cluster_backed_up(resources: list[Resource], facts: StackFacts) -> Iterable[Violation]:
    clusters = fleet_clusters(resources)
    backups = [r for r in resources if (_velero_release(r) and _has_schedules(r)) or r.type == VELERO_SCHEDULE]
    configured = facts.backup if facts.backup is not None else bool(backups)
    if not clusters or not (configured or _stack_is_prod(clusters, facts)):
        return
    parents = {r.urn: r.parent for r in resources}
    for cluster in clusters:
        if not any(_in_cluster(b, cluster, parents) for b in backups):
            why = "" if configured else " (prod: configure multicluster:backup)"
            yield Violation(cluster.component, f"cluster '{cluster.name}' has no scheduled backups{why}")


@resource_rule(
    "velero-schedules",
    (HELM_RELEASE,),
    "A Velero release carries at least one schedule, and every schedule writes to a storage location.",
    "Keep at least one entry in multicluster:backup.schedules (each becomes a Velero schedule).",
)
def velero_schedules(r: Resource, facts: StackFacts) -> Iterable[str]:
    if _chart(r) != "velero":
        return
    schedules = prop(r.props, "values.schedules")
    if schedules is UNKNOWN:
        return
    if not is_mapping(schedules) or not schedules:
        yield f"Velero release {label(r)} has no schedules: nothing would ever be backed up"
        return
    for key, schedule in schedules.items():
        location = prop(schedule, "template.storageLocation")
        if not is_set(location):
            yield f"Velero schedule '{key}' of {label(r)} names no storage location (template.storageLocation)"


def _argocd_hub_release(r: Resource) -> bool:
    if r.type != HELM_RELEASE:
        return False
    return _chart(r) == "argo-cd" if props_known(r) else deployed_by(r, ARGOCD_COMPONENT)


def _argocd_cluster_secret(r: Resource) -> bool:
    if r.type != K8S_SECRET:
        return False
    if not props_known(r):
        return deployed_by(r, REGISTRATION_COMPONENT)
    labels = prop(r.props, "metadata.labels")  # label keys hold dots: no dotted lookup into them
    return is_mapping(labels) and labels.get(ARGOCD_CLUSTER_LABEL) == "cluster"


def _registers(secret: Resource, cluster: FleetCluster) -> bool:
    if cluster.control_plane.urn in secret.dependencies:
        return True
    name = prop(secret.props, "stringData.name")
    return isinstance(name, str) and name == cluster.name


@stack_rule(
    "every-cluster-in-gitops",
    "When GitOps is configured, every cluster is registered with the Argo CD hub.",
    "Keep every cluster in multicluster:gitops (the hub registers each with a cluster Secret).",
)
def every_cluster_in_gitops(resources: list[Resource], facts: StackFacts) -> Iterable[Violation]:
    hubs = {r.provider for r in resources if _argocd_hub_release(r)}
    configured = facts.gitops if facts.gitops is not None else bool(hubs)
    if not configured:
        return
    secrets = [r for r in resources if _argocd_cluster_secret(r) and r.provider in hubs]
    for cluster in fleet_clusters(resources):
        if not any(_registers(s, cluster) for s in secrets):
            yield Violation(cluster.component, f"cluster '{cluster.name}' is not registered with the Argo CD hub")


@resource_rule(
    "argocd-cluster-secrets",
    (K8S_SECRET,),
    "Argo CD cluster Secrets name their cluster and server and verify the server's certificate.",
    "Let the gitops capability write the cluster Secrets (name, server, config with tlsClientConfig.insecure false).",
)
def argocd_cluster_secrets(r: Resource, facts: StackFacts) -> Iterable[str]:
    labels = prop(r.props, "metadata.labels")
    if not is_mapping(labels) or labels.get(ARGOCD_CLUSTER_LABEL) != "cluster":
        return
    data = prop(r.props, "stringData")
    if data is UNKNOWN or not is_mapping(data):
        return
    for key in ("name", "server", "config"):
        if not is_set(data.get(key)):
            yield f"Argo CD cluster Secret {label(r)} lacks stringData.{key}"
    config = data.get("config")
    if isinstance(config, str):
        try:
            parsed = json.loads(config)
        except ValueError:
            yield f"Argo CD cluster Secret {label(r)} has a config that is not JSON"
            return
        if prop(parsed, "tlsClientConfig.insecure") is True:
            yield f"Argo CD cluster Secret {label(r)} skips TLS verification (tlsClientConfig.insecure)"


# --- running the rules -----------------------------------------------------------------------------


def violations_of(rule: Rule, resources: list[Resource], facts: StackFacts) -> list[Violation]:
    if rule.scope == "stack":
        return list(rule.check(resources, facts))
    return [Violation(r.urn, message) for r in resources if r.type in rule.types for message in rule.check(r, facts)]


def evaluate(resources: list[Resource], facts: StackFacts) -> list[dict[str, Any]]:
    """Every rule over the resources: one result per rule, as the offline plan reports them."""
    return [
        {
            "policy": rule.name,
            "enforcement": MANDATORY,
            "description": rule.description,
            "remediation": rule.remediation,
            "violations": [{"urn": v.urn, "message": v.message} for v in violations_of(rule, resources, facts)],
        }
        for rule in RULES
    ]
