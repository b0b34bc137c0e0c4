"""AWS resources and invokes: ARNs, ids, EKS endpoint/CA/OIDC, zones, add-on versions."""

from __future__ import annotations

import uuid
from typing import Any

from . import ACCOUNT_ID, MockCall, MockResource, ResourceMock, call, digest, fake_certificate, resource
from .aws_instances import family_of, offered
from .aws_regions import zone_named, zones


def arn(r: MockResource, service: str, resource_path: str, region: bool = True) -> str:
    return f"arn:aws:{service}:{r.region if region else ''}:{ACCOUNT_ID}:{resource_path}"


@resource("aws:ec2/vpc:Vpc")
def vpc(r: MockResource) -> dict[str, Any]:
    vpc_id = f"vpc-{r.hex()}"
    return {
        "id": vpc_id,
        "arn": arn(r, "ec2", f"vpc/{vpc_id}"),
        "ownerId": ACCOUNT_ID,
        "defaultSecurityGroupId": f"sg-{r.hex()}",
        "mainRouteTableId": f"rtb-{r.random('main', length=17)}",
        "defaultRouteTableId": f"rtb-{r.random('main', length=17)}",
    }


@resource("aws:ec2/subnet:Subnet")
def subnet(r: MockResource) -> dict[str, Any]:
    """A subnet's zone id follows from its zone name through the account's own mapping."""
    subnet_id = f"subnet-{r.hex()}"
    outputs = {"id": subnet_id, "arn": arn(r, "ec2", f"subnet/{subnet_id}"), "ownerId": ACCOUNT_ID}
    zone = zone_named(r.region, str(r.inputs.get("availabilityZone")))
    if zone is None and r.inputs.get("availabilityZoneId"):
        zone = next((z for z in zones(r.region) if z.zone_id == r.inputs["availabilityZoneId"]), None)
    if zone is None:
        raise ValueError(
            f"InvalidParameterValue: no availability zone {r.inputs.get('availabilityZone')} in {r.region}"
        )
    return {**outputs, "availabilityZone": zone.name, "availabilityZoneId": zone.zone_id}


def _prefixed(prefix: str) -> ResourceMock:
    def mock(r: MockResource) -> dict[str, Any]:
        return {"id": f"{prefix}-{r.hex()}"}

    return mock


for _type, _prefix in {
    "aws:ec2/internetGateway:InternetGateway": "igw",
    "aws:ec2/natGateway:NatGateway": "nat",
    "aws:ec2/routeTable:RouteTable": "rtb",
    "aws:ec2/routeTableAssociation:RouteTableAssociation": "rtbassoc",
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": "sg",
    "aws:ec2/securityGroup:SecurityGroup": "sg",
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": "sgr",
    "aws:ec2/securityGroupRule:SecurityGroupRule": "sgrule",
    "aws:ec2/flowLog:FlowLog": "fl",
}.items():
    resource(_type)(_prefixed(_prefix))


@resource("aws:ec2/launchTemplate:LaunchTemplate")
def launch_template(r: MockResource) -> dict[str, Any]:
    lt_id = f"lt-{r.hex()}"
    return {"id": lt_id, "arn": arn(r, "ec2", f"launch-template/{lt_id}"), "latestVersion": 1, "defaultVersion": 1}


@resource("aws:ec2/eip:Eip")
def eip(r: MockResource) -> dict[str, Any]:
    h = int(r.random("address", length=8), 16)
    return {
        "id": f"eipalloc-{r.hex()}",
        "allocationId": f"eipalloc-{r.hex()}",
        "publicIp": f"3.{h % 200 + 10}.{(h >> 8) % 250}.{(h >> 16) % 250 + 1}",
    }


@resource("aws:ec2/route:Route")
def route(r: MockResource) -> dict[str, Any]:
    return {
        "id": f"r-{r.inputs.get('routeTableId', 'rtb')}{digest(r.inputs.get('destinationCidrBlock'), length=8)}",
        "state": "active",
        "origin": "CreateRoute",
    }


@resource("aws:iam/role:Role")
def role(r: MockResource) -> dict[str, Any]:
    name = r.inputs.get("name", "")
    return {
        "id": name,
        "name": name,
        "arn": f"arn:aws:iam::{ACCOUNT_ID}:role/{name}",
        "uniqueId": f"AROA{r.hex(17).upper()}",
    }


