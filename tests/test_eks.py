"""EKS component: what terraform-aws-eks users expect, secure by default."""

from __future__ import annotations

import ipaddress
import json

import pytest

from components.eks import LOG_TYPES, ami_type, pick_zones, subnet_plan
from components.eks_addons import VERSIONS
from tests.support import aws_cluster, fleet, plan_config

EKS = "aws:eks/cluster:Cluster"


def eks(plan, name):
    return plan.named(f"{name}-eks", EKS)


def test_secrets_are_envelope_encrypted_with_a_rotating_key_of_the_cluster(staging):
    cluster = eks(staging, "aws-use1")
    key = staging.named("aws-use1-secrets", "aws:kms/key:Key")
    assert cluster.input("encryptionConfig") == {"provider": {"keyArn": key.output("arn")}, "resources": ["secrets"]}
    assert key.input("enableKeyRotation") is True
    policy = json.loads(staging.named("aws-use1-cluster-kms").input("policy"))
    assert policy["Statement"] == [
        {
            "Effect": "Allow",
            "Resource": key.output("arn"),
            "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ListGrants", "kms:DescribeKey"],
        }
    ]


def test_all_control_plane_log_types_and_api_authentication(staging):
    cluster = eks(staging, "aws-use1")
    assert cluster.input("enabledClusterLogTypes") == LOG_TYPES
    assert set(LOG_TYPES) == {"api", "audit", "authenticator", "controllerManager", "scheduler"}
    assert cluster.input("accessConfig.authenticationMode") == "API"
    log_group = staging.named("aws-use1-control-plane")
    assert log_group.input("name") == "/aws/eks/staging-aws-use1/cluster"
    assert log_group.urn in cluster.dependencies


def test_endpoint_public_only_for_the_listed_cidrs(staging, prod):
    public = eks(staging, "aws-use1").input("vpcConfig")
    assert public["endpointPrivateAccess"] is True
    assert public["endpointPublicAccess"] is True
    # The listed range, and the Cloud NAT address gcp-usc1's Istio reads this API server from.
    nat = staging.named("gcp-usc1-nat-0", "gcp:compute/address:Address").output("address")
    assert public["publicAccessCidrs"] == ["203.0.113.0/24", f"{nat}/32"]
    private = eks(prod, "aws-use1").input("vpcConfig")
    assert private["endpointPrivateAccess"] is True
    assert private["endpointPublicAccess"] is False
    assert "publicAccessCidrs" not in private


def test_control_plane_and_nodes_live_in_private_subnets_over_three_zones(staging):
    private = [staging.named(f"aws-use1-private-{i}", "aws:ec2/subnet:Subnet") for i in range(3)]
    public = [staging.named(f"aws-use1-public-{i}", "aws:ec2/subnet:Subnet") for i in range(3)]
    # By zone id, never by name (names map to different zones per account), skipping use1-az3 (no EKS there)
    # and the Local Zone us-east-1 lists when it is opted in; the zone is kept once chosen.
    assert [s.input("availabilityZoneId") for s in private] == ["use1-az1", "use1-az2", "use1-az4"]
    assert [s.input("availabilityZoneId") for s in public] == ["use1-az1", "use1-az2", "use1-az4"]
    assert all(s.ignore_changes == ["availabilityZoneId"] and s.input("availabilityZone") is None for s in private)
    assert eks(staging, "aws-use1").input("vpcConfig.subnetIds") == [s.id for s in private]
    node_group = staging.named("aws-use1-system", "aws:eks/nodeGroup:NodeGroup")
    assert node_group.input("subnetIds") == [s.id for s in private]
    vpc = ipaddress.ip_network("10.10.0.0/16")
    cidrs = [ipaddress.ip_network(s.input("cidrBlock")) for s in private + public]
    assert all(c.subnet_of(vpc) for c in cidrs)
    assert not any(a.overlaps(b) for i, a in enumerate(cidrs) for b in cidrs[i + 1 :])


def test_subnets_are_tagged_for_load_balancers(staging):
    cluster_tag = "kubernetes.io/cluster/staging-aws-use1"
    public = staging.named("aws-use1-public-0", "aws:ec2/subnet:Subnet").input("tags")
    private = staging.named("aws-use1-private-0", "aws:ec2/subnet:Subnet").input("tags")
    assert public["kubernetes.io/role/elb"] == "1" and public[cluster_tag] == "shared"
    assert private["kubernetes.io/role/internal-elb"] == "1" and private[cluster_tag] == "shared"
    assert staging.named("aws-use1-public-0", "aws:ec2/subnet:Subnet").input("mapPublicIpOnLaunch") is False


