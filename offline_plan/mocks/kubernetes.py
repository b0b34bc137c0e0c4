"""Kubernetes resources shared by several capabilities: Helm releases."""

from __future__ import annotations

from typing import Any

from . import MockResource, resource


@resource("kubernetes:helm.sh/v3:Release")
def helm_release(r: MockResource) -> dict[str, Any]:
    """A deployed release of the pinned chart (Helm reports the chart version as appVersion here)."""
    name = r.inputs.get("name", "")
    namespace = r.inputs.get("namespace", "default")
    version = r.inputs.get("version")
    return {
        "id": f"{namespace}/{name}",
        "name": name,
        "status": {
            "name": name,
            "namespace": namespace,
            "chart": r.inputs.get("chart"),
            "version": version,
            "appVersion": version,
            "revision": 1,
            "status": "deployed",
        },
    }
