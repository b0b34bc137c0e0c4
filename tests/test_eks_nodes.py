"""EKS nodes as AWS runs them: the AMI of the instance type, versions after the control plane, autoscaling."""

from __future__ import annotations

import json

import pytest

from components.autoscaler import IMAGES, NAME
from tests.support import aws_cluster, fleet, plan_config

NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"


def pool(name: str, machine_type: str, **extra) -> dict:
    return {"name": name, "machineType": machine_type, "minSize": 1, "maxSize": 3, "desiredSize": 1, **extra}


@pytest.fixture(scope="module")
def mixed():
    pools = [
        pool("general", "m7i.large"),
        pool("graviton", "m7g.large"),
        pool("gpu", "g5.xlarge"),
        pool("inferentia", "inf2.xlarge"),
        pool("pinned", "m7i.large", kubernetesVersion="1.32"),
    ]
    return plan_config(fleet(aws_cluster("a", "us-east-1", 1, nodePools=pools)))


@pytest.mark.parametrize(
    ("group", "ami"),
    [
        ("general", "AL2023_x86_64_STANDARD"),
        ("graviton", "AL2023_ARM_64_STANDARD"),
        ("gpu", "AL2023_x86_64_NVIDIA"),
        ("inferentia", "AL2023_x86_64_NEURON"),
    ],
)
def test_the_ami_follows_what_ec2_says_of_the_instance_type(mixed, group, ami):
    assert mixed.named(f"a-{group}", NODE_GROUP).input("amiType") == ami


def test_nodes_follow_the_control_plane_unless_pinned_behind_it(mixed):
    cluster = mixed.named("a-eks", "aws:eks/cluster:Cluster")
    general = mixed.named("a-general", NODE_GROUP)
    assert general.input("version") == cluster.output("version") == "1.33"
    assert cluster.urn in general.dependencies  # the version is the cluster's own: after it, never before
    assert mixed.named("a-pinned", NODE_GROUP).input("version") == "1.32"


def test_a_type_the_region_does_not_offer_fails_the_plan_with_its_key_path():
    pools = [pool("system", "m7i.large"), pool("trainium", "trn1.2xlarge")]
    offered = r"nodePools\[1\]\.machineType 'trn1\.2xlarge' is not an instance type eu-west-3 offers"
    with pytest.raises(Exception, match=offered):
        plan_config(fleet(aws_cluster("a", "eu-west-3", 1, nodePools=pools)))


def test_a_type_that_does_not_exist_fails_the_plan():
    with pytest.raises(Exception, match=r"nodePools\[0\]\.machineType 'm7z\.large' is not an instance type us-east-1"):
        plan_config(fleet(aws_cluster("a", "us-east-1", 1, nodePools=[pool("system", "m7z.large")])))


def test_cluster_autoscaler_scales_every_group_between_its_sizes(mixed):
    deployment = mixed.named("a-autoscaler-deployment", "kubernetes:apps/v1:Deployment")
    (container,) = deployment.input("spec.template.spec.containers")
    assert container["image"] == IMAGES["1.33"]
    assert (
        "--node-group-auto-discovery=asg:tag=k8s.io/cluster-autoscaler/enabled,k8s.io/cluster-autoscaler/test-a"
        in container["command"]
    )
    assert deployment.input("spec.template.spec.serviceAccountName") == NAME
    # The node groups hand the current size to the autoscaler: Pulumi never resets it.
    for group in mixed.of_type(NODE_GROUP):
        assert group.ignore_changes == ["scalingConfig.desiredSize"]


def test_the_autoscaler_may_scale_only_this_clusters_groups(mixed):
    role = mixed.named("a-autoscaler", "aws:iam/role:Role")
    (trust,) = json.loads(role.input("assumeRolePolicy"))["Statement"]
    subjects = [v for k, v in trust["Condition"]["StringEquals"].items() if k.endswith(":sub")]
    assert subjects == ["system:serviceaccount:kube-system:cluster-autoscaler"]
    policy = json.loads(mixed.named("a-autoscaler", "aws:iam/rolePolicy:RolePolicy").input("policy"))
    scale = next(s for s in policy["Statement"] if "autoscaling:SetDesiredCapacity" in s["Action"])
    assert scale["Condition"] == {"Null": {"aws:ResourceTag/k8s.io/cluster-autoscaler/test-a": "false"}}
    describe = next(s for s in policy["Statement"] if s is not scale)
    assert all(a.split(":")[1].startswith(("Describe", "Get")) for a in describe["Action"])
    account = mixed.named("a-autoscaler-account", "kubernetes:core/v1:ServiceAccount")
    assert account.input("metadata.annotations") == {"eks.amazonaws.com/role-arn": role.output("arn")}
