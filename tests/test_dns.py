"""Global DNS: record sets, routing policies, health-check wiring and failover time, per topology and provider."""

from __future__ import annotations

import json
import re
from types import SimpleNamespace

import pytest

from components.charts import chart
from components.cluster import ReadinessProbe
from components.config import ConfigError, parse_stack_config
from components.config.dns import DnsConfig
from components.dns import ROUTE53_CHECKER_REGIONS, health_check_target
from components.istio import IstioMesh
from components.linkerd import LinkerdMesh
from components.routing import (
    failover_seconds,
    gcp_location,
    latency_region,
    plan_record,
    residency_locations,
)
from components.service_mesh import MeshHandle, PublicEntry
from offline_plan.judge import Context, judge_plan
from offline_plan.report import ReportOptions, to_json
from tests.support import UPSTREAM, aws_cluster, fleet, gcp_cluster, plan_config

R53 = "aws:route53/record:Record"
CHECK = "aws:route53/healthCheck:HealthCheck"
RRSET = "gcp:dns/recordSet:RecordSet"
ZONE = "gcp:dns/managedZone:ManagedZone"
GCP_CHECK = "gcp:compute/healthCheck:HealthCheck"
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


def probes_of(plan, cluster: str) -> list:
    """The checks that probe a cluster's entry: an EKS cluster's per-address children, else its check."""
    check = check_of(plan, cluster)
    if check.input("type") != "CALCULATED":
        return [check]
    return [r for r in plan.of_type(CHECK) if r.id in check.input("childHealthchecks")]


def alias_names(resource) -> set[str]:
    """The earlier names a resource is known by under the same parent and type (`pulumi.Alias(name=...)`),
    from the alias URNs the engine resolves."""
    prefix = resource.urn.rsplit("::", 1)[0] + "::"
    return {alias.removeprefix(prefix) for alias in resource.aliases if alias.startswith(prefix)}


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


def test_failover_pair_primary_answers_elastic_ips_secondary_alias_to_the_standby_set(r53_active_passive):
    plan = r53_active_passive
    zone_id = plan.named("dns-zone", "aws:route53/zone:Zone").output("zoneId")
    pair = records(plan, "webapp.example.com")
    assert set(pair) == {"use1", "standby"}
    primary, secondary = pair["use1"], pair["standby"]
    assert primary.input("failoverRoutingPolicies") == [{"type": "PRIMARY"}]
    assert secondary.input("failoverRoutingPolicies") == [{"type": "SECONDARY"}]
    address = plan.outputs["dns"]["ingressAddresses"]["use1"]
    assert address.endswith(".elb.us-east-1.amazonaws.com")
    # A plain A record with the zone's TTL, answering the Elastic IPs the NLB holds (one per public subnet), not
    # an alias to the NLB (which Route 53 answers with the ELB's 60 s).
    eips = [plan.named(f"use1-entry-{i}", "aws:ec2/eip:Eip") for i in range(3)]
    assert primary.input("ttl") == 30 and primary.input("aliases") is None
    assert primary.input("records") == [eip.output("publicIp") for eip in eips]
    assert plan.outputs["dns"]["answers"]["use1"] == primary.input("records")
    # One standby is still a set: the SECONDARY aliases `standby.webapp`, whose latency record is the GCP LB IP.
    assert secondary.input("aliases") == [
        {"name": "standby.webapp.example.com", "zoneId": zone_id, "evaluateTargetHealth": True}
    ]
    (standby,) = records(plan, "standby.webapp.example.com").values()
    assert standby.input("setIdentifier") == "gew3"
    assert standby.input("latencyRoutingPolicies") == [{"region": "eu-central-1"}]
    assert standby.input("ttl") == 30
    assert standby.input("records") == [plan.outputs["dns"]["ingressAddresses"]["gew3"]]
    assert standby.input("type") == secondary.input("type") == primary.input("type") == "A"


