"""GitOps: Argo CD hub, declarative cluster registrations, AppProject and ApplicationSets."""

from __future__ import annotations

import functools
import json

import pytest

from components.config import ConfigError, parse_stack_config
from components.config.loader import namespace_settings
from offline_plan.judge import Context
from offline_plan.judge import gcp as gcp_judge
from tests.support import aws_cluster, fleet, gcp_cluster, plan_config, settings_of

REPO = "https://github.com/acme/platform-apps"
SERVICE_ACCOUNTS = [
    "system:serviceaccount:argocd:argocd-application-controller",
    "system:serviceaccount:argocd:argocd-server",
    "system:serviceaccount:argocd:argocd-applicationset-controller",
]
SECRET = "kubernetes:core/v1:Secret"
APPSET = "kubernetes:argoproj.io/v1alpha1:ApplicationSet"
RESIDENCIES = {
    "eu": {"regions": ["eu-central-1", "europe-west1"], "continents": ["EU"]},
    "us": {"regions": ["us-east-1", "us-central1"], "continents": ["NA"], "default": True},
}
APPLICATIONS = [
    {"name": "webapp", "path": "deploy/{{environment}}/{{residency}}", "namespace": "webapp", "placement": "all"},
    {"name": "ledger", "path": "ledger/{{name}}", "namespace": "ledger", "placement": "residency:eu"},
    {"name": "reports", "path": "reports", "namespace": "reports", "placement": {"labels": {"tier": "gold"}}},
]


def gitops(hub: str, **extra) -> dict:
    return {"hub": hub, "chartVersion": "10.1.1", "repoUrl": REPO, "revision": "main", **extra}


def partitioned_prod() -> dict:
    """EKS hub, prod (HA), EKS and GKE clusters in two residencies."""
    return fleet(
        aws_cluster("aws-euc1", "eu-central-1", 1, residency="eu", labels={"tier": "gold"}),
        gcp_cluster("gcp-euw1", "europe-west1", 2, role="standby", residency="eu"),
        aws_cluster("aws-use1", "us-east-1", 3, residency="us"),
        gcp_cluster("gcp-usc1", "us-central1", 4, role="standby", residency="us"),
        environment="prod",
        topology="partitioned",
        residencies=RESIDENCIES,
        gitops=gitops("aws-euc1", applications=APPLICATIONS),
    )


def replicated_staging() -> dict:
    """GKE hub, staging (small), one EKS and one GKE cluster."""
    return fleet(
        gcp_cluster("gcp-euw1", "europe-west1", 1),
        aws_cluster("aws-use1", "us-east-1", 2, role="standby"),
        environment="staging",
        gitops=gitops("gcp-euw1", applications=[APPLICATIONS[0] | {"path": "deploy/{{environment}}"}]),
    )


@functools.cache
def planned(name: str):
    """Each shared plan once per session (test_gitops_upstream.py reads the same ones)."""
    return plan_config({"prod": partitioned_prod, "staging": replicated_staging}[name]())


@pytest.fixture(scope="module")
def prod():
    return planned("prod")


@pytest.fixture(scope="module")
def staging():
    return planned("staging")


def cluster_secrets(plan) -> dict:
    secrets = [r for r in plan.of_type(SECRET) if r.input("metadata.name", "").startswith("cluster-")]
    return {r.input("metadata.name").removeprefix("cluster-"): r for r in secrets}


def release(plan):
    return plan.named("gitops-argocd", "kubernetes:helm.sh/v3:Release")


def appsets(plan) -> dict:
    return {r.input("metadata.name"): r for r in plan.of_type(APPSET)}


def resource_named(plan, name: str):
    return next(r for r in plan if r.name == name and r.custom)


# --- registrations ---------------------------------------------------------------------------------


