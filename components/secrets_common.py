"""What the secrets capability (components/secrets.py) and its per-cloud identities (components/secrets_aws.py,
components/secrets_gcp.py) share: names, props and the store a cloud builds."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import pulumi

from .cluster import ClusterPort
from .config.secrets import ExtraStore

NAMESPACE = "external-secrets"
CONTROLLER = "external-secrets"  # the chart's controller service account (fullnameOverride): no cloud identity
# The service account the cluster stores authenticate as (auth.jwt / auth.workloadIdentity serviceAccountRef). The
# controller itself holds no cloud identity: a store without `auth` (which any namespace editor may create) uses
# the controller's ambient credentials, and those must read nothing.
PLATFORM_ACCOUNT = "platform-secrets"
TEAM_ACCOUNT = "team-secrets"  # the service account a team's SecretStore authenticates as
STORES_API = "external-secrets.io/v1"  # the version external-secrets 2.9.0 serves and stores (its CRDs)


@dataclass(frozen=True)
class SecretsProps:
    """Props of one cluster's secrets: the fleet's prefix, its teams here, the extra stores it may read."""

    cluster: ClusterPort
    prefix: str  # the fleet's secrets are named `<prefix>/...` (AWS) or `<prefix>_...` (Google)
    teams: tuple[str, ...] = ()
    extra: tuple[ExtraStore, ...] = field(default_factory=tuple)


class CloudSecrets(Protocol):
    """One cloud's half of a cluster's secrets: the identities and how stores reach its secret manager."""

    # Annotations of the platform-secrets service account (the cluster stores' keyless identity).
    platform_annotations: dict[str, pulumi.Input[str]]
    # Team -> annotations of its team-secrets service account.
    team_annotations: dict[str, dict[str, pulumi.Input[str]]]
    access: list[pulumi.Resource]  # what stores wait for (the grants)

    def provider(self, store: ExtraStore | None) -> dict[str, Any]: ...  # ClusterSecretStore spec.provider

    def team_provider(self, team: str) -> dict[str, Any]: ...  # a team SecretStore's spec.provider
