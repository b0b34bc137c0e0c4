"""Config block `multicluster:gitops`: the Argo CD hub and the applications it fans out to the fleet."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Annotated, Any, Literal, cast

from pydantic import AfterValidator, BeforeValidator, Field

from .base import Issue, Model, dns_label, format_path
from .clusters import ClusterConfig, cluster_labels
from .fleetview import BlockRules
from .needs import Needs

if TYPE_CHECKING:
    from .fleetview import FleetView

DEFAULT_CHART_VERSION = "10.1.1"  # argo-cd chart 10.1.1 = Argo CD v3.4.4
# Exact versions only (10.1.1, 10.2.0-rc.1): ranges such as ^10 or 10.x would let a re-run upgrade Argo CD.
PINNED_SEMVER = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z.-]+)?$")
HTTPS_GIT_URL = re.compile(r"^https://[A-Za-z0-9.-]+(:\d+)?(/[A-Za-z0-9._~%+-]+)+/?$")
SSH_GIT_URL = re.compile(
    r"^(ssh://[A-Za-z0-9._-]+@[A-Za-z0-9.-]+(:\d+)?(/[A-Za-z0-9._~%+-]+)+"
    r"|[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:[A-Za-z0-9._~%+-]+(/[A-Za-z0-9._~%+-]+)*)/?$"
)
# A git ref: no whitespace, no '..', none of the characters git forbids in ref names.
GIT_REVISION = re.compile(r"^(?!.*\.\.)[^\s~^:?*\[\\]+$")
LABEL_KEY = re.compile(r"^([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$")
LABEL_VALUE = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$")
# `{{key}}` in an application path: `name` (the cluster) or one of the cluster's registration labels.
PATH_PLACEHOLDER = re.compile(r"{{\s*([^{}\s]*)\s*}}")
# Applications are generated as `<application>-<cluster>`, which must stay a 63-character label.
APPLICATION_NAME_LENGTH = 63 - 1 - 24


class Placement(Model):
    """Which clusters of the environment an application goes to (parsed from the YAML shorthand)."""

    kind: Literal["all", "residency", "labels"]
    residency: str | None = None
    labels: dict[str, str] = Field(default_factory=dict)

    def __str__(self) -> str:
        if self.kind == "residency":
            return f"residency:{self.residency}"
        if self.kind == "labels":
            return "labels: {" + ", ".join(f"{k}: {v}" for k, v in self.labels.items()) + "}"
        return "all"

    def selects(self, labels: dict[str, str]) -> bool:
        """True when a cluster with these registration labels receives the application."""
        if self.kind == "residency":
            return labels.get("residency") == self.residency
        return all(labels.get(k) == v for k, v in self.labels.items())


PLACEMENT_HELP = "must be 'all', 'residency:<key>' or {labels: {key: value}}"


def parse_placement(value: Any) -> Any:
    if isinstance(value, Placement):
        return value
    if value == "all":
        return Placement(kind="all")
    if isinstance(value, str) and value.startswith("residency:") and value.removeprefix("residency:"):
        return Placement(kind="residency", residency=value.removeprefix("residency:"))
    if isinstance(value, dict):
        mapping = cast(dict[Any, Any], value)
        labels: Any = mapping.get("labels")
        if set(mapping) == {"labels"} and isinstance(labels, dict) and labels:
            return Placement(kind="labels", labels=_selector(cast(dict[Any, Any], labels)))
    raise ValueError(f"{PLACEMENT_HELP} (got {value!r})")


def _selector(labels: dict[Any, Any]) -> dict[str, str]:
    for key, value in labels.items():
        if not isinstance(key, str) or not LABEL_KEY.match(key):
            raise ValueError(f"label key {key!r} is not a valid Kubernetes label key")
        if not isinstance(value, str) or not LABEL_VALUE.match(value):
            raise ValueError(f"label value {value!r} of '{key}' is not a valid Kubernetes label value")
    return dict(labels)


def git_url(value: str) -> str:
    if not (HTTPS_GIT_URL.match(value) or SSH_GIT_URL.match(value)):
        raise ValueError(
            f"'{value}' is not an https or ssh git URL "
            "(e.g. https://github.com/acme/platform-apps or git@github.com:acme/platform-apps.git)"
        )
    return value


def pinned_version(value: str) -> str:
    if not PINNED_SEMVER.match(value):
        raise ValueError(
            f"'{value}' is not a pinned chart version (use an exact semver such as {DEFAULT_CHART_VERSION})"
        )
    return value


def unserved_domain(value: str) -> str:
    raise ValueError(
        f"'{value}' would not be served: the program creates no ingress, certificate or DNS record for Argo CD. "
        "Remove it; reach Argo CD with kubectl port-forward or expose it yourself (docs/gitops.md)"
    )


def git_revision(value: str) -> str:
    if not GIT_REVISION.match(value):
        raise ValueError(f"'{value}' is not a git branch, tag or commit")
    return value


def repo_path(value: str) -> str:
    parts = value.split("/")
    if not value or value.startswith("/") or ".." in parts:
        raise ValueError(f"'{value}' must be a relative path inside the repository (no leading '/', no '..')")
    return value


class ApplicationConfig(Model):
    """One application, deployed by an ApplicationSet to the clusters its placement selects."""

    name: Annotated[str, AfterValidator(lambda v: dns_label(v, APPLICATION_NAME_LENGTH))] = Field(
        description="DNS label; Argo CD Applications are named <name>-<cluster>."
    )
    path: Annotated[str, AfterValidator(repo_path)] = Field(
        description="Directory in the repository; {{label}} and {{name}} are filled in per cluster."
    )
    namespace: Annotated[str, AfterValidator(lambda v: dns_label(v, 63))] = Field(
        description="Namespace the application deploys to (created by the sync)."
    )
    placement: Annotated[Placement, BeforeValidator(parse_placement)] = Field(
        default_factory=lambda: Placement(kind="all"),
        description="all | residency:<key> | {labels: {k: v}}.",
    )

    @property
    def placeholders(self) -> list[str]:
        return PATH_PLACEHOLDER.findall(self.path)


class GitopsConfig(Model):
    """`multicluster:gitops`: Argo CD on a hub cluster, every cluster registered, applications fanned out."""

    hub: str = Field(description="Cluster of the fleet that runs Argo CD.")
    standby_hub: str | None = Field(
        default=None,
        description="A second Argo CD in another region, with the same registrations and applications, passive "
        "(its application controller does not run) until `active: standbyHub` promotes it.",
    )
    active: Literal["hub", "standbyHub"] = Field(default="hub", description="Which Argo CD reconciles.")

    def hubs(self) -> list[str]:
        """The hub, and the standby hub when there is one."""
        return [self.hub, *([self.standby_hub] if self.standby_hub else [])]

    def reconciles(self, hub: str) -> bool:
        """Whether the Argo CD on `hub` runs its application controller."""
        return hub == (self.standby_hub if self.active == "standbyHub" else self.hub)

    chart_version: Annotated[str, AfterValidator(pinned_version)] = Field(
        default=DEFAULT_CHART_VERSION, description="argo-cd Helm chart version, exact."
    )
    repo_url: Annotated[str, AfterValidator(git_url)] = Field(description="GitOps repository (https or ssh).")
    revision: Annotated[str, AfterValidator(git_revision)] = Field(default="main", description="Branch, tag or commit.")
    domain: Annotated[str, AfterValidator(unserved_domain)] | None = Field(
        default=None, description="Not supported: the program serves no Argo CD ingress (see the message)."
    )
    applications: list[ApplicationConfig] = Field(default_factory=list[ApplicationConfig])


# --- checks that need the rest of the config -------------------------------------------------


GITOPS_HUB = "the gitops hub"
GITOPS_STANDBY = "the standby gitops hub"


def needs(config: FleetView) -> Needs:
    """Argo CD on the hub (and the standby hub) deploys to every cluster's API server, with the cloud identities
    that takes."""
    gitops = config.block(GitopsConfig)
    names = [c.name for c in config.clusters]
    if gitops is None or gitops.hub not in names:
        return Needs()
    clouds = {c.cloud for c in config.clusters}
    hubs = [h for h in gitops.hubs() if h in names]
    why = {gitops.hub: GITOPS_HUB, gitops.standby_hub or "": GITOPS_STANDBY}
    return Needs(
        api_callers={name: {h: why[h] for h in hubs if h != name} for name in names},
        # A GKE hub assumes the deployer role of EKS targets through AWS's trust of its issuer.
        aws_trusts=frozenset(h for h in hubs if config.cluster(h).cloud == "gcp" and "aws" in clouds),
        # Argo CD's Google identity (and, from an EKS hub, its federation) lives in gcp:project.
        gcp_project_purposes=("identity", "federation") if "gcp" in clouds else (),
    )


def check(config: FleetView) -> list[Issue]:
    """Problems of this block that need the rest of the config (e.g. cluster names)."""
    gitops = config.block(GitopsConfig)
    if gitops is None:
        return []
    names = [c.name for c in config.clusters]
    issues: list[Issue] = []
    if gitops.hub not in names:
        issues.append(
            Issue(
                format_path(("gitops", "hub")),
                f"'{gitops.hub}' is not a cluster of the fleet (clusters: {', '.join(names)})",
            )
        )
    issues += _standby_issues(config)
    if config.gcp_project is None and any(c.cloud == "gcp" for c in config.clusters):
        # Argo CD's Google identity lives there; picking a cluster's project would move it as clusters change.
        issues.append(Issue(format_path(("gitops",)), "needs gcp:project when the fleet has GCP clusters"))
    seen: dict[str, int] = {}
    for i, app in enumerate(gitops.applications):
        if app.name in seen:
            issues.append(
                Issue(
                    format_path(("gitops", "applications", i, "name")),
                    f"'{app.name}' is already used by applications[{seen[app.name]}]",
                )
            )
        seen.setdefault(app.name, i)
        issues += _placement_issues(config, i, app)
    return issues


def _standby_issues(config: FleetView) -> list[Issue]:
    """A standby hub is another cluster of the fleet, in another region (it must outlive the hub's region)."""
    gitops = config.block(GitopsConfig)
    assert gitops is not None
    at = format_path(("gitops", "standbyHub"))
    standby = gitops.standby_hub
    if standby is None:
        if gitops.active == "standbyHub":
            return [Issue(format_path(("gitops", "active")), "is standbyHub but no standbyHub is set")]
        return []
    names = [c.name for c in config.clusters]
    if standby not in names:
        return [Issue(at, f"'{standby}' is not a cluster of the fleet (clusters: {', '.join(names)})")]
    if standby == gitops.hub:
        return [Issue(at, "is the hub itself: a standby must be another cluster")]
    if gitops.hub in names and config.cluster(standby).region == config.cluster(gitops.hub).region:
        return [
            Issue(
                at,
                f"'{standby}' is in {config.cluster(standby).region}, the hub's region: losing that region would "
                "take both (choose a cluster in another region)",
            )
        ]
    return []


def placement_issues(config: FleetView, at: tuple[str | int, ...], placement: Placement) -> list[Issue]:
    """A placement at key path `at` (…placement) that names a residency of a partitioned fleet and selects a
    cluster."""
    if placement.kind == "residency":
        if config.topology != "partitioned":
            return [
                Issue(
                    format_path((*at, "placement")),
                    f"'{placement}' needs the partitioned topology (topology is {config.topology}); use 'all'",
                )
            ]
        if placement.residency not in config.residencies:
            return [
                Issue(
                    format_path((*at, "placement")),
                    f"'{placement.residency}' is not a key of multicluster:residencies "
                    f"({', '.join(sorted(config.residencies))})",
                )
            ]
    if not any(placement.selects(registration_labels(config, c)) for c in config.clusters):
        return [Issue(format_path((*at, "placement")), f"'{placement}' selects no cluster of the fleet")]
    return []


def _placement_issues(config: FleetView, index: int, app: ApplicationConfig) -> list[Issue]:
    at = ("gitops", "applications", index)
    issues = placement_issues(config, at, app.placement)
    if issues:
        return issues
    targets = [c for c in config.clusters if app.placement.selects(registration_labels(config, c))]
    issues: list[Issue] = []
    for key in app.placeholders:
        missing = [c.name for c in targets if key != "name" and key not in registration_labels(config, c)]
        if missing:
            issues.append(
                Issue(
                    format_path((*at, "path")),
                    f"'{{{{{key}}}}}' is not a label of cluster(s) {', '.join(missing)} "
                    "(use name, environment, cloud, region, role, residency or a label of the clusters)",
                )
            )
    return issues


def registration_labels(config: FleetView, cluster: ClusterConfig) -> dict[str, str]:
    """The labels Argo CD sees on a cluster: its fleet labels (clusters.cluster_labels, the single definition)."""
    return cluster_labels(cluster, config.environment)


# Declared by the `multicluster:gitops` field of StackConfig: what validation and the fleet's needs call.
GITOPS_RULES = BlockRules(check, needs)