def test_secondary_alias_waits_for_its_target_and_the_primary(r53_active_passive):
    # Route53 refuses an alias to a name with no records yet ("... but that target was not found").
    plan = r53_active_passive
    secondary = records(plan, "webapp.example.com")["standby"]
    standby = records(plan, "standby.webapp.example.com")["gew3"]
    primary = records(plan, "webapp.example.com")["use1"]
    assert {standby.urn, primary.urn} <= set(secondary.dependencies)


def test_secondary_keeps_the_record_of_a_fleet_with_one_standby(r53_active_passive):
    # Before: one standby was the SECONDARY itself, `dns-webapp-gew3`; the alias makes it this record (in place).
    secondary = records(r53_active_passive, "webapp.example.com")["standby"]
    assert secondary.name == "dns-webapp-standby"
    assert alias_names(secondary) == {"dns-webapp-gew3"}


def test_each_record_guarded_by_its_own_cluster_check(r53_active_passive):
    plan = r53_active_passive
    guarded = {
        "use1": records(plan, "webapp.example.com")["use1"],
        "gew3": records(plan, "standby.webapp.example.com")["gew3"],
    }
    for cluster, record in guarded.items():
        check = check_of(plan, cluster)
        assert record.input("healthCheckId") == check.id
        assert plan.outputs["dns"]["healthChecks"][cluster] == check.id
    # The alias record follows its target's health (evaluateTargetHealth), it has no check of its own.
    assert records(plan, "webapp.example.com")["standby"].input("healthCheckId") is None


def test_health_checks_probe_the_fallback_traefik_ping_over_http(r53_active_passive):
    plan = r53_active_passive
    addresses = plan.outputs["dns"]["ingressAddresses"]
    aws_check, gcp_check = check_of(plan, "use1"), check_of(plan, "gew3")
    # AWS: one probe per Elastic IP (one per zone's NLB node), the cluster healthy only while all three are.
    zones = [plan.named(f"dns-check-use1-{i}", CHECK) for i in range(3)]
    assert aws_check.input("type") == "CALCULATED"
    assert aws_check.input("childHealthchecks") == [z.id for z in zones]
    assert aws_check.input("childHealthThreshold") == 3
    assert [z.input("ipAddress") for z in zones] == plan.outputs["dns"]["answers"]["use1"]
    assert all(z.input("fqdn") is None for z in zones)
    # GCP: the LB IP, no name: the readiness endpoint answers whatever the Host header.
    assert gcp_check.input("ipAddress") == addresses["gew3"] and gcp_check.input("fqdn") is None
    for check in (*zones, gcp_check):
        assert check.input("enableSni") is None
        assert (check.input("type"), check.input("port"), check.input("resourcePath")) == ("HTTP", 80, "/ping")
        assert check.input("requestInterval") == 10
        assert check.input("failureThreshold") == 3
        assert check.input("measureLatency") is True
        assert check.input("regions") == ROUTE53_CHECKER_REGIONS
    assert aws_check.input("tags") == {"Name": "test-use1-ingress"}
    assert zones[0].input("tags") == {"Name": "test-use1-0-ingress"}


def test_health_checks_of_an_istio_fleet_probe_the_gateway_status_port(staging):
    plan = staging
    for cluster, check in (
        ("aws-use1", plan.named("dns-check-aws-use1-0", CHECK)),
        ("gcp-usc1", check_of(plan, "gcp-usc1")),
    ):
        assert (check.input("type"), check.input("port"), check.input("resourcePath")) == (
            "HTTP",
            15021,
            "/healthz/ready",
        )
        # The port is one the gateway's load balancer serves.
        gateway = plan.named(f"{cluster}-istio-istio-ingressgateway", "kubernetes:core/v1:Service")
        assert {"name": "status-port", "port": 15021, "targetPort": 15021, "protocol": "TCP"} in gateway.input(
            "spec.ports"
        )


