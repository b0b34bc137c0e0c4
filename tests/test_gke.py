"""GKE component: what terraform-google-kubernetes-engine users expect, secure by default."""

from __future__ import annotations

import json

from components.fleetplan import SECRETS_APIS
from components.gke import NODE_ROLES, REQUIRED_APIS, WORKLOAD_IDENTITY_USER, service_account_id
from tests.support import aws_cluster, fleet, gcp_cluster, plan_config

GKE = "gcp:container/cluster:Cluster"
POOL = "gcp:container/nodePool:NodePool"


def test_private_nodes_and_endpoint_access(staging, prod):
    private_ranges = [
        {"cidrBlock": cidr, "displayName": f"fleet-private-{i}"}
        # A private endpoint admits RFC 1918 ranges only (100.64.0.0/10 is refused by the GKE API).
        for i, cidr in enumerate(["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"])
    ]
    public = staging.named("gcp-usc1-gke", GKE)
    assert public.input("privateClusterConfig.enablePrivateNodes") is True
    assert public.input("privateClusterConfig.enablePrivateEndpoint") is False
    assert public.input("privateClusterConfig.masterIpv4CidrBlock") == "192.168.20.0/28"
    # The public endpoint admits only the listed CIDRs; peers reach the private endpoint over the fleet network.
    assert public.input("masterAuthorizedNetworksConfig.cidrBlocks") == [
        {"cidrBlock": "203.0.113.0/24", "displayName": "public-0"},
        *private_ranges,
    ]
    private = prod.named("gcp-euw1-gke", GKE)
    assert private.input("privateClusterConfig.enablePrivateEndpoint") is True
    assert private.input("privateClusterConfig.masterGlobalAccessConfig") == {"enabled": True}
    assert private.input("masterAuthorizedNetworksConfig.cidrBlocks") == private_ranges


def test_vpc_native_on_the_named_secondary_ranges(staging):
    subnet = staging.named("gcp-usc1-nodes", "gcp:compute/subnetwork:Subnetwork")
    ranges = {r["rangeName"]: r["ipCidrRange"] for r in subnet.input("secondaryIpRanges")}
    assert ranges == {"pods": "10.120.0.0/16", "services": "172.21.0.0/16"}
    assert subnet.input("ipCidrRange") == "10.20.0.0/16"
    assert subnet.input("privateIpGoogleAccess") is True
    assert subnet.input("logConfig.metadata") == "INCLUDE_ALL_METADATA"
    cluster = staging.named("gcp-usc1-gke", GKE)
    assert cluster.input("ipAllocationPolicy") == {
        "clusterSecondaryRangeName": "pods",
        "servicesSecondaryRangeName": "services",
    }
    assert cluster.input("networkingMode") == "VPC_NATIVE"
    assert cluster.input("subnetwork") == subnet.id
    network = staging.named("gcp-usc1-network", "gcp:compute/network:Network")
    assert network.input("autoCreateSubnetworks") is False
    nat = staging.named("gcp-usc1-nat", "gcp:compute/routerNat:RouterNat")
    assert nat.input("sourceSubnetworkIpRangesToNat") == "ALL_SUBNETWORKS_ALL_IP_RANGES"


def test_cluster_hardening(staging):
    cluster = staging.named("gcp-usc1-gke", GKE)
    assert cluster.input("workloadIdentityConfig") == {"workloadPool": "acme-staging.svc.id.goog"}
    assert cluster.input("datapathProvider") == "ADVANCED_DATAPATH"
    assert cluster.input("enableShieldedNodes") is True
    assert cluster.input("enableLegacyAbac") is False
    assert cluster.input("masterAuth.clientCertificateConfig.issueClientCertificate") is False
    assert cluster.input("removeDefaultNodePool") is True
    assert cluster.input("releaseChannel") == {"channel": "REGULAR"}
    assert "WORKLOADS" in cluster.input("loggingConfig.enableComponents")
    assert "SYSTEM_COMPONENTS" in cluster.input("monitoringConfig.enableComponents")
    # The staggered slot its name hashes to (5: 22:00 UTC): 4 h on three weekdays, 48 h in any 32 days.
    assert cluster.input("maintenancePolicy.recurringWindow") == {
        "startTime": "2026-01-05T22:00:00Z",
        "endTime": "2026-01-06T02:00:00Z",
        "recurrence": "FREQ=WEEKLY;BYDAY=MO,WE,FR",
    }
    assert cluster.input("enableIntranodeVisibility") is True
    assert cluster.input("securityPostureConfig") == {"mode": "BASIC"}
    assert cluster.input("nodePoolDefaults.nodeConfigDefaults.insecureKubeletReadonlyPortEnabled") == "FALSE"