def test_one_registration_per_cluster_with_fleet_labels(prod):
    secrets = cluster_secrets(prod)
    assert sorted(secrets) == ["aws-euc1", "aws-use1", "gcp-euw1", "gcp-usc1"]
    assert secrets["aws-euc1"].input("metadata.labels") == {
        "argocd.argoproj.io/secret-type": "cluster",
        "environment": "prod",
        "cloud": "aws",
        "region": "eu-central-1",
        "role": "primary",
        "residency": "eu",
        "tier": "gold",
    }
    assert secrets["gcp-usc1"].input("metadata.labels") == {
        "argocd.argoproj.io/secret-type": "cluster",
        "environment": "prod",
        "cloud": "gcp",
        "region": "us-central1",
        "role": "standby",
        "residency": "us",
    }
    for secret in secrets.values():
        assert secret.input("metadata.namespace") == "argocd"
        assert secret.provider_urn == resource_named(prod, "aws-euc1-k8s").urn  # on the hub


def test_cluster_config_holds_the_auth_block_of_its_cloud(prod):
    secrets = cluster_secrets(prod)
    deployer = prod.outputs["gitops"]["deployerRoleArn"]
    eks = prod.named("aws-use1-eks", "aws:eks/cluster:Cluster")
    aws_data = secrets["aws-use1"].input("stringData")
    assert aws_data["name"] == "aws-use1"
    assert aws_data["server"] == eks.output("endpoint")
    assert json.loads(aws_data["config"]) == {
        "awsAuthConfig": {"clusterName": "test-aws-use1", "roleARN": deployer},
        "tlsClientConfig": {"insecure": False, "caData": eks.output("certificateAuthority.data")},
    }
    gke = prod.named("gcp-usc1-gke", "gcp:container/cluster:Cluster")
    gcp_config = json.loads(secrets["gcp-usc1"].input("stringData.config"))
    assert gcp_config["execProviderConfig"] == {
        "command": "argocd-k8s-auth",
        "args": ["gcp"],
        "apiVersion": "client.authentication.k8s.io/v1beta1",
    }
    assert "awsAuthConfig" not in gcp_config
    # Through the DNS endpoint, whose certificate is publicly trusted: verified, with no cluster CA pinned.
    assert gcp_config["tlsClientConfig"] == {"insecure": False}
    dns = gke.output("controlPlaneEndpointsConfig.dnsEndpointConfig.endpoint")
    assert secrets["gcp-usc1"].input("stringData.server") == f"https://{dns}"


def test_credentials_are_secrets_and_never_in_clear(prod):
    holders = [*cluster_secrets(prod).values(), prod.named("gitops-argocd-gcp-credentials", SECRET)]
    for secret in holders:
        assert "stringData" in secret.secret_inputs, secret.name
    credentials = json.loads(
        prod.named("gitops-argocd-gcp-credentials", SECRET).input("stringData")["credentials.json"]
    )
    assert credentials["type"] == "external_account" and "private_key" not in credentials
    masked = json.dumps(prod.outputs["gitops"])
    assert "caData" not in masked and "external_account" not in masked


# --- AWS identity ----------------------------------------------------------------------------------


def test_hub_role_trusts_only_argocd_service_accounts_through_the_hub_issuer(prod):
    hub_role = prod.named("gitops-identity-hub", "aws:iam/role:Role")
    (statement,) = json.loads(hub_role.input("assumeRolePolicy"))["Statement"]
    issuer = prod.named("aws-euc1-oidc").input("url").removeprefix("https://")
    assert statement["Principal"] == {"Federated": prod.named("aws-euc1-oidc").output("arn")}
    assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert statement["Condition"] == {
        "StringEquals": {f"{issuer}:aud": "sts.amazonaws.com", f"{issuer}:sub": SERVICE_ACCOUNTS}
    }
    annotations = release(prod).input("values.controller.serviceAccount.annotations")
    assert annotations == {"eks.amazonaws.com/role-arn": hub_role.output("arn")}


def test_deployer_role_is_assumable_from_the_hub_role_only(prod):
    hub_role = prod.named("gitops-identity-hub", "aws:iam/role:Role")
    deployer = prod.named("gitops-identity-deployer", "aws:iam/role:Role")
    (trust,) = json.loads(deployer.input("assumeRolePolicy"))["Statement"]
    assert trust["Principal"] == {"AWS": hub_role.output("arn")}
    (allow,) = json.loads(prod.named("gitops-identity-hub-assume-deployer").input("policy"))["Statement"]
    assert allow["Resource"] == deployer.output("arn") and "sts:AssumeRole" in allow["Action"]


