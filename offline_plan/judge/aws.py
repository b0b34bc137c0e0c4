"""What AWS would refuse: the API models' limits, the documented rules they leave out, default quotas.

Field rules come from the AWS API models botocore ships (MODEL_FIELDS maps a Pulumi input to the model
member it becomes; the limits themselves are read from the model). Documented rules and quotas cite the
AWS documentation page that states them.
"""

from __future__ import annotations

import functools
import ipaddress
import json
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from ..mocks import Observed
from ..values import is_unknown
from . import Context, aws_nlb, field_rules, plan_check, resource_check
from .models import botocore_constraints
from .rules import (
    Between,
    FieldRule,
    Finding,
    Length,
    Network,
    OneOf,
    Pattern,
    dependency_closure,
    is_list,
    is_map,
    of_type,
    subnet_of,
    value_at,
    values_at,
)

AWS = "AWS"
EKS_NETWORK_DOC = "https://docs.aws.amazon.com/eks/latest/userguide/network-reqs.html"
VPC_CIDR_DOC = "https://docs.aws.amazon.com/vpc/latest/userguide/vpc-cidr-blocks.html"
VPC_QUOTAS = "https://docs.aws.amazon.com/vpc/latest/userguide/amazon-vpc-limits.html"
VPN_QUOTAS = "https://docs.aws.amazon.com/vpn/latest/s2svpn/vpn-limits.html"
IAM_QUOTAS = "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html"
ROUTE53_QUOTAS = "https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/DNSLimitations.html"
EKS_QUOTAS = "https://docs.aws.amazon.com/eks/latest/userguide/service-quotas.html"
EC2_API = "https://docs.aws.amazon.com/AWSEC2/latest/APIReference"
ROUTE53_API = "https://docs.aws.amazon.com/Route53/latest/APIReference"
VPN_TUNNELS_DOC = "https://docs.aws.amazon.com/vpn/latest/s2svpn/VPNTunnels.html"
TGW_QUOTAS = "https://docs.aws.amazon.com/vpc/latest/tgw/transit-gateway-quotas.html"
TF_AWS = "terraform-provider-aws (pulumi-aws is built from it)"

