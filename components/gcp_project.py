"""The Google Cloud APIs the fleet calls in its shared project (gcp:project), enabled before anything uses them.

A GKE cluster enables what it needs in its own project. What lives in gcp:project outside any cluster
(Argo CD's Google identity, the workload identity pools that let EKS clusters read GCS, Cloud DNS zones)
needs more: IAM, the Security Token Service and IAM Credentials for federation, Resource Manager for
project IAM, Cloud DNS. Every such resource depends on the Service that enables its API: a new project
refuses calls to a disabled API (SERVICE_DISABLED).
"""

from __future__ import annotations

from collections.abc import Iterable

import pulumi
import pulumi_gcp as gcp

from .gcp_apis import COMPUTE, IAM, MONITORING, RESOURCE_MANAGER

# Purpose -> the APIs it calls (terraform-provider-google *_meta.yaml api_service_name; Workload Identity
# Federation: "Enable the IAM, Resource Manager, Service Account Credentials, and Security Token Service APIs").
APIS = {
    "identity": (IAM, RESOURCE_MANAGER),
    "federation": (IAM, "sts.googleapis.com", "iamcredentials.googleapis.com", RESOURCE_MANAGER),
    # Cloud DNS; its health checks are Compute Engine resources (compute.healthChecks).
    "dns": ("dns.googleapis.com", COMPUTE),
    # The fleet's Cloud Billing budget, called with gcp:project as its quota project, and its email channels.
    "budget": ("billingbudgets.googleapis.com", MONITORING),
}


class ProjectServices(pulumi.ComponentResource):
    """The APIs enabled in one project for the fleet's shared resources."""

    TYPE = "multicluster:gcp:ProjectServices"

    def __init__(self, name: str, project: str, purposes: Iterable[str], opts: pulumi.ResourceOptions | None = None):
        super().__init__(self.TYPE, name, None, opts)
        self.project = project
        self.provider = gcp.Provider(f"{name}-gcp", project=project, opts=pulumi.ResourceOptions(parent=self))
        apis = sorted({api for purpose in purposes for api in APIS[purpose]})
        self.services = {
            api: gcp.projects.Service(
                f"{name}-{api.split('.')[0]}",
                project=project,
                service=api,
                disable_on_destroy=False,  # other workloads in the project may use the API
                disable_dependent_services=False,
                opts=pulumi.ResourceOptions(parent=self, provider=self.provider),
            )
            for api in apis
        }
        self.register_outputs({"project": project, "apis": apis})

    def for_purpose(self, purpose: str) -> list[pulumi.Resource]:
        """What a resource of this purpose waits for."""
        return [self.services[api] for api in APIS[purpose] if api in self.services]