def test_route53_through_explicit_global_provider_and_protected_zone(r53_active_passive):
    plan = r53_active_passive
    provider = plan.named("dns-aws", "pulumi:providers:aws")
    assert provider.input("region") == "us-east-1"
    dns_resources = plan.children(plan.component("dns"))
    assert all(r.provider_urn == provider.urn for r in dns_resources if r.custom and r.type.startswith("aws:"))
    zone = plan.named("dns-zone", "aws:route53/zone:Zone")
    assert zone.input("name") == "example.com" and zone.protect and zone.retain_on_delete
    assert {r.input("zoneId") for r in plan.of_type(R53)} == {zone.output("zoneId")}


def test_failover_time_output_uses_the_zone_ttl_on_aws_too(r53_active_passive):
    webapp = r53_active_passive.outputs["dns"]["records"]["webapp"]
    assert webapp["fqdn"] == "webapp.example.com"
    assert webapp["routing"] == "failover"
    # 10 s x 3 failures to detect, then resolvers hold the answer for the zone's 30 s (Elastic IPs, no ELB alias).
    assert webapp["failoverSeconds"] == 10 * 3 + 30 == 60
    assert r53_active_passive.outputs["dns"]["nameServers"][0].startswith("ns-")


def test_fallback_ingress_is_pinned_traefik_behind_a_load_balancer(r53_active_passive):
    plan = r53_active_passive
    release = plan.named("use1-ingress-traefik", "kubernetes:helm.sh/v3:Release")
    traefik = chart("traefik")
    assert release.input("chart") == traefik.name and release.input("version") == traefik.version
    assert release.input("repositoryOpts.repo") == traefik.repository
    assert release.provider_urn == plan.named("use1-k8s", "pulumi:providers:kubernetes").urn
    node_group = plan.named("use1-system", "aws:eks/nodeGroup:NodeGroup")
    assert node_group.urn in plan.waits_for(plan.named("use1-ingress-ns", "kubernetes:core/v1:Namespace"))
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
        assert {c.input("requestInterval") for c in probes_of(plan, cluster)} == {30}
    webapp = plan.outputs["dns"]["records"]["webapp"]
    assert webapp["routing"] == "latency"
    assert webapp["failoverSeconds"] == 30 * 2 + 20


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
    assert set(eu) == {"euw1", "standby"}
    assert eu["euw1"].input("failoverRoutingPolicies") == [{"type": "PRIMARY"}]
    assert eu["standby"].input("failoverRoutingPolicies") == [{"type": "SECONDARY"}]
    assert eu["standby"].input("aliases.0.name") == "standby.eu.webapp.example.com"
    assert set(records(plan, "standby.eu.webapp.example.com")) == {"gew3"}
    # A residency with one cluster: a plain record, no routing, no health check.
    us = records(plan, "us.webapp.example.com")
    (single,) = us.values()
    assert single.input("setIdentifier") is None and single.input("healthCheckId") is None
    assert single.input("records") == [plan.outputs["dns"]["ingressAddresses"]["usc1"]]
    assert "usc1" not in plan.outputs["dns"]["healthChecks"]


def test_one_check_per_cluster_whatever_the_records_it_serves(r53_partitioned):
    # gew3 serves webapp and api (each via standby.eu.<name>): one check, on its LB IP.
    plan = r53_partitioned
    checks = plan.of_type(CHECK)
    assert sorted(c.name for c in checks) == [
        "dns-check-euw1",
        *(f"dns-check-euw1-{i}" for i in range(3)),  # one probe per Elastic IP of the EKS cluster
        "dns-check-gew3",
    ]
    gcp_check = check_of(plan, "gew3")
    assert gcp_check.input("ipAddress") == plan.outputs["dns"]["ingressAddresses"]["gew3"]
    assert all(r.input("healthCheckId") == gcp_check.id for r in records(plan).values() if r.name.endswith("-gew3"))