def test_secrets_encrypted_with_a_rotating_cloud_kms_key_the_gke_agent_may_use(staging):
    cluster = staging.named("gcp-usc1-gke", GKE)
    key = staging.named("gcp-usc1-secrets", "gcp:kms/cryptoKey:CryptoKey")
    assert cluster.input("databaseEncryption") == {"state": "ENCRYPTED", "keyName": key.id}
    assert key.input("rotationPeriod") == "7776000s"
    grant = staging.named("gcp-usc1-secrets-container-agent")
    assert grant.input("cryptoKeyId") == key.id
    assert grant.input("role") == "roles/cloudkms.cryptoKeyEncrypterDecrypter"
    assert grant.input("member") == "serviceAccount:service-481516234200@container-engine-robot.iam.gserviceaccount.com"
    assert grant.urn in cluster.dependencies
    # The agent exists only once its API is enabled: ServiceIdentity creates it before the grant.
    agent = staging.named("gcp-usc1-container-agent", "gcp:projects/serviceIdentity:ServiceIdentity")
    assert agent.input("service") == "container.googleapis.com" and agent.urn in grant.dependencies


def test_node_boot_disks_encrypted_with_a_key_the_compute_agent_may_use(staging):
    key = staging.named("gcp-usc1-boot-disks", "gcp:kms/cryptoKey:CryptoKey")
    for config in (
        staging.named("gcp-usc1-gke", GKE).input("nodeConfig"),
        staging.named("gcp-usc1-system", POOL).input("nodeConfig"),
    ):
        assert config["bootDiskKmsKey"] == key.id
    grant = staging.named("gcp-usc1-boot-disks-compute-agent")
    assert grant.input("cryptoKeyId") == key.id
    assert grant.input("member") == "serviceAccount:service-481516234200@compute-system.iam.gserviceaccount.com"
    assert grant.urn in staging.named("gcp-usc1-gke", GKE).dependencies


def test_nodes_use_a_dedicated_least_privilege_service_account(staging):
    account = staging.named("gcp-usc1-nodes", "gcp:serviceaccount/account:Account")
    email = account.output("email")
    assert email == "staging-gcp-usc1-nodes@acme-staging.iam.gserviceaccount.com"
    roles = sorted(
        m.input("role")
        for m in staging.of_type("gcp:projects/iAMMember:IAMMember")
        if m.input("member") == f"serviceAccount:{email}"
    )
    assert roles == sorted(NODE_ROLES)
    for config in [
        staging.named("gcp-usc1-gke", GKE).input("nodeConfig"),
        staging.named("gcp-usc1-system", POOL).input("nodeConfig"),
    ]:
        assert config["serviceAccount"] == email
        assert "compute@developer" not in config["serviceAccount"]
        assert config["oauthScopes"] == ["https://www.googleapis.com/auth/cloud-platform"]
        assert config["workloadMetadataConfig"] == {"mode": "GKE_METADATA"}
        assert config["shieldedInstanceConfig"] == {"enableSecureBoot": True, "enableIntegrityMonitoring": True}


def test_node_pools_from_config(staging):
    pool = staging.named("gcp-usc1-system", POOL)
    assert pool.input("autoscaling") == {"totalMinNodeCount": 1, "totalMaxNodeCount": 3, "locationPolicy": "BALANCED"}
    assert pool.input("management") == {"autoRepair": True, "autoUpgrade": True}
    assert pool.input("upgradeSettings") == {"strategy": "SURGE", "maxSurge": 1, "maxUnavailable": 0}
    assert pool.input("nodeConfig.spot") is True
    assert pool.input("nodeConfig.machineType") == "e2-standard-4"
    assert pool.input("nodeConfig.labels") == {"multicluster/node-pool": "system"}
    assert pool.input("cluster") == staging.named("gcp-usc1-gke", GKE).id