# Pulumi input -> the API model member it is sent as: (type, input path, service, input shape, member path).
# Blocks the provider sends as a list of one (encryptionConfig) are objects in Pulumi: no count rule for them.
MODEL_FIELDS = (
    ("aws:iam/role:Role", "name", "iam", "CreateRoleRequest", "RoleName"),
    ("aws:iam/role:Role", "path", "iam", "CreateRoleRequest", "Path"),
    ("aws:iam/role:Role", "description", "iam", "CreateRoleRequest", "Description"),
    ("aws:iam/role:Role", "maxSessionDuration", "iam", "CreateRoleRequest", "MaxSessionDuration"),
    ("aws:iam/role:Role", "assumeRolePolicy", "iam", "CreateRoleRequest", "AssumeRolePolicyDocument"),
    ("aws:iam/role:Role", "permissionsBoundary", "iam", "CreateRoleRequest", "PermissionsBoundary"),
    ("aws:iam/role:Role", "tags", "iam", "CreateRoleRequest", "Tags"),
    ("aws:iam/role:Role", "tags.{keys}", "iam", "CreateRoleRequest", "Tags[].Key"),
    ("aws:iam/role:Role", "tags.{}", "iam", "CreateRoleRequest", "Tags[].Value"),
    ("aws:iam/rolePolicy:RolePolicy", "name", "iam", "PutRolePolicyRequest", "PolicyName"),
    ("aws:iam/rolePolicy:RolePolicy", "policy", "iam", "PutRolePolicyRequest", "PolicyDocument"),
    ("aws:iam/rolePolicy:RolePolicy", "role", "iam", "PutRolePolicyRequest", "RoleName"),
    ("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "role", "iam", "AttachRolePolicyRequest", "RoleName"),
    ("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "policyArn", "iam", "AttachRolePolicyRequest", "PolicyArn"),
    ("aws:iam/openIdConnectProvider:OpenIdConnectProvider", "url", "iam", "CreateOpenIDConnectProviderRequest", "Url"),
    (
        "aws:iam/openIdConnectProvider:OpenIdConnectProvider",
        "clientIdLists[]",
        "iam",
        "CreateOpenIDConnectProviderRequest",
        "ClientIDList[]",
    ),
    (
        "aws:iam/openIdConnectProvider:OpenIdConnectProvider",
        "thumbprintLists[]",
        "iam",
        "CreateOpenIDConnectProviderRequest",
        "ThumbprintList[]",
    ),
    (
        "aws:iam/openIdConnectProvider:OpenIdConnectProvider",
        "tags",
        "iam",
        "CreateOpenIDConnectProviderRequest",
        "Tags",
    ),
    ("aws:kms/key:Key", "description", "kms", "CreateKeyRequest", "Description"),
    ("aws:kms/key:Key", "policy", "kms", "CreateKeyRequest", "Policy"),
    ("aws:kms/key:Key", "keyUsage", "kms", "CreateKeyRequest", "KeyUsage"),
    ("aws:kms/key:Key", "customerMasterKeySpec", "kms", "CreateKeyRequest", "KeySpec"),
    ("aws:kms/key:Key", "customKeyStoreId", "kms", "CreateKeyRequest", "CustomKeyStoreId"),
    ("aws:kms/key:Key", "deletionWindowInDays", "kms", "ScheduleKeyDeletionRequest", "PendingWindowInDays"),
    ("aws:kms/key:Key", "rotationPeriodInDays", "kms", "EnableKeyRotationRequest", "RotationPeriodInDays"),
    ("aws:kms/key:Key", "tags.{keys}", "kms", "CreateKeyRequest", "Tags[].TagKey"),
    ("aws:kms/key:Key", "tags.{}", "kms", "CreateKeyRequest", "Tags[].TagValue"),
    ("aws:kms/alias:Alias", "name", "kms", "CreateAliasRequest", "AliasName"),
    ("aws:kms/alias:Alias", "targetKeyId", "kms", "CreateAliasRequest", "TargetKeyId"),
    ("aws:cloudwatch/logGroup:LogGroup", "name", "logs", "CreateLogGroupRequest", "logGroupName"),
    ("aws:cloudwatch/logGroup:LogGroup", "kmsKeyId", "logs", "CreateLogGroupRequest", "kmsKeyId"),
    ("aws:cloudwatch/logGroup:LogGroup", "logGroupClass", "logs", "CreateLogGroupRequest", "logGroupClass"),
    ("aws:cloudwatch/logGroup:LogGroup", "tags", "logs", "CreateLogGroupRequest", "tags"),
    ("aws:cloudwatch/logGroup:LogGroup", "tags.{keys}", "logs", "CreateLogGroupRequest", "tags{key}"),
    ("aws:cloudwatch/logGroup:LogGroup", "tags.{}", "logs", "CreateLogGroupRequest", "tags{value}"),
    ("aws:eks/cluster:Cluster", "name", "eks", "CreateClusterRequest", "name"),
    (
        "aws:eks/cluster:Cluster",
        "kubernetesNetworkConfig.ipFamily",
        "eks",
        "CreateClusterRequest",
        "kubernetesNetworkConfig.ipFamily",
    ),
    (
        "aws:eks/cluster:Cluster",
        "accessConfig.authenticationMode",
        "eks",
        "CreateClusterRequest",
        "accessConfig.authenticationMode",
    ),
    (
        "aws:eks/cluster:Cluster",
        "upgradePolicy.supportType",
        "eks",
        "CreateClusterRequest",
        "upgradePolicy.supportType",
    ),
    (
        "aws:eks/cluster:Cluster",
        "enabledClusterLogTypes[]",
        "eks",
        "CreateClusterRequest",
        "logging.clusterLogging[].types[]",
    ),
    (
        "aws:eks/cluster:Cluster",
        "controlPlaneScalingConfig.tier",
        "eks",
        "CreateClusterRequest",
        "controlPlaneScalingConfig.tier",
    ),
    ("aws:eks/cluster:Cluster", "tags", "eks", "CreateClusterRequest", "tags"),
    ("aws:eks/cluster:Cluster", "tags.{keys}", "eks", "CreateClusterRequest", "tags{key}"),
    ("aws:eks/cluster:Cluster", "tags.{}", "eks", "CreateClusterRequest", "tags{value}"),
    ("aws:eks/nodeGroup:NodeGroup", "amiType", "eks", "CreateNodegroupRequest", "amiType"),
    ("aws:eks/nodeGroup:NodeGroup", "capacityType", "eks", "CreateNodegroupRequest", "capacityType"),
    ("aws:eks/nodeGroup:NodeGroup", "labels.{keys}", "eks", "CreateNodegroupRequest", "labels{key}"),
    ("aws:eks/nodeGroup:NodeGroup", "labels.{}", "eks", "CreateNodegroupRequest", "labels{value}"),
    ("aws:eks/nodeGroup:NodeGroup", "taints[].key", "eks", "CreateNodegroupRequest", "taints[].key"),
    ("aws:eks/nodeGroup:NodeGroup", "taints[].value", "eks", "CreateNodegroupRequest", "taints[].value"),
    ("aws:eks/nodeGroup:NodeGroup", "taints[].effect", "eks", "CreateNodegroupRequest", "taints[].effect"),
    ("aws:eks/nodeGroup:NodeGroup", "scalingConfig.minSize", "eks", "CreateNodegroupRequest", "scalingConfig.minSize"),
    ("aws:eks/nodeGroup:NodeGroup", "scalingConfig.maxSize", "eks", "CreateNodegroupRequest", "scalingConfig.maxSize"),
    (
        "aws:eks/nodeGroup:NodeGroup",
        "scalingConfig.desiredSize",
        "eks",
        "CreateNodegroupRequest",
        "scalingConfig.desiredSize",
    ),
    (
        "aws:eks/nodeGroup:NodeGroup",
        "updateConfig.maxUnavailable",
        "eks",
        "CreateNodegroupRequest",
        "updateConfig.maxUnavailable",
    ),
    (
        "aws:eks/nodeGroup:NodeGroup",
        "updateConfig.maxUnavailablePercentage",
        "eks",
        "CreateNodegroupRequest",
        "updateConfig.maxUnavailablePercentage",
    ),
    (
        "aws:eks/nodeGroup:NodeGroup",
        "updateConfig.updateStrategy",
        "eks",
        "CreateNodegroupRequest",
        "updateConfig.updateStrategy",
    ),
    ("aws:eks/nodeGroup:NodeGroup", "tags", "eks", "CreateNodegroupRequest", "tags"),
    ("aws:eks/addon:Addon", "clusterName", "eks", "CreateAddonRequest", "clusterName"),
    ("aws:eks/addon:Addon", "serviceAccountRoleArn", "eks", "CreateAddonRequest", "serviceAccountRoleArn"),
    ("aws:eks/addon:Addon", "resolveConflictsOnCreate", "eks", "CreateAddonRequest", "resolveConflicts"),
    ("aws:eks/addon:Addon", "tags", "eks", "CreateAddonRequest", "tags"),
    ("aws:eks/accessEntry:AccessEntry", "tags", "eks", "CreateAccessEntryRequest", "tags"),
    (
        "aws:eks/accessPolicyAssociation:AccessPolicyAssociation",
        "accessScope.type",
        "eks",
        "AssociateAccessPolicyRequest",
        "accessScope.type",
    ),
    ("aws:ec2/vpc:Vpc", "instanceTenancy", "ec2", "CreateVpcRequest", "InstanceTenancy"),
    ("aws:ec2/natGateway:NatGateway", "connectivityType", "ec2", "CreateNatGatewayRequest", "ConnectivityType"),
    ("aws:ec2/natGateway:NatGateway", "availabilityMode", "ec2", "CreateNatGatewayRequest", "AvailabilityMode"),
    (
        "aws:ec2/natGateway:NatGateway",
        "secondaryPrivateIpAddressCount",
        "ec2",
        "CreateNatGatewayRequest",
        "SecondaryPrivateIpAddressCount",
    ),
    ("aws:ec2/eip:Eip", "domain", "ec2", "AllocateAddressRequest", "Domain"),
    (
        "aws:ec2/launchTemplate:LaunchTemplate",
        "description",
        "ec2",
        "CreateLaunchTemplateRequest",
        "VersionDescription",
    ),
    (
        "aws:ec2/launchTemplate:LaunchTemplate",
        "metadataOptions.httpTokens",
        "ec2",
        "CreateLaunchTemplateRequest",
        "LaunchTemplateData.MetadataOptions.HttpTokens",
    ),
    (
        "aws:ec2/launchTemplate:LaunchTemplate",
        "metadataOptions.httpEndpoint",
        "ec2",
        "CreateLaunchTemplateRequest",
        "LaunchTemplateData.MetadataOptions.HttpEndpoint",
    ),
    (
        "aws:ec2/launchTemplate:LaunchTemplate",
        "metadataOptions.httpProtocolIpv6",
        "ec2",
        "CreateLaunchTemplateRequest",
        "LaunchTemplateData.MetadataOptions.HttpProtocolIpv6",
    ),
    (
        "aws:ec2/launchTemplate:LaunchTemplate",
        "metadataOptions.instanceMetadataTags",
        "ec2",
        "CreateLaunchTemplateRequest",
        "LaunchTemplateData.MetadataOptions.InstanceMetadataTags",
    ),
    (
        "aws:ec2/launchTemplate:LaunchTemplate",
        "blockDeviceMappings[].ebs.volumeType",
        "ec2",
        "CreateLaunchTemplateRequest",
        "LaunchTemplateData.BlockDeviceMappings[].Ebs.VolumeType",
    ),
    ("aws:ec2/customerGateway:CustomerGateway", "type", "ec2", "CreateCustomerGatewayRequest", "Type"),
    (
        "aws:ec2/vpnConnection:VpnConnection",
        "tunnelInsideIpVersion",
        "ec2",
        "CreateVpnConnectionRequest",
        "Options.TunnelInsideIpVersion",
    ),
    (
        "aws:s3/bucketVersioning:BucketVersioning",
        "versioningConfiguration.status",
        "s3",
        "PutBucketVersioningRequest",
        "VersioningConfiguration.Status",
    ),
    (
        "aws:s3/bucketVersioning:BucketVersioning",
        "versioningConfiguration.mfaDelete",
        "s3",
        "PutBucketVersioningRequest",
        "VersioningConfiguration.MFADelete",
    ),
    (
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        "rules[].applyServerSideEncryptionByDefault.sseAlgorithm",
        "s3",
        "PutBucketEncryptionRequest",
        "ServerSideEncryptionConfiguration.Rules[].ApplyServerSideEncryptionByDefault.SSEAlgorithm",
    ),
    (
        "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
        "rule.objectOwnership",
        "s3",
        "PutBucketOwnershipControlsRequest",
        "OwnershipControls.Rules[].ObjectOwnership",
    ),
    (
        "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
        "rules[].status",
        "s3",
        "PutBucketLifecycleConfigurationRequest",
        "LifecycleConfiguration.Rules[].Status",
    ),
    (
        "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
        "rules[].transitions[].storageClass",
        "s3",
        "PutBucketLifecycleConfigurationRequest",
        "LifecycleConfiguration.Rules[].Transitions[].StorageClass",
    ),
    (
        "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
        "rules[].noncurrentVersionTransitions[].storageClass",
        "s3",
        "PutBucketLifecycleConfigurationRequest",
        "LifecycleConfiguration.Rules[].NoncurrentVersionTransitions[].StorageClass",
    ),
    (
        "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
        "transitionDefaultMinimumObjectSize",
        "s3",
        "PutBucketLifecycleConfigurationRequest",
        "TransitionDefaultMinimumObjectSize",
    ),
    ("aws:route53/zone:Zone", "name", "route53", "CreateHostedZoneRequest", "Name"),
    ("aws:route53/zone:Zone", "comment", "route53", "CreateHostedZoneRequest", "HostedZoneConfig.Comment"),
    ("aws:route53/zone:Zone", "vpcs[].vpcRegion", "route53", "CreateHostedZoneRequest", "VPC.VPCRegion"),
    ("aws:route53/zone:Zone", "vpcs[].vpcId", "route53", "CreateHostedZoneRequest", "VPC.VPCId"),
    ("aws:route53/zone:Zone", "delegationSetId", "route53", "CreateHostedZoneRequest", "DelegationSetId"),
    ("aws:route53/healthCheck:HealthCheck", "type", "route53", "CreateHealthCheckRequest", "HealthCheckConfig.Type"),
    (
        "aws:route53/healthCheck:HealthCheck",
        "fqdn",
        "route53",
        "CreateHealthCheckRequest",
        "HealthCheckConfig.FullyQualifiedDomainName",
    ),
    (
        "aws:route53/healthCheck:HealthCheck",
        "ipAddress",
        "route53",
        "CreateHealthCheckRequest",
        "HealthCheckConfig.IPAddress",
    ),
    ("aws:route53/healthCheck:HealthCheck", "port", "route53", "CreateHealthCheckRequest", "HealthCheckConfig.Port"),
    (
        "aws:route53/healthCheck:HealthCheck",
        "resourcePath",
        "route53",
        "CreateHealthCheckRequest",
        "HealthCheckConfig.ResourcePath",
    ),
    (
        "aws:route53/healthCheck:HealthCheck",
        "searchString",
        "route53",
        "CreateHealthCheckRequest",
        "HealthCheckConfig.SearchString",
    ),
    (
        "aws:route53/healthCheck:HealthCheck",
        "requestInterval",
        "route53",
        "CreateHealthCheckRequest",
        "HealthCheckConfig.RequestInterval",
    ),
    (
        "aws:route53/healthCheck:HealthCheck",
        "failureThreshold",
        "route53",
        "CreateHealthCheckRequest",
        "HealthCheckConfig.FailureThreshold",
    ),
    (
        "aws:route53/healthCheck:HealthCheck",
        "regions",
        "route53",
        "CreateHealthCheckRequest",
        "HealthCheckConfig.Regions",
    ),
    (
        "aws:route53/healthCheck:HealthCheck",
        "regions[]",
        "route53",
        "CreateHealthCheckRequest",
        "HealthCheckConfig.Regions[]",
    ),
    (
        "aws:route53/healthCheck:HealthCheck",
        "childHealthThreshold",
        "route53",
        "CreateHealthCheckRequest",
        "HealthCheckConfig.HealthThreshold",
    ),
    (
        "aws:route53/healthCheck:HealthCheck",
        "childHealthchecks",
        "route53",
        "CreateHealthCheckRequest",
        "HealthCheckConfig.ChildHealthChecks",
    ),
    (
        "aws:route53/healthCheck:HealthCheck",
        "cloudwatchAlarmName",
        "route53",
        "CreateHealthCheckRequest",
        "HealthCheckConfig.AlarmIdentifier.Name",
    ),
    (
        "aws:route53/healthCheck:HealthCheck",
        "cloudwatchAlarmRegion",
        "route53",
        "CreateHealthCheckRequest",
        "HealthCheckConfig.AlarmIdentifier.Region",
    ),
    (
        "aws:route53/healthCheck:HealthCheck",
        "insufficientDataHealthStatus",
        "route53",
        "CreateHealthCheckRequest",
        "HealthCheckConfig.InsufficientDataHealthStatus",
    ),
    ("aws:route53/record:Record", "zoneId", "route53", "ChangeResourceRecordSetsRequest", "HostedZoneId"),
    (
        "aws:route53/record:Record",
        "name",
        "route53",
        "ChangeResourceRecordSetsRequest",
        "ChangeBatch.Changes[].ResourceRecordSet.Name",
    ),
    (
        "aws:route53/record:Record",
        "type",
        "route53",
        "ChangeResourceRecordSetsRequest",
        "ChangeBatch.Changes[].ResourceRecordSet.Type",
    ),
    (
        "aws:route53/record:Record",
        "ttl",
        "route53",
        "ChangeResourceRecordSetsRequest",
        "ChangeBatch.Changes[].ResourceRecordSet.TTL",
    ),
    (
        "aws:route53/record:Record",
        "records",
        "route53",
        "ChangeResourceRecordSetsRequest",
        "ChangeBatch.Changes[].ResourceRecordSet.ResourceRecords",
    ),
    (
        "aws:route53/record:Record",
        "records[]",
        "route53",
        "ChangeResourceRecordSetsRequest",
        "ChangeBatch.Changes[].ResourceRecordSet.ResourceRecords[].Value",
    ),
    (
        "aws:route53/record:Record",
        "setIdentifier",
        "route53",
        "ChangeResourceRecordSetsRequest",
        "ChangeBatch.Changes[].ResourceRecordSet.SetIdentifier",
    ),
    (
        "aws:route53/record:Record",
        "weightedRoutingPolicies[].weight",
        "route53",
        "ChangeResourceRecordSetsRequest",
        "ChangeBatch.Changes[].ResourceRecordSet.Weight",
    ),
    (
        "aws:route53/record:Record",
        "latencyRoutingPolicies[].region",
        "route53",
        "ChangeResourceRecordSetsRequest",
        "ChangeBatch.Changes[].ResourceRecordSet.Region",
    ),
    (
        "aws:route53/record:Record",
        "failoverRoutingPolicies[].type",
        "route53",
        "ChangeResourceRecordSetsRequest",
        "ChangeBatch.Changes[].ResourceRecordSet.Failover",
    ),
    (
        "aws:route53/record:Record",
        "geolocationRoutingPolicies[].continent",
        "route53",
        "ChangeResourceRecordSetsRequest",
        "ChangeBatch.Changes[].ResourceRecordSet.GeoLocation.ContinentCode",
    ),
    (
        "aws:route53/record:Record",
        "geolocationRoutingPolicies[].country",
        "route53",
        "ChangeResourceRecordSetsRequest",
        "ChangeBatch.Changes[].ResourceRecordSet.GeoLocation.CountryCode",
    ),
    (
        "aws:route53/record:Record",
        "geolocationRoutingPolicies[].subdivision",
        "route53",
        "ChangeResourceRecordSetsRequest",
        "ChangeBatch.Changes[].ResourceRecordSet.GeoLocation.SubdivisionCode",
    ),
    (
        "aws:route53/record:Record",
        "healthCheckId",
        "route53",
        "ChangeResourceRecordSetsRequest",
        "ChangeBatch.Changes[].ResourceRecordSet.HealthCheckId",
    ),
    (
        "aws:route53/record:Record",
        "aliases[].name",
        "route53",
        "ChangeResourceRecordSetsRequest",
        "ChangeBatch.Changes[].ResourceRecordSet.AliasTarget.DNSName",
    ),
    (
        "aws:route53/record:Record",
        "aliases[].zoneId",
        "route53",
        "ChangeResourceRecordSetsRequest",
        "ChangeBatch.Changes[].ResourceRecordSet.AliasTarget.HostedZoneId",
    ),
    (
        "aws:route53/record:Record",
        "cidrRoutingPolicy.collectionId",
        "route53",
        "ChangeResourceRecordSetsRequest",
        "ChangeBatch.Changes[].ResourceRecordSet.CidrRoutingConfig.CollectionId",
    ),
    (
        "aws:route53/record:Record",
        "cidrRoutingPolicy.locationName",
        "route53",
        "ChangeResourceRecordSetsRequest",
        "ChangeBatch.Changes[].ResourceRecordSet.CidrRoutingConfig.LocationName",
    ),
    ("aws:ec2/flowLog:FlowLog", "logDestinationType", "ec2", "CreateFlowLogsRequest", "LogDestinationType"),
    ("aws:ec2/flowLog:FlowLog", "trafficType", "ec2", "CreateFlowLogsRequest", "TrafficType"),
    (
        "aws:ec2/flowLog:FlowLog",
        "destinationOptions.fileFormat",
        "ec2",
        "CreateFlowLogsRequest",
        "DestinationOptions.FileFormat",
    ),
    ("aws:ec2/managedPrefixList:ManagedPrefixList", "entries", "ec2", "CreateManagedPrefixListRequest", "Entries"),
    (
        "aws:ec2transitgateway/transitGateway:TransitGateway",
        "autoAcceptSharedAttachments",
        "ec2",
        "CreateTransitGatewayRequest",
        "Options.AutoAcceptSharedAttachments",
    ),
    (
        "aws:ec2transitgateway/transitGateway:TransitGateway",
        "defaultRouteTableAssociation",
        "ec2",
        "CreateTransitGatewayRequest",
        "Options.DefaultRouteTableAssociation",
    ),
    (
        "aws:ec2transitgateway/transitGateway:TransitGateway",
        "defaultRouteTablePropagation",
        "ec2",
        "CreateTransitGatewayRequest",
        "Options.DefaultRouteTablePropagation",
    ),
    (
        "aws:ec2transitgateway/transitGateway:TransitGateway",
        "dnsSupport",
        "ec2",
        "CreateTransitGatewayRequest",
        "Options.DnsSupport",
    ),
    (
        "aws:ec2transitgateway/transitGateway:TransitGateway",
        "vpnEcmpSupport",
        "ec2",
        "CreateTransitGatewayRequest",
        "Options.VpnEcmpSupport",
    ),
    (
        "aws:ec2transitgateway/transitGateway:TransitGateway",
        "multicastSupport",
        "ec2",
        "CreateTransitGatewayRequest",
        "Options.MulticastSupport",
    ),
    (
        "aws:ec2transitgateway/transitGateway:TransitGateway",
        "securityGroupReferencingSupport",
        "ec2",
        "CreateTransitGatewayRequest",
        "Options.SecurityGroupReferencingSupport",
    ),
    (
        "aws:ec2transitgateway/vpcAttachment:VpcAttachment",
        "dnsSupport",
        "ec2",
        "CreateTransitGatewayVpcAttachmentRequest",
        "Options.DnsSupport",
    ),
    (
        "aws:ec2transitgateway/vpcAttachment:VpcAttachment",
        "ipv6Support",
        "ec2",
        "CreateTransitGatewayVpcAttachmentRequest",
        "Options.Ipv6Support",
    ),
    (
        "aws:ec2transitgateway/vpcAttachment:VpcAttachment",
        "applianceModeSupport",
        "ec2",
        "CreateTransitGatewayVpcAttachmentRequest",
        "Options.ApplianceModeSupport",
    ),
    (
        "aws:ec2transitgateway/vpcAttachment:VpcAttachment",
        "securityGroupReferencingSupport",
        "ec2",
        "CreateTransitGatewayVpcAttachmentRequest",
        "Options.SecurityGroupReferencingSupport",
    ),
    (
        "aws:route53/resolverEndpoint:ResolverEndpoint",
        "name",
        "route53resolver",
        "CreateResolverEndpointRequest",
        "Name",
    ),
    (
        "aws:route53/resolverEndpoint:ResolverEndpoint",
        "direction",
        "route53resolver",
        "CreateResolverEndpointRequest",
        "Direction",
    ),
    (
        "aws:route53/resolverEndpoint:ResolverEndpoint",
        "ipAddresses",
        "route53resolver",
        "CreateResolverEndpointRequest",
        "IpAddresses",
    ),
    (
        "aws:route53/resolverEndpoint:ResolverEndpoint",
        "ipAddresses[].subnetId",
        "route53resolver",
        "CreateResolverEndpointRequest",
        "IpAddresses[].SubnetId",
    ),
    (
        "aws:route53/resolverEndpoint:ResolverEndpoint",
        "ipAddresses[].ip",
        "route53resolver",
        "CreateResolverEndpointRequest",
        "IpAddresses[].Ip",
    ),
    (
        "aws:route53/resolverEndpoint:ResolverEndpoint",
        "ipAddresses[].ipv6",
        "route53resolver",
        "CreateResolverEndpointRequest",
        "IpAddresses[].Ipv6",
    ),
    (
        "aws:route53/resolverEndpoint:ResolverEndpoint",
        "securityGroupIds[]",
        "route53resolver",
        "CreateResolverEndpointRequest",
        "SecurityGroupIds[]",
    ),
    (
        "aws:route53/resolverEndpoint:ResolverEndpoint",
        "protocols",
        "route53resolver",
        "CreateResolverEndpointRequest",
        "Protocols",
    ),
    (
        "aws:route53/resolverEndpoint:ResolverEndpoint",
        "protocols[]",
        "route53resolver",
        "CreateResolverEndpointRequest",
        "Protocols[]",
    ),
    (
        "aws:route53/resolverEndpoint:ResolverEndpoint",
        "resolverEndpointType",
        "route53resolver",
        "CreateResolverEndpointRequest",
        "ResolverEndpointType",
    ),
    (
        "aws:route53/resolverEndpoint:ResolverEndpoint",
        "tags",
        "route53resolver",
        "CreateResolverEndpointRequest",
        "Tags",
    ),
    ("aws:route53/resolverRule:ResolverRule", "name", "route53resolver", "CreateResolverRuleRequest", "Name"),
    ("aws:route53/resolverRule:ResolverRule", "ruleType", "route53resolver", "CreateResolverRuleRequest", "RuleType"),
    (
        "aws:route53/resolverRule:ResolverRule",
        "domainName",
        "route53resolver",
        "CreateResolverRuleRequest",
        "DomainName",
    ),
    ("aws:route53/resolverRule:ResolverRule", "targetIps", "route53resolver", "CreateResolverRuleRequest", "TargetIps"),
    (
        "aws:route53/resolverRule:ResolverRule",
        "targetIps[].ip",
        "route53resolver",
        "CreateResolverRuleRequest",
        "TargetIps[].Ip",
    ),
    (
        "aws:route53/resolverRule:ResolverRule",
        "targetIps[].port",
        "route53resolver",
        "CreateResolverRuleRequest",
        "TargetIps[].Port",
    ),
    (
        "aws:route53/resolverRule:ResolverRule",
        "targetIps[].protocol",
        "route53resolver",
        "CreateResolverRuleRequest",
        "TargetIps[].Protocol",
    ),
    (
        "aws:route53/resolverRule:ResolverRule",
        "resolverEndpointId",
        "route53resolver",
        "CreateResolverRuleRequest",
        "ResolverEndpointId",
    ),
    (
        "aws:route53/resolverRuleAssociation:ResolverRuleAssociation",
        "name",
        "route53resolver",
        "AssociateResolverRuleRequest",
        "Name",
    ),
    (
        "aws:route53/resolverRuleAssociation:ResolverRuleAssociation",
        "resolverRuleId",
        "route53resolver",
        "AssociateResolverRuleRequest",
        "ResolverRuleId",
    ),
    (
        "aws:route53/resolverRuleAssociation:ResolverRuleAssociation",
        "vpcId",
        "route53resolver",
        "AssociateResolverRuleRequest",
        "VPCId",
    ),
    ("aws:lb/loadBalancer:LoadBalancer", "loadBalancerType", "elbv2", "CreateLoadBalancerInput", "Type"),
    # `internal` (a boolean) becomes Scheme internal / internet-facing: it cannot leave the model's enum.
    ("aws:lb/loadBalancer:LoadBalancer", "ipAddressType", "elbv2", "CreateLoadBalancerInput", "IpAddressType"),
    ("aws:lb/targetGroup:TargetGroup", "port", "elbv2", "CreateTargetGroupInput", "Port"),
    ("aws:lb/targetGroup:TargetGroup", "protocol", "elbv2", "CreateTargetGroupInput", "Protocol"),
    ("aws:lb/targetGroup:TargetGroup", "targetType", "elbv2", "CreateTargetGroupInput", "TargetType"),
    (
        "aws:lb/targetGroup:TargetGroup",
        "healthCheck.interval",
        "elbv2",
        "CreateTargetGroupInput",
        "HealthCheckIntervalSeconds",
    ),
    (
        "aws:lb/targetGroup:TargetGroup",
        "healthCheck.timeout",
        "elbv2",
        "CreateTargetGroupInput",
        "HealthCheckTimeoutSeconds",
    ),
    (
        "aws:lb/targetGroup:TargetGroup",
        "healthCheck.healthyThreshold",
        "elbv2",
        "CreateTargetGroupInput",
        "HealthyThresholdCount",
    ),
    (
        "aws:lb/targetGroup:TargetGroup",
        "healthCheck.unhealthyThreshold",
        "elbv2",
        "CreateTargetGroupInput",
        "UnhealthyThresholdCount",
    ),
    ("aws:lb/targetGroup:TargetGroup", "healthCheck.path", "elbv2", "CreateTargetGroupInput", "HealthCheckPath"),
)


def _register_model_fields() -> None:
    for type_, path, service, shape, member in MODEL_FIELDS:
        constraints, source = botocore_constraints(service, shape, member)
        if constraints:
            field_rules(type_, FieldRule(path, constraints, source, AWS))


_register_model_fields()


# --- documented rules the models leave out ----------------------------------------------------------

RFC1918 = tuple(ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"))
LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
                      3288, 3653)  # fmt: skip
VPN_RESERVED_INSIDE = tuple(
    ipaddress.ip_network(n)
    for n in ("169.254.0.0/30", "169.254.1.0/30", "169.254.2.0/30", "169.254.3.0/30", "169.254.4.0/30",
              "169.254.5.0/30", "169.254.169.252/30")
)  # fmt: skip
PRIVATE_ASNS = ((64512, 65534), (4200000000, 4294967294))
SG_DESCRIPTION = r"[a-zA-Z0-9 ._\-:/()#,@\[\]+=&;{}!$*]*"


def reject(observed: Observed, rule: str, source: str) -> Finding:
    return Finding(observed.urn, AWS, rule, source)


def network(value: Any) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    try:
        return ipaddress.ip_network(value, strict=True) if isinstance(value, str) else None
    except ValueError:
        return None


field_rules(
    "aws:ec2/vpc:Vpc",
    FieldRule(
        "cidrBlock",
        (Pattern(r"[0-9.]+/(1[6-9]|2[0-8])", "a block between /16 and /28"),),
        f"Amazon VPC User Guide, VPC CIDR blocks: 'between a /16 netmask and /28 netmask' ({VPC_CIDR_DOC})",
        AWS,
    ),
)
field_rules(
    "aws:ec2/subnet:Subnet",
    FieldRule(
        "cidrBlock",
        (Pattern(r"[0-9.]+/(1[6-9]|2[0-8])", "a block between /16 and /28"),),
        f"Amazon VPC User Guide, subnet sizing: a subnet CIDR is between /16 and /28 ({VPC_CIDR_DOC})",
        AWS,
    ),
)
field_rules(
    "aws:kms/key:Key",
    FieldRule(
        "deletionWindowInDays",
        (Between(7, 30),),
        "AWS KMS API Reference, ScheduleKeyDeletion PendingWindowInDays: 'it must be between 7 and 30, inclusive' "
        "(https://docs.aws.amazon.com/kms/latest/APIReference/API_ScheduleKeyDeletion.html)",
        AWS,
    ),
)
field_rules(
    "aws:cloudwatch/logGroup:LogGroup",
    FieldRule(
        "retentionInDays",
        (OneOf(LOG_RETENTION_DAYS),),
        "CloudWatch Logs API Reference, PutRetentionPolicy retentionInDays: 'Possible values are: 1, 3, 5, 7, 14, "
        "30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, and 3653' "
        "(https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutRetentionPolicy.html)",
        AWS,
    ),
)
field_rules(
    "aws:eks/nodeGroup:NodeGroup",
    FieldRule(
        "nodeGroupName",
        (Length(1, 63), Pattern(r"[0-9A-Za-z][A-Za-z0-9\-_]*", "letters, digits, '-' and '_', starting alphanumeric")),
        "Amazon EKS User Guide, Create a managed node group: 'can't be longer than 63 characters. It must start "
        "with letter or digit, but can also include hyphens and underscores' "
        "(https://docs.aws.amazon.com/eks/latest/userguide/create-managed-node-group.html); "
        f"{TF_AWS} internal/service/eks/node_group.go node_group_name StringLenBetween(0, 63)",
        AWS,
    ),
    FieldRule(
        "scalingConfig.maxSize",
        (Between(1, 450),),
        f"Amazon EKS service quotas: nodes per managed node group, 450 by default ({EKS_QUOTAS})",
        AWS,
    ),
)
field_rules(
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
    FieldRule(
        "description",
        (Length(0, 255), Pattern(SG_DESCRIPTION, "a-z, A-Z, 0-9, spaces and ._-:/()#,@[]+=&;{}!$*")),
        "Amazon EC2 API Reference, IpRange Description: 'Constraints: Up to 255 characters in length. "
        f"Allowed characters are a-z, A-Z, 0-9, spaces, and ._-:/()#,@[]+=&;{{}}!$*' ({EC2_API}/API_IpRange.html)",
        AWS,
    ),
    FieldRule(
        "fromPort",
        (Between(-1, 65535),),
        f"Amazon EC2 API Reference, IpPermission FromPort: a port, or -1 for all ({EC2_API}/API_IpPermission.html)",
        AWS,
    ),
    FieldRule(
        "toPort",
        (Between(-1, 65535),),
        f"Amazon EC2 API Reference, IpPermission ToPort: a port, or -1 for all ({EC2_API}/API_IpPermission.html)",
        AWS,
    ),
)
field_rules(
    "aws:route53/healthCheck:HealthCheck",
    FieldRule(
        "requestInterval",
        (OneOf((10, 30)),),
        f"{TF_AWS} internal/service/route53/health_check.go request_interval IntInSlice(10, 30); Route 53 health "
        f"checkers send a request every 10 or 30 seconds ({ROUTE53_API}/API_HealthCheckConfig.html)",
        AWS,
    ),
    FieldRule(
        "referenceName",
        (Length(0, 27),),
        f"{TF_AWS} internal/service/route53/health_check.go reference_name: CallerReference is at most 64 "
        "characters and the provider appends a 37-character unique suffix, so at most 27",
        AWS,
    ),
)


@resource_check("aws:eks/cluster:Cluster")
def eks_service_range(observed: Observed) -> Iterator[Finding]:
    for _, cidr in values_at(observed.inputs, "kubernetesNetworkConfig.serviceIpv4Cidr"):
        block = network(cidr)
        source = (
            "AWS API model eks KubernetesNetworkConfigRequest.serviceIpv4Cidr: 'Within one of the following private "
            "IP address blocks: 10.0.0.0/8, 172.16.0.0/12, or 192.168.0.0/16 ... Between /24 and /12' "
            "(https://docs.aws.amazon.com/eks/latest/APIReference/API_KubernetesNetworkConfigRequest.html)"
        )
        if block is None:
            yield reject(observed, f"service CIDR '{cidr}' is not a CIDR block", source)
        elif not any(subnet_of(block, r) for r in RFC1918 if block.version == r.version):
            yield reject(
                observed,
                f"service CIDR {cidr} is not within 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16",
                source,
            )
        elif not 12 <= block.prefixlen <= 24:
            yield reject(observed, f"service CIDR {cidr} must be between /24 and /12", source)


@resource_check("aws:ec2/vpnGateway:VpnGateway", "aws:ec2transitgateway/transitGateway:TransitGateway")
def amazon_side_asn(observed: Observed) -> Iterator[Finding]:
    for _, asn in values_at(observed.inputs, "amazonSideAsn"):
        try:
            number = int(asn)
        except (TypeError, ValueError):
            continue
        if not any(low <= number <= high for low, high in PRIVATE_ASNS):
            yield reject(
                observed,
                f"amazonSideAsn {asn} is not a private ASN (64512-65534 or 4200000000-4294967294)",
                f"Amazon EC2 API Reference, CreateVpnGateway AmazonSideAsn: 'If you're using a 16-bit ASN, it must be "
                "in the 64512 to 65534 range. If you're using a 32-bit ASN, it must be in the 4200000000 to "
                f"4294967294 range' ({EC2_API}/API_CreateVpnGateway.html)",
            )


@resource_check("aws:ec2/customerGateway:CustomerGateway")
def customer_gateway(observed: Observed) -> Iterator[Finding]:
    for _, asn in values_at(observed.inputs, "bgpAsn"):
        try:
            number = int(asn)
        except (TypeError, ValueError):
            continue
        if not 1 <= number <= 2147483647:
            yield reject(
                observed,
                f"bgpAsn {asn} is outside 1-2147483647 (use bgpAsnExtended above)",
                f"Amazon EC2 API Reference, CreateCustomerGateway BgpAsn: 'Valid values: 1 to 2,147,483,647' "
                f"({EC2_API}/API_CreateCustomerGateway.html)",
            )


@resource_check("aws:ec2/vpnConnection:VpnConnection")
def vpn_tunnels(observed: Observed) -> Iterator[Finding]:
    link_local = ipaddress.ip_network("169.254.0.0/16")
    source = (
        "Amazon EC2 API Reference, VpnTunnelOptionsSpecification TunnelInsideCidr ('A size /30 CIDR block from the "
        "169.254.0.0/16 range', seven reserved blocks) and PreSharedKey ('alphanumeric characters, periods (.), and "
        f"underscores (_) ... between 8 and 64 characters ... cannot start with zero'); {VPN_TUNNELS_DOC}"
    )
    inside: list[Network] = []
    for tunnel in (1, 2):
        for _, cidr in values_at(observed.inputs, f"tunnel{tunnel}InsideCidr"):
            block = network(cidr)
            if block is None or block.prefixlen != 30 or not subnet_of(block, link_local):
                yield reject(observed, f"tunnel{tunnel}InsideCidr {cidr} is not a /30 in 169.254.0.0/16", source)
            elif block in VPN_RESERVED_INSIDE:
                yield reject(observed, f"tunnel{tunnel}InsideCidr {cidr} is reserved by AWS", source)
            else:
                inside.append(block)
        for _, key in values_at(observed.inputs, f"tunnel{tunnel}PresharedKey"):
            if not isinstance(key, str):
                continue
            if not 8 <= len(key) <= 64 or not all(c.isalnum() or c in "._" for c in key) or key.startswith("0"):
                yield reject(
                    observed,
                    f"tunnel{tunnel}PresharedKey must be 8-64 characters of A-Z a-z 0-9 . _ and not start with 0",
                    source,
                )
    if len(inside) == 2 and inside[0] == inside[1]:
        yield reject(observed, "both tunnels use the same inside CIDR", source)


ROUTE53_POLICIES = (
    "failoverRoutingPolicies",
    "geolocationRoutingPolicies",
    "geoproximityRoutingPolicy",
    "latencyRoutingPolicies",
    "weightedRoutingPolicies",
    "cidrRoutingPolicy",
    "multivalueAnswerRoutingPolicy",
)


@resource_check("aws:route53/record:Record")
def route53_record(observed: Observed) -> Iterator[Finding]:
    inputs = observed.inputs
    source = (
        "Amazon Route 53 API Reference, ResourceRecordSet: one routing policy per record set, SetIdentifier for "
        "every policy but simple, TTL and ResourceRecords omitted for an alias "
        f"({ROUTE53_API}/API_ResourceRecordSet.html)"
    )
    policies = [p for p in ROUTE53_POLICIES if inputs.get(p) not in (None, [], False)]
    if len(policies) > 1:
        yield reject(observed, f"record sets {', '.join(policies)}: only one routing policy is allowed", source)
    if policies and not inputs.get("setIdentifier"):
        yield reject(observed, f"record with {policies[0]} has no setIdentifier", source)
    if inputs.get("setIdentifier") and not policies:
        yield reject(observed, "setIdentifier is set but no routing policy", source)
    aliased = bool(inputs.get("aliases"))
    if aliased and (inputs.get("ttl") is not None or inputs.get("records")):
        yield reject(observed, "an alias record cannot have ttl or records", source)
    if not aliased and inputs.get("records") and inputs.get("ttl") is None:
        yield reject(observed, "a non-alias record needs a ttl", source)


@resource_check("aws:route53/healthCheck:HealthCheck")
def route53_health_check(observed: Observed) -> Iterator[Finding]:
    inputs = observed.inputs
    source = f"Amazon Route 53 API Reference, HealthCheckConfig ({ROUTE53_API}/API_HealthCheckConfig.html)"
    kind = inputs.get("type")
    if kind in ("HTTP", "HTTPS", "HTTP_STR_MATCH", "HTTPS_STR_MATCH", "TCP") and not (
        inputs.get("ipAddress") or inputs.get("fqdn")
    ):
        yield reject(observed, f"a {kind} health check needs ipAddress or fqdn", source)
    children: Any = inputs.get("childHealthchecks") or []
    if kind == "CALCULATED" and inputs.get("port") is not None:
        yield reject(
            observed,
            "a CALCULATED health check takes no port",
            f"{source}: Port, 'Don't specify a value "
            "for Port when you specify a value for Type of CLOUDWATCH_METRIC or CALCULATED'",
        )
    if kind != "CALCULATED" and children:
        yield reject(
            observed,
            f"childHealthchecks on a {kind} health check",
            f"{source}: ChildHealthChecks, '(CALCULATED Health Checks Only)'",
        )
    threshold = inputs.get("childHealthThreshold")
    if kind == "CALCULATED" and is_list(children) and isinstance(threshold, int) and threshold > len(children):
        yield Finding(
            observed.urn,
            AWS,
            f"childHealthThreshold {threshold} is more than its {len(children)} child health checks: always unhealthy",
            f"{source}: HealthThreshold, 'If you specify a number greater than the number of child health checks, "
            "Route 53 always considers this health check to be unhealthy'",
            kind="unreachable",
        )
    if inputs.get("enableSni") is True and kind not in ("HTTPS", "HTTPS_STR_MATCH"):
        yield reject(observed, "enableSni applies to HTTPS checks only", source)
    if kind == "TCP" and inputs.get("resourcePath"):
        yield reject(
            observed,
            "a TCP health check takes no resourcePath",
            "Route 53 InvalidInput: 'TCP health checks must not have a resource path specificed.' (boto/boto#2221)",
        )
    if kind == "TCP" and inputs.get("ipAddress") and inputs.get("fqdn"):
        yield reject(
            observed,
            "a TCP health check with an ipAddress takes no fqdn",
            "Route 53 InvalidInput: 'TCP health checks that have IP address must not have a fully qualified domain "
            "name specified.' (aws/aws-sdk-php#1527)",
        )
    for _, address in values_at(inputs, "ipAddress"):
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            continue
        # Not global covers RFC 5735 special use and RFC 6598 shared space (100.64.0.0/10, not is_private).
        if not ip.is_global or ip.is_multicast:
            yield reject(
                observed,
                f"ipAddress {address} is not publicly routable",
                "Amazon Route 53 API Reference, HealthCheckConfig IPAddress: 'Route 53 can't check the health of "
                f"endpoints for which the IP address is in local, private, non-routable, or multicast ranges' "
                f"({ROUTE53_API}/API_HealthCheckConfig.html)",
            )


# --- Route 53 record sets across one hosted zone ---------------------------------------------------------

FAILOVER_SOURCE = (
    "Amazon Route 53 API Reference, ResourceRecordSet Failover: 'To configure failover, you add the Failover element "
    "to two resource record sets. For one resource record set, you specify PRIMARY as the value for Failover; for "
    f"the other resource record set, you specify SECONDARY' ({ROUTE53_API}/API_ResourceRecordSet.html)"
)
ALIAS_TARGET_SOURCE = (
    "Route 53 ChangeResourceRecordSets, InvalidChangeBatch: 'Tried to create an alias that targets <name>, type <type> "
    "in zone <zone>, but that target was not found' / '... but the alias target name does not lie within the target "
    "zone' (barnybug/cli53#227, harmony-one/harmony-ops#491); Amazon Route 53 API Reference, AliasTarget "
    f"({ROUTE53_API}/API_AliasTarget.html)"
)


def _dns_name(value: Any) -> str | None:
    """A DNS name as Route 53 compares it: case-insensitive, with or without its final dot."""
    text = _known_text(value)
    return text.lower().rstrip(".") if text else None


def _record_name(record: Any, zones: dict[str, str]) -> str | None:
    """The record's name as the provider sends it: its fqdn once answered, else its name, which the provider
    completes with the zone's name when it does not end with it (terraform-provider-aws route53 expandRecordName)."""
    fqdn = _dns_name(record.outputs.get("fqdn"))
    if fqdn:
        return fqdn
    name, zone = _dns_name(record.inputs.get("name")), zones.get(str(record.inputs.get("zoneId")))
    if name is None or zone is None:
        return name
    return name if name == zone or name.endswith(f".{zone}") else f"{name}.{zone}"


def _failover_role(record: Any) -> Any:
    policies = record.inputs.get("failoverRoutingPolicies")
    return policies[0].get("type") if is_list(policies) and policies and is_map(policies[0]) else None


@plan_check
def route53_record_sets(plan: Any, context: Context) -> Iterator[Finding]:
    """Within a hosted zone: one PRIMARY and one SECONDARY per failover name and type; an alias to a name of a zone
    the plan creates targets a record set of it (same type) that the alias waits for."""
    zones: dict[str, str] = {}
    for zone in of_type(plan, "aws:route53/zone:Zone"):
        name = _dns_name(zone.inputs.get("name"))
        for key in (zone.outputs.get("zoneId"), zone.id):
            if name and _known_text(key):
                zones[key] = name
    groups: dict[tuple[str, str, str], list[Any]] = defaultdict(list)
    for record in of_type(plan, "aws:route53/record:Record"):
        zone, name, kind = (
            _known_text(record.inputs.get("zoneId")),
            _record_name(record, zones),
            record.inputs.get("type"),
        )
        if zone and name and isinstance(kind, str):
            groups[(zone, name, kind)].append(record)
    yield from _failover_pairs(groups)
    yield from _alias_targets(plan, zones, groups)


def _failover_pairs(groups: dict[tuple[str, str, str], list[Any]]) -> Iterator[Finding]:
    for (zone, name, kind), records in groups.items():
        for role in ("PRIMARY", "SECONDARY"):
            same = [r for r in records if _failover_role(r) == role]
            for extra in same[1:]:
                yield Finding(
                    extra.urn,
                    AWS,
                    f"{name} ({kind}) in zone {zone} has {len(same)} {role} failover record sets ("
                    f"{', '.join(r.name for r in same)}): a failover name has one PRIMARY and one SECONDARY",
                    FAILOVER_SOURCE,
                )


def _alias_targets(
    plan: Any, zones: dict[str, str], groups: dict[tuple[str, str, str], list[Any]]
) -> Iterator[Finding]:
    waits = dependency_closure(plan)
    for (_, _, kind), records in groups.items():
        for record in records:
            aliases: list[dict[str, Any]] = record.inputs.get("aliases") or []
            for alias in aliases:
                target_zone, target = _known_text(alias.get("zoneId")), _dns_name(alias.get("name"))
                zone_name = zones.get(target_zone or "")
                if zone_name is None or target is None or target_zone is None:  # zones holds no "" key
                    continue  # a load balancer's zone, or a zone the plan does not create: AWS's to answer
                where = f"the alias targets {target}, type {kind} in zone {target_zone}"
                if target != zone_name and not target.endswith(f".{zone_name}"):
                    yield Finding(
                        record.urn, AWS, f"{where}, a name outside that zone ({zone_name})", ALIAS_TARGET_SOURCE
                    )
                    continue
                found = [r for r in groups.get((target_zone, target, kind), []) if r.urn != record.urn]
                if not found:
                    yield Finding(record.urn, AWS, f"{where}, which nothing in the plan creates", ALIAS_TARGET_SOURCE)
                elif not {r.urn for r in found} & waits(record.urn):
                    yield Finding(
                        record.urn,
                        AWS,
                        f"{where}, but it does not wait for {', '.join(r.name for r in found)} (no dependency): "
                        "created first, it is refused",
                        ALIAS_TARGET_SOURCE,
                    )


def _policy_length(document: Any) -> int | None:
    """IAM counts policy characters without whitespace."""
    if not isinstance(document, str):
        return None
    try:
        return len(json.dumps(json.loads(document), separators=(",", ":")))
    except ValueError:
        return len("".join(document.split()))


@resource_check("aws:iam/role:Role")
def trust_policy_size(observed: Observed) -> Iterator[Finding]:
    size = _policy_length(observed.inputs.get("assumeRolePolicy"))
    if size is not None and size > 2048:
        yield reject(
            observed,
            f"the trust policy has {size} characters (without whitespace), over the default quota of 2048",
            f"IAM quotas: role trust policy length ({IAM_QUOTAS})",
        )


# --- the fleet against AWS's quotas and its cross-resource rules ----------------------------------------


class Index:
    """The plan's resources by type, by id (where known) and their regions, for checks across resources."""

    def __init__(self, plan: Any):
        self.plan = plan
        self.by_type: dict[str, list[Any]] = defaultdict(list)
        self.by_id: dict[str, Any] = {}
        providers: dict[str, dict[str, Any]] = {
            r.urn: r.inputs for r in plan.resources if r.type.startswith("pulumi:providers:")
        }
        self.region: dict[str, str | None] = {}
        for r in plan.resources:
            if not r.custom:
                continue
            self.by_type[r.type].append(r)
            if isinstance(r.id, str) and r.id:
                self.by_id[r.id] = r
            region = (providers.get(r.provider_urn or "") or {}).get("region")
            self.region[r.urn] = region if isinstance(region, str) else None

    def of(self, type_: str) -> list[Any]:
        return self.by_type.get(type_, [])

    def route_table_of(self, subnet: Any) -> Any:
        """The id of a subnet's route table: its explicit association's, else its VPC's main route table."""
        if not hasattr(self, "_associations"):
            self._associations = {
                a.inputs.get("subnetId"): a.inputs.get("routeTableId")
                for a in self.of("aws:ec2/routeTableAssociation:RouteTableAssociation")
                if a.inputs.get("subnetId")
            }
        if subnet.id in self._associations:
            return self._associations[subnet.id]
        vpc = self.ref(subnet.inputs.get("vpcId"))
        return vpc.outputs.get("mainRouteTableId") if vpc is not None else None

    def routes_in(self, table: Any) -> list[dict[str, Any]]:
        """The routes of a VPC route table: its Route resources and its inline routes."""
        if not hasattr(self, "_routes"):
            self._routes: dict[Any, list[dict[str, Any]]] = defaultdict(list)
            for route in self.of("aws:ec2/route:Route"):
                self._routes[route.inputs.get("routeTableId")].append(route.inputs)
            for routes_table in self.of("aws:ec2/routeTable:RouteTable"):
                inline: list[Any] = routes_table.inputs.get("routes") or []
                for route in inline:
                    if is_map(route):
                        self._routes[routes_table.id].append(
                            {**route, "destinationCidrBlock": route.get("cidrBlock"), "routeTableId": routes_table.id}
                        )
        return self._routes.get(table, []) if isinstance(table, str) else []

    def ref(self, value: Any) -> Any:
        return self.by_id.get(value) if isinstance(value, str) else None


def _over(urn: str, what: str, count: int, limit: int, source: str, default: int | None = None) -> Finding:
    """`limit` is the default quota, or a raised one the stack states when it differs from `default`."""
    held = f"the stated quota of {limit} (multicluster:quotas)" if default not in (None, limit) else None
    return Finding(urn, AWS, f"{what}: {count}, over {held or f'the default quota of {limit}'}", source)


def _count_by(resources: list[Any], key: Callable[[Any], Any]) -> dict[Any, list[Any]]:
    groups: dict[Any, list[Any]] = defaultdict(list)
    for r in resources:
        value = key(r)
        if isinstance(value, str) and value:
            groups[value].append(r)
    return groups


@plan_check
def aws_quotas(plan: Any, context: Context) -> Iterator[Finding]:
    index = Index(plan)
    yield from _security_group_rules(index, context)
    yield from _per_parent(
        index,
        "aws:ec2/vpnConnection:VpnConnection",
        "vpnGatewayId",
        "Site-to-Site VPN connections on one virtual private gateway",
        10,
        f"Site-to-Site VPN quotas ({VPN_QUOTAS})",
    )
    yield from _peerings_per_vpc(index)
    yield from _per_parent(
        index,
        "aws:ec2/route:Route",
        "routeTableId",
        "routes (non-propagated) in one route table",
        50,
        f"Amazon VPC quotas: routes per route table ({VPC_QUOTAS})",
    )
    yield from _per_parent(
        index,
        "aws:eks/nodeGroup:NodeGroup",
        "clusterName",
        "managed node groups in one EKS cluster",
        30,
        f"Amazon EKS service quotas ({EKS_QUOTAS})",
    )
    for type_, what, limit, source in (
        ("aws:ec2/eip:Eip", "Elastic IP addresses in one region", 5, VPC_QUOTAS),
        ("aws:ec2/vpc:Vpc", "VPCs in one region", 5, VPC_QUOTAS),
        ("aws:ec2/vpnGateway:VpnGateway", "virtual private gateways in one region", 5, VPN_QUOTAS),
        ("aws:ec2/customerGateway:CustomerGateway", "customer gateways in one region", 50, VPN_QUOTAS),
        # On a virtual private gateway or a transit gateway alike ("Site-to-Site VPN connections per Region: 50").
        ("aws:ec2/vpnConnection:VpnConnection", "Site-to-Site VPN connections in one region", 50, VPN_QUOTAS),
    ):
        for region, members in _count_by(index.of(type_), lambda r: index.region.get(r.urn)).items():
            held = context.quota(type_, str(region), limit)
            if len(members) > held:
                yield _over(members[held].urn, f"{what} ({region})", len(members), held, f"quotas ({source})", limit)
    for type_, what, limit, source in (
        ("aws:iam/role:Role", "IAM roles in the account (this stack alone)", 1000, IAM_QUOTAS),
        ("aws:iam/openIdConnectProvider:OpenIdConnectProvider", "IAM OIDC providers in the account", 100, IAM_QUOTAS),
        (HEALTH_CHECK, "Route 53 health checks in the account", 200, ROUTE53_QUOTAS),
    ):
        members = index.of(type_)
        held = context.quota(type_, ACCOUNT, limit)
        if len(members) > held:
            yield _over(members[held].urn, what, len(members), held, f"quotas ({source})", limit)
    yield from _nat_per_zone(index)
    yield from _transit_gateway_limits(index)
    yield from _vpn_inside_cidrs(index)
    yield from _inline_policies_per_role(index)


def _per_parent(index: Index, type_: str, key: str, what: str, limit: int, source: str) -> Iterator[Finding]:
    for parent, members in _count_by(index.of(type_), lambda r: r.inputs.get(key)).items():
        if len(members) > limit:
            yield _over(members[limit].urn, f"{what} ({parent})", len(members), limit, source)


SECURITY_GROUP_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
HEALTH_CHECK = "aws:route53/healthCheck:HealthCheck"
ACCOUNT = ""  # the region key of an account-wide quota (Context.quota)
SECURITY_GROUP_RULES = 60  # "Inbound or outbound rules per security group: 60" (VPC_QUOTAS), adjustable (L-0EA8095F)


def _security_group_rules(index: Index, context: Context) -> Iterator[Finding]:
    """Inbound IPv4 rules per security group: the plan's, EKS's own on its cluster security group, and those the
    AWS cloud provider adds there at runtime for NLB Services (the cluster security group is the nodes' group on
    managed node groups: components/eks.py node_security_group_id), against the region's quota (a raised one the
    stack states in multicluster:quotas.aws.securityGroupRules)."""
    rules = index.of(SECURITY_GROUP_RULE)
    planned = _count_by(rules, lambda r: _known_text(r.inputs.get("securityGroupId")))
    eks_groups = _eks_groups(index)
    runtime = _nlb_rules_by_group(index)
    for group in sorted(set(planned) | {g for g, (added, _) in runtime.items() if added}):
        members = planned.get(group, [])
        ipv4 = [r for r in members if r.inputs.get("cidrIpv4") or not r.inputs.get("cidrIpv6")]
        eks_own = 1 if group in eks_groups else 0
        nlb, services = runtime.get(group, (set(), []))
        extra = nlb - {_rule_key(r) for r in ipv4}
        count = len(ipv4) + eks_own + len(extra)
        region = index.region.get(members[0].urn) if members else eks_groups.get(group)
        limit = context.quota(SECURITY_GROUP_RULE, str(region), SECURITY_GROUP_RULES)
        if count > limit:
            what = f"inbound IPv4 rules on security group {group}"
            source = f"Amazon VPC quotas: inbound rules per security group ({VPC_QUOTAS})"
            if extra:
                names = ", ".join(s.name for s in services)
                what += (
                    f" ({len(ipv4)} in the plan, {eks_own} of EKS, {len(extra)} the AWS cloud provider adds for "
                    f"{names})"
                )
                source += f"; {aws_nlb.NLB_RULES_SOURCE}"
            yield _over((ipv4 or services)[-1].urn, what, count, limit, source, SECURITY_GROUP_RULES)


def _rule_key(rule: Any) -> tuple[Any, ...]:
    inputs = rule.inputs
    protocol = str(inputs.get("ipProtocol", "")).lower()
    low, high = inputs.get("fromPort"), inputs.get("toPort")
    return (protocol, int(low) if isinstance(low, int | float) else low, int(high) if isinstance(high, int | float)
            else high, inputs.get("cidrIpv4"))  # fmt: skip


def _eks_groups(index: Index) -> dict[Any, str | None]:
    """Each EKS cluster security group, with the cluster's region."""
    return {
        value_at(c.outputs, "vpcConfig.clusterSecurityGroupId"): index.region.get(c.urn)
        for c in index.of("aws:eks/cluster:Cluster")
    }


def _nlb_services(index: Index) -> Iterator[tuple[Any, list[Any]]]:
    """Each EKS cluster with the NLB Services the cloud provider reconciles for it."""
    by_provider: dict[str, list[Any]] = defaultdict(list)
    for service in index.of("kubernetes:core/v1:Service"):
        if aws_nlb.is_nlb_service(service):
            by_provider[service.provider_urn or ""].append(service)
    providers: dict[Any, list[str]] = defaultdict(list)
    for provider in index.of("pulumi:providers:kubernetes"):
        providers[provider.parent].append(provider.urn)
    for cluster in index.of("aws:eks/cluster:Cluster"):
        if cluster.parent is not None:
            # The cluster's Kubernetes providers are the ones its component holds (as reachability.Fleet finds them).
            yield cluster, [s for urn in providers.get(cluster.parent, []) for s in by_provider.get(urn, [])]


NLB_EIP_SOURCE = (
    "kubernetes/cloud-provider-aws pkg/providers/v1/aws_loadbalancer.go ensureLoadBalancerv2: 'Must have same "
    "number of EIP AllocationIDs (%d) and SubnetIDs (%d)', the allocations paired with the subnets in the order they "
    "resolve (createSubnetMappings); AWS "
    "API model "
    "elbv2 SubnetMapping.AllocationId: 'The allocation ID of the Elastic IP address for an internet-facing load "
    "balancer', CreateLoadBalancerInput.SubnetMappings: 'You can specify only one subnet per Availability Zone'; an "
    "Elastic IP is of one region and is associated with one network interface at a time (Amazon EC2 User Guide, "
    "Elastic IP addresses)"
)


@plan_check
def nlb_elastic_ips(plan: Any, context: Context) -> Iterator[Finding]:
    """The Elastic IPs an NLB Service asks for: internet-facing, one per subnet of distinct zones, of the cluster's
    region, held by nothing else (a NAT gateway, another load balancer)."""
    index = Index(plan)
    held: dict[str, str] = {}
    for nat in index.of("aws:ec2/natGateway:NatGateway"):
        allocation = _known_text(nat.inputs.get("allocationId"))
        if allocation:
            held[allocation] = f"NAT gateway {nat.name}"
    for cluster, services in _nlb_services(index):
        for service in services:
            yield from _service_elastic_ips(index, cluster, service, held)
            yield from _allocations_changed(service, (context.base or {}).get(service.urn))


def _annotation(inputs: Any, key: str) -> Any:
    """A metadata annotation (its key holds dots, which value_at would read as a path)."""
    annotations = value_at(inputs, "metadata.annotations")
    return annotations.get(key) if is_map(annotations) else None


def _allocations_changed(service: Any, saved: Mapping[str, Any] | None) -> Iterator[Finding]:
    """In an update: allocations that change on a Service that keeps its name (so its load balancer stays) are
    never attached, and DNS would answer addresses no load balancer holds."""
    if saved is None:
        return
    before_inputs: Any = saved.get("inputs") or {}
    now = _known_text(_annotation(service.inputs, aws_nlb.EIP_ALLOCATIONS_ANNOTATION))
    before = _annotation(before_inputs, aws_nlb.EIP_ALLOCATIONS_ANNOTATION)
    same_name = value_at(before_inputs, "metadata.name") == value_at(service.inputs, "metadata.name")
    if now is not None and now != before and same_name:
        yield Finding(
            service.urn,
            AWS,
            f"the Elastic IP allocations change ({before or 'none'} -> {now}) on a Service that keeps its name and "
            "load balancer: the cloud provider attaches allocations only when it creates the load balancer, so "
            "these are never attached (give the Service a new name to get a new load balancer)",
            NLB_EIP_SOURCE,
        )


def _service_elastic_ips(index: Index, cluster: Any, service: Any, held: dict[str, str]) -> Iterator[Finding]:
    annotations: dict[str, Any] = value_at(service.inputs, "metadata.annotations") or {}
    listed = _known_text(annotations.get(aws_nlb.EIP_ALLOCATIONS_ANNOTATION))
    if listed is None:
        return  # none asked for, or not known yet (a first preview)
    allocations = listed.split(",")
    internal = aws_nlb.is_internal(annotations)
    if internal:
        yield Finding(service.urn, AWS, "Elastic IP allocations on an internal load balancer", NLB_EIP_SOURCE)
    try:
        subnets = _lb_subnets(index, cluster, internal, annotations.get(aws_nlb.SUBNETS_ANNOTATION))
    except aws_nlb.UnknownValueError:
        subnets = None
    except aws_nlb.SubnetsNotFoundError as missing:
        yield Finding(service.urn, AWS, str(missing), aws_nlb.SUBNETS_SOURCE)
        subnets = None
    if subnets is not None and len(subnets) != len(allocations):
        yield Finding(
            service.urn,
            AWS,
            f"Must have same number of EIP AllocationIDs ({len(allocations)}) and SubnetIDs ({len(subnets)})",
            NLB_EIP_SOURCE,
        )
    zones = [subnet_zone(s) for s in subnets or []]
    if len(set(zones)) != len(zones):
        yield Finding(service.urn, AWS, "the load balancer's subnets share an Availability Zone", NLB_EIP_SOURCE)
    region = index.region.get(cluster.urn)
    for allocation in allocations:
        eip = index.by_id.get(allocation)
        if eip is None or eip.type != "aws:ec2/eip:Eip":
            continue  # not an address of this plan: the account's to answer
        if index.region.get(eip.urn) != region:
            where = index.region.get(eip.urn)
            yield Finding(
                service.urn, AWS, f"Elastic IP {eip.name} is of {where}, the load balancer of {region}", NLB_EIP_SOURCE
            )
        if allocation in held:
            yield Finding(
                service.urn, AWS, f"Elastic IP {eip.name} is already held by {held[allocation]}", NLB_EIP_SOURCE
            )
        held[allocation] = f"load balancer Service {service.name}"


def _nlb_rules_by_group(index: Index) -> dict[str, tuple[set[Any], list[Any]]]:
    """Cluster security group -> (the rules the cloud provider adds there for the cluster's NLB Services, those
    Services)."""
    found: dict[str, tuple[set[Any], list[Any]]] = {}
    for cluster, services in _nlb_services(index):
        group = _known_text(value_at(cluster.outputs, "vpcConfig.clusterSecurityGroupId"))
        if group is None:
            continue
        added: set[Any] = set()
        counted: list[Any] = []
        for service in services:
            try:
                added |= aws_nlb.nlb_rules(service, functools.partial(_lb_subnet_cidrs, index, cluster))
            except (aws_nlb.UnknownValueError, ValueError, TypeError):
                continue  # a value not known yet (or not a CIDR): this Service is not counted
            counted.append(service)
        found[group] = (added, counted)
    return found


def _lb_subnets(index: Index, cluster: Any, internal: bool, named: Any) -> list[Any]:
    """The subnets the provider places a cluster's NLB in (getLoadBalancerSubnets); raises UnknownValueError."""
    vpc_id = _known_text(value_at(cluster.outputs, "vpcConfig.vpcId"))
    if vpc_id is None:
        raise aws_nlb.UnknownValueError
    subnets = [s for s in index.of("aws:ec2/subnet:Subnet") if s.inputs.get("vpcId") == vpc_id]
    if named:  # the subnets annotation: ids or Name tags
        wanted = {part.strip() for part in str(named).split(",") if part.strip()}
        found = [s for s in subnets if s.id in wanted or _name_tag(s) in wanted]
        if len(found) != len(wanted):  # resolveSubnetNameOrIDs: "expected to find %v, but found %v subnets"
            raise aws_nlb.SubnetsNotFoundError(len(wanted), len(found))
        return found
    name = _known_text(cluster.outputs.get("name")) or _known_text(cluster.inputs.get("name"))
    if name is None:
        raise aws_nlb.UnknownValueError
    return aws_nlb.lb_subnets(
        subnets, name, internal, lambda s: _is_public(index, s), subnet_zone_name, is_availability_zone
    )


def _lb_subnet_cidrs(index: Index, cluster: Any, internal: bool, named: Any) -> list[str]:
    """The CIDRs of the subnets the provider places a cluster's NLB in (getLoadBalancerSubnets)."""
    chosen = _lb_subnets(index, cluster, internal, named)
    cidrs = [_known_text(s.inputs.get("cidrBlock")) for s in chosen]
    if None in cidrs:
        raise aws_nlb.UnknownValueError
    return [c for c in cidrs if c]


def _name_tag(resource: Any) -> Any:
    tags: dict[str, Any] = resource.inputs.get("tags") or {}
    return tags.get("Name")


def _is_public(index: Index, subnet: Any) -> bool:
    """isSubnetPublic: the subnet's route table (its association's, else the VPC's main table) routes to an internet
    gateway."""
    table = index.route_table_of(subnet)
    return any(str(route.get("gatewayId") or "").startswith("igw") for route in index.routes_in(table))


def _transit_gateway_limits(index: Index) -> Iterator[Finding]:
    """Route tables per transit gateway (20 by default, its default route table included) and the attachment
    limits per VPC: five transit gateways, one attachment to each."""
    tables = _count_by(
        index.of("aws:ec2transitgateway/routeTable:RouteTable"), lambda r: _known_text(r.inputs.get("transitGatewayId"))
    )
    for gateway_id, members in tables.items():
        gateway = index.ref(gateway_id)
        # With default association or propagation on (the API's default), AWS creates the default route table too.
        defaults = gateway is not None and any(
            gateway.inputs.get(key, "enable") == "enable"
            for key in ("defaultRouteTableAssociation", "defaultRouteTablePropagation")
        )
        count = len(members) + (1 if defaults else 0)
        if count > 20:
            yield _over(
                members[-1].urn,
                f"route tables of transit gateway {gateway_id}" + (" (its default route table included)" if defaults
                                                                    else ""),
                count,
                20,
                f"Amazon VPC Transit Gateways quotas: transit gateway route tables per transit gateway ({TGW_QUOTAS})",
            )  # fmt: skip
    per_vpc: dict[str, dict[str, list[Any]]] = defaultdict(lambda: defaultdict(list))
    for attachment in index.of("aws:ec2transitgateway/vpcAttachment:VpcAttachment"):
        vpc, gateway_id = (
            _known_text(attachment.inputs.get("vpcId")),
            _known_text(attachment.inputs.get("transitGatewayId")),
        )
        if vpc and gateway_id:
            per_vpc[vpc][gateway_id].append(attachment)
    for vpc, gateways in per_vpc.items():
        for gateway_id, members in gateways.items():
            if len(members) > 1:
                yield Finding(
                    members[1].urn,
                    AWS,
                    f"{vpc} is attached to transit gateway {gateway_id} {len(members)} times",
                    "Amazon VPC Transit Gateways quotas: 'A transit gateway cannot have more than one VPC attachment "
                    f"to the same VPC' ({TGW_QUOTAS})",
                )
        if len(gateways) > 5:
            sixth = list(gateways.values())[5][0]
            yield Finding(
                sixth.urn,
                AWS,
                f"{vpc} is attached to {len(gateways)} transit gateways, over the limit of 5 (not adjustable)",
                f"Amazon VPC Transit Gateways quotas: transit gateways per VPC, 5, not adjustable ({TGW_QUOTAS})",
            )


def _peerings_per_vpc(index: Index) -> Iterator[Finding]:
    per_vpc: dict[str, list[Any]] = defaultdict(list)
    for peering in index.of("aws:ec2/vpcPeeringConnection:VpcPeeringConnection"):
        for key in ("vpcId", "peerVpcId"):
            vpc = peering.inputs.get(key)
            if isinstance(vpc, str):
                per_vpc[vpc].append(peering)
    for vpc, members in per_vpc.items():
        if len(members) > 50:
            yield _over(
                members[50].urn,
                f"active VPC peering connections of {vpc}",
                len(members),
                50,
                f"Amazon VPC quotas: active VPC peering connections per VPC ({VPC_QUOTAS})",
            )


def _known_text(value: Any) -> str | None:
    return value if isinstance(value, str) and value and not is_unknown(value) else None


def subnet_zone_id(subnet: Any) -> str | None:
    """The zone id of a subnet: what the provider answers, else what the program asked for (placed by id)."""
    return _known_text(subnet.outputs.get("availabilityZoneId")) or _known_text(subnet.inputs.get("availabilityZoneId"))


def subnet_zone_name(subnet: Any) -> str | None:
    return _known_text(subnet.outputs.get("availabilityZone")) or _known_text(subnet.inputs.get("availabilityZone"))


def subnet_zone(subnet: Any) -> str | None:
    """The zone a subnet is in, for counting: its id (names map to zones differently per account), else its name."""
    return subnet_zone_id(subnet) or subnet_zone_name(subnet)


def _nat_per_zone(index: Index) -> Iterator[Finding]:
    # The quota is per Availability Zone of the account: count by zone id.
    def zone(nat: Any) -> str | None:
        subnet = index.ref(nat.inputs.get("subnetId"))
        return subnet_zone(subnet) if subnet is not None else None

    for az, members in _count_by(index.of("aws:ec2/natGateway:NatGateway"), zone).items():
        if len(members) > 5:
            yield _over(
                members[5].urn,
                f"NAT gateways in {az}",
                len(members),
                5,
                f"Amazon VPC quotas: NAT gateways per Availability Zone ({VPC_QUOTAS})",
            )


def _vpn_inside_cidrs(index: Index) -> Iterator[Finding]:
    """Tunnel inside CIDRs are unique across the VPN connections of one virtual private gateway."""
    seen: dict[tuple[str, str], str] = {}
    for connection in index.of("aws:ec2/vpnConnection:VpnConnection"):
        # The model states it for a virtual private gateway (transit gateways: not stated, not judged).
        gateway = _known_text(connection.inputs.get("vpnGatewayId"))
        if gateway is None:
            continue
        for tunnel in (1, 2):
            cidr = _known_text(connection.inputs.get(f"tunnel{tunnel}InsideCidr"))
            if cidr is None:
                continue
            other = seen.setdefault((gateway, cidr), connection.name)
            if other != connection.name:
                yield Finding(
                    connection.urn,
                    AWS,
                    f"tunnel{tunnel}InsideCidr {cidr} is already used by {other} on {gateway}",
                    "Amazon EC2 API Reference, VpnTunnelOptionsSpecification TunnelInsideCidr: 'Any specified CIDR "
                    "blocks must be unique across all VPN connections that use the same virtual private gateway' "
                    f"({EC2_API}/API_VpnTunnelOptionsSpecification.html)",
                )


def _inline_policies_per_role(index: Index) -> Iterator[Finding]:
    sizes: Counter[str] = Counter()
    last: dict[str, Any] = {}
    for policy in index.of("aws:iam/rolePolicy:RolePolicy"):
        role, size = policy.inputs.get("role"), _policy_length(policy.inputs.get("policy"))
        if isinstance(role, str) and size is not None:
            sizes[role] += size
            last[role] = policy
    for role, size in sizes.items():
        if size > 10240:
            yield _over(
                last[role].urn,
                f"inline policy characters (without whitespace) on role {role}",
                size,
                10240,
                f"IAM quotas: inline policy size per role ({IAM_QUOTAS})",
            )


AVAILABILITY_ZONE_NAME = re.compile(r"[a-z]{2}(-[a-z]+)+-\d[a-z]")


def is_availability_zone(name: str) -> bool:
    """Availability Zones are `<region><letter>`; Local and Wavelength Zones add a location (us-east-1-bos-1a).

    Amazon EC2 User Guide, Regions and Zones: zone naming."""
    return bool(AVAILABILITY_ZONE_NAME.fullmatch(name))


# Availability zone ids EKS does not place control-plane interfaces in.
EKS_UNSUPPORTED_ZONE_IDS = frozenset({"use1-az3", "usw1-az2", "cac1-az3"})


@plan_check
def eks_networking(plan: Any, context: Context) -> Iterator[Finding]:
    index = Index(plan)
    for cluster in index.of("aws:eks/cluster:Cluster"):
        subnet_ids: list[Any] = value_at(cluster.inputs, "vpcConfig.subnetIds", []) or []
        subnets = [index.ref(s) for s in subnet_ids]
        known = [s for s in subnets if s is not None]
        zones = {subnet_zone(s) for s in known}
        if known and len(known) == len(subnets) and None not in zones and len(zones) < 2:
            yield Finding(cluster.urn, AWS, "the cluster's subnets must be in at least two availability zones",
                          "Amazon EKS User Guide, network requirements: 'at least two subnets that are in different "
                          f"Availability Zones' ({EKS_NETWORK_DOC})")  # fmt: skip
        for subnet in known:
            zone_id = subnet_zone_id(subnet)
            if zone_id in EKS_UNSUPPORTED_ZONE_IDS:
                yield Finding(
                    cluster.urn,
                    AWS,
                    f"subnet {subnet.name} is in availability zone {zone_id}, where EKS does not run control planes",
                    "Amazon EKS User Guide, subnet requirements for clusters: no subnets in use1-az3, usw1-az2 or "
                    f"cac1-az3 (UnsupportedAvailabilityZoneException) ({EKS_NETWORK_DOC}#network-requirements-subnets)",
                )
            zone = subnet_zone_name(subnet)
            if zone is not None and not is_availability_zone(zone):
                yield Finding(
                    cluster.urn,
                    AWS,
                    f"subnet {subnet.name} is in {zone}, a Local or Wavelength Zone, which EKS does not accept "
                    "for the cluster's subnets",
                    "Amazon EKS User Guide, Local Zones (https://docs.aws.amazon.com/eks/latest/userguide/local-zones.html)",
                )
        service = network(value_at(cluster.inputs, "kubernetesNetworkConfig.serviceIpv4Cidr"))
        vpcs = {vpc.urn: vpc for vpc in (index.ref(s.inputs.get("vpcId")) for s in known) if vpc is not None}
        for vpc in vpcs.values():
            vpc_block = network(vpc.inputs.get("cidrBlock"))
            if service is not None and vpc_block is not None and service.overlaps(vpc_block):
                yield Finding(
                    cluster.urn,
                    AWS,
                    f"service CIDR {service} overlaps the VPC CIDR {vpc_block}",
                    "AWS API model eks KubernetesNetworkConfigRequest.serviceIpv4Cidr: "
                    "'doesn't overlap with resources in other networks that are peered or connected to your VPC'",
                )


# --- AWS Budgets ------------------------------------------------------------------------------------------------

BUDGETS_SOURCE = (
    "AWS API model budgets CreateBudgetRequest.NotificationsWithSubscribers: 'A budget can have up to five "
    "notifications, and each notification can have one SNS subscriber and up to 10 email subscribers'"
)


@resource_check("aws:budgets/budget:Budget")
def budget(observed: Observed) -> Iterator[Finding]:
    notifications: Any = observed.inputs.get("notifications") or []
    if not is_list(notifications):
        return
    if len(notifications) > 5:
        yield reject(observed, f"{len(notifications)} notifications: a budget has at most 5", BUDGETS_SOURCE)
    for i, notification in enumerate(notifications):
        emails: Any = notification.get("subscriberEmailAddresses") if is_map(notification) else None
        if is_list(emails) and len(emails) > 10:
            yield reject(
                observed, f"notifications[{i}] has {len(emails)} email subscribers: at most 10", BUDGETS_SOURCE
            )


# --- replacements that delete what they create ---------------------------------------------------------------

ASSOCIATION_SOURCE = (
    "terraform-provider-aws internal/service/eks/access_policy_association.go: every argument ForceNew and no "
    "update; AssociateAccessPolicy on an existing (cluster, principal, policy) updates that association, and "
    "DisassociateAccessPolicy removes it by (cluster, principal, policy)"
)


@plan_check
def association_replacements(plan: Any, context: Context) -> Iterator[Finding]:
    """In an update: an EKS access policy association whose scope changes is replaced; created first, the new one
    is the old association updated, and deleting the old one then removes it: the principal loses the right."""
    base = context.base or {}
    for association in of_type(plan, "aws:eks/accessPolicyAssociation:AccessPolicyAssociation"):
        saved = base.get(association.urn)
        if saved is None or association.delete_before_replace:
            continue
        saved_inputs: Any = saved.get("inputs") or {}
        before = saved_inputs.get("accessScope")
        now = association.inputs.get("accessScope")
        if before is not None and now is not None and before != now:
            yield Finding(
                association.urn,
                AWS,
                f"accessScope changes ({before} -> {now}), which replaces the association, and a replacement that "
                "creates before it deletes removes the right it grants: use deleteBeforeReplace",
                ASSOCIATION_SOURCE,
            )