def test_geo_records_wait_for_the_residency_records_they_alias(r53_partitioned):
    plan = r53_partitioned
    eu_records = {r.urn for r in records(plan, "eu.webapp.example.com").values()}
    for set_id in ("eu-eu", "eu-ch", "default"):
        assert eu_records <= set(records(plan, "webapp.example.com")[set_id].dependencies)


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
    assert outputs["webapp"]["failoverSeconds"] == 10 * 3 + 30


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
    assert check.input("httpHealthCheck") == {"port": 80, "requestPath": "/ping"}
    assert check.input("httpsHealthCheck") is None
    assert len(check.input("sourceRegions")) == 3
    assert plan.outputs["dns"]["records"]["webapp"]["failoverSeconds"] == 30 * 3 + 30


def test_clouddns_zone_and_provider(clouddns_active_passive):
    plan = clouddns_active_passive
    provider = plan.named("dns-gcp", "pulumi:providers:gcp")
    assert provider.input("project") == "acme-test"
    zone = plan.named("dns-zone", ZONE)
    assert zone.input("dnsName") == "example.com." and zone.input("visibility") == "public"
    assert zone.input("dnssecConfig") == {"state": "on"}
    assert zone.input("name") == "test-example-com"  # <stack prefix>-<zone>
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


def test_the_mesh_handle_gives_dns_its_public_entry_and_the_probe_of_it():
    # Istio's ingress gateways are the entries; Linkerd has none, so DNS installs its fallback ingress.
    assert IstioMesh.entry_probe == ReadinessProbe(port=15021, path="/healthz/ready", protocol="HTTP")
    assert LinkerdMesh.entry_probe is None
    gateway = object()
    istio = MeshHandle("istio", [], ingress_addresses={"use1": gateway}, entry_probe=IstioMesh.entry_probe)
    assert istio.public_entry({"use1": object()}) == PublicEntry({"use1": gateway}, IstioMesh.entry_probe)
    linkerd = MeshHandle("linkerd", [], entry_probe=LinkerdMesh.entry_probe)
    assert linkerd.public_entry({"use1": object()}) is None


@pytest.mark.parametrize(
    ("mesh", "probe"), [("istio", (15021, "/healthz/ready")), ("linkerd", (80, "/ping")), ("none", (80, "/ping"))]
)
def test_health_checks_probe_the_meshs_entry_or_the_fallback_ingress(mesh: str, probe: tuple[int, str]):
    plan = plan_config(standby_fleet(GEW3, mesh={"provider": mesh}))
    probes = [c for c in plan.of_type(CHECK) if c.input("type") != "CALCULATED"]
    assert probes
    assert {(c.input("type"), c.input("port"), c.input("resourcePath")) for c in probes} == {("HTTP", *probe)}
    fallback = [r for r in plan.of_type("multicluster:ingress:IngressController") if r.name == "use1-ingress"]
    assert bool(fallback) == (mesh != "istio")


# --- Route53 health-check targets ----------------------------------------------------------------------

NLB = "a1b2-c3d4.elb.us-east-1.amazonaws.com"


@pytest.mark.parametrize(
    ("cloud", "address", "target"),
    [("gcp", "34.1.2.3", {"ip_address": "34.1.2.3"}), ("aws", NLB, {"fqdn": NLB})],
)
def test_health_check_target_per_cloud(cloud, address, target):
    cluster = SimpleNamespace(cloud=cloud)  # only its cloud's load-balancer answer matters
    assert health_check_target(cluster, address) == target


# --- pure helpers --------------------------------------------------------------------------------------


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
    claims = residency_locations(config.residencies)
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


def external_endpoints(policy: object) -> list[str]:
    """Every healthCheckedTargets.externalEndpoints address anywhere in a Cloud DNS routing policy."""
    if isinstance(policy, dict):
        found = list(policy.get("externalEndpoints", []))
        return found + [a for k, v in policy.items() if k != "externalEndpoints" for a in external_endpoints(v)]
    if isinstance(policy, list):
        return [a for item in policy for a in external_endpoints(item)]
    return []


