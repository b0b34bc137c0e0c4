"""Config block `multicluster:connectivity`: which clusters of the fleet are linked over private addresses."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field

from .base import Issue, Model, format_path

if TYPE_CHECKING:
    from .stack import StackConfig

Mode = Literal["full-mesh", "hub-spoke", "none"]


class ConnectivityConfig(Model):
    """`multicluster:connectivity`."""

    mode: Mode = Field("none", description="full-mesh links every pair, hub-spoke links the hub to each other cluster.")
    hub: str | None = Field(None, description="hub-spoke only: the name of the hub cluster.")


def check(config: StackConfig) -> list[Issue]:
    """The hub is required by hub-spoke, must name a cluster, and means nothing to the other modes."""
    block = config.connectivity
    at = format_path(("connectivity", "hub"))
    if block.mode != "hub-spoke":
        return [Issue(at, f"applies to mode hub-spoke only (mode is {block.mode})")] if block.hub else []
    if block.hub is None:
        return [Issue(at, "is required when mode is hub-spoke")]
    names = [cluster.name for cluster in config.clusters]
    if block.hub not in names:
        return [Issue(at, f"'{block.hub}' is not a cluster of the fleet (clusters: {', '.join(names)})")]
    return []
