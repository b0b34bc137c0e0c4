"""EKS cluster component: VPC, IAM, encrypted control plane, IRSA, managed node groups, add-ons, autoscaling."""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Mapping, Sequence
from typing import Any

import pulumi
import pulumi_aws as aws

from . import eks_addons
from .autoscaler import ClusterAutoscaler
from .aws_iam import MANAGED_POLICY, IrsaRole, irsa_role, irsa_trust_policy, service_trust_policy
from .cluster import KubernetesCluster, ObjectStoreSpec, reported
from .config import NodePoolConfig
from .config.stack import EKS_UNSUPPORTED_ZONE_IDS
from .fleetplan import ClusterPlan
from .outputs import EksClusterOutputs
from .storage_aws import S3Bucket, hardened_s3_bucket, s3_lifecycle

LOG_TYPES = ["api", "audit", "authenticator", "controllerManager", "scheduler"]
TAINT_EFFECTS = {"NoSchedule": "NO_SCHEDULE", "PreferNoSchedule": "PREFER_NO_SCHEDULE", "NoExecute": "NO_EXECUTE"}
EKS_CLUSTER_ADMIN = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"
LOG_RETENTION_DAYS = 90
CREATION_ONLY = ["accessConfig.bootstrapClusterCreatorAdminPermissions", "bootstrapSelfManagedAddons"]
FLOW_LOG_RETENTION_DAYS = 30
# kubernetes/cloud-provider-aws pkg/providers/v1/aws.go: ServiceAnnotationLoadBalancerEIPAllocations ("a comma
# separated list of EIP allocations to use as static IP addresses for the NLB. Only supported on elbv2 (NLB)") and
# ServiceAnnotationLoadBalancerSubnets ("a comma separated list of subnetID or subnetName from different AZs").
EIP_ALLOCATIONS_ANNOTATION = "service.beta.kubernetes.io/aws-load-balancer-eip-allocations"
SUBNETS_ANNOTATION = "service.beta.kubernetes.io/aws-load-balancer-subnets"


def subnet_plan(cidr: str, zones: int) -> tuple[list[str], list[str]]:
    """Private subnets take three quarters of the VPC; public ones share the last quarter."""
    network = ipaddress.ip_network(cidr)
    quarters = list(network.subnets(prefixlen_diff=2))
    public = list(quarters[3].subnets(prefixlen_diff=2))
    return [str(n) for n in quarters[:zones]], [str(n) for n in public[:zones]]


def ami_type(architectures: list[str], gpus: list[Any], neuron: list[Any], inference: list[Any]) -> str:
    """The EKS-optimised AL2023 AMI for what EC2 says the instance type has (DescribeInstanceTypes)."""
    arm = "arm64" in (architectures or [])
    if gpus:
        return "AL2023_ARM_64_NVIDIA" if arm else "AL2023_x86_64_NVIDIA"
    if neuron or inference:
        return "AL2023_x86_64_NEURON"
    return "AL2023_ARM_64_STANDARD" if arm else "AL2023_x86_64_STANDARD"


def pick_zones(zone_ids: list[str], count: int) -> list[str]:
    """The first standard zones by zone id: the same choice in every run, whatever the zone names."""
    chosen = sorted(z for z in zone_ids if z not in EKS_UNSUPPORTED_ZONE_IDS)[:count]
    if len(chosen) < count:
        raise ValueError(f"the region offers {len(chosen)} availability zones EKS supports, {count} wanted")
    return chosen