def test_nat_gateways_follow_the_config(staging, prod):
    assert len(staging.children(staging.component("aws-use1"), "aws:ec2/natGateway:NatGateway")) == 1
    nats = prod.children(prod.component("aws-use1"), "aws:ec2/natGateway:NatGateway")
    assert sorted(n.input("subnetId") for n in nats) == sorted(
        prod.named(f"aws-use1-public-{i}", "aws:ec2/subnet:Subnet").id for i in range(3)
    )
    defaults = [prod.named(f"aws-use1-private-{i}-default") for i in range(3)]
    assert sorted(r.input("natGatewayId") for r in defaults) == sorted(n.id for n in nats)


def test_launch_templates_require_imdsv2_and_encrypt_volumes(prod):
    for template in prod.of_type("aws:ec2/launchTemplate:LaunchTemplate"):
        assert template.input("metadataOptions") == {
            "httpEndpoint": "enabled",
            "httpTokens": "required",
            "httpPutResponseHopLimit": 2,
            "instanceMetadataTags": "disabled",
        }
        (disk,) = template.input("blockDeviceMappings")
        assert disk["ebs"]["encrypted"] == "true" and disk["ebs"]["volumeType"] == "gp3"


def test_node_groups_from_pools(prod, staging):
    system = prod.named("aws-use1-system", "aws:eks/nodeGroup:NodeGroup")
    assert system.input("taints") == [{"key": "CriticalAddonsOnly", "value": "true", "effect": "NO_SCHEDULE"}]
    assert system.input("scalingConfig") == {"minSize": 3, "maxSize": 6, "desiredSize": 3}
    assert system.input("capacityType") == "ON_DEMAND"
    assert system.input("instanceTypes") == ["m7i.xlarge"]
    assert system.input("labels") == {"multicluster/node-pool": "system"}
    assert system.ignore_changes == ["scalingConfig.desiredSize"]
    template = prod.named("aws-use1-system", "aws:ec2/launchTemplate:LaunchTemplate")
    assert system.input("launchTemplate") == {"id": template.id, "version": "1"}
    spot = plan_config(
        fleet(
            aws_cluster(
                "a",
                "us-east-1",
                1,
                nodePools=[
                    {
                        "name": "arm",
                        "machineType": "m7g.large",
                        "minSize": 0,
                        "maxSize": 2,
                        "desiredSize": 0,
                        "spot": True,
                    }
                ],
            )
        )
    )
    arm = spot.named("a-arm", "aws:eks/nodeGroup:NodeGroup")
    assert arm.input("capacityType") == "SPOT" and arm.input("amiType") == "AL2023_ARM_64_STANDARD"


def test_addons_and_their_order(staging):
    addons = {a.input("addonName"): a for a in staging.children(staging.component("aws-use1"), "aws:eks/addon:Addon")}
    assert set(addons) == {"vpc-cni", "coredns", "kube-proxy", "aws-ebs-csi-driver", "eks-pod-identity-agent"}
    node_group = staging.named("aws-use1-system", "aws:eks/nodeGroup:NodeGroup")
    for before in ("vpc-cni", "kube-proxy", "eks-pod-identity-agent"):
        assert addons[before].urn in node_group.dependencies
    for after in ("coredns", "aws-ebs-csi-driver"):
        assert node_group.urn in addons[after].dependencies
    # Pinned per Kubernetes minor (never "latest"), so a pulumi up never upgrades an add-on by itself.
    assert {name: a.input("addonVersion") for name, a in addons.items()} == VERSIONS["1.33"]
    assert addons["vpc-cni"].input("addonVersion") == "v1.22.3-eksbuild.1"


@pytest.mark.parametrize(
    ("addon", "namespace", "account"),
    [("vpc-cni", "kube-system", "aws-node"), ("aws-ebs-csi-driver", "kube-system", "ebs-csi-controller-sa")],
)
def test_addon_identities_use_irsa(staging, addon, namespace, account):
    attached = staging.named(f"aws-use1-{addon}", "aws:eks/addon:Addon").input("serviceAccountRoleArn")
    role = next(r for r in staging.of_type("aws:iam/role:Role") if r.output("arn") == attached)
    (statement,) = json.loads(role.input("assumeRolePolicy"))["Statement"]
    oidc = staging.named("aws-use1-oidc")
    host = oidc.input("url").removeprefix("https://")
    assert statement["Principal"] == {"Federated": oidc.output("arn")}
    assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert statement["Condition"]["StringEquals"] == {
        f"{host}:aud": "sts.amazonaws.com",
        f"{host}:sub": f"system:serviceaccount:{namespace}:{account}",
    }


