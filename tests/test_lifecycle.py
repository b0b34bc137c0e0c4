"""Day two: adding, draining, removing and reordering clusters touches only the cluster that changes.

Each variant is planned against the same base fleet (every capability on, two clouds, four regions) and
compared resource by resource. Outside the changed cluster nothing may be created, deleted or replaced; the
only inputs that may change are the ones listed in IN_PLACE, each an in-place update on the real API.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from offline_plan import Plan
from offline_plan.diff import BasePlan, changes, outage_refusals, protected_deletions
from tests.support import aws_cluster, fleet, gcp_cluster, plan_config

GITOPS = {"hub": "aws-use1", "chartVersion": "10.1.1", "repoUrl": "https://github.com/acme/apps", "revision": "main"}

# (type, input path prefix) -> why changing it is an update in place, never a replacement.
IN_PLACE = {
    ("aws:eks/cluster:Cluster", "vpcConfig.publicAccessCidrs"): "UpdateClusterConfig (resourcesVpcConfig)",
    ("aws:iam/rolePolicy:RolePolicy", "policy"): "PutRolePolicy replaces the document of the same policy",
    ("kubernetes:helm.sh/v3:Release", "values"): "helm upgrade of the same release",
    ("kubernetes:argoproj.io/v1alpha1:AppProject", "spec"): "a patch of the same object",
    ("gcp:compute/firewall:Firewall", "sourceRanges"): "compute.firewalls.patch",
    (
        "kubernetes:core/v1:Service",
        "spec.loadBalancerSourceRanges",
    ): "a patch of the Service (the LB keeps its address)",
}


def four_clusters(*extra: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        aws_cluster("aws-use1", "us-east-1", 1),
        aws_cluster("aws-usw2", "us-west-2", 2),
        gcp_cluster("gcp-usc1", "us-central1", 3),
        gcp_cluster("gcp-euw1", "europe-west1", 4),
        *extra,
    ]


def config_of(clusters: list[dict[str, Any]]) -> dict[str, Any]:
    return fleet(
        *clusters,
        failover="active-active",
        connectivity={"mode": "full-mesh"},
        mesh={"provider": "istio", "version": "1.30.3", "meshId": "m", "scope": "fleet", "mtls": "strict"},
        gitops=GITOPS,
        backup={"schedules": [{"name": "nightly", "cron": "0 3 * * *"}]},
        dns={"provider": "route53", "zone": "example.com", "ttl": 30, "records": [{"name": "webapp"}]},
    )


def owned_by(urn: str, cluster: str) -> bool:
    """Whether a resource is the cluster's own: its name holds the cluster's name as a whole part (its own
    resources, its links `a--b`, the mesh credentials and registrations others keep for it)."""
    name = urn.rsplit("::", 1)[-1]
    return re.search(rf"(^|-){re.escape(cluster)}(-|$)", name) is not None


def compare(base: Plan, changed: Plan) -> dict[str, Any]:
    before, after = {r.urn: r for r in base.resources}, {r.urn: r for r in changed.resources}
    updates = {}
    for urn in sorted(set(before) & set(after)):
        old, new = before[urn], after[urn]
        found = [c["path"] for c in changes(old.inputs, new.inputs)]
        if old.provider != new.provider:
            found.append("(provider)")  # a new provider replaces everything it deployed
        if old.parent != new.parent:
            found.append("(parent)")
        if found:
            updates[urn] = (new.type, found)
    return {"created": set(after) - set(before), "deleted": set(before) - set(after), "updated": updates}


def not_in_place(updates: dict[str, tuple[str, list[str]]], cluster: str) -> list[str]:
    """Changes outside `cluster` that IN_PLACE does not vouch for."""
    bad = []
    for urn, (type_, paths) in updates.items():
        if owned_by(urn, cluster):
            continue
        for path in paths:
            if not any(type_ == t and path.startswith(prefix) for t, prefix in IN_PLACE):
                bad.append(f"{urn}: {path}")
    return bad


def saved_as_base(plan: Plan) -> BasePlan:
    """A plan as `--format json` saves it, read back as the base of a diff."""
    resources = {
        r.urn: {"urn": r.urn, "type": r.type, "protect": r.protect, "provider": r.provider, "inputs": r.inputs}
        for r in plan.resources
    }
    return BasePlan(path=Path("base.json"), stack=plan.stack, resources=resources)


@pytest.fixture(scope="module")
def base() -> Plan:
    return plan_config(config_of(four_clusters()))


def test_reordering_the_clusters_changes_nothing(base):
    reordered = plan_config(config_of(list(reversed(four_clusters()))))
    found = compare(base, reordered)
    assert found == {"created": set(), "deleted": set(), "updated": {}}


def test_adding_a_cluster_creates_its_own_and_updates_others_in_place_only(base):
    grown = plan_config(config_of(four_clusters(aws_cluster("aws-euc1", "eu-central-1", 5))))
    found = compare(base, grown)
    assert not found["deleted"]
    assert found["created"] and all(owned_by(urn, "aws-euc1") for urn in found["created"])
    assert not_in_place(found["updated"], "aws-euc1") == []
    # The new cluster's callers are admitted where the existing public endpoints need it, in place.
    assert any(t == "aws:eks/cluster:Cluster" for t, _ in found["updated"].values())


def test_draining_a_cluster_takes_it_out_of_traffic_and_placement_and_touches_nobody_else(base):
    clusters = four_clusters()
    clusters[3]["drain"] = True
    drained = plan_config(config_of(clusters))
    found = compare(base, drained)
    assert not found["created"]
    assert all(owned_by(urn, "gcp-euw1") for urn in found["deleted"])
    assert not_in_place(found["updated"], "gcp-euw1") == []
    # No peer discovers its endpoints any more (their remote secrets for it go); it still discovers theirs.
    assert {urn.rsplit("::", 1)[-1] for urn in found["deleted"] if "remote-secret" in urn} == {
        f"{peer}-istio-remote-secret-gcp-euw1" for peer in ("aws-use1", "aws-usw2", "gcp-usc1")
    }
    assert drained.named("gcp-euw1-istio-remote-secret-aws-use1", "kubernetes:core/v1:Secret")
    # No DNS answer for it; its backups and the peers' access to them stay.
    assert not [r for r in drained.of_type("aws:route53/record:Record") if r.name.endswith("-gcp-euw1")]
    assert drained.named("gcp-euw1-backup-bucket", "gcp:storage/bucket:Bucket")
    label = drained.named("gitops-gcp-euw1-secret").input("metadata.labels")
    assert label["multicluster/drain"] == "true"


def test_removing_a_cluster_deletes_only_its_own(base):
    clusters = four_clusters()
    del clusters[1]
    shrunk = plan_config(config_of(clusters))
    found = compare(base, shrunk)
    assert not found["created"]
    others = {urn.rsplit("::", 1)[-1] for urn in found["deleted"] if not owned_by(urn, "aws-usw2")}
    # aws-use1's grant to read its S3 peers' backups: aws-usw2 was its only S3 peer, so nothing is left to grant.
    assert others == {"aws-use1-backup-read-peers"}
    assert not_in_place(found["updated"], "aws-usw2") == []


def test_removing_a_protected_cluster_is_refused_until_it_is_unprotected():
    clusters = four_clusters()
    prod = config_of(clusters) | {"multicluster:environment": "prod"}
    saved = plan_config(prod)
    base = saved_as_base(saved)
    removed = config_of([c for c in clusters if c["name"] != "aws-usw2"]) | {"multicluster:environment": "prod"}
    refused = protected_deletions(base, plan_config(removed))
    assert refused and {f.urn for f in refused} == {
        r.urn for r in saved.resources if r.protect and owned_by(r.urn, "aws-usw2")
    }
    assert str(refused[0]).endswith(
        "would be rejected by the Pulumi engine: it is protected and no longer in the program, so the update would "
        "stop when it reaches it; unprotect it in one `pulumi up` first (clusters[i].protect: false), then remove "
        "it (docs/lifecycle.md) (Pulumi resource options, protect: 'A protected resource cannot be deleted "
        "directly. Instead, you must first set protect: false and run pulumi up' "
        "(https://www.pulumi.com/docs/iac/concepts/options/protect/))"
    )
    # Step 1 of the documented sequence: the same fleet with the cluster unprotected (and drained).
    clusters[1] |= {"protect": False, "drain": True}
    unprotected = plan_config(config_of(clusters) | {"multicluster:environment": "prod"})
    assert not [r for r in unprotected.resources if r.protect and owned_by(r.urn, "aws-usw2")]
    assert protected_deletions(saved_as_base(unprotected), plan_config(removed)) == []
    # The other clusters stay protected throughout.
    assert any(r.protect for r in unprotected.resources if owned_by(r.urn, "aws-use1"))
    json.dumps([f.as_json() for f in refused])  # findings serialise for --format json


# --- a regional outage ---------------------------------------------------------------------------


def test_an_outage_skips_only_the_unreachable_clusters_kubernetes_updates(base):
    down = plan_config(config_of(four_clusters()) | {"multicluster:outage": {"unreachable": ["aws-usw2"]}})
    providers = {p.name: p for p in down.of_type("pulumi:providers:kubernetes")}
    assert providers["aws-usw2-k8s"].input("skipUpdateUnreachable") == "true"  # provider config is text
    assert all(p.input("skipUpdateUnreachable") is None for n, p in providers.items() if n != "aws-usw2-k8s")
    # Only its own provider changes (pulumi-kubernetes: skipUpdateUnreachable is not a replacing change of the
    # provider, and clusterIdentifier keeps its identity), so nothing is replaced anywhere.
    found = compare(base, down)
    assert found["created"] == found["deleted"] == set()
    assert {urn.rsplit("::", 1)[-1]: paths for urn, (_, paths) in found["updated"].items()} == {
        "aws-usw2-k8s": ["skipUpdateUnreachable"]
    }
    # What is global (DNS, the other clusters, the hub's registrations) never deploys through the dead one.
    dead = providers["aws-usw2-k8s"].urn
    through_dead = [r for r in down.resources if r.provider_urn == dead]
    assert through_dead and all(owned_by(r.urn, "aws-usw2") for r in through_dead)
    assert not [r for r in down.resources if r.type.startswith("aws:route53") and r.provider_urn == dead]


def test_during_an_outage_nothing_new_goes_to_the_dead_cluster_and_its_removal_needs_it_marked_lost():
    outage = {"multicluster:outage": {"unreachable": ["aws-usw2"]}}
    down = plan_config(config_of(four_clusters()) | outage)
    # Adding a cluster would create its mesh credentials on every peer, the unreachable one included.
    grown = plan_config(config_of(four_clusters(aws_cluster("aws-euc1", "eu-central-1", 5))) | outage)
    refused = outage_refusals(saved_as_base(down), grown)
    assert refused and {f.urn.rsplit("::", 1)[-1] for f in refused} == {
        r.name
        for r in grown.resources
        if r.provider_urn == grown.named("aws-usw2-k8s").urn and r.urn not in {x.urn for x in down.resources}
    }
    assert (
        str(refused[0])
        .split(" would be rejected by ")[1]
        .startswith(
            "the Kubernetes provider: it would be created on a cluster listed in multicluster:outage, whose API server "
            "is unreachable: leave it out of this update and add it once the cluster is back (pulumi-kubernetes "
        )
    )
    # Removing the dead cluster: its resources cannot be deleted through an unreachable API server ...
    gone = plan_config(config_of([c for c in four_clusters() if c["name"] != "aws-usw2"]) | {})
    kinds = {f.rule.split(":")[0] for f in outage_refusals(saved_as_base(down), gone)}
    assert kinds == {
        "it would be deleted on an unreachable cluster, which fails",
        "a Helm release on an unreachable cluster cannot be deleted",
    }
    # ... unless it is marked lost first (one `pulumi up`): then only its Helm releases need `pulumi state delete`.
    lost = plan_config(config_of(four_clusters()) | {"multicluster:outage": {"lost": ["aws-usw2"]}})
    assert lost.named("aws-usw2-k8s").input("deleteUnreachable") == "true"
    left = outage_refusals(saved_as_base(lost), gone)
    assert left and all(f.rule.startswith("a Helm release on an unreachable cluster") for f in left)
    assert {f.urn for f in left} == {
        r.urn
        for r in lost.resources
        if r.type == "kubernetes:helm.sh/v3:Release"
        and owned_by(r.urn, "aws-usw2")
        and r.provider_urn == lost.named("aws-usw2-k8s").urn
    }
