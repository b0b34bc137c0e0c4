"""Global DNS: record sets, routing policies, health-check wiring and failover time, per topology and provider."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from components.config import ConfigError, parse_stack_config
from components.config.dns import DnsConfig, HealthCheckConfig
from components.dns import (
    ELB_ALIAS_TTL,
    ROUTE53_CHECKER_REGIONS,
    failover_seconds,
    gcp_location,
    health_check_target,
    latency_region,
    lb_type,
    mesh_gateway_addresses,
    plan_record,
    residency_locations,
)
from components.ingress import TRAEFIK_VERSION
from components.plan.report import ReportOptions, to_json
from tests.support import aws_cluster, fleet, gcp_cluster, plan_config

R53 = "aws:route53/record:Record"
CHECK = "aws:route53/healthCheck:HealthCheck"
RRSET = "gcp:dns/recordSet:RecordSet"
RESIDENCIES = {
    "eu": {"regions": ["eu-west-1", "europe-west3"], "continents": ["EU"], "countries": ["CH"], "default": True},
    "us": {"regions": ["us-east-1", "us-central1"], "continents": ["NA", "SA"]},
}


def dns(provider: str = "route53", **extra) -> dict:
    return {"provider": provider, "zone": "example.com", "ttl": 30, "records": [{"name": "webapp"}], **extra}


def records(plan, name: str | None = None, type_: str = R53) -> dict[str, object]:
    """Records by set identifier (or resource name when there is none), optionally of one DNS name."""
    found = {}
    for r in plan.of_type(type_):
        if name is None or r.input("name") == name:
            found[r.input("setIdentifier") or r.name] = r
    return found


def check_of(plan, cluster: str):
    return plan.named(f"dns-check-{cluster}", CHECK)


def raw(config: dict) -> tuple[dict, str]:
    return {k.split(":", 1)[1]: v for k, v in config.items() if k.startswith("multicluster:")}, config["gcp:project"]


def issues_of(config: dict) -> list[str]:
    with pytest.raises(ConfigError) as err:
        parse_stack_config(*raw(config))
    return [str(issue) for issue in err.value.issues]


# --- Route53, replicated active-passive (AWS primary, GCP standby) ----------------------------------


@pytest.fixture(scope="module")
def r53_active_passive():
    return plan_config(
        fleet(
            aws_cluster("use1", "us-east-1", 1),
            gcp_cluster("gew3", "europe-west3", 2, role="standby"),
            dns=dns(),
            protect=True,
        )
    )


def test_failover_pair_primary_alias_to_nlb_secondary_a_record(r53_active_passive):
    plan = r53_active_passive
    pair = records(plan, "webapp.example.com")
    assert set(pair) == {"use1", "gew3"}
    primary, secondary = pair["use1"], pair["gew3"]
    assert primary.input("failoverRoutingPolicies") == [{"type": "PRIMARY"}]
    assert secondary.input("failoverRoutingPolicies") == [{"type": "SECONDARY"}]
    address = plan.outputs["dns"]["ingressAddresses"]["use1"]
    assert address.endswith(".elb.us-east-1.amazonaws.com")
    # Alias records: no TTL, evaluate_target_health, the NLB's canonical zone of us-east-1.
    assert primary.input("ttl") is None and primary.input("records") is None
    assert primary.input("aliases") == [{"name": address, "zoneId": "Z26RNL4JYFTOTI", "evaluateTargetHealth": True}]
    assert secondary.input("ttl") == 30
    assert secondary.input("records") == [plan.outputs["dns"]["ingressAddresses"]["gew3"]]
    assert secondary.input("type") == primary.input("type") == "A"


def test_each_record_guarded_by_its_own_cluster_check(r53_active_passive):
    plan = r53_active_passive
    pair = records(plan, "webapp.example.com")
    for cluster in ("use1", "gew3"):
        check = check_of(plan, cluster)
        assert pair[cluster].input("healthCheckId") == check.id
        assert plan.outputs["dns"]["healthChecks"][cluster] == check.id


def test_health_checks_probe_hostname_or_ip_from_several_regions(r53_active_passive):
    plan = r53_active_passive
    addresses = plan.outputs["dns"]["ingressAddresses"]
    aws_check, gcp_check = check_of(plan, "use1"), check_of(plan, "gew3")
    # AWS: no fixed NLB address, so the check resolves the NLB hostname itself (never the routed name).
    assert aws_check.input("fqdn") == addresses["use1"] and aws_check.input("ipAddress") is None
    assert aws_check.input("enableSni") is True
    # GCP: probe the LB IP, present the public name as Host and SNI so the ingress picks its certificate.
    assert gcp_check.input("ipAddress") == addresses["gew3"]
    assert gcp_check.input("fqdn") == "webapp.example.com" and gcp_check.input("enableSni") is True
    for check in (aws_check, gcp_check):
        assert check.input("type") == "HTTPS"
        assert check.input("resourcePath") == "/healthz"
        assert check.input("port") == 443
        assert check.input("requestInterval") == 10
        assert check.input("failureThreshold") == 3
        assert check.input("measureLatency") is True
        assert check.input("regions") == ROUTE53_CHECKER_REGIONS


def test_route53_through_explicit_global_provider_and_protected_zone(r53_active_passive):
    plan = r53_active_passive
    provider = plan.named("dns-aws", "pulumi:providers:aws")
    assert provider.input("region") == "us-east-1"
    dns_resources = plan.children(plan.component("dns"))
    assert all(r.provider_urn == provider.urn for r in dns_resources if r.custom and r.type.startswith("aws:"))
    zone = plan.named("dns-zone", "aws:route53/zone:Zone")
    assert zone.input("name") == "example.com" and zone.protect and zone.retain_on_delete
    assert {r.input("zoneId") for r in plan.of_type(R53)} == {zone.output("zoneId")}


def test_failover_time_output_uses_elb_alias_ttl(r53_active_passive):
    webapp = r53_active_passive.outputs["dns"]["records"]["webapp"]
    assert webapp["fqdn"] == "webapp.example.com"
    assert webapp["routing"] == "failover"
    # 10 s x 3 failures to detect, then resolvers hold the alias answer for the ELB's 60 s.
    assert webapp["failoverSeconds"] == 10 * 3 + ELB_ALIAS_TTL == 90
    assert r53_active_passive.outputs["dns"]["nameServers"][0].startswith("ns-")


def test_fallback_ingress_is_pinned_traefik_behind_a_load_balancer(r53_active_passive):
    plan = r53_active_passive
    release = plan.named("use1-ingress-traefik", "kubernetes:helm.sh/v3:Release")
    assert release.input("chart") == "traefik" and release.input("version") == TRAEFIK_VERSION
    assert release.input("repositoryOpts.repo") == "https://traefik.github.io/charts"
    assert release.provider_urn == plan.named("use1-k8s", "pulumi:providers:kubernetes").urn
    node_group = plan.named("use1-system", "aws:eks/nodeGroup:NodeGroup")
    assert node_group.urn in plan.named("use1-ingress-ns", "kubernetes:core/v1:Namespace").dependencies
    service = plan.named("use1-ingress-lb", "kubernetes:core/v1:Service")
    assert release.urn in service.dependencies
    assert service.input("spec.type") == "LoadBalancer"
    assert service.input("metadata.annotations")["service.beta.kubernetes.io/aws-load-balancer-type"] == "nlb"
    assert service.input("spec.selector") == {
        "app.kubernetes.io/name": "traefik",
        "app.kubernetes.io/instance": "traefik-traefik",
    }
    gke_service = plan.named("gew3-ingress-lb", "kubernetes:core/v1:Service")
    assert gke_service.input("metadata.annotations") == {}


def test_fallback_ingress_is_a_child_of_the_dns_component(r53_active_passive):
    # The cluster component registered its outputs before DNS ran: nothing may be parented to it afterwards.
    plan = r53_active_passive
    dns_component = plan.component("dns")
    for cluster in ("use1", "gew3"):
        controller = plan.named(f"{cluster}-ingress", "multicluster:ingress:IngressController")
        assert controller.parent == dns_component.urn
        service = plan.named(f"{cluster}-ingress-lb", "kubernetes:core/v1:Service")
        assert service in plan.children(dns_component)
        assert service not in plan.children(plan.component(cluster))
        # Its workloads still go to the cluster, through the cluster's own provider.
        assert service.provider_urn == plan.named(f"{cluster}-k8s", "pulumi:providers:kubernetes").urn


def test_fallback_ingress_keeps_its_urns_through_an_alias_to_the_cluster(monkeypatch):
    import components.dns as dns_module

    seen = {}

    class Recording(dns_module.IngressController):
        def __init__(self, name, args, opts=None):
            seen[name] = (args.cluster, opts)
            super().__init__(name, args, opts)

    monkeypatch.setattr(dns_module, "IngressController", Recording)
    plan_config(fleet(aws_cluster("use1", "us-east-1", 1), dns=dns()))
    cluster, opts = seen["use1-ingress"]
    # Same name and type (`...` = unchanged), old parent: the engine matches the existing resources.
    assert [(a.name, a.type_, a.parent) for a in opts.aliases] == [(..., ..., cluster)]
    assert opts.parent.__class__.__name__ == "GlobalDns"


def test_plan_is_deterministic(r53_active_passive):
    again = plan_config(
        fleet(
            aws_cluster("use1", "us-east-1", 1),
            gcp_cluster("gew3", "europe-west3", 2, role="standby"),
            dns=dns(),
            protect=True,
        )
    )
    options = ReportOptions()
    assert json.dumps(to_json(again, options), sort_keys=True) == json.dumps(
        to_json(r53_active_passive, options), sort_keys=True
    )


# --- Route53, replicated active-active: latency records ----------------------------------------------


@pytest.fixture(scope="module")
def r53_active_active():
    return plan_config(
        fleet(
            aws_cluster("use1", "us-east-1", 1),
            gcp_cluster("gew3", "europe-west3", 2),
            failover="active-active",
            dns=dns(ttl=20, healthCheck={"intervalSeconds": 30, "failureThreshold": 2}),
        )
    )


def test_latency_records_map_gcp_regions_to_nearest_aws_region(r53_active_active):
    plan = r53_active_active
    latency = records(plan, "webapp.example.com")
    assert set(latency) == {"use1", "gew3"}
    assert latency["use1"].input("latencyRoutingPolicies") == [{"region": "us-east-1"}]
    assert latency["gew3"].input("latencyRoutingPolicies") == [{"region": "eu-central-1"}]
    assert latency["gew3"].input("ttl") == 20
    for cluster, record in latency.items():
        assert record.input("healthCheckId") == check_of(plan, cluster).id
        assert check_of(plan, cluster).input("requestInterval") == 30
    webapp = plan.outputs["dns"]["records"]["webapp"]
    assert webapp["routing"] == "latency"
    assert webapp["failoverSeconds"] == 30 * 2 + ELB_ALIAS_TTL


def test_zone_not_protected_outside_prod(r53_active_active):
    zone = r53_active_active.named("dns-zone", "aws:route53/zone:Zone")
    assert not zone.protect


# --- Route53, partitioned: residency records and geolocation ----------------------------------------


@pytest.fixture(scope="module")
def r53_partitioned():
    return plan_config(
        fleet(
            aws_cluster("euw1", "eu-west-1", 1, residency="eu"),
            gcp_cluster("gew3", "europe-west3", 2, role="standby", residency="eu"),
            gcp_cluster("usc1", "us-central1", 3, residency="us"),
            topology="partitioned",
            residencies=RESIDENCIES,
            dns=dns(records=[{"name": "webapp"}, {"name": "api", "routing": "geo"}]),
        )
    )


def test_residency_record_fails_over_within_the_residency(r53_partitioned):
    plan = r53_partitioned
    eu = records(plan, "eu.webapp.example.com")
    assert set(eu) == {"euw1", "gew3"}
    assert eu["euw1"].input("failoverRoutingPolicies") == [{"type": "PRIMARY"}]
    assert eu["gew3"].input("failoverRoutingPolicies") == [{"type": "SECONDARY"}]
    # A residency with one cluster: a plain record, no routing, no health check.
    us = records(plan, "us.webapp.example.com")
    (single,) = us.values()
    assert single.input("setIdentifier") is None and single.input("healthCheckId") is None
    assert single.input("records") == [plan.outputs["dns"]["ingressAddresses"]["usc1"]]
    assert "usc1" not in plan.outputs["dns"]["healthChecks"]


def test_one_check_per_cluster_presents_the_first_public_name(r53_partitioned):
    # gew3 serves webapp and api (each via eu.<name>): one check, named after the first record users type.
    plan = r53_partitioned
    checks = plan.of_type(CHECK)
    assert sorted(c.name for c in checks) == ["dns-check-euw1", "dns-check-gew3"]
    gcp_check = check_of(plan, "gew3")
    assert gcp_check.input("fqdn") == "webapp.example.com"
    assert gcp_check.input("ipAddress") == plan.outputs["dns"]["ingressAddresses"]["gew3"]
    assert all(r.input("healthCheckId") == gcp_check.id for r in records(plan).values() if r.name.endswith("-gew3"))


def test_geolocation_sends_continents_and_countries_to_their_residency(r53_partitioned):
    plan = r53_partitioned
    zone_id = plan.named("dns-zone", "aws:route53/zone:Zone").output("zoneId")
    geo = records(plan, "webapp.example.com")
    expected = {
        "eu-eu": ({"continent": "EU"}, "eu"),
        "eu-ch": ({"country": "CH"}, "eu"),
        "us-na": ({"continent": "NA"}, "us"),
        "us-sa": ({"continent": "SA"}, "us"),
        "default": ({"country": "*"}, "eu"),
    }
    assert set(geo) == set(expected)
    for set_id, (location, residency) in expected.items():
        record = geo[set_id]
        assert record.input("geolocationRoutingPolicies") == [location]
        assert record.input("aliases") == [
            {"name": f"{residency}.webapp.example.com", "zoneId": zone_id, "evaluateTargetHealth": True}
        ]
        assert record.input("ttl") is None


def test_partitioned_outputs_per_residency_names(r53_partitioned):
    outputs = r53_partitioned.outputs["dns"]["records"]
    assert outputs["api"]["residencies"] == {"eu": "eu.api.example.com", "us": "us.api.example.com"}
    assert outputs["webapp"]["routing"] == "geo"
    assert outputs["webapp"]["endpoints"] == {
        "eu.webapp.example.com": ["euw1", "gew3"],
        "us.webapp.example.com": ["usc1"],
    }
    assert outputs["webapp"]["failoverSeconds"] == 10 * 3 + ELB_ALIAS_TTL


# --- Route53, one primary and two standbys ----------------------------------------------------------


def test_several_standbys_share_the_secondary_through_a_latency_set():
    plan = plan_config(
        fleet(
            gcp_cluster("use1", "us-east1", 1),
            gcp_cluster("usw1", "us-west1", 2, role="standby"),
            gcp_cluster("euw1", "europe-west1", 3, role="standby"),
            dns=dns(),
        )
    )
    zone_id = plan.named("dns-zone", "aws:route53/zone:Zone").output("zoneId")
    pair = records(plan, "webapp.example.com")
    assert set(pair) == {"use1", "standby"}
    assert pair["standby"].input("failoverRoutingPolicies") == [{"type": "SECONDARY"}]
    assert pair["standby"].input("aliases") == [
        {"name": "standby.webapp.example.com", "zoneId": zone_id, "evaluateTargetHealth": True}
    ]
    standbys = records(plan, "standby.webapp.example.com")
    assert {k: v.input("latencyRoutingPolicies") for k, v in standbys.items()} == {
        "usw1": [{"region": "us-west-2"}],
        "euw1": [{"region": "eu-west-3"}],
    }
    assert all(r.input("healthCheckId") == check_of(plan, k).id for k, r in standbys.items())
    # All GCP: plain A records with the zone's TTL, so failover is 10 x 3 + 30.
    assert plan.outputs["dns"]["records"]["webapp"]["failoverSeconds"] == 60


# --- Cloud DNS -----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def clouddns_active_passive():
    return plan_config(
        fleet(
            gcp_cluster("use1", "us-east1", 1),
            gcp_cluster("euw3", "europe-west3", 2, role="standby"),
            dns=dns("clouddns", records=[{"name": "webapp"}]),
            protect=True,
        )
    )


def test_clouddns_primary_backup_with_health_checked_external_endpoints(clouddns_active_passive):
    plan = clouddns_active_passive
    addresses = plan.outputs["dns"]["ingressAddresses"]
    check = plan.named("dns-check", "gcp:compute/healthCheck:HealthCheck")
    (record,) = plan.of_type(RRSET)
    assert record.input("name") == "webapp.example.com."
    assert record.input("type") == "A" and record.input("ttl") == 30
    assert record.input("routingPolicy") == {
        "healthCheck": check.id,
        "primaryBackup": {
            "primary": {"externalEndpoints": [addresses["use1"]]},
            "backupGeos": [
                {"location": "europe-west3", "healthCheckedTargets": {"externalEndpoints": [addresses["euw3"]]}}
            ],
            "trickleRatio": 0,
            "enableGeoFencingForBackups": False,
        },
    }
    assert check.input("checkIntervalSec") == 30 and check.input("unhealthyThreshold") == 3
    assert check.input("httpsHealthCheck") == {"port": 443, "requestPath": "/healthz"}
    assert len(check.input("sourceRegions")) == 3
    assert plan.outputs["dns"]["records"]["webapp"]["failoverSeconds"] == 30 * 3 + 30


def test_clouddns_zone_and_provider(clouddns_active_passive):
    plan = clouddns_active_passive
    provider = plan.named("dns-gcp", "pulumi:providers:gcp")
    assert provider.input("project") == "acme-test"
    zone = plan.named("dns-zone", "gcp:dns/managedZone:ManagedZone")
    assert zone.input("dnsName") == "example.com." and zone.input("visibility") == "public"
    assert zone.protect
    for r in [zone, *plan.of_type(RRSET), plan.named("dns-check", "gcp:compute/healthCheck:HealthCheck")]:
        assert r.provider_urn == provider.urn
    assert all(r.input("managedZone") == zone.input("name") for r in plan.of_type(RRSET))


@pytest.fixture(scope="module")
def clouddns_active_active():
    return plan_config(
        fleet(
            gcp_cluster("use1", "us-east1", 1),
            gcp_cluster("euw3", "europe-west3", 2),
            failover="active-active",
            dns=dns("clouddns", records=[{"name": "webapp"}, {"name": "beta", "routing": "weighted"}]),
        )
    )


def test_clouddns_latency_becomes_geo_by_cluster_region(clouddns_active_active):
    plan = clouddns_active_active
    addresses = plan.outputs["dns"]["ingressAddresses"]
    webapp = plan.named("dns-webapp", RRSET)
    assert webapp.input("routingPolicy.geos") == [
        {"location": "europe-west3", "healthCheckedTargets": {"externalEndpoints": [addresses["euw3"]]}},
        {"location": "us-east1", "healthCheckedTargets": {"externalEndpoints": [addresses["use1"]]}},
    ]


def test_clouddns_weighted_round_robin(clouddns_active_active):
    plan = clouddns_active_active
    addresses = plan.outputs["dns"]["ingressAddresses"]
    beta = plan.named("dns-beta", RRSET)
    assert beta.input("name") == "beta.example.com."
    assert beta.input("routingPolicy.wrrs") == [
        {"weight": 1, "healthCheckedTargets": {"externalEndpoints": [addresses["use1"]]}},
        {"weight": 1, "healthCheckedTargets": {"externalEndpoints": [addresses["euw3"]]}},
    ]
    assert beta.input("routingPolicy.healthCheck") == plan.named("dns-check", "gcp:compute/healthCheck:HealthCheck").id


def test_clouddns_partitioned_geo_points_regions_at_residency_names():
    plan = plan_config(
        fleet(
            gcp_cluster("euw3", "europe-west3", 1, residency="eu"),
            gcp_cluster("usc1", "us-central1", 2, residency="us"),
            topology="partitioned",
            residencies=RESIDENCIES,
            dns=dns("clouddns"),
        )
    )
    geo = plan.named("dns-webapp-geo", RRSET)
    assert geo.input("type") == "CNAME" and geo.input("name") == "webapp.example.com."
    targets = {item["location"]: item["rrdatas"] for item in geo.input("routingPolicy.geos")}
    assert targets["europe-west3"] == ["eu.webapp.example.com."]
    assert targets["us-central1"] == ["us.webapp.example.com."]
    assert targets["southamerica-east1"] == ["us.webapp.example.com."]  # continent SA -> us
    assert targets["asia-northeast1"] == ["eu.webapp.example.com."]  # unclaimed -> default residency
    eu = plan.named("dns-eu.webapp", RRSET)
    assert eu.input("rrdatas") == [plan.outputs["dns"]["ingressAddresses"]["euw3"]]
    assert eu.input("routingPolicy") is None
    assert "failoverSeconds" not in plan.outputs["dns"]["records"]["webapp"]  # one cluster per name: no failover


# --- ingress address source --------------------------------------------------------------------------


def test_istio_gateway_addresses_are_used_instead_of_an_own_ingress():
    gateway = object()
    mesh = SimpleNamespace(provider="istio", ingress_addresses={"use1": gateway})
    assert mesh_gateway_addresses({"use1": object()}, mesh) == {"use1": gateway}
    assert mesh_gateway_addresses({"use1": object()}, SimpleNamespace(provider="linkerd")) is None
    assert mesh_gateway_addresses({"use1": object()}, None) is None


# --- Route53 health-check targets ----------------------------------------------------------------------

NLB = "a1b2-c3d4.elb.us-east-1.amazonaws.com"


@pytest.mark.parametrize(
    ("protocol", "cloud", "address", "target"),
    [
        ("HTTPS", "gcp", "34.1.2.3", {"ip_address": "34.1.2.3", "fqdn": "webapp.example.com", "enable_sni": True}),
        ("HTTP", "gcp", "34.1.2.3", {"ip_address": "34.1.2.3", "fqdn": "webapp.example.com"}),
        ("TCP", "gcp", "34.1.2.3", {"ip_address": "34.1.2.3"}),
        ("HTTPS", "aws", NLB, {"fqdn": NLB, "enable_sni": True}),
        ("HTTP", "aws", NLB, {"fqdn": NLB}),
        ("TCP", "aws", NLB, {"fqdn": NLB}),
    ],
)
def test_health_check_target_per_cloud_and_protocol(protocol, cloud, address, target):
    check = HealthCheckConfig.model_validate({"protocol": protocol})
    assert health_check_target(check, cloud, address, "webapp.example.com") == target


# --- pure helpers --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("hostname", "kind"),
    [
        ("a1b2-c3d4.elb.us-east-1.amazonaws.com", "network"),
        ("a1b2-1234.us-east-1.elb.amazonaws.com", "application"),
        ("internal-a1b2-1234.eu-west-1.elb.amazonaws.com", "application"),
    ],
)
def test_lb_type_from_hostname(hostname, kind):
    assert lb_type(hostname) == kind


def test_region_mappings():
    config = parse_stack_config(*raw(fleet(gcp_cluster("x", "asia-northeast1", 1), dns=dns())))
    assert latency_region(config.clusters[0]) == "ap-northeast-1"
    assert gcp_location("us-east-1") == "us-east1"
    assert gcp_location("eu-west-1") in ("europe-west1", "europe-west2", "europe-west3", "europe-west4")
    assert gcp_location("europe-west9") == "europe-west9"


def test_residency_locations_claim_every_gcp_region_once():
    config = parse_stack_config(
        *raw(
            fleet(
                gcp_cluster("a", "europe-west3", 1, residency="eu"),
                gcp_cluster("b", "us-central1", 2, residency="us"),
                topology="partitioned",
                residencies=RESIDENCIES,
                dns=dns(),
            )
        )
    )
    claims = residency_locations(config)
    assert claims["europe-west1"] == "eu" and claims["us-west1"] == "us" and claims["africa-south1"] == "eu"


def test_single_cluster_has_no_failover_and_allows_long_ttl():
    config = parse_stack_config(*raw(fleet(aws_cluster("solo", "us-east-1", 1), dns=dns(ttl=300))))
    assert config.dns is not None
    plan = plan_record(config, config.dns.records[0])
    assert [s.mode for s in plan.sets] == ["single"]
    assert failover_seconds(config.dns, plan) is None


def test_defaults():
    route53 = DnsConfig.model_validate({"zone": "example.com", "records": [{"name": "www"}]})
    assert (route53.provider, route53.ttl, route53.interval, route53.health_check.failure_threshold) == (
        "route53",
        30,
        10,
        3,
    )
    clouddns = DnsConfig.model_validate({"provider": "clouddns", "zone": "example.com", "records": [{"name": "www"}]})
    assert clouddns.interval == 30


# --- validation ----------------------------------------------------------------------------------------

TWO_AWS = (aws_cluster("use1", "us-east-1", 1), aws_cluster("usw2", "us-west-2", 2, role="standby"))


def test_route53_interval_must_be_10_or_30():
    assert issues_of(fleet(*TWO_AWS, dns=dns(healthCheck={"intervalSeconds": 15}))) == [
        "multicluster:dns.healthCheck.intervalSeconds Route53 health checks run every 10 or 30 seconds (got 15)"
    ]


def test_clouddns_interval_at_least_30():
    gcp = (gcp_cluster("a", "us-east1", 1), gcp_cluster("b", "us-west1", 2, role="standby"))
    assert issues_of(fleet(*gcp, dns=dns("clouddns", healthCheck={"intervalSeconds": 10}))) == [
        "multicluster:dns.healthCheck.intervalSeconds Cloud DNS health checks of external endpoints run every "
        "30 to 300 seconds (got 10)"
    ]


@pytest.mark.parametrize("threshold", [0, 11])
def test_failure_threshold_between_1_and_10(threshold):
    assert issues_of(fleet(*TWO_AWS, dns=dns(healthCheck={"failureThreshold": threshold}))) == [
        f"multicluster:dns.healthCheck.failureThreshold must be between 1 and 10 (got {threshold})"
    ]


def test_ttl_at_most_60_for_health_checked_records():
    assert issues_of(fleet(*TWO_AWS, dns=dns(ttl=61))) == [
        "multicluster:dns.ttl must be at most 60 for health-checked records (got 61): "
        "resolvers would keep sending users to a failed cluster for up to 61 s"
    ]


def test_geo_needs_partitioned_topology():
    assert issues_of(fleet(*TWO_AWS, dns=dns(records=[{"name": "webapp", "routing": "geo"}]))) == [
        "multicluster:dns.records[0].routing 'geo' needs the partitioned topology (residencies say who goes where); "
        "use auto, latency or weighted"
    ]


def test_failover_needs_active_passive():
    clusters = (aws_cluster("use1", "us-east-1", 1), aws_cluster("usw2", "us-west-2", 2))
    config = fleet(*clusters, failover="active-active", dns=dns(records=[{"name": "webapp", "routing": "failover"}]))
    assert issues_of(config) == [
        "multicluster:dns.records[0].routing 'failover' needs failover: active-passive "
        "(an active-active fleet has no standby; use auto or latency)"
    ]


@pytest.mark.parametrize("routing", ["latency", "weighted"])
def test_active_passive_never_routes_to_standby(routing):
    assert issues_of(fleet(*TWO_AWS, dns=dns(records=[{"name": "webapp", "routing": routing}]))) == [
        f"multicluster:dns.records[0].routing '{routing}' would send traffic to standby cluster(s) usw2 "
        "of an active-passive fleet (use auto or failover)"
    ]


def test_partitioned_rejects_cross_residency_routing():
    config = fleet(
        aws_cluster("euw1", "eu-west-1", 1, residency="eu"),
        aws_cluster("use1", "us-east-1", 2, residency="us"),
        topology="partitioned",
        residencies=RESIDENCIES,
        dns=dns(records=[{"name": "webapp", "routing": "latency"}]),
    )
    assert issues_of(config) == [
        "multicluster:dns.records[0].routing 'latency' would send users to another residency's clusters; "
        "a partitioned fleet is routed by geo (use auto or geo)"
    ]


def test_a_continent_routes_to_one_residency():
    residencies = {**RESIDENCIES, "us": {**RESIDENCIES["us"], "continents": ["NA", "EU"]}}
    config = fleet(
        aws_cluster("euw1", "eu-west-1", 1, residency="eu"),
        aws_cluster("use1", "us-east-1", 2, residency="us"),
        topology="partitioned",
        residencies=residencies,
        dns=dns(),
    )
    assert issues_of(config) == ["multicluster:residencies.us.continents[1] 'EU' is already routed to residency 'eu'"]


def test_clouddns_cannot_health_check_aws_hostnames():
    assert issues_of(fleet(*TWO_AWS, dns=dns("clouddns"))) == [
        "multicluster:dns.provider Cloud DNS health-checks IP addresses, but AWS cluster(s) use1, usw2 expose a "
        "load-balancer hostname (use provider: route53 for a fleet with AWS clusters)"
    ]


def test_field_errors():
    config = fleet(
        *TWO_AWS,
        dns={
            "zone": "Example.com.",
            "records": [{"name": "webapp"}, {"name": "webapp"}],
            "healthCheck": {"path": "healthz"},
            "provider": "azure",
        },
    )
    assert issues_of(config) == [
        "multicluster:dns.healthCheck.path 'healthz' is not an HTTP path (it must start with '/')",
        "multicluster:dns.provider must be one of 'route53' or 'clouddns' (got 'azure')",
        "multicluster:dns.records names must be unique (webapp repeated)",
        "multicluster:dns.zone 'Example.com.' is not a domain name (lowercase, e.g. example.com, no trailing dot)",
    ]