class EksCluster(KubernetesCluster):
    """One EKS cluster of the fleet, with its own AWS provider for its region."""

    TYPE = "multicluster:eks:EksCluster"

    def __init__(self, name: str, args: ClusterPlan, opts: pulumi.ResourceOptions | None = None):
        super().__init__(self.TYPE, name, args, opts)
        self.eks_name = args.physical_name
        self.zones = args.spec.aws_zones
        self.aws_provider = aws.Provider(
            f"{name}-aws",
            region=args.spec.region,
            default_tags={"tags": {**args.tags, "multicluster:cluster": name}},
            opts=pulumi.ResourceOptions(parent=self),
        )
        self._network()

    def complete(self, public_callers: pulumi.Input[list[str]]) -> None:
        self._iam()
        self._control_plane(public_callers)
        self._identity()
        self._node_groups()
        self._access()
        self._kubernetes_access()
        self.autoscaler = ClusterAutoscaler(
            f"{self._name}-autoscaler",
            cluster=self,
            oidc_provider_arn=self.oidc_provider_arn,
            oidc_issuer=self.oidc_issuer,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs({**self.outputs(), "kubeconfig": self.kubeconfig})

    def child_opts(self, **kwargs: Any) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self, provider=self.aws_provider, **kwargs)

    def irsa_trust(self, service_accounts: Sequence[tuple[str, str]]) -> pulumi.Output[str]:
        """The trust policy of an IAM role for pods of this cluster running as the given (namespace, Kubernetes
        service account) pairs (IRSA, through the cluster's IAM OIDC provider)."""
        return irsa_trust_policy(self.oidc_provider_arn, self.oidc_issuer, service_accounts)

    def object_store(self, spec: ObjectStoreSpec, parent: pulumi.Resource) -> S3Bucket:
        """A hardened S3 bucket with its own KMS key (components/storage_aws.py), in this cluster's region."""

        def opts(**kwargs: Any) -> pulumi.ResourceOptions:
            return pulumi.ResourceOptions(parent=parent, provider=self.aws_provider, **kwargs)

        def data_opts(**kwargs: Any) -> pulumi.ResourceOptions:
            return opts(protect=spec.protect, retain_on_delete=True, **kwargs)

        return hardened_s3_bucket(
            spec.name,
            description=spec.description,
            alias=spec.alias,
            purpose=spec.purpose,
            lifecycle=s3_lifecycle(spec.retention),
            opts=opts,
            data_opts=data_opts,
        )

    @staticmethod
    def load_balancer_annotations(internal: bool, *, cross_zone: bool = False) -> dict[str, str]:
        """A Network Load Balancer through the in-tree AWS cloud provider (one address per zone, fixed only with
        Elastic IPs: entry_annotations);
        internal when only peers over private links reach it; cross-zone when every zone should serve."""
        annotations = {"service.beta.kubernetes.io/aws-load-balancer-type": "nlb"}
        if internal:
            annotations["service.beta.kubernetes.io/aws-load-balancer-internal"] = "true"
        if cross_zone:
            annotations["service.beta.kubernetes.io/aws-load-balancer-cross-zone-load-balancing-enabled"] = "true"
        return annotations

    def _invoke_opts(self) -> pulumi.InvokeOutputOptions:
        return pulumi.InvokeOutputOptions(parent=self, provider=self.aws_provider)

    # --- network -------------------------------------------------------------------------
    def _zone_ids(self) -> list[pulumi.Output[str]]:
        """Zones by id, standard Availability Zones only (no Local or Wavelength Zones), EKS-supported."""
        configured = self.spec.network.zone_ids
        if configured:
            return [pulumi.Output.from_input(z) for z in configured]
        found = aws.get_availability_zones_output(
            filters=[{"name": "zone-type", "values": ["availability-zone"]}], opts=self._invoke_opts()
        )
        chosen = found.zone_ids.apply(lambda ids: pick_zones(list(ids), self.zones))
        return [chosen.apply(lambda ids, i=i: ids[i]) for i in range(self.zones)]

    def _network(self) -> None:
        name, spec = self._name, self.spec
        self.zone_ids = self._zone_ids()
        self.vpc = aws.ec2.Vpc(
            f"{name}-vpc",
            cidr_block=spec.network.cidr,
            enable_dns_hostnames=True,
            enable_dns_support=True,
            tags={"Name": self.eks_name},
            opts=self.child_opts(),
        )
        self.vpc_id = self.vpc.id
        self.network_id = self.vpc.id
        # Deny-all on the default security group, so nothing lands in an open group by accident.
        aws.ec2.DefaultSecurityGroup(f"{name}-default-sg", vpc_id=self.vpc.id, opts=self.child_opts())
        igw = aws.ec2.InternetGateway(
            f"{name}-igw", vpc_id=self.vpc.id, tags={"Name": self.eks_name}, opts=self.child_opts()
        )
        private_cidrs, public_cidrs = subnet_plan(spec.network.cidr, self.zones)
        cluster_tag = {f"kubernetes.io/cluster/{self.eks_name}": "shared"}
        # The zone of a subnet is chosen once: a later change of what the region offers never moves it.
        keep_zone = ["availabilityZoneId"]
        self.public_subnets = [
            aws.ec2.Subnet(
                f"{name}-public-{i}",
                vpc_id=self.vpc.id,
                cidr_block=cidr,
                availability_zone_id=zone,
                map_public_ip_on_launch=False,
                tags={"Name": f"{self.eks_name}-public-{i}", "kubernetes.io/role/elb": "1", **cluster_tag},
                opts=self.child_opts(ignore_changes=keep_zone),
            )
            for i, (cidr, zone) in enumerate(zip(public_cidrs, self.zone_ids, strict=True))
        ]
        self.private_subnets = [
            aws.ec2.Subnet(
                f"{name}-private-{i}",
                vpc_id=self.vpc.id,
                cidr_block=cidr,
                availability_zone_id=zone,
                tags={"Name": f"{self.eks_name}-private-{i}", "kubernetes.io/role/internal-elb": "1", **cluster_tag},
                opts=self.child_opts(ignore_changes=keep_zone),
            )
            for i, (cidr, zone) in enumerate(zip(private_cidrs, self.zone_ids, strict=True))
        ]
        public_rt = aws.ec2.RouteTable(
            f"{name}-public", vpc_id=self.vpc.id, tags={"Name": f"{self.eks_name}-public"}, opts=self.child_opts()
        )
        aws.ec2.Route(
            f"{name}-public-default",
            route_table_id=public_rt.id,
            destination_cidr_block="0.0.0.0/0",
            gateway_id=igw.id,
            opts=self.child_opts(),
        )
        for i, subnet in enumerate(self.public_subnets):
            aws.ec2.RouteTableAssociation(
                f"{name}-public-{i}", route_table_id=public_rt.id, subnet_id=subnet.id, opts=self.child_opts()
            )
        self.public_route_table_ids = [public_rt.id]
        if self.args.reserved_entry:
            self._entry_addresses()
        self._private_routes(igw)
        self._flow_logs()

    def _entry_addresses(self) -> None:
        """One Elastic IP per public subnet for the public entry's NLB: fixed addresses that DNS answers in A records
        with the zone's TTL (an alias to the NLB's name would answer with the ELB's 60 s)."""
        name = self._name
        self.entry_eips = [
            aws.ec2.Eip(
                f"{name}-entry-{i}", domain="vpc", tags={"Name": f"{self.eks_name}-entry-{i}"}, opts=self.child_opts()
            )
            for i in range(len(self.public_subnets))
        ]
        self.entry_addresses = pulumi.Output.all(*[eip.public_ip for eip in self.entry_eips]).apply(list)

    def entry_annotations(self, *, cross_zone: bool = False) -> Mapping[str, pulumi.Input[str]]:
        """The public NLB with one Elastic IP per public subnet, the subnets named so that the counts match.

        kubernetes/cloud-provider-aws aws_loadbalancer.go ensureLoadBalancerv2: 'Must have same number of EIP
        AllocationIDs (%d) and SubnetIDs (%d)'; the subnets are the annotation's (getLoadBalancerSubnets) rather
        than those discovered (findELBSubnets: every public subnet of the VPC, one per zone), so that a public subnet
        added to the VPC later never breaks the count. The pairs are made by position (createSubnetMappings); an
        Elastic IP belongs to the region, not to a zone, so any pairing is valid.
        """
        annotations: dict[str, pulumi.Input[str]] = dict(self.load_balancer_annotations(False, cross_zone=cross_zone))
        if not self.args.reserved_entry:
            return annotations
        annotations[EIP_ALLOCATIONS_ANNOTATION] = pulumi.Output.all(*[e.allocation_id for e in self.entry_eips]).apply(
            ",".join
        )
        annotations[SUBNETS_ANNOTATION] = pulumi.Output.all(*[s.id for s in self.public_subnets]).apply(",".join)
        return annotations

    def _private_routes(self, igw: aws.ec2.InternetGateway) -> None:
        name = self._name
        nat_count = self.spec.nat_addresses
        nats: list[aws.ec2.NatGateway] = []
        self.nat_addresses: list[pulumi.Output[str]] = []
        for i in range(nat_count):
            eip = aws.ec2.Eip(
                f"{name}-nat-{i}", domain="vpc", tags={"Name": f"{self.eks_name}-nat-{i}"}, opts=self.child_opts()
            )
            self.nat_addresses.append(eip.public_ip)
            nats.append(
                aws.ec2.NatGateway(
                    f"{name}-nat-{i}",
                    allocation_id=eip.id,
                    subnet_id=self.public_subnets[i].id,
                    tags={"Name": f"{self.eks_name}-nat-{i}"},
                    opts=self.child_opts(depends_on=[igw]),
                )
            )
        # Where this cluster's pods reach the internet from: what peers' public endpoints must admit.
        self.egress_addresses = pulumi.Output.all(*self.nat_addresses).apply(list)
        self.private_route_tables: list[aws.ec2.RouteTable] = []
        for i, subnet in enumerate(self.private_subnets):
            table = aws.ec2.RouteTable(
                f"{name}-private-{i}",
                vpc_id=self.vpc.id,
                tags={"Name": f"{self.eks_name}-private-{i}"},
                opts=self.child_opts(),
            )
            aws.ec2.Route(
                f"{name}-private-{i}-default",
                route_table_id=table.id,
                destination_cidr_block="0.0.0.0/0",
                nat_gateway_id=nats[min(i, nat_count - 1)].id,
                opts=self.child_opts(),
            )
            aws.ec2.RouteTableAssociation(
                f"{name}-private-{i}", route_table_id=table.id, subnet_id=subnet.id, opts=self.child_opts()
            )
            self.private_route_tables.append(table)
        self.private_route_table_ids = [t.id for t in self.private_route_tables]

    def _flow_logs(self) -> None:
        """VPC flow logs into a KMS-encrypted log group (CIS AWS 3.9)."""
        name = self._name
        self._logs_key()
        group = aws.cloudwatch.LogGroup(
            f"{name}-flow-logs",
            name=f"/aws/vpc/{self.eks_name}/flow-logs",
            retention_in_days=FLOW_LOG_RETENTION_DAYS,
            kms_key_id=self.logs_key.arn,
            opts=self.child_opts(),
        )
        role = aws.iam.Role(
            f"{name}-flow-logs",
            assume_role_policy=service_trust_policy("vpc-flow-logs.amazonaws.com"),
            opts=self.child_opts(),
        )
        policy = aws.iam.RolePolicy(
            f"{name}-flow-logs",
            role=role.id,
            policy=group.arn.apply(
                lambda arn: json.dumps(
                    {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Action": [
                                    "logs:CreateLogStream",
                                    "logs:PutLogEvents",
                                    "logs:DescribeLogGroups",
                                    "logs:DescribeLogStreams",
                                ],
                                "Resource": [arn, f"{arn}:*"],
                            }
                        ],
                    }
                )
            ),
            opts=self.child_opts(),
        )
        aws.ec2.FlowLog(
            f"{name}-flow-logs",
            vpc_id=self.vpc.id,
            traffic_type="ALL",
            log_destination_type="cloud-watch-logs",
            log_destination=group.arn,
            iam_role_arn=role.arn,
            max_aggregation_interval=60,
            tags={"Name": f"{self.eks_name}-flow-logs"},
            opts=self.child_opts(depends_on=[policy]),
        )

    def _logs_key(self) -> None:
        """A KMS key for this cluster's log groups: CloudWatch Logs of this region may use it for them."""
        region = self.spec.region
        account = aws.get_caller_identity_output(opts=self._invoke_opts()).account_id
        self.logs_key = aws.kms.Key(
            f"{self._name}-logs",
            description=f"CloudWatch log groups of {self.eks_name}",
            enable_key_rotation=True,
            deletion_window_in_days=30,
            policy=account.apply(lambda account_id: logs_key_policy(account_id, region)),
            opts=self.child_opts(protect=self.args.protect),
        )

    # --- IAM and encryption -----------------------------------------------------------------
    def _iam(self) -> None:
        name, protect = self._name, self.args.protect
        self.kms_key = aws.kms.Key(
            f"{name}-secrets",
            description=f"EKS {self.eks_name} Secrets envelope encryption",
            enable_key_rotation=True,
            deletion_window_in_days=30,
            opts=self.child_opts(protect=protect),
        )
        aws.kms.Alias(
            f"{name}-secrets",
            name=f"alias/eks/{self.eks_name}",
            target_key_id=self.kms_key.key_id,
            opts=self.child_opts(),
        )
        self.cluster_role = aws.iam.Role(
            f"{name}-cluster",
            assume_role_policy=service_trust_policy("eks.amazonaws.com", ("sts:AssumeRole", "sts:TagSession")),
            opts=self.child_opts(),
        )
        cluster_policy = aws.iam.RolePolicyAttachment(
            f"{name}-cluster-AmazonEKSClusterPolicy",
            role=self.cluster_role.name,
            policy_arn=MANAGED_POLICY + "AmazonEKSClusterPolicy",
            opts=self.child_opts(),
        )
        # Only what EKS needs to use this one key for envelope encryption.
        kms_policy = aws.iam.RolePolicy(
            f"{name}-cluster-kms",
            role=self.cluster_role.id,
            policy=self.kms_key.arn.apply(
                lambda arn: json.dumps(
                    {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Resource": arn,
                                "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ListGrants", "kms:DescribeKey"],
                            }
                        ],
                    }
                )
            ),
            opts=self.child_opts(),
        )
        self._cluster_role_ready = [cluster_policy, kms_policy]
        self.node_role = aws.iam.Role(
            f"{name}-node", assume_role_policy=service_trust_policy("ec2.amazonaws.com"), opts=self.child_opts()
        )
        # The CNI policy is on the vpc-cni IRSA role, not on the nodes.
        self._node_role_ready = [
            aws.iam.RolePolicyAttachment(
                f"{name}-node-{policy}",
                role=self.node_role.name,
                policy_arn=MANAGED_POLICY + policy,
                opts=self.child_opts(),
            )
            for policy in ("AmazonEKSWorkerNodePolicy", "AmazonEC2ContainerRegistryPullOnly")
        ]

    # --- control plane ---------------------------------------------------------------------
    def _control_plane(self, public_callers: pulumi.Input[list[str]]) -> None:
        name, spec = self._name, self.spec
        # Created first so that EKS does not create it with unlimited retention; audit logs are evidence.
        log_group = aws.cloudwatch.LogGroup(
            f"{name}-control-plane",
            name=f"/aws/eks/{self.eks_name}/cluster",
            retention_in_days=LOG_RETENTION_DAYS,
            kms_key_id=self.logs_key.arn,
            opts=self.child_opts(protect=self.args.protect),
        )
        public = bool(spec.endpoint.public_access_cidrs)
        vpc_config: aws.eks.ClusterVpcConfigArgsDict = {
            "subnet_ids": [s.id for s in self.private_subnets],
            "endpoint_private_access": spec.endpoint.private_access,
            "endpoint_public_access": public,
        }
        if public:
            # Outside the VPC the endpoint name resolves to the public endpoint: admit the runner and the
            # fleet's callers (the gitops hub, mesh peers), who come from their NAT addresses.
            listed = [*spec.endpoint.public_access_cidrs, *self.args.deployer_egress]
            vpc_config["public_access_cidrs"] = pulumi.Output.from_input(public_callers).apply(
                lambda addresses: admitted(listed, addresses)
            )
        self.cluster = aws.eks.Cluster(
            f"{name}-eks",
            name=self.eks_name,
            version=spec.kubernetes_version,
            role_arn=self.cluster_role.arn,
            vpc_config=vpc_config,
            encryption_config={"provider": {"key_arn": self.kms_key.arn}, "resources": ["secrets"]},
            enabled_cluster_log_types=LOG_TYPES,
            # Who is admin is explicit: access entries below, never whoever ran the first `pulumi up`.
            access_config={"authentication_mode": "API", "bootstrap_cluster_creator_admin_permissions": False},
            kubernetes_network_config={"service_ipv4_cidr": spec.network.service_cidr, "ip_family": "ipv4"},
            upgrade_policy={"support_type": spec.upgrade_policy},
            bootstrap_self_managed_addons=False,
            deletion_protection=self.args.protect,
            opts=self.child_opts(
                protect=self.args.protect,
                depends_on=[*self._cluster_role_ready, log_group],
                # EKS reads both at creation only (UpdateClusterConfig takes neither; the provider replaces the
                # cluster for bootstrapSelfManagedAddons): a cluster made before they were set keeps its own
                # (docs/upgrading.md says how to remove its creator's admin entry by hand).
                ignore_changes=CREATION_ONLY,
            ),
        )
        self.cluster_name = self.cluster.name
        self.endpoint = self.cluster.endpoint
        self.certificate_authority = self.cluster.certificate_authority.apply(
            lambda ca: reported(ca.data, "the EKS cluster's certificate authority")
        )
        self.api_server = self.endpoint
        self.api_ca = self.certificate_authority
        self.node_security_group_id = self.cluster.vpc_config.apply(lambda v: v.cluster_security_group_id)

    def _identity(self) -> None:
        name = self._name
        self.oidc_issuer = self.cluster.identities.apply(oidc_issuer)
        self.oidc_provider = aws.iam.OpenIdConnectProvider(
            f"{name}-oidc", url=self.oidc_issuer, client_id_lists=["sts.amazonaws.com"], opts=self.child_opts()
        )
        self.oidc_provider_arn = self.oidc_provider.arn
        cni_role = irsa_role(
            f"{name}-vpc-cni",
            self.oidc_provider_arn,
            self.oidc_issuer,
            [("kube-system", "aws-node")],
            [MANAGED_POLICY + "AmazonEKS_CNI_Policy"],
            self.child_opts(),
        )
        # Networking add-ons go before the nodes: without a CNI, nodes never become Ready.
        self.base_addons = [
            self._addon("vpc-cni", role=cni_role, configuration={"enableNetworkPolicy": "true"}),
            self._addon("kube-proxy"),
            self._addon("eks-pod-identity-agent"),
        ]

    def _addon(
        self,
        addon: str,
        role: IrsaRole | None = None,
        configuration: dict[str, Any] | None = None,
        depends_on: Sequence[pulumi.Resource] | None = None,
    ) -> aws.eks.Addon:
        return aws.eks.Addon(
            f"{self._name}-{addon}",
            cluster_name=self.cluster.name,
            addon_name=addon,
            # Pinned per Kubernetes version: it changes only when the table or the cluster version does.
            addon_version=eks_addons.addon_version(self.spec.kubernetes_version, addon),
            service_account_role_arn=role.arn if role else None,
            configuration_values=json.dumps(configuration) if configuration else None,
            resolve_conflicts_on_create="OVERWRITE",
            resolve_conflicts_on_update="PRESERVE",
            # An add-on with an IRSA role starts only once the role has its permissions.
            opts=self.child_opts(depends_on=[*(depends_on or []), *(role.ready if role else [])]),
        )

    # --- nodes -----------------------------------------------------------------------------
    def _node_groups(self) -> None:
        self.node_groups = [self._node_group(pool) for pool in self.spec.node_pools]
        ebs_role = irsa_role(
            f"{self._name}-ebs-csi",
            self.oidc_provider_arn,
            self.oidc_issuer,
            [("kube-system", "ebs-csi-controller-sa")],
            [MANAGED_POLICY + "service-role/AmazonEBSCSIDriverPolicy"],
            self.child_opts(),
        )
        # These run as Deployments and need nodes to become healthy.
        on_nodes = [
            self._addon("coredns", depends_on=self.node_groups),
            self._addon("aws-ebs-csi-driver", role=ebs_role, depends_on=self.node_groups),
        ]
        self.addons = [*self.base_addons, *on_nodes]
        # The node groups and the ends of the chain base add-ons -> node groups -> add-ons on nodes: waiting for
        # them waits for all of it (the engine orders creation transitively), without eight dependencies on every
        # workload. The node groups stay direct: deletes are ordered by direct dependencies only (pulumi/pulumi
        # step_generator ScheduleDeletes), so a workload deleted in the update that removes a pool goes first.
        self.ready = [*self.node_groups, *on_nodes]

    def _ami_type(self, pool: NodePoolConfig, index: int) -> pulumi.Output[str]:
        """From what EC2 says about the instance type (architecture, GPUs, Neuron devices) in this region.

        The offering comes first: DescribeInstanceTypes fails on a type that does not exist, with no word of
        the config key; a type the region does not offer (or that does not exist) gets its key path here."""
        offered = aws.ec2.get_instance_type_offerings_output(
            location_type="region",
            filters=[{"name": "instance-type", "values": [pool.machine_type]}],
            opts=self._invoke_opts(),
        )
        where = f"multicluster:clusters[{self.spec_index}].nodePools[{index}].machineType"

        def describe(types: list[str] | None) -> pulumi.Output[str]:
            if pool.machine_type not in (types or []):
                raise ValueError(
                    f"{where} '{pool.machine_type}' is not an instance type {self.spec.region} offers "
                    "(DescribeInstanceTypeOfferings)"
                )
            info = aws.ec2.get_instance_type_output(instance_type=pool.machine_type, opts=self._invoke_opts())
            return pulumi.Output.all(
                info.supported_architectures, info.gpuses, info.neuron_devices, info.inference_accelerators
            ).apply(lambda v: ami_type(list(v[0] or []), v[1] or [], v[2] or [], v[3] or []))

        return offered.instance_types.apply(describe)

    @property
    def spec_index(self) -> int:
        return self.args.index

    def _node_group(self, pool: NodePoolConfig) -> aws.eks.NodeGroup:
        name = f"{self._name}-{pool.name}"
        index = self.spec.node_pools.index(pool)
        template = aws.ec2.LaunchTemplate(
            name,
            description=f"{self.eks_name} node pool {pool.name}",
            update_default_version=True,
            metadata_options={
                "http_endpoint": "enabled",
                "http_tokens": "required",
                "http_put_response_hop_limit": 2,
                "instance_metadata_tags": "disabled",
            },
            block_device_mappings=[
                {
                    "device_name": "/dev/xvda",
                    "ebs": {
                        "volume_size": pool.disk_size_gb,
                        "volume_type": "gp3",
                        "encrypted": "true",
                        "delete_on_termination": "true",
                    },
                }
            ],
            tag_specifications=[
                {"resource_type": kind, "tags": {"Name": f"{self.eks_name}-{pool.name}"}}
                for kind in ("instance", "volume")
            ],
            opts=self.child_opts(),
        )
        # Nodes follow the control plane, after it: the version input waits for the cluster's own.
        version = self.cluster.version.apply(lambda control: pool.kubernetes_version or control)
        return aws.eks.NodeGroup(
            name,
            cluster_name=self.cluster.name,
            node_role_arn=self.node_role.arn,
            subnet_ids=[s.id for s in self.private_subnets],
            instance_types=[pool.machine_type],
            ami_type=self._ami_type(pool, index),
            version=version,
            capacity_type="SPOT" if pool.spot else "ON_DEMAND",
            scaling_config={"min_size": pool.min_size, "max_size": pool.max_size, "desired_size": pool.desired_size},
            update_config={"max_unavailable_percentage": 33},
            labels={"multicluster/node-pool": pool.name, **pool.labels},
            taints=[{"key": t.key, "value": t.value or None, "effect": TAINT_EFFECTS[t.effect]} for t in pool.taints],
            launch_template={"id": template.id, "version": template.latest_version.apply(str)},
            # The Cluster Autoscaler owns the current size once the group exists.
            opts=self.child_opts(
                depends_on=[*self._node_role_ready, *self.base_addons], ignore_changes=["scalingConfig.desiredSize"]
            ),
        )

    # --- access ------------------------------------------------------------------------------
    def _access(self) -> None:
        """The deploying identity (the role behind Pulumi's session) is cluster admin through an access entry."""
        caller = aws.get_caller_identity_output(opts=self._invoke_opts())
        session = aws.iam.get_session_context_output(arn=caller.arn, opts=self._invoke_opts())
        self.deployer_access = self.admin_entry("deployer", session.issuer_arn)
        self.ready = [*self.ready, self.deployer_access[-1]]  # the admin policy, which waits for its entry

    def admin_entry(self, key: str, principal: pulumi.Input[str]) -> list[pulumi.Resource]:
        entry = aws.eks.AccessEntry(
            f"{self._name}-{key}-access",
            cluster_name=self.cluster.name,
            principal_arn=principal,
            type="STANDARD",
            opts=self.child_opts(),
        )
        policy = aws.eks.AccessPolicyAssociation(
            f"{self._name}-{key}-admin",
            cluster_name=self.cluster.name,
            principal_arn=principal,
            policy_arn=EKS_CLUSTER_ADMIN,
            access_scope={"type": "cluster"},
            opts=self.child_opts(depends_on=[entry]),
        )
        return [entry, policy]

    def _kubernetes_access(self) -> None:
        region = self.spec.region
        self._connect(
            self.cluster.name,
            lambda name: {
                "command": "aws",
                "args": ["eks", "get-token", "--cluster-name", name, "--region", region, "--output", "json"],
            },
            # The OIDC issuer is minted per cluster creation: it changes only when the cluster is replaced.
            identity=self.oidc_issuer,
        )

    def outputs(self) -> EksClusterOutputs:
        return {
            **self.common_outputs(),
            "vpcId": self.vpc_id,
            "zoneIds": self.zone_ids,
            "privateRouteTableIds": self.private_route_table_ids,
            "nodeSecurityGroupId": self.node_security_group_id,
            "oidcProviderArn": self.oidc_provider_arn,
            "oidcIssuer": self.oidc_issuer,
        }