def test_clouddns_health_checks_every_elastic_ip_of_an_aws_cluster():
    # Elastic IPs give AWS entries IP addresses, which Cloud DNS health-checks as external endpoints.
    plan = plan_config(fleet(*TWO_AWS, dns=dns("clouddns")))
    (webapp,) = [r for r in plan.of_type(RRSET) if r.input("name") == "webapp.example.com."]
    eips = {
        cluster: [plan.named(f"{cluster}-entry-{i}", "aws:ec2/eip:Eip").output("publicIp") for i in range(3)]
        for cluster in ("use1", "usw2")
    }
    assert sorted(external_endpoints(webapp.input("routingPolicy"))) == sorted(eips["use1"] + eips["usw2"])
    assert plan.outputs["dns"]["answers"] == eips


def test_field_errors():
    config = fleet(
        *TWO_AWS,
        dns={
            "zone": "Example.com.",
            "records": [{"name": "webapp"}, {"name": "webapp"}],
            "healthCheck": {"failureThreshold": 3, "intervalSeconds": 10},
            "provider": "azure",
        },
    )
    assert issues_of(config) == [
        "multicluster:dns.provider must be one of 'route53' or 'clouddns' (got 'azure')",
        "multicluster:dns.records names must be unique (webapp repeated)",
        "multicluster:dns.zone 'Example.com.' is not a domain name (lowercase, e.g. example.com, no trailing dot)",
    ]


# --- stable record shapes: adding, removing and draining clusters --------------------------------------

# What a change of these inputs does to a live resource (terraform-provider-aws, which pulumi-aws is built from):
# internal/service/route53/record.go marks name and zone_id ForceNew (everything else, set_identifier and the
# routing policies included, is updated in place with one atomic DELETE+CREATE change batch);
# internal/service/route53/health_check.go marks type, request_interval, measure_latency, reference_name and
# routing_control_arn ForceNew.
REPLACING_INPUTS = {
    R53: {"name", "zoneId"},
    CHECK: {"type", "requestInterval", "measureLatency", "referenceName", "routingControlArn"},
}


def dns_resources(plan) -> dict[str, object]:
    """Every resource of the DNS component (records, checks, zone, fallback ingresses) by URN."""
    return {r.urn: r for r in plan.children(plan.component("dns"))}


def changed_inputs(before, after) -> set[str]:
    keys = set(before.inputs) | set(after.inputs)
    return {k for k in keys if before.inputs.get(k) != after.inputs.get(k)}


def replaced_or_deleted(before_plan, after_plan, removed: set[str]) -> list[str]:
    """URNs of `before_plan`'s DNS resources that `after_plan` deletes or replaces, but for `removed` clusters' own."""
    after = dns_resources(after_plan)
    renamed = {urn for r in after.values() for urn in r.aliases}
    problems = []
    for urn, resource in dns_resources(before_plan).items():
        owned = any(re.search(rf"-{c}(-\d+)?$", urn) or f"::{c}-ingress" in urn for c in removed)
        if urn not in after:
            if not owned and urn not in renamed:
                problems.append(f"deleted: {urn}")
            continue
        forcing = changed_inputs(resource, after[urn]) & REPLACING_INPUTS.get(resource.type, set())
        if forcing:
            problems.append(f"replaced ({', '.join(sorted(forcing))}): {urn}")
    return problems


def standby_fleet(*standbys: dict, **settings) -> dict:
    return fleet(aws_cluster("use1", "us-east-1", 1), *standbys, dns=dns(), **settings)


GEW3 = gcp_cluster("gew3", "europe-west3", 2, role="standby")
USW2 = aws_cluster("usw2", "us-west-2", 3, role="standby")
GAS1 = gcp_cluster("gas1", "asia-southeast1", 4, role="standby")


def test_a_second_standby_changes_no_existing_record():
    # The case that used to delete the live SECONDARY (`dns-webapp-gew3`) for a new `dns-webapp-standby`.
    before, after = plan_config(standby_fleet(GEW3)), plan_config(standby_fleet(GEW3, USW2))
    assert replaced_or_deleted(before, after, removed=set()) == []
    kept = dns_resources(before)
    # Not even an in-place change: every record and check of the first fleet keeps its inputs.
    assert [
        urn for urn, r in kept.items() if r.type in (R53, CHECK) and changed_inputs(r, dns_resources(after)[urn])
    ] == []
    assert set(records(after, "standby.webapp.example.com")) == {"gew3", "usw2"}


