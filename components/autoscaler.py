"""Cluster Autoscaler on an EKS cluster: scales each managed node group between its minSize and maxSize.

Plain objects as upstream's AWS auto-discovery example defines them (kubernetes/autoscaler
cluster-autoscaler/cloudprovider/aws/examples/cluster-autoscaler-autodiscover.yaml @ 55c37cd5), with an
IRSA role (CA_with_AWS_IAM_OIDC.md) whose scaling actions are limited to this cluster's Auto Scaling groups
(EKS Best Practices, "Employ least privileged access to the IAM role"). Managed node groups tag their groups
for auto-discovery (EKS User Guide, managed node groups). The image matches the cluster's minor version, as
upstream asks (the newest release of each minor, from the project's release tags).

The objects keep the manifests' camelCase keys, which pulumi passes through unchanged (it translates only the
snake_case names it knows); the SDK types those arguments as its snake_case TypedDicts alone, hence the
`reportArgumentType` ignores where they are passed.
"""

from __future__ import annotations

import json
from typing import Any, Protocol

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from .aws_iam import irsa_role
from .cluster import ClusterPort

NAMESPACE = "kube-system"
NAME = "cluster-autoscaler"
IMAGES = {
    "1.32": "registry.k8s.io/autoscaling/cluster-autoscaler:v1.32.7",
    "1.33": "registry.k8s.io/autoscaling/cluster-autoscaler:v1.33.6",
    "1.34": "registry.k8s.io/autoscaling/cluster-autoscaler:v1.34.5",
    "1.35": "registry.k8s.io/autoscaling/cluster-autoscaler:v1.35.2",
    "1.36": "registry.k8s.io/autoscaling/cluster-autoscaler:v1.36.1",
}
LABELS = {"k8s-addon": "cluster-autoscaler.addons.k8s.io", "k8s-app": NAME}
CLUSTER_RULES: list[dict[str, Any]] = [
    {"apiGroups": [""], "resources": ["events", "endpoints"], "verbs": ["create", "patch"]},
    {"apiGroups": [""], "resources": ["pods/eviction"], "verbs": ["create"]},
    {"apiGroups": [""], "resources": ["pods/status"], "verbs": ["update"]},
    {"apiGroups": [""], "resources": ["endpoints"], "resourceNames": [NAME], "verbs": ["get", "update"]},
    {"apiGroups": [""], "resources": ["nodes"], "verbs": ["watch", "list", "get", "update"]},
    {
        "apiGroups": [""],
        "resources": [
            "namespaces",
            "pods",
            "services",
            "replicationcontrollers",
            "persistentvolumeclaims",
            "persistentvolumes",
        ],
        "verbs": ["watch", "list", "get"],
    },
    {"apiGroups": ["extensions"], "resources": ["replicasets", "daemonsets"], "verbs": ["watch", "list", "get"]},
    {"apiGroups": ["policy"], "resources": ["poddisruptionbudgets"], "verbs": ["watch", "list"]},
    {
        "apiGroups": ["apps"],
        "resources": ["statefulsets", "replicasets", "daemonsets"],
        "verbs": ["watch", "list", "get"],
    },
    {
        "apiGroups": ["resource.k8s.io"],
        "resources": ["deviceclasses", "resourceslices", "resourceclaims"],
        "verbs": ["watch", "list", "get"],
    },
    {
        "apiGroups": ["storage.k8s.io"],
        "resources": ["storageclasses", "csinodes", "csidrivers", "csistoragecapacities", "volumeattachments"],
        "verbs": ["watch", "list", "get"],
    },
    {"apiGroups": ["batch", "extensions"], "resources": ["jobs"], "verbs": ["get", "list", "watch", "patch"]},
    {"apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "verbs": ["create"]},
    {
        "apiGroups": ["coordination.k8s.io"],
        "resourceNames": [NAME],
        "resources": ["leases"],
        "verbs": ["get", "update"],
    },
]
NAMESPACE_RULES: list[dict[str, Any]] = [
    {"apiGroups": [""], "resources": ["configmaps"], "verbs": ["create", "list", "watch"]},
    {
        "apiGroups": [""],
        "resources": ["configmaps"],
        "resourceNames": ["cluster-autoscaler-status", "cluster-autoscaler-priority-expander"],
        "verbs": ["delete", "get", "update", "watch"],
    },
]


def scaling_policy(cluster_name: str) -> str:
    """Describe anything; scale and terminate only in the Auto Scaling groups tagged for this cluster."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": ["autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup"],
                    "Resource": "*",
                    "Condition": {"Null": {f"aws:ResourceTag/k8s.io/cluster-autoscaler/{cluster_name}": "false"}},
                },
                {
                    "Effect": "Allow",
                    "Action": [
                        "autoscaling:DescribeAutoScalingGroups",
                        "autoscaling:DescribeAutoScalingInstances",
                        "autoscaling:DescribeLaunchConfigurations",
                        "autoscaling:DescribeScalingActivities",
                        "autoscaling:DescribeTags",
                        "ec2:DescribeImages",
                        "ec2:DescribeInstanceTypes",
                        "ec2:DescribeLaunchTemplateVersions",
                        "ec2:GetInstanceTypesFromInstanceRequirements",
                        "eks:DescribeNodegroup",
                    ],
                    "Resource": "*",
                },
            ],
        },
        sort_keys=True,
    )


class AutoscaledCluster(ClusterPort, Protocol):
    """What the autoscaler uses of its cluster (components.eks.EksCluster, which creates it): the port and the
    cluster's AWS provider. A protocol rather than EksCluster itself, so that this module needs nothing of eks."""

    @property
    def aws_provider(self) -> aws.Provider: ...


class ClusterAutoscaler(pulumi.ComponentResource):
    """The Cluster Autoscaler of one EKS cluster, with its own least-privilege identity."""

    TYPE = "multicluster:eks:ClusterAutoscaler"

    def __init__(
        self,
        name: str,
        cluster: AutoscaledCluster,
        oidc_provider_arn: pulumi.Input[str],
        oidc_issuer: pulumi.Input[str],
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__(self.TYPE, name, None, opts)
        self.role = irsa_role(
            name,
            oidc_provider_arn,
            oidc_issuer,
            [(NAMESPACE, NAME)],
            [],
            pulumi.ResourceOptions(parent=self, provider=cluster.aws_provider),
            inline_policy=cluster.cluster_name.apply(scaling_policy),
        )
        k8s_opts = pulumi.ResourceOptions(parent=self, provider=cluster.k8s_provider, depends_on=cluster.ready)
        account = k8s.core.v1.ServiceAccount(
            f"{name}-account",
            metadata={
                "name": NAME,
                "namespace": NAMESPACE,
                "labels": LABELS,
                "annotations": {"eks.amazonaws.com/role-arn": self.role.arn},
            },
            opts=k8s_opts,
        )
        role_ref = {"apiGroup": "rbac.authorization.k8s.io"}
        subjects: list[k8s.rbac.v1.SubjectArgsDict] = [{"kind": "ServiceAccount", "name": NAME, "namespace": NAMESPACE}]
        cluster_role = k8s.rbac.v1.ClusterRole(
            f"{name}-cluster-role",
            metadata={"name": NAME, "labels": LABELS},
            rules=CLUSTER_RULES,  # pyright: ignore[reportArgumentType] (camelCase: see the module docstring)
            opts=k8s_opts,
        )
        role = k8s.rbac.v1.Role(
            f"{name}-role",
            metadata={"name": NAME, "namespace": NAMESPACE, "labels": LABELS},
            rules=NAMESPACE_RULES,  # pyright: ignore[reportArgumentType] (camelCase: see the module docstring)
            opts=k8s_opts,
        )
        bindings = [
            k8s.rbac.v1.ClusterRoleBinding(
                f"{name}-cluster-binding",
                metadata={"name": NAME, "labels": LABELS},
                role_ref={**role_ref, "kind": "ClusterRole", "name": NAME},  # pyright: ignore[reportArgumentType]
                subjects=subjects,
                opts=pulumi.ResourceOptions.merge(k8s_opts, pulumi.ResourceOptions(depends_on=[cluster_role])),
            ),
            k8s.rbac.v1.RoleBinding(
                f"{name}-binding",
                metadata={"name": NAME, "namespace": NAMESPACE, "labels": LABELS},
                role_ref={**role_ref, "kind": "Role", "name": NAME},  # pyright: ignore[reportArgumentType]
                subjects=subjects,
                opts=pulumi.ResourceOptions.merge(k8s_opts, pulumi.ResourceOptions(depends_on=[role])),
            ),
        ]
        self.deployment = k8s.apps.v1.Deployment(
            f"{name}-deployment",
            metadata={"name": NAME, "namespace": NAMESPACE, "labels": {"app": NAME}},
            spec=deployment_spec(  # pyright: ignore[reportArgumentType] (camelCase: see the module docstring)
                cluster.spec.kubernetes_version, cluster.cluster_name
            ),
            opts=pulumi.ResourceOptions.merge(
                k8s_opts, pulumi.ResourceOptions(depends_on=[account, *bindings, *self.role.ready])
            ),
        )
        self.register_outputs({"image": IMAGES[cluster.spec.kubernetes_version], "roleArn": self.role.arn})


def deployment_spec(kubernetes_version: str, cluster_name: pulumi.Input[str]) -> dict[str, Any]:
    command = pulumi.Output.from_input(cluster_name).apply(
        lambda name: [
            "./cluster-autoscaler",
            "--v=4",
            "--stderrthreshold=info",
            "--cloud-provider=aws",
            "--skip-nodes-with-local-storage=false",
            "--expander=least-waste",
            "--balance-similar-node-groups",
            f"--node-group-auto-discovery=asg:tag=k8s.io/cluster-autoscaler/enabled,k8s.io/cluster-autoscaler/{name}",
        ]
    )
    return {
        "replicas": 1,
        "selector": {"matchLabels": {"app": NAME}},
        "template": {
            "metadata": {
                "labels": {"app": NAME},
                "annotations": {"prometheus.io/scrape": "true", "prometheus.io/port": "8085"},
            },
            "spec": {
                "priorityClassName": "system-cluster-critical",
                "securityContext": {
                    "runAsNonRoot": True,
                    "runAsUser": 65534,
                    "fsGroup": 65534,
                    "seccompProfile": {"type": "RuntimeDefault"},
                },
                "serviceAccountName": NAME,
                "containers": [
                    {
                        "image": IMAGES[kubernetes_version],
                        "name": NAME,
                        "resources": {
                            "limits": {"cpu": "100m", "memory": "600Mi"},
                            "requests": {"cpu": "100m", "memory": "600Mi"},
                        },
                        "command": command,
                        "volumeMounts": [
                            {"name": "ssl-certs", "mountPath": "/etc/ssl/certs/ca-certificates.crt", "readOnly": True}
                        ],
                        "imagePullPolicy": "IfNotPresent",
                        "securityContext": {
                            "allowPrivilegeEscalation": False,
                            "capabilities": {"drop": ["ALL"]},
                            "readOnlyRootFilesystem": True,
                        },
                    }
                ],
                # Amazon Linux nodes keep their CA bundle here.
                "volumes": [{"name": "ssl-certs", "hostPath": {"path": "/etc/ssl/certs/ca-bundle.crt"}}],
            },
        },
    }