def test_node_role_has_only_what_nodes_need(staging):
    node_role = staging.named("aws-use1-node", "aws:iam/role:Role")
    policies = sorted(
        a.input("policyArn")
        for a in staging.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
        if a.input("role") == node_role.output("name")
    )
    assert policies == [
        "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPullOnly",
        "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy",
    ]


def test_every_cloud_resource_uses_its_clusters_regional_provider(prod):
    providers = {p.urn: p for p in prod.of_type("pulumi:providers:aws")}
    for name, region in (("aws-use1", "us-east-1"), ("aws-usw2", "us-west-2")):
        for r in prod.children(prod.component(name)):
            if r.custom and r.type.startswith("aws:"):
                assert providers[r.provider_urn].input("region") == region, r.urn
    assert all("::default" not in (r.provider or "") for r in prod.resources)


def test_kubeconfig_is_a_secret_that_depends_only_on_name_endpoint_and_ca(staging):
    provider = staging.named("aws-use1-k8s", "pulumi:providers:kubernetes")
    cluster = eks(staging, "aws-use1")
    assert provider.secret_inputs == ["kubeconfig"]
    assert provider.dependencies == [cluster.urn]
    kubeconfig = json.loads(provider.input("kubeconfig"))
    assert kubeconfig["clusters"][0]["cluster"] == {
        "server": cluster.output("endpoint"),
        "certificate-authority-data": cluster.output("certificateAuthority.data"),
    }
    assert kubeconfig["users"][0]["user"]["exec"]["args"] == [
        "eks",
        "get-token",
        "--cluster-name",
        "staging-aws-use1",
        "--region",
        "us-east-1",
        "--output",
        "json",
    ]
    assert "kubeconfigs" in staging.secret_outputs


def test_protection_follows_the_environment(staging, prod):
    for plan, protected in ((staging, False), (prod, True)):
        assert eks(plan, "aws-use1").protect is protected
        assert eks(plan, "aws-use1").input("deletionProtection") is protected
        assert plan.named("aws-use1-secrets", "aws:kms/key:Key").protect is protected
        assert plan.named("aws-use1-vpc").protect is False


def test_outputs_later_components_need(staging):
    out = staging.outputs["clusters"]["aws-use1"]
    cluster = eks(staging, "aws-use1")
    assert out["endpoint"] == cluster.output("endpoint")
    assert out["oidcProviderArn"] == staging.named("aws-use1-oidc").output("arn")
    assert out["vpcId"] == staging.named("aws-use1-vpc").id
    assert out["privateRouteTableIds"] == [
        staging.named(f"aws-use1-private-{i}", "aws:ec2/routeTable:RouteTable").id for i in range(3)
    ]
    assert out["nodeSecurityGroupId"] == cluster.output("vpcConfig.clusterSecurityGroupId")


def test_subnet_plan_and_ami_helpers():
    assert subnet_plan("10.0.0.0/16", 3) == (
        ["10.0.0.0/18", "10.0.64.0/18", "10.0.128.0/18"],
        ["10.0.192.0/20", "10.0.208.0/20", "10.0.224.0/20"],
    )
    assert subnet_plan("10.0.0.0/20", 2)[1] == ["10.0.12.0/24", "10.0.13.0/24"]
    # From what DescribeInstanceTypes says of the type (architectures, GPUs, Neuron and Inferentia chips).
    assert ami_type(["arm64"], [], [], []) == "AL2023_ARM_64_STANDARD"
    assert ami_type(["x86_64"], [], [], []) == "AL2023_x86_64_STANDARD"
    assert ami_type(["x86_64"], [{"manufacturer": "NVIDIA"}], [], []) == "AL2023_x86_64_NVIDIA"
    assert ami_type(["arm64"], [{"manufacturer": "NVIDIA"}], [], []) == "AL2023_ARM_64_NVIDIA"
    assert ami_type(["x86_64"], [], [{"name": "Trainium"}], []) == "AL2023_x86_64_NEURON"
    assert pick_zones(["use1-az6", "use1-az3", "use1-az1", "use1-az2"], 3) == ["use1-az1", "use1-az2", "use1-az6"]
    with pytest.raises(ValueError, match="offers 1 availability zones EKS supports, 2 wanted"):
        pick_zones(["usw1-az2", "usw1-az1"], 2)