def test_adding_and_removing_standbys_touches_only_their_own_records():
    before = plan_config(standby_fleet(GEW3, USW2))
    after = plan_config(standby_fleet(GEW3, GAS1))  # usw2 removed, gas1 added
    assert replaced_or_deleted(before, after, removed={"usw2"}) == []
    gone = set(dns_resources(before)) - set(dns_resources(after))
    assert {urn.rsplit("::", 1)[1] for urn in gone if "route53" in urn} == {
        "dns-standby.webapp-usw2",
        "dns-check-usw2",
        *(f"dns-check-usw2-{i}" for i in range(3)),
    }
    kept = [urn for urn in dns_resources(before) if urn in dns_resources(after)]
    assert [u for u in kept if changed_inputs(dns_resources(before)[u], dns_resources(after)[u])] == []


def test_removing_the_last_but_one_standby_keeps_the_secondary():
    before, after = plan_config(standby_fleet(GEW3, USW2)), plan_config(standby_fleet(GEW3))
    assert replaced_or_deleted(before, after, removed={"usw2"}) == []
    assert set(records(after, "webapp.example.com")) == {"use1", "standby"}


def test_the_replacement_check_sees_a_deleted_secondary():
    # The comparison itself, both ways: with no standby left serving, the shared SECONDARY has nothing to alias.
    before = plan_config(standby_fleet(GEW3))
    after = plan_config(standby_fleet({**GEW3, "drain": True}))
    secondary = records(before, "webapp.example.com")["standby"].urn
    standby = records(before, "standby.webapp.example.com")["gew3"].urn
    assert replaced_or_deleted(before, after, removed={"gew3"}) == [f"deleted: {secondary}"]
    assert set(replaced_or_deleted(before, after, removed=set())) == {f"deleted: {secondary}", f"deleted: {standby}"}


def test_active_active_cluster_added_and_removed():
    three = fleet(
        aws_cluster("use1", "us-east-1", 1),
        aws_cluster("usw2", "us-west-2", 2),
        gcp_cluster("gew3", "europe-west3", 3),
        failover="active-active",
        dns=dns(),
    )
    changed = {**three, "multicluster:clusters": [*three["multicluster:clusters"][::2], GAS1 | {"role": "primary"}]}
    before, after = plan_config(three), plan_config(changed)
    assert replaced_or_deleted(before, after, removed={"usw2"}) == []


# --- drained clusters ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def r53_drained_standby():
    return plan_config(standby_fleet(GEW3, {**USW2, "drain": True}))


def test_a_drained_cluster_gets_no_answers(r53_drained_standby):
    plan = r53_drained_standby
    address = plan.outputs["dns"]["ingressAddresses"]["usw2"]
    assert not [r.name for r in plan.of_type(R53) if r.name.endswith("-usw2") or address in json.dumps(r.inputs)]
    assert set(records(plan, "standby.webapp.example.com")) == {"gew3"}
    assert plan.outputs["dns"]["records"]["webapp"]["endpoints"] == {"webapp.example.com": ["use1", "gew3"]}


def test_a_drained_cluster_keeps_its_unused_health_check(r53_drained_standby):
    plan = r53_drained_standby
    check = check_of(plan, "usw2")
    assert plan.outputs["dns"]["healthChecks"]["usw2"] == check.id
    assert not [r.name for r in plan.of_type(R53) if r.input("healthCheckId") == check.id]
    # Its ingress stays too: the check probes it, and `drain: false` brings it back at the same address.
    assert plan.named("usw2-ingress-lb", "kubernetes:core/v1:Service")