def oidc_issuer(identities: Sequence[aws.eks.outputs.ClusterIdentity]) -> str:
    """The issuer URL of the cluster's OIDC identity (minted when the cluster is created)."""
    oidcs = reported(identities[0].oidcs, "the EKS cluster's OIDC identity")
    return reported(oidcs[0].issuer, "the EKS cluster's OIDC issuer")


def admitted(listed: list[str], addresses: list[str]) -> list[str]:
    """The public endpoint's allow list: the listed CIDRs and each caller address as a /32, sorted, once each."""
    return sorted({*listed, *(f"{a}/32" for a in addresses if a)})


def logs_key_policy(account_id: str, region: str) -> str:
    """The account administers the key; CloudWatch Logs of this region uses it for this account's log groups."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "Account",
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{account_id}:root"},
                    "Action": "kms:*",
                    "Resource": "*",
                },
                {
                    "Sid": "CloudWatchLogs",
                    "Effect": "Allow",
                    "Principal": {"Service": f"logs.{region}.amazonaws.com"},
                    "Action": [
                        "kms:Encrypt*",
                        "kms:Decrypt*",
                        "kms:ReEncrypt*",
                        "kms:GenerateDataKey*",
                        "kms:Describe*",
                    ],
                    "Resource": "*",
                    "Condition": {
                        "ArnLike": {
                            "kms:EncryptionContext:aws:logs:arn": f"arn:aws:logs:{region}:{account_id}:log-group:*"
                        }
                    },
                },
            ],
        },
        sort_keys=True,
    )