def test_two_zone_regions_get_two_subnet_pairs():
    plan = plan_config(fleet(aws_cluster("a", "us-west-1", 1)))
    assert [s.input("availabilityZoneId") for s in plan.of_type("aws:ec2/subnet:Subnet") if "private" in s.name] == [
        "usw1-az1",
        "usw1-az3",
    ]


def test_who_is_admin_is_explicit_and_set_at_creation_only(staging):
    cluster = eks(staging, "aws-use1")
    assert cluster.input("accessConfig") == {
        "authenticationMode": "API",
        "bootstrapClusterCreatorAdminPermissions": False,
    }
    assert cluster.input("bootstrapSelfManagedAddons") is False
    # EKS reads both only when it creates the cluster: an existing cluster is never replaced for them.
    assert cluster.ignore_changes == [
        "accessConfig.bootstrapClusterCreatorAdminPermissions",
        "bootstrapSelfManagedAddons",
    ]
    entry = staging.named("aws-use1-deployer-access", "aws:eks/accessEntry:AccessEntry")
    admin = staging.named("aws-use1-deployer-admin", "aws:eks/accessPolicyAssociation:AccessPolicyAssociation")
    # The deploying identity, resolved from the caller's session (an assumed role maps to its role ARN).
    assert entry.input("principalArn") == admin.input("principalArn")
    assert entry.input("principalArn").startswith("arn:aws:iam::123456789012:role/")
    assert admin.input("policyArn") == "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"


def test_irsa_roles_of_the_capabilities_trust_one_service_account_set_of_their_cluster(staging):
    """Velero, telemetry and External Secrets roles trust through EksCluster.irsa_trust: the cluster's IAM OIDC
    provider, tokens minted for STS, the exact service accounts."""
    provider = staging.named("aws-use1-oidc", "aws:iam/openIdConnectProvider:OpenIdConnectProvider")
    host = provider.input("url").removeprefix("https://")
    subjects = {
        "aws-use1-backup-velero": "system:serviceaccount:velero:velero",
        "aws-use1-telemetry-metrics": [
            f"system:serviceaccount:monitoring:{a}" for a in ("prometheus", "thanos-store", "thanos-compactor")
        ],
        "aws-use1-telemetry-hub-logs": "system:serviceaccount:monitoring:loki",
        "aws-use1-secrets-platform": "system:serviceaccount:external-secrets:platform-secrets",
        "aws-use1-secrets-team-webapp": "system:serviceaccount:webapp:team-secrets",
    }
    for name, subject in subjects.items():
        (statement,) = json.loads(staging.named(name, "aws:iam/role:Role").input("assumeRolePolicy"))["Statement"]
        assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
        assert statement["Principal"] == {"Federated": provider.output("arn")}
        assert statement["Condition"] == {"StringEquals": {f"{host}:aud": "sts.amazonaws.com", f"{host}:sub": subject}}


def test_workloads_wait_for_nodes_add_ons_and_the_deployer_through_the_ends_of_the_chain(staging):
    """`ready` names the node groups and the ends of the chains (add-ons on nodes, the deployer's admin policy): a
    workload waits for every add-on and access entry through them, with four dependencies instead of eight. The
    node groups stay direct: the engine orders deletes by direct dependencies only."""
    velero = staging.named("aws-use1-backup-velero", "kubernetes:helm.sh/v3:Release")
    cluster = staging.component("aws-use1")
    everything = {
        r.urn
        for kind in ("aws:eks/nodeGroup:NodeGroup", "aws:eks/addon:Addon", "aws:eks/accessEntry:AccessEntry")
        for r in staging.children(cluster, kind)
        if kind != "aws:eks/accessEntry:AccessEntry" or r.name == "aws-use1-deployer-access"
    }
    assert len(everything) == 7 and everything <= staging.waits_for(velero)
    ends = {staging.by_urn(urn).name for urn in velero.dependencies} & {
        "aws-use1-coredns",
        "aws-use1-aws-ebs-csi-driver",
        "aws-use1-deployer-admin",
        "aws-use1-system",
        "aws-use1-vpc-cni",
    }
    assert ends == {"aws-use1-coredns", "aws-use1-aws-ebs-csi-driver", "aws-use1-deployer-admin", "aws-use1-system"}