def test_draining_changes_no_other_record():
    before = plan_config(standby_fleet(GEW3, USW2))
    after = plan_config(standby_fleet(GEW3, {**USW2, "drain": True}))
    assert replaced_or_deleted(before, after, removed={"usw2"}) == []
    gone = {urn.rsplit("::", 1)[1] for urn in set(dns_resources(before)) - set(dns_resources(after))}
    assert gone == {"dns-standby.webapp-usw2"}


def test_every_standby_drained_leaves_the_primary_alone():
    plan = plan_config(standby_fleet({**GEW3, "drain": True}))
    assert set(records(plan, "webapp.example.com")) == {"use1"}
    assert set(records(plan)) == {"use1"}  # no standby set, no SECONDARY aliasing an empty name
    assert "failoverSeconds" not in plan.outputs["dns"]["records"]["webapp"]  # nowhere to fail over to


def test_drained_latency_member_leaves_the_set():
    plan = plan_config(
        fleet(
            aws_cluster("use1", "us-east-1", 1),
            aws_cluster("usw2", "us-west-2", 2, drain=True),
            gcp_cluster("gew3", "europe-west3", 3),
            failover="active-active",
            dns=dns(),
        )
    )
    assert set(records(plan, "webapp.example.com")) == {"use1", "gew3"}
    assert plan.outputs["dns"]["records"]["webapp"]["endpoints"] == {"webapp.example.com": ["use1", "gew3"]}


def test_clouddns_drained_standby_is_no_backup():
    plan = plan_config(
        fleet(
            gcp_cluster("use1", "us-east1", 1),
            gcp_cluster("euw3", "europe-west3", 2, role="standby"),
            gcp_cluster("usw1", "us-west1", 3, role="standby", drain=True),
            dns=dns("clouddns"),
        )
    )
    addresses = plan.outputs["dns"]["ingressAddresses"]
    (record,) = plan.of_type(RRSET)
    assert addresses["usw1"] not in json.dumps(record.inputs)
    assert record.input("routingPolicy.primaryBackup.backupGeos") == [
        {"location": "europe-west3", "healthCheckedTargets": {"externalEndpoints": [addresses["euw3"]]}}
    ]


def test_clouddns_one_serving_cluster_is_a_plain_answer():
    plan = plan_config(
        fleet(
            gcp_cluster("use1", "us-east1", 1),
            gcp_cluster("euw3", "europe-west3", 2, role="standby", drain=True),
            dns=dns("clouddns"),
        )
    )
    (record,) = plan.of_type(RRSET)
    assert record.input("rrdatas") == [plan.outputs["dns"]["ingressAddresses"]["use1"]]
    assert record.input("routingPolicy") is None


# --- an outage: DNS needs nothing from an unreachable cluster's API server ----------------------------


def test_an_unreachable_cluster_needs_nothing_new_from_its_api_server():
    """Its ingress is the same resources, changed the same way, on a provider that skips unreachable updates.

    pulumi-kubernetes skips updates (and reads) of an unreachable cluster with skipUpdateUnreachable, but cannot
    create anything there: DNS must not add a Kubernetes resource because of an outage, nor depend on one that
    only exists elsewhere.
    """
    config = standby_fleet(GEW3, mesh={"provider": "linkerd"})
    normal = plan_config(config)
    outage = plan_config({**config, "multicluster:outage": {"unreachable": ["gew3"]}})
    provider = outage.named("gew3-k8s", "pulumi:providers:kubernetes")
    assert provider.input("skipUpdateUnreachable") == "true"  # provider config travels as text
    on_gew3 = [r for r in dns_resources(outage).values() if r.provider_urn == provider.urn]
    assert sorted(r.name for r in on_gew3) == ["gew3-ingress-lb", "gew3-ingress-ns", "gew3-ingress-traefik"]
    before = dns_resources(normal)
    assert set(before) == set(dns_resources(outage))
    assert [urn for urn, r in dns_resources(outage).items() if changed_inputs(before[urn], r)] == []
    # The other cluster's ingress waits for nothing of gew3's.
    gew3_urns = {r.urn for r in outage.resources if r.provider_urn == provider.urn}
    for r in dns_resources(outage).values():
        if r.provider_urn == outage.named("use1-k8s", "pulumi:providers:kubernetes").urn:
            assert not gew3_urns & set(r.dependencies)


