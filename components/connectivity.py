"""Connectivity capability (stub: filled in by its issue)."""

from __future__ import annotations

from typing import Any

from .cluster import KubernetesCluster
from .config import StackConfig


def build_connectivity(config: StackConfig, clusters: dict[str, KubernetesCluster], **wiring: Any) -> Any | None:
    """Create the connectivity components for the fleet, or None when the block is absent."""
    return None
