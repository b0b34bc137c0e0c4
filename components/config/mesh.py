"""Config block `multicluster:mesh`: which service mesh spans the fleet, and how."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import AfterValidator, Field

from .base import Issue, Model, dns_label, format_path

if TYPE_CHECKING:
    from .stack import StackConfig

# Exact chart versions only: ranges (^1.30, ~1.30, >=1.30, 1.30.x, *) would let `pulumi up` drift.
PINNED_VERSION = re.compile(r"^\d+\.\d+\.\d+(-[0-9A-Za-z]+(\.[0-9A-Za-z]+)*)?$")
DEFAULT_VERSIONS = {"istio": "1.30.3", "linkerd": "2026.8.3"}
# Linkerd edge charts are versioned YYYY.M.N; Istio charts 1.x.y.
LINKERD_FIRST_EDGE_YEAR = 2024


def pinned_version(value: str) -> str:
    if not PINNED_VERSION.match(value):
        raise ValueError(f"'{value}' is not a pinned chart version (use an exact version such as 1.30.3, not a range)")
    return value


class MeshConfig(Model):
    """`multicluster:mesh`."""

    provider: Literal["istio", "linkerd", "none"] = Field(
        "istio", description="Service mesh to install on every cluster, or none."
    )
    version: Annotated[str, AfterValidator(pinned_version)] | None = Field(
        None, description="Exact chart version; defaults to 1.30.3 (Istio) or 2026.8.3 (Linkerd edge)."
    )
    mesh_id: Annotated[str, AfterValidator(lambda v: dns_label(v, 40))] | None = Field(
        None, description="Mesh identifier (DNS label); defaults to '<environment>-mesh'."
    )
    scope: Literal["fleet", "residency"] = Field(
        "fleet", description="One mesh for the fleet, or one per residency (partitioned only)."
    )
    mtls: Literal["strict", "permissive"] = Field("strict", description="Mesh-wide mTLS mode.")

    @property
    def chart_version(self) -> str:
        return self.version or DEFAULT_VERSIONS.get(self.provider, "")

    def mesh_id_for(self, environment: str) -> str:
        return self.mesh_id or f"{environment}-mesh"


def check(config: StackConfig) -> list[Issue]:
    """Problems of this block that need the rest of the config (e.g. cluster names)."""
    mesh = config.mesh
    if mesh is None or mesh.provider == "none":
        return []
    issues = _version_issues(mesh)
    if mesh.scope == "residency" and config.topology != "partitioned":
        issues.append(
            Issue(
                format_path(("mesh", "scope")),
                "'residency' applies to the partitioned topology only (use scope: fleet)",
            )
        )
    return issues


def _version_issues(mesh: MeshConfig) -> list[Issue]:
    """A pinned version of the other mesh's charts would fail only at `helm pull` time."""
    if mesh.version is None:
        return []
    edge = int(mesh.version.split(".")[0]) >= LINKERD_FIRST_EDGE_YEAR
    if mesh.provider == "linkerd" and not edge:
        message = f"'{mesh.version}' is not a Linkerd edge chart version (YYYY.M.N, e.g. 2026.8.3)"
    elif mesh.provider == "istio" and edge:
        message = f"'{mesh.version}' is not an Istio chart version (e.g. 1.30.3)"
    else:
        return []
    return [Issue(format_path(("mesh", "version")), message)]