# --- judged like the clouds ---------------------------------------------------------------------------


@pytest.mark.parametrize("mesh", [None, {"provider": "linkerd", "mtls": "strict"}, {"provider": "none"}])
def test_route53_fleet_with_fallback_traefik_is_judged_clean(mesh):
    settings = {"mesh": mesh} if mesh else {}
    plan = plan_config(standby_fleet(GEW3, **settings))
    assert [str(f) for f in judge_plan(plan, Context(upstream=UPSTREAM))] == []


def test_clouddns_fleet_is_judged_clean(clouddns_active_passive):
    assert [str(f) for f in judge_plan(clouddns_active_passive, Context(upstream=UPSTREAM))] == []


def test_every_cloud_dns_resource_waits_for_the_dns_api(clouddns_active_passive):
    plan = clouddns_active_passive
    service = next(
        s for s in plan.of_type("gcp:projects/service:Service") if s.input("service") == "dns.googleapis.com"
    )
    cloud_dns = [r for r in plan.children(plan.component("dns")) if r.type.startswith(("gcp:dns/", "gcp:compute/"))]
    assert {r.type for r in cloud_dns} == {ZONE, RRSET, GCP_CHECK}
    assert all(service.urn in r.dependencies for r in cloud_dns)


def test_cloud_dns_names_are_prefixed_by_the_stack():
    plan = plan_config(
        fleet(
            gcp_cluster("use1", "us-east1", 1),
            gcp_cluster("euw3", "europe-west3", 2, role="standby"),
            dns=dns("clouddns"),
        ),
        stack="blue",
    )
    assert plan.named("dns-zone", ZONE).input("name") == "blue-example-com"
    assert plan.named("dns-check", GCP_CHECK).input("name") == "blue-dns-ingress"


# --- config: the probe follows the ingress; zone names fit ----------------------------------------------


def test_removed_probe_keys_are_refused_by_name():
    config = fleet(*TWO_AWS, dns=dns(healthCheck={"protocol": "HTTPS", "port": 443, "intervalSeconds": 10}))
    assert issues_of(config) == [
        "multicluster:dns.healthCheck protocol, port were removed: the health check probes the readiness endpoint "
        "of the ingress that serves each cluster (Istio ingress gateway: HTTP 15021 /healthz/ready; Traefik: HTTP "
        "80 /ping); delete the key(s)"
    ]


def test_interval_and_threshold_remain():
    check = DnsConfig.model_validate(
        {"zone": "example.com", "records": [{"name": "www"}], "healthCheck": {"intervalSeconds": 30}}
    )
    assert (check.interval, check.health_check.failure_threshold) == (30, 3)


def test_clouddns_zone_name_must_fit_63_characters():
    gcp = (gcp_cluster("a", "us-east1", 1), gcp_cluster("b", "us-west1", 2, role="standby"))
    long_zone = "a" * 40 + ".example.com"  # test-<40 a>-example-com: 5 + 40 + 12 = 57 characters fits
    parse_stack_config(*raw(fleet(*gcp, dns=dns("clouddns", zone=long_zone))))
    too_long = "a" * 50 + ".example.com"
    name = f"test-{'a' * 50}-example-com"
    assert issues_of(fleet(*gcp, dns=dns("clouddns", zone=too_long))) == [
        f"multicluster:dns.zone gives the Cloud DNS managed zone name '{name}' (67 characters, at most 63: "
        "<namePrefix>-<zone with dashes>); use a shorter namePrefix or an existing zone (zoneId)"
    ]
    # An existing zone is not named by the program.
    parse_stack_config(*raw(fleet(*gcp, dns=dns("clouddns", zone=too_long, zoneId="existing-zone"))))