def test_apis_are_enabled_first_and_never_disabled(staging):
    apis = staging.children(staging.component("gcp-usc1"), "gcp:projects/service:Service")
    # With multicluster:secrets, also what External Secrets calls at run time (components/fleetplan.py SECRETS_APIS).
    assert sorted(a.input("service") for a in apis) == sorted((*REQUIRED_APIS, *SECRETS_APIS))
    assert all(a.input("disableOnDestroy") is False for a in apis)
    cluster = staging.named("gcp-usc1-gke", GKE)
    assert {a.urn for a in apis} <= set(cluster.dependencies)


# What each resource of a GKE cluster calls (terraform-provider-google *_meta.yaml api_service_name).
CALLS = {
    "gcp:compute/": "compute.googleapis.com",
    "gcp:serviceaccount/": "iam.googleapis.com",
    "gcp:projects/iAMMember:": "cloudresourcemanager.googleapis.com",
    "gcp:kms/": "cloudkms.googleapis.com",
    "gcp:container/nodePool:": "container.googleapis.com",
}
ROLE_APIS = {
    "roles/logging.": "logging.googleapis.com",
    "roles/monitoring.": "monitoring.googleapis.com",
    "roles/stackdriver.": "monitoring.googleapis.com",
}


def test_each_resource_waits_for_the_api_it_calls_and_only_the_cluster_for_all(staging):
    """Waiting for every API of the project would lengthen the graph and the first deploy's critical path."""
    services = {
        a.urn: a.input("service")
        for a in staging.children(staging.component("gcp-usc1"), "gcp:projects/service:Service")
    }
    checked = 0
    for r in staging.children(staging.component("gcp-usc1")):
        waits = {services[d] for d in r.dependencies if d in services}
        if r.type == GKE:
            assert waits == set(services.values())
        elif r.type == "gcp:projects/serviceIdentity:ServiceIdentity":
            assert waits == {r.input("service")}  # its agent exists once its own API is enabled
        elif expected := next((api for prefix, api in CALLS.items() if r.type.startswith(prefix)), None):
            # A node role also waits for its service's API (some predefined roles exist only once it is on).
            role_api = next((api for prefix, api in ROLE_APIS.items() if str(r.input("role")).startswith(prefix)), None)
            assert waits == {expected, *([role_api] if role_api else [])}, r.name
            checked += 1
    assert checked >= 15


def test_deletion_protection_follows_the_environment(staging, prod):
    assert staging.named("gcp-usc1-gke", GKE).input("deletionProtection") is False
    assert staging.named("gcp-usc1-gke", GKE).protect is False
    assert prod.named("gcp-euw1-gke", GKE).input("deletionProtection") is True
    assert prod.named("gcp-euw1-gke", GKE).protect is True
    assert prod.named("gcp-euw1-secrets", "gcp:kms/cryptoKey:CryptoKey").protect is True


def test_kubeconfig_uses_the_exec_plugin(staging):
    provider = staging.named("gcp-usc1-k8s", "pulumi:providers:kubernetes")
    cluster = staging.named("gcp-usc1-gke", GKE)
    assert provider.secret_inputs == ["kubeconfig"]
    assert provider.dependencies == [cluster.urn]
    kubeconfig = json.loads(provider.input("kubeconfig"))
    user = kubeconfig["users"][0]["user"]
    assert "auth-provider" not in user
    assert user["exec"]["command"] == "gke-gcloud-auth-plugin"
    assert user["exec"]["apiVersion"] == "client.authentication.k8s.io/v1beta1"
    # The DNS-based endpoint: reachable from anywhere IAM allows, with a publicly trusted certificate (no CA
    # pinned), unlike the IP endpoint that only admits authorized networks.
    dns = cluster.output("controlPlaneEndpointsConfig.dnsEndpointConfig.endpoint")
    assert dns.endswith(".us-central1.gke.goog")
    assert kubeconfig["clusters"][0]["cluster"] == {"server": f"https://{dns}"}
    assert cluster.input("controlPlaneEndpointsConfig.dnsEndpointConfig.allowExternalTraffic") is True


