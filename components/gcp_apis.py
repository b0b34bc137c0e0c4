"""The Google Cloud APIs the program's resources call, by resource type, and what waiting for one means.

A new project refuses calls to a disabled API (SERVICE_DISABLED,
https://cloud.google.com/service-usage/docs/enable-disable), so every GCP resource waits for the Service that
enables the API it calls; only for that one, since waiting for every API of the project lengthens the graph the
engine walks and the first deploy's critical path. Which API a type calls: terraform-provider-google's
`*_meta.yaml` (api_service_name).
"""

from __future__ import annotations

COMPUTE = "compute.googleapis.com"  # gcp:compute/* (networks, routers, addresses, firewalls)
CONTAINER = "container.googleapis.com"  # gcp:container/* (clusters, node pools)
KMS = "cloudkms.googleapis.com"  # gcp:kms/* (key rings, keys and their IAM)
IAM = "iam.googleapis.com"  # gcp:serviceaccount/*, gcp:projects/iAMCustomRole, gcp:iam/*
RESOURCE_MANAGER = "cloudresourcemanager.googleapis.com"  # gcp:projects/iAMMember (the project's IAM policy)
LOGGING = "logging.googleapis.com"
MONITORING = "monitoring.googleapis.com"  # gcp:monitoring/* (notification channels), the nodes' metrics
# gcp:storage/* (buckets, their IAM, the project's GCS service agent). On by default only in projects created with
# the console or gcloud (https://cloud.google.com/service-usage/docs/enabled-service#default); a project created
# through the API has no API enabled (hashicorp/terraform-provider-google#14174), so the cluster enables it too.
STORAGE = "storage.googleapis.com"
