"""Physical names the providers make up for resources that are not given one (Pulumi auto-naming).

The Terraform bridge (pulumi-aws, pulumi-gcp) fills an auto-named field in the provider's Check:
`<resource name><separator><7 random hex characters>` (pkg/tfbridge/info/autonaming.go `AutoName`, which
calls sdk/go/common/resource `NewUniqueName`). When the resource name plus the separator and the random part
is longer than the field allows, Check fails with "could not make instance of '<type>': name '<name>-' plus
7 random chars is longer than maximum length <n>": the bridge never truncates. The bridge's maximum is often
looser than the API's (255 by default): the API's own limit is then a field rule of the judge.
pulumi-kubernetes names `metadata.name` and Helm release names with 8 hex characters and no length check.

The engine seeds the random part afresh for each resource in each deployment; the mocks derive it from the
stack and the URN instead, so a plan is repeatable and two stacks never share a physical name.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from .values import is_dict

HEX = "0123456789abcdef"


@dataclass(frozen=True)
class AutoName:
    """How one provider auto-names one field of one resource type."""

    field: str  # camelCase input (dotted for nested: metadata.name)
    maxlen: int | None
    source: str
    separator: str = "-"
    randlen: int = 7
    charset: str = HEX
    lowercase: bool = False


class AutoNameTooLongError(ValueError):
    """The provider's Check rejects the resource: the auto-name would not fit (the bridge's own words)."""

    def __init__(self, type_: str, auto: AutoName, prefix: str):
        self.type = type_
        self.auto = auto
        self.prefix = prefix
        super().__init__(
            f"name '{prefix}' plus {auto.randlen} random chars is longer than maximum length {auto.maxlen}"
        )


_BRIDGE = "pulumi-terraform-bridge pkg/tfbridge/info/autonaming.go AutoName; "
_AWS = _BRIDGE + "pulumi-aws provider/autonaming.go (default AutoName(name, 255, -)), resource_overrides.go"
_GCP = _BRIDGE + "pulumi-gcp provider/resources.go (prov.SetAutonaming(255, -), lowercaseAutoName: 63)"
_K8S = "pulumi-kubernetes provider/pkg/metadata AssignNameIfAutonamable: NewUniqueName(seed, name-, 0, 0) = 8 hex"


def _aws_default(field: str = "name") -> AutoName:
    return AutoName(field, 255, _AWS)


def _gcp_default(field: str = "name") -> AutoName:
    return AutoName(field, 255, _GCP)


def _gcp_lowercase() -> AutoName:
    return AutoName("name", 63, _GCP + " (lowercaseAutoName)", lowercase=True)


AUTONAMES: dict[str, AutoName] = {
    # pulumi-aws: overrides of resource_overrides.go, and the default for every other `name` input.
    "aws:iam/role:Role": AutoName("name", 64, _AWS + " (aws_iam_role: AutoName(name, 64, -))"),
    "aws:s3/bucket:Bucket": AutoName(
        "bucket", 63, _AWS + " (aws_s3_bucket: AutoNameTransform(bucket, 63, strings.ToLower))", lowercase=True
    ),
    "aws:eks/nodeGroup:NodeGroup": AutoName("nodeGroupName", 255, _AWS + " (aws_eks_node_group: nodeGroupName, 255)"),
    "aws:iam/rolePolicy:RolePolicy": _aws_default(),
    "aws:iam/policy:Policy": _aws_default(),
    "aws:ec2/launchTemplate:LaunchTemplate": _aws_default(),
    "aws:ec2/securityGroup:SecurityGroup": _aws_default(),
    "aws:ec2/managedPrefixList:ManagedPrefixList": _aws_default(),
    "aws:route53/resolverEndpoint:ResolverEndpoint": _aws_default(),
    "aws:route53/resolverRule:ResolverRule": _aws_default(),
    "aws:route53/resolverRuleAssociation:ResolverRuleAssociation": _aws_default(),
    "aws:cloudwatch/logGroup:LogGroup": _aws_default(),
    "aws:eks/cluster:Cluster": _aws_default(),
    # pulumi-gcp: lowercaseAutoName for network resources, the default (no lowercase) elsewhere.
    "gcp:compute/network:Network": _gcp_lowercase(),
    "gcp:compute/subnetwork:Subnetwork": _gcp_lowercase(),
    "gcp:compute/router:Router": _gcp_lowercase(),
    "gcp:compute/routerNat:RouterNat": _gcp_lowercase(),
    "gcp:compute/firewall:Firewall": _gcp_default(),
    "gcp:compute/healthCheck:HealthCheck": _gcp_default(),
    "gcp:compute/address:Address": _gcp_default(),
    "gcp:container/cluster:Cluster": _gcp_default(),
    "gcp:container/nodePool:NodePool": _gcp_default(),
    "gcp:kms/keyRing:KeyRing": _gcp_default(),
    "gcp:kms/cryptoKey:CryptoKey": _gcp_default(),
    "gcp:dns/managedZone:ManagedZone": _gcp_default(),
    "gcp:storage/bucket:Bucket": AutoName("name", 222, _GCP + " (google_storage_bucket: AutoName(name, 222, -))"),
    "gcp:serviceaccount/account:Account": AutoName("accountId", 30, _GCP + " (accountId: AutoName(30))"),
    "gcp:projects/iAMCustomRole:IAMCustomRole": AutoName("roleId", 255, _GCP + " (roleId: AutoName(255))"),
}
# Kubernetes objects (metadata.name) and Helm releases (name): 8 hex characters, no length check by the
# provider itself (the API server and Helm check the length: judge/kubernetes.py).
KUBERNETES_AUTONAME = AutoName("metadata.name", None, _K8S, randlen=8)
HELM_RELEASE_AUTONAME = AutoName(
    "name", None, "pulumi-kubernetes helm_release.go assignNameIfAutonameable: NewUniqueHex(name-, 0, 0)", randlen=8
)


def auto_name_of(type_: str) -> AutoName | None:
    if type_ in AUTONAMES:
        return AUTONAMES[type_]
    if type_ == "kubernetes:helm.sh/v3:Release":
        return HELM_RELEASE_AUTONAME
    if type_.startswith("kubernetes:") and not type_.startswith("kubernetes:helm.sh/"):
        return KUBERNETES_AUTONAME
    return None


def random_suffix(seed: str, length: int, charset: str) -> str:
    """Deterministic 'random' characters: the same stack and resource always get the same ones."""
    value = int(hashlib.sha256(seed.encode()).hexdigest(), 16)
    chars: list[str] = []
    for _ in range(length):
        value, index = divmod(value, len(charset))
        chars.append(charset[index])
    return "".join(chars)


def unique_name(type_: str, auto: AutoName, name: str, stack: str, urn: str) -> str:
    prefix = (name.lower() if auto.lowercase else name) + auto.separator
    if auto.maxlen is not None and len(prefix) + auto.randlen > auto.maxlen:
        raise AutoNameTooLongError(type_, auto, prefix)
    return prefix + random_suffix(f"{stack}/{urn}", auto.randlen, auto.charset)


def _get(data: dict[str, Any], path: str) -> Any:
    value: Any = data
    for part in path.split("."):
        if not is_dict(value):
            return None
        value = value.get(part)
    return value


def _set(data: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    head, _, rest = path.partition(".")
    copy = dict(data)
    copy[head] = _set(dict(copy.get(head) or {}), rest, value) if rest else value
    return copy


def apply_auto_names(
    type_: str, name: str, inputs: dict[str, Any], stack: str, urn: str
) -> tuple[dict[str, Any], dict[str, Any], AutoNameTooLongError | None]:
    """The inputs after the provider's Check, the auto-named top-level fields it added, and its refusal.

    The second value holds top-level keys only (the whole `metadata` map for Kubernetes objects), ready to
    be merged into the wire inputs. A name that would not fit is refused (third value); the plan carries on
    with the name cut to fit, and the judge reports the refusal.
    """
    auto = auto_name_of(type_)
    if auto is None or _get(inputs, auto.field) is not None:
        return inputs, {}, None
    refused = None
    try:
        value = unique_name(type_, auto, name, stack, urn)
    except AutoNameTooLongError as error:
        refused = error
        value = (error.prefix + random_suffix(urn, auto.randlen, auto.charset))[-(auto.maxlen or 0) :]
    checked = _set(inputs, auto.field, value)
    top = auto.field.split(".", 1)[0]
    return checked, {top: checked[top]}, refused