def test_provider_per_cluster_project_and_region():
    plan = plan_config(
        fleet(
            aws_cluster("a", "us-east-1", 1),
            gcp_cluster("g1", "us-central1", 2, role="standby", project="other-project"),
            gcp_cluster("g2", "europe-west1", 3, role="standby"),
            failover="active-passive",
        )
    )
    providers = {p.name: p for p in plan.of_type("pulumi:providers:gcp")}
    assert providers["g1-gcp"].input("project") == "other-project"
    assert providers["g1-gcp"].input("region") == "us-central1"
    assert providers["g2-gcp"].input("project") == "acme-test"
    for name in ("g1", "g2"):
        for r in plan.children(plan.component(name)):
            if r.custom and r.type.startswith("gcp:"):
                assert r.provider_urn == providers[f"{name}-gcp"].urn
    assert plan.outputs["clusters"]["g1"]["workloadIdentityPool"] == "other-project.svc.id.goog"


def test_same_output_surface_as_eks(staging):
    aws, gcp = staging.outputs["clusters"]["aws-use1"], staging.outputs["clusters"]["gcp-usc1"]
    common = {"name", "cloud", "region", "role", "endpoint", "certificateAuthority", "networkId", "cidr"}
    assert common <= set(aws) and common <= set(gcp)
    assert gcp["networkId"].startswith("https://www.googleapis.com/compute/v1/projects/acme-staging/global/networks/")


def test_service_account_ids_fit_gcp_limits():
    assert service_account_id("staging", "gcp-usc1", "nodes") == "staging-gcp-usc1-nodes"
    long_id = service_account_id("production-eu", "gcp-europe-west1-a", "nodes")
    assert len(long_id) <= 30 and long_id == service_account_id("production-eu", "gcp-europe-west1-a", "nodes")


def test_each_gke_workload_identity_binding_admits_one_kubernetes_account_of_its_cluster(staging):
    """Velero, telemetry and External Secrets bind through GkeCluster.bind_workload_identity: the role, the member
    `serviceAccount:<project>.svc.id.goog[<namespace>/<account>]` and the Google account beside the binding."""
    bindings = [
        r
        for r in staging.of_type("gcp:serviceaccount/iAMMember:IAMMember")
        # Not Argo CD's federated principals (tests/test_gitops.py) nor Velero's signer (a Google account itself).
        if r.input("role") == WORKLOAD_IDENTITY_USER and r.input("member").startswith("serviceAccount:")
    ]
    assert WORKLOAD_IDENTITY_USER == "roles/iam.workloadIdentityUser"
    pool = "serviceAccount:acme-staging.svc.id.goog"
    assert {r.name: r.input("member") for r in bindings} == {
        "gcp-usc1-backup-velero-workload-identity": f"{pool}[velero/velero]",
        "gcp-usc1-telemetry-metrics-prometheus": f"{pool}[monitoring/prometheus]",
        "gcp-usc1-telemetry-metrics-thanos-store": f"{pool}[monitoring/thanos-store]",
        "gcp-usc1-telemetry-metrics-thanos-compactor": f"{pool}[monitoring/thanos-compactor]",
        "gcp-usc1-secrets-platform-workload-identity": f"{pool}[external-secrets/platform-secrets]",
        "gcp-usc1-secrets-team-reports-workload-identity": f"{pool}[reports/team-secrets]",
        "gcp-usc1-secrets-team-webapp-workload-identity": f"{pool}[webapp/team-secrets]",
    }
    cluster_provider = staging.named("gcp-usc1-gcp", "pulumi:providers:gcp")
    for binding in bindings:
        accounts = staging.children(binding.parent, "gcp:serviceaccount/account:Account")
        assert binding.input("serviceAccountId") in {a.output("name") for a in accounts}
        assert binding.provider_urn == cluster_provider.urn  # in the cluster's project, through its provider