@resource("aws:iam/policy:Policy")
def policy(r: MockResource) -> dict[str, Any]:
    name = r.inputs.get("name", "")
    return {
        "id": f"arn:aws:iam::{ACCOUNT_ID}:policy/{name}",
        "name": name,
        "arn": f"arn:aws:iam::{ACCOUNT_ID}:policy/{name}",
        "policyId": f"ANPA{r.hex(17).upper()}",
    }


@resource("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
def role_policy_attachment(r: MockResource) -> dict[str, Any]:
    return {"id": f"{r.inputs.get('role')}-{r.hex(8)}"}


@resource("aws:iam/rolePolicy:RolePolicy")
def role_policy(r: MockResource) -> dict[str, Any]:
    name = r.inputs.get("name", "")
    return {"id": f"{r.inputs.get('role')}:{name}", "name": name}


@resource("aws:kms/key:Key")
def kms_key(r: MockResource) -> dict[str, Any]:
    key_id = str(uuid.UUID(r.hex(32)))
    return {"id": key_id, "keyId": key_id, "arn": arn(r, "kms", f"key/{key_id}"), "keyUsage": "ENCRYPT_DECRYPT"}


@resource("aws:kms/alias:Alias")
def kms_alias(r: MockResource) -> dict[str, Any]:
    return {"id": r.inputs["name"], "arn": arn(r, "kms", r.inputs["name"])}


@resource("aws:cloudwatch/logGroup:LogGroup")
def log_group(r: MockResource) -> dict[str, Any]:
    name = r.inputs.get("name", "")
    return {"id": name, "name": name, "arn": arn(r, "logs", f"log-group:{name}")}


@resource("aws:eks/cluster:Cluster")
def eks_cluster(r: MockResource) -> dict[str, Any]:
    """EKS's answer: its endpoint, CA and issuer are random per cluster; its VPC is the one of its subnets."""
    name = r.inputs["name"]
    vpc_config = dict(r.inputs.get("vpcConfig", {}))
    subnets = [r.lookup(s) for s in vpc_config.get("subnetIds", [])]
    vpcs = {s.get("vpcId") for s in subnets if s}
    if len(vpcs) > 1:
        raise ValueError("InvalidParameterException: subnets of the cluster are in different VPCs")
    vpc_config |= {
        "clusterSecurityGroupId": f"sg-{r.random('cluster-sg', length=17)}",
        "vpcId": next(iter(vpcs), None) or f"vpc-{r.random('vpc', length=17)}",
    }
    return {
        "id": name,
        "arn": arn(r, "eks", f"cluster/{name}"),
        "endpoint": f"https://{r.random('endpoint', length=32).upper()}.gr7.{r.region}.eks.amazonaws.com",
        "certificateAuthority": {"data": fake_certificate("eks", r.stack, r.region, name)},
        "identities": [
            {
                "oidcs": [
                    {"issuer": f"https://oidc.eks.{r.region}.amazonaws.com/id/{r.random('oidc', length=32).upper()}"}
                ]
            }
        ],
        "vpcConfig": vpc_config,
        "status": "ACTIVE",
        "platformVersion": "eks.12",
        "clusterId": str(uuid.UUID(r.random("cluster-id", length=32))),
    }


@resource("aws:iam/openIdConnectProvider:OpenIdConnectProvider")
def oidc_provider(r: MockResource) -> dict[str, Any]:
    host = str(r.inputs["url"]).removeprefix("https://")
    provider_arn = f"arn:aws:iam::{ACCOUNT_ID}:oidc-provider/{host}"
    return {"id": provider_arn, "arn": provider_arn}


@resource("aws:eks/addon:Addon")
def addon(r: MockResource) -> dict[str, Any]:
    return {
        "id": f"{r.inputs['clusterName']}:{r.inputs['addonName']}",
        "arn": arn(r, "eks", f"addon/{r.inputs['clusterName']}/{r.inputs['addonName']}/{r.hex(8)}"),
    }


@resource("aws:eks/nodeGroup:NodeGroup")
def node_group(r: MockResource) -> dict[str, Any]:
    name = r.inputs.get("nodeGroupName", "")
    return {
        "id": f"{r.inputs['clusterName']}:{name}",
        "nodeGroupName": name,
        "status": "ACTIVE",
        "arn": arn(r, "eks", f"nodegroup/{r.inputs['clusterName']}/{name}/{r.hex(8)}"),
    }


@resource("aws:eks/accessEntry:AccessEntry", "aws:eks/accessPolicyAssociation:AccessPolicyAssociation")
def access_entry(r: MockResource) -> dict[str, Any]:
    return {
        "id": f"{r.inputs.get('clusterName')}#{r.inputs.get('principalArn')}",
        "accessEntryArn": arn(r, "eks", f"access-entry/{r.inputs.get('clusterName')}/{r.hex(8)}"),
    }


@call("aws:index/getAvailabilityZones:getAvailabilityZones")
def availability_zones(c: MockCall) -> dict[str, Any]:
    """DescribeAvailabilityZones as the provider filters it (filters, excludeZoneIds/Names), names sorted."""
    found = zones(c.region)
    filters: list[dict[str, Any]] = c.args.get("filters") or []
    for f in filters:
        values = set(f.get("values") or [])
        key = {"zone-type": "zone_type", "zone-id": "zone_id", "zone-name": "name", "group-name": "group_name"}
        attribute = key.get(f.get("name", ""))
        if attribute:
            found = [z for z in found if getattr(z, attribute) in values]
    found = [z for z in found if z.zone_id not in set(c.args.get("excludeZoneIds") or [])]
    found = [z for z in found if z.name not in set(c.args.get("excludeNames") or [])]
    return {
        "id": c.region,
        "names": [z.name for z in found],
        "zoneIds": [z.zone_id for z in found],
        "groupNames": sorted({z.group_name for z in found}),
        "state": c.args.get("state"),
    }


@call("aws:ec2/getInstanceType:getInstanceType")
def instance_type(c: MockCall) -> dict[str, Any]:
    """DescribeInstanceTypes: an unknown type is an error (InvalidInstanceType)."""
    name = c.args["instanceType"]
    family = family_of(name)
    if family is None:
        raise ValueError(f"InvalidInstanceType: The following supplied instance types do not exist: [{name}]")
    return {
        "id": name,
        "instanceType": name,
        "supportedArchitectures": [family.architecture],
        "gpuses": [{"count": 1, "manufacturer": "NVIDIA", "name": family.gpu, "memorySize": 24576}]
        if family.gpu
        else [],
        "neuronDevices": [{"count": 1, "name": family.neuron, "coreCount": 2}] if family.neuron else [],
        "inferenceAccelerators": [{"count": 1, "manufacturer": "AWS", "name": "Inferentia"}]
        if family.inference
        else [],
    }


@call("aws:ec2/getInstanceTypeOfferings:getInstanceTypeOfferings")
def instance_type_offerings(c: MockCall) -> dict[str, Any]:
    """DescribeInstanceTypeOfferings (location type region), filtered by instance-type."""
    filters: list[dict[str, Any]] = c.args.get("filters") or []
    wanted: list[str] = [v for f in filters if f.get("name") == "instance-type" for v in f.get("values", [])]
    found = [t for t in wanted if offered(t, c.region)]
    return {
        "id": c.region,
        "instanceTypes": found,
        "locationTypes": ["region"] * len(found),
        "locations": [c.region] * len(found),
    }


@call("aws:iam/getSessionContext:getSessionContext")
def session_context(c: MockCall) -> dict[str, Any]:
    """The role behind an assumed-role session ARN (its path included)."""
    arn = c.args["arn"]
    if ":assumed-role/" not in arn:
        return {"id": arn, "arn": arn, "issuerArn": arn, "issuerId": "", "issuerName": "", "sessionName": ""}
    role, session = arn.split(":assumed-role/", 1)[1].split("/", 1)
    issuer = f"arn:aws:iam::{ACCOUNT_ID}:role/{role}"
    return {"id": arn, "arn": arn, "issuerArn": issuer, "issuerId": "AROADEPLOYER", "issuerName": role,
            "sessionName": session}  # fmt: skip


@call("aws:index/getCallerIdentity:getCallerIdentity")
def caller_identity(c: MockCall) -> dict[str, Any]:
    return {
        "id": ACCOUNT_ID,
        "accountId": ACCOUNT_ID,
        "arn": f"arn:aws:sts::{ACCOUNT_ID}:assumed-role/deployer/pulumi",
        "userId": "AROADEPLOYER:pulumi",
    }


@call("aws:index/getPartition:getPartition")
def partition(c: MockCall) -> dict[str, Any]:
    return {"id": "aws", "partition": "aws", "dnsSuffix": "amazonaws.com"}


@call("aws:index/getRegion:getRegion")
def region(c: MockCall) -> dict[str, Any]:
    return {"id": c.region, "name": c.region, "region": c.region, "endpoint": f"ec2.{c.region}.amazonaws.com"}