def test_access_entry_on_each_eks_target_through_its_own_provider(prod):
    deployer = prod.outputs["gitops"]["deployerRoleArn"]
    for cluster in ("aws-euc1", "aws-use1"):
        entry = prod.named(f"gitops-{cluster}-access", "aws:eks/accessEntry:AccessEntry")
        policy = prod.named(f"gitops-{cluster}-admin", "aws:eks/accessPolicyAssociation:AccessPolicyAssociation")
        provider = resource_named(prod, f"{cluster}-aws").urn
        assert entry.provider_urn == provider and policy.provider_urn == provider
        assert entry.input("principalArn") == deployer and entry.input("clusterName") == f"test-{cluster}"
        assert policy.input("policyArn") == "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"
        assert policy.input("accessScope") == {"type": "cluster"}
        assert entry.urn in policy.dependencies
        assert policy.urn in cluster_secrets(prod)[cluster].dependencies


# --- Google identity --------------------------------------------------------------------------------


def test_eks_hub_reaches_gke_through_federation_on_its_oidc_issuer(prod):
    provider = prod.named("gitops-identity-pool-hub")
    assert provider.input("oidc.issuerUri") == prod.named("aws-euc1-oidc").input("url")
    for subject in SERVICE_ACCOUNTS:
        assert f"'{subject}'" in provider.input("attributeCondition")
    credentials = json.loads(
        prod.named("gitops-argocd-gcp-credentials", SECRET).input("stringData")["credentials.json"]
    )
    assert credentials["audience"] == f"//iam.googleapis.com/{provider.output('name')}"
    assert credentials["credential_source"]["file"] == "/var/run/secrets/gcp-workload-identity/token"
    account = prod.outputs["gitops"]["googleServiceAccount"]
    assert credentials["service_account_impersonation_url"].endswith(f"/serviceAccounts/{account}:generateAccessToken")
    controller = release(prod).input("values.controller")
    token = next(v for v in controller["volumes"] if v["name"] == "gcp-web-identity")
    audience = token["projected"]["sources"][0]["serviceAccountToken"]["audience"]
    assert audience == f"https://iam.googleapis.com/{provider.output('name')}"
    assert {"name": "GOOGLE_APPLICATION_CREDENTIALS", "value": "/etc/gcp-workload-identity/credentials.json"} in (
        controller["env"]
    )
    bindings = prod.of_type("gcp:serviceaccount/iAMMember:IAMMember")
    pool = prod.named("gitops-identity-pool").output("name")
    members = sorted(r.input("member") for r in bindings)
    assert members == sorted(f"principal://iam.googleapis.com/{pool}/subject/{s}" for s in SERVICE_ACCOUNTS)
    # Federated principals get the role GKE's own service accounts get (gke.workload_identity_user).
    assert {r.input("role") for r in bindings} == {"roles/iam.workloadIdentityUser"}


def test_gke_targets_bind_the_google_account_to_cluster_admin(prod):
    account = prod.outputs["gitops"]["googleServiceAccount"]
    for cluster in ("gcp-euw1", "gcp-usc1"):
        binding = prod.named(f"gitops-{cluster}-admin")
        assert binding.provider_urn == resource_named(prod, f"{cluster}-k8s").urn
        assert binding.input("subjects") == [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": account}]
        assert binding.input("roleRef.name") == "cluster-admin"
    # Only what authenticating to a GKE API server takes (clusterViewer would also list every cluster).
    role = prod.named("gitops-identity-google-connect-acme-test", "gcp:projects/iAMCustomRole:IAMCustomRole")
    assert role.input("permissions") == ["container.clusters.get", "container.clusters.connect"]
    assert role.input("roleId") == "test_argocd_connect"
    viewer = prod.named("gitops-identity-google-viewer-acme-test")
    assert viewer.input("role") == role.output("name") == "projects/acme-test/roles/test_argocd_connect"
    assert viewer.input("member") == f"serviceAccount:{account}"


def test_a_gke_target_in_its_own_project_is_granted_there_after_its_apis():
    """The connect role and its member live in the target's project: the role (IAM) waits for IAM there, the
    member (the project's IAM policy) for Resource Manager, both enabled by the target's cluster (gcp:project's
    own Services are another project's)."""
    other = gcp_cluster("gcp-usc1", "us-central1", 2, role="standby", project="acme-other")
    plan = plan_config(fleet(aws_cluster("aws-use1", "us-east-1", 1), other, gitops=gitops("aws-use1")))
    role = plan.named("gitops-identity-google-connect-acme-other", "gcp:projects/iAMCustomRole:IAMCustomRole")
    member = plan.named("gitops-identity-google-viewer-acme-other", "gcp:projects/iAMMember:IAMMember")
    assert "gcp-usc1-iam-api" in {plan.by_urn(urn).name for urn in role.dependencies}
    assert "gcp-usc1-cloudresourcemanager-api" in {plan.by_urn(urn).name for urn in member.dependencies}
    assert [str(f) for f in gcp_judge.apis_enabled(plan, Context())] == []


def test_gke_hub_uses_workload_identity_and_web_identity_for_eks(staging):
    account = staging.outputs["gitops"]["googleServiceAccount"]
    values = release(staging).input("values")
    for component in ("controller", "server", "applicationSet"):
        annotations = values[component]["serviceAccount"]["annotations"]
        assert annotations == {"iam.gke.io/gcp-service-account": account}
    members = sorted(r.input("member") for r in staging.of_type("gcp:serviceaccount/iAMMember:IAMMember"))
    assert members == sorted(
        f"serviceAccount:acme-test.svc.id.goog[argocd/{s.rsplit(':', 1)[1]}]" for s in SERVICE_ACCOUNTS
    )
    issuer = staging.named("gcp-euw1-aws-trust-oidc")  # shared: components/federation.py
    assert issuer.input("url") == (
        "https://container.googleapis.com/v1/projects/acme-test/locations/europe-west1/clusters/test-gcp-euw1"
    )
    hub_role = staging.named("gitops-identity-hub", "aws:iam/role:Role")
    (statement,) = json.loads(hub_role.input("assumeRolePolicy"))["Statement"]
    assert statement["Principal"] == {"Federated": issuer.output("arn")}
    env = {e["name"]: e["value"] for e in values["controller"]["env"]}
    assert env["AWS_ROLE_ARN"] == hub_role.output("arn")
    assert env["AWS_WEB_IDENTITY_TOKEN_FILE"] == "/var/run/secrets/eks.amazonaws.com/serviceaccount/token"
    aws_token = next(v for v in values["controller"]["volumes"] if v["name"] == "aws-web-identity")
    assert aws_token["projected"]["sources"][0]["serviceAccountToken"]["audience"] == "sts.amazonaws.com"
    assert not staging.of_type("gcp:iam/workloadIdentityPool:WorkloadIdentityPool")


# --- Argo CD release ---------------------------------------------------------------------------------


def test_release_is_pinned_and_installed_on_the_hub_after_it_is_ready(prod):
    argocd = release(prod)
    assert argocd.input("chart") == "argo-cd" and argocd.input("version") == "10.1.1"
    assert argocd.input("repositoryOpts.repo") == "https://argoproj.github.io/argo-helm"
    assert argocd.input("namespace") == "argocd"
    assert argocd.provider_urn == resource_named(prod, "aws-euc1-k8s").urn
    hub_node_group = prod.named("aws-euc1-system", "aws:eks/nodeGroup:NodeGroup")
    assert hub_node_group.urn in prod.waits_for(argocd)
    assert prod.named("gitops-argocd-namespace").urn in argocd.dependencies


def test_highly_available_in_prod_only(prod, staging):
    ha, small = release(prod).input("values"), release(staging).input("values")
    assert ha["redis-ha"] == {"enabled": True} and small["redis-ha"] == {"enabled": False}
    for component in ("controller", "server", "repoServer", "applicationSet"):
        assert ha[component]["replicas"] >= 2 and ha[component]["pdb"] == {"enabled": True, "minAvailable": 1}
        assert small[component]["replicas"] == 1 and "pdb" not in small[component]
    assert prod.outputs["gitops"]["highlyAvailable"] is True
    assert staging.outputs["gitops"]["highlyAvailable"] is False


# --- projects and applications -----------------------------------------------------------------------


def test_app_project_allows_only_the_repository_and_the_registered_clusters(prod):
    (project,) = prod.of_type("kubernetes:argoproj.io/v1alpha1:AppProject")
    assert project.input("metadata.name") == "prod"
    assert project.input("spec.sourceRepos") == [REPO]
    servers = {s.input("stringData.server") for s in cluster_secrets(prod).values()}
    assert {d["server"] for d in project.input("spec.destinations")} == servers
    assert len(project.input("spec.destinations")) == 4


def test_applicationset_selectors_follow_the_placement(prod):
    sets = appsets(prod)
    selector = {name: s.input("spec.generators.0.clusters.selector.matchLabels") for name, s in sets.items()}
    base = {"argocd.argoproj.io/secret-type": "cluster", "environment": "prod"}
    assert selector == {"webapp": base, "ledger": {**base, "residency": "eu"}, "reports": {**base, "tier": "gold"}}
    assert prod.outputs["gitops"]["applications"] == {
        "webapp": ["aws-euc1", "gcp-euw1", "aws-use1", "gcp-usc1"],
        "ledger": ["aws-euc1", "gcp-euw1"],
        "reports": ["aws-euc1"],
    }


def test_applicationset_template_sync_policy_and_paths(prod, staging):
    webapp = appsets(prod)["webapp"]
    assert webapp.input("spec.goTemplate") is True
    template = webapp.input("spec.template")
    assert template["metadata"]["name"] == "webapp-{{ .name }}"
    assert template["spec"]["project"] == "prod"
    assert template["spec"]["source"] == {
        "repoURL": REPO,
        "targetRevision": "main",
        "path": 'deploy/{{ index .metadata.labels "environment" }}/{{ index .metadata.labels "residency" }}',
    }
    assert template["spec"]["destination"] == {"server": "{{ .server }}", "namespace": "webapp"}
    assert template["spec"]["syncPolicy"] == {
        "automated": {"prune": True, "selfHeal": True},
        "syncOptions": ["CreateNamespace=true"],
        "retry": {"limit": 5, "backoff": {"duration": "10s", "factor": 2, "maxDuration": "5m"}},
    }
    assert appsets(prod)["ledger"].input("spec.template.spec.source.path") == "ledger/{{ .name }}"
    assert webapp.input("spec.syncPolicy.preserveResourcesOnDeletion") is True
    assert appsets(staging)["webapp"].input("spec.syncPolicy.preserveResourcesOnDeletion") is False
    assert release(prod).urn in webapp.dependencies


def test_every_gitops_resource_has_an_explicit_provider(prod, staging):
    for plan in (prod, staging):
        gitops = plan.component("gitops")
        for r in plan.children(gitops):
            if r.custom and not r.type.startswith("pulumi:providers:"):
                assert r.provider and "::default" not in r.provider, r.name


def test_outputs_url_and_registered_clusters(prod):
    outputs = prod.outputs["gitops"]
    assert outputs["url"] == "https://argocd-server.argocd.svc.cluster.local"
    assert outputs["hub"] == "aws-euc1" and outputs["chartVersion"] == "10.1.1"
    registered = {c["name"]: c for c in outputs["clusters"]}
    assert registered["gcp-euw1"]["labels"] == {
        "environment": "prod",
        "cloud": "gcp",
        "region": "europe-west1",
        "role": "standby",
        "residency": "eu",
    }
    assert registered["aws-use1"]["server"] == cluster_secrets(prod)["aws-use1"].input("stringData.server")


# --- validation ----------------------------------------------------------------------------------------


def issues_of(config: dict) -> list[str]:
    raw, project = namespace_settings(settings_of(config))
    with pytest.raises(ConfigError) as err:
        parse_stack_config(raw, project)
    return [str(issue) for issue in err.value.issues]


def replicated(**block) -> dict:
    return fleet(
        aws_cluster("aws-use1", "us-east-1", 1),
        aws_cluster("aws-usw2", "us-west-2", 2, role="standby"),
        gitops=gitops("aws-use1") | block,
    )


def test_hub_not_in_the_fleet_is_an_error():
    assert issues_of(replicated(hub="aws-euw1")) == [
        "multicluster:gitops.hub 'aws-euw1' is not a cluster of the fleet (clusters: aws-use1, aws-usw2)"
    ]


def test_hub_not_in_the_fleet_stops_the_program():
    import pulumi

    with pytest.raises(pulumi.RunError, match=r"multicluster:gitops\.hub 'nope' is not a cluster of the fleet"):
        plan_config(replicated(hub="nope"))


def test_residency_placement_needs_the_partitioned_topology():
    app = {"name": "ledger", "path": "ledger", "namespace": "ledger", "placement": "residency:eu"}
    assert issues_of(replicated(applications=[app])) == [
        "multicluster:gitops.applications[0].placement 'residency:eu' needs the partitioned topology "
        "(topology is replicated); use 'all'"
    ]


def test_residency_placement_must_name_a_residency():
    config = partitioned_prod()
    config["multicluster:gitops"]["applications"] = [APPLICATIONS[1] | {"placement": "residency:apac"}]
    assert issues_of(config) == [
        "multicluster:gitops.applications[0].placement 'apac' is not a key of multicluster:residencies (eu, us)"
    ]


def test_field_errors_of_the_block():
    apps = [
        {"name": "Web_App", "path": "/abs", "namespace": "web", "placement": "everywhere"},
        {"name": "api", "path": "api", "namespace": "api", "placement": {"labels": {"tier": "gold!"}}},
    ]
    assert issues_of(replicated(repoUrl="ftp://example.com/repo", chartVersion="^10.1", applications=apps)) == [
        "multicluster:gitops.applications[0].name 'Web_App' is not a DNS-1123 label "
        "(lowercase letters, digits and '-', starting with a letter)",
        "multicluster:gitops.applications[0].path '/abs' must be a relative path inside the repository "
        "(no leading '/', no '..')",
        "multicluster:gitops.applications[0].placement must be 'all', 'residency:<key>' or {labels: {key: value}} "
        "(got 'everywhere')",
        "multicluster:gitops.applications[1].placement label value 'gold!' of 'tier' is not a valid Kubernetes "
        "label value",
        "multicluster:gitops.chartVersion '^10.1' is not a pinned chart version (use an exact semver such as 10.1.1)",
        "multicluster:gitops.repoUrl 'ftp://example.com/repo' is not an https or ssh git URL "
        "(e.g. https://github.com/acme/platform-apps or git@github.com:acme/platform-apps.git)",
    ]


def test_application_names_are_unique_and_placements_select_clusters():
    apps = [
        {"name": "web", "path": "deploy/{{tier}}", "namespace": "web"},
        {"name": "web", "path": "web", "namespace": "web", "placement": {"labels": {"tier": "gold"}}},
    ]
    assert issues_of(replicated(applications=apps)) == [
        "multicluster:gitops.applications[0].path '{{tier}}' is not a label of cluster(s) aws-use1, aws-usw2 "
        "(use name, environment, cloud, region, role, residency or a label of the clusters)",
        "multicluster:gitops.applications[1].name 'web' is already used by applications[0]",
        "multicluster:gitops.applications[1].placement 'labels: {tier: gold}' selects no cluster of the fleet",
    ]


@pytest.mark.parametrize("url", [REPO, "git@github.com:acme/platform-apps.git", "ssh://git@gitlab.acme.io/ops/apps"])
def test_https_and_ssh_repository_urls_are_accepted(url):
    raw, project = namespace_settings(settings_of(replicated(repoUrl=url)))
    assert parse_stack_config(raw, project).gitops.repo_url == url


def test_gcp_project_is_required_with_gcp_clusters():
    """Argo CD's Google identity must not move to another project when clusters are added or reordered."""
    from components.config import ConfigError, namespace_settings, parse_stack_config
    from tests.support import settings_of, stack_config

    config = stack_config("staging")
    del config["gcp:project"]
    for cluster in config["multicluster:clusters"]:
        if cluster["cloud"] == "gcp":
            cluster["project"] = "acme-other"
    with pytest.raises(ConfigError) as err:
        parse_stack_config(*namespace_settings(settings_of(config)))
    assert "multicluster:gitops needs gcp:project when the fleet has GCP clusters" in [str(i) for i in err.value.issues]
