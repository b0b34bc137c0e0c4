"""multicluster:policy (#19): Gatekeeper on every cluster, a ConstraintTemplate and a Constraint per rule; the
Rego evaluated (regopy) on objects that break and keep each rule; each constraint valid against its template's
CRD, in both modes; the judge's rules for constraints tested both ways."""

from __future__ import annotations

import json

import pytest
from regopy import Interpreter

from components.charts import chart
from components.gatekeeper import EXEMPT, WAIT_FOR
from components.gatekeeper_rules import PLATFORM_IMAGES, POLICY_RULES, TARGET
from offline_plan.judge import Context, crds
from offline_plan.judge.crds import CONSTRAINT_SOURCE
from tests.support import aws_cluster, config_issues, fleet, gcp_cluster, plan_config
from tests.test_judge_plans import edited

TEMPLATE = "kubernetes:templates.gatekeeper.sh/v1:ConstraintTemplate"
RELEASE = "kubernetes:helm.sh/v3:Release"
RULES = ["no-privileged", "required-labels", "allowed-registries", "no-latest-tag", "resource-limits"]
POLICY = {"enforce": RULES, "allowedRegistries": ["europe-docker.pkg.dev/acme"], "mode": "deny"}


def violations(rule: str, obj: dict, parameters: dict | None = None) -> list[str]:
    """The messages the rule's Rego yields for `obj` under review, as Gatekeeper evaluates it."""
    rego = POLICY_RULES[rule].rego
    package = rego.split("\n", 1)[0].split()[1]
    interpreter = Interpreter()
    interpreter.add_module(f"{package}.rego", rego)
    interpreter.set_input_term(json.dumps({"review": {"object": obj}, "parameters": parameters or {}}))
    result = json.loads(str(interpreter.query(f"x = [v | data.{package}.violation[v]]")))
    return sorted(v["msg"] for v in result["bindings"]["x"])


def pod(*containers: dict, **spec) -> dict:
    return {"metadata": {"name": "p", "labels": {}}, "spec": {"containers": list(containers), **spec}}


GOOD = {
    "name": "app",
    "image": "europe-docker.pkg.dev/acme/app:1.4.2",
    "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"memory": "128Mi"}},
}


# --- the Rego, both ways -------------------------------------------------------------------------------------


def test_a_compliant_pod_breaks_no_rule():
    params = {"registries": ["europe-docker.pkg.dev/acme"], "labels": ["app.kubernetes.io/name"]}
    for rule in RULES:
        obj = pod(GOOD) if rule != "required-labels" else {"metadata": {"labels": {"app.kubernetes.io/name": "x"}}}
        assert violations(rule, obj, params) == [], rule


def test_no_privileged_refuses_privileged_containers_and_host_namespaces():
    init = {**GOOD, "name": "init", "securityContext": {"privileged": True}}
    assert violations("no-privileged", pod(GOOD, initContainers=[init], hostPID=True)) == [
        "container init is privileged",
        "the pod shares the node's namespaces (hostPID)",
    ]


def test_required_labels_looks_where_a_cronjob_puts_its_jobs_labels():
    params = {"labels": ["app.kubernetes.io/name"]}
    labelled = {"metadata": {"labels": {"app.kubernetes.io/name": "x"}}}
    cronjob = {"kind": "CronJob", "metadata": {"name": "c", "labels": {}}, "spec": {"jobTemplate": labelled}}
    assert violations("required-labels", cronjob, params) == []
    only_itself = {"kind": "CronJob", **labelled, "spec": {"jobTemplate": {"spec": {}}}}
    assert violations("required-labels", only_itself, params) == ["label app.kubernetes.io/name is required"]


def test_allowed_registries_admit_what_the_platform_injects():
    params = {"registries": ["europe-docker.pkg.dev/acme"], "exemptImages": list(PLATFORM_IMAGES)}
    sidecar = {**GOOD, "name": "istio-proxy", "image": "docker.io/istio/proxyv2:1.30.3"}
    helper = {**GOOD, "name": "restore-wait", "image": "velero/velero:v1.18.1"}
    assert violations("allowed-registries", pod(GOOD, sidecar, initContainers=[helper]), params) == []
    assert violations("allowed-registries", pod({**GOOD, "image": "docker.io/istio/other:1"}), params) != []


def test_required_labels_names_each_missing_label():
    params = {"labels": ["app.kubernetes.io/name", "team"]}
    obj = {"metadata": {"name": "d", "labels": {"team": "web"}}}
    assert violations("required-labels", obj, params) == ["label app.kubernetes.io/name is required"]
    assert violations("required-labels", {"metadata": {"name": "d"}}, params) == [
        "label app.kubernetes.io/name is required",
        "label team is required",
    ]


@pytest.mark.parametrize(
    ("image", "allowed"),
    [
        ("europe-docker.pkg.dev/acme/app:1", True),
        ("europe-docker.pkg.dev/acme-evil/app:1", False),  # a prefix of the path is not the registry
        ("docker.io/library/nginx:1.27", False),
        ("nginx:1.27", False),
    ],
)
def test_allowed_registries_match_whole_path_segments(image, allowed):
    found = violations(
        "allowed-registries", pod({**GOOD, "image": image}), {"registries": ["europe-docker.pkg.dev/acme"]}
    )
    assert (found == []) is allowed


@pytest.mark.parametrize(
    ("image", "refused"),
    [
        ("nginx", "has no tag (latest is implied)"),
        ("nginx:latest", "uses the latest tag"),
        ("registry.example:5000/team/app", "has no tag (latest is implied)"),  # the port is not a tag
        ("registry.example:5000/team/app:2.0", None),
        ("nginx@sha256:" + "a" * 64, None),  # a digest pins the image
    ],
)
def test_no_latest_tag_reads_the_tag_after_the_last_slash(image, refused):
    found = violations("no-latest-tag", pod({**GOOD, "image": image}))
    assert found == ([] if refused is None else [f"image {image} of container app {refused}"])


def test_resource_limits_want_requests_and_a_memory_limit():
    bare = {"name": "app", "image": "x:1", "resources": {"requests": {"cpu": "1"}}}
    assert violations("resource-limits", pod(bare)) == [
        "container app sets no resources.limits.memory",
        "container app sets no resources.requests.memory",
    ]


# --- what the program creates ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def denying():
    return plan_config(
        fleet(
            aws_cluster("use1", "us-east-1", 1),
            gcp_cluster("gew3", "europe-west3", 2),
            failover="active-active",
            policy=POLICY,
            protect=True,
        )
    )


def constraints(plan, cluster: str) -> dict:
    return {
        r.name.removeprefix(f"{cluster}-policy-"): r
        for r in plan.children(plan.component(f"{cluster}-policy"))
        if r.type.startswith("kubernetes:constraints.gatekeeper.sh/")
    }


def test_every_cluster_runs_pinned_gatekeeper_with_a_template_and_a_constraint_per_rule(denying):
    gatekeeper = chart("gatekeeper")
    for cluster in ("use1", "gew3"):
        release = denying.named(f"{cluster}-policy-gatekeeper", RELEASE)
        assert (release.input("chart"), release.input("version")) == (gatekeeper.name, "3.23.0")
        assert release.input("values") == {"replicas": 3}  # protected: highly available
        templates = {
            t.input("metadata.name"): t for t in denying.children(denying.component(f"{cluster}-policy"), TEMPLATE)
        }
        assert set(templates) == {POLICY_RULES[r].kind.lower() for r in RULES}
        made = constraints(denying, cluster)
        assert set(made) == set(RULES)
        for rule, constraint in made.items():
            template = templates[POLICY_RULES[rule].kind.lower()]
            assert template.input("metadata.annotations") == WAIT_FOR  # awaited until Gatekeeper compiled it
            assert template.urn in constraint.dependencies  # the constraint's CRD exists once its template does
            assert release.urn in template.dependencies
            assert template.input("spec.targets.0.target") == TARGET
            assert constraint.type == f"kubernetes:constraints.gatekeeper.sh/v1beta1:{POLICY_RULES[rule].kind}"
            assert constraint.input("spec.enforcementAction") == "deny"
            assert constraint.input("spec.match.excludedNamespaces") == EXEMPT


def test_constraint_parameters_come_from_the_block(denying):
    made = constraints(denying, "use1")
    assert made["allowed-registries"].input("spec.parameters") == {
        "registries": ["europe-docker.pkg.dev/acme"],
        "exemptImages": list(PLATFORM_IMAGES),
    }
    assert made["required-labels"].input("spec.parameters") == {"labels": ["app.kubernetes.io/name"]}
    assert made["no-privileged"].input("spec.parameters") is None


def test_platform_namespaces_are_exempt():
    assert {"kube-*", "kube-system", "gatekeeper-system", "argocd", "velero", "monitoring", "istio-system"} <= set(
        EXEMPT
    )


def test_one_controller_replica_never_blocks_node_drains(staging):
    release = staging.named("aws-use1-policy-gatekeeper", RELEASE)
    assert release.input("values") == {"replicas": 1, "pdb": {"controllerManager": {"minAvailable": 0}}}


def test_dryrun_reports_without_blocking(staging):
    made = constraints(staging, "aws-use1")
    assert {c.input("spec.enforcementAction") for c in made.values()} == {"dryrun"}
    assert staging.outputs["policy"] == {"rules": RULES, "mode": "dryrun", "clusters": ["aws-use1", "gcp-usc1"]}


# --- every constraint valid against its template's CRD, and the judge both ways ------------------------------


@pytest.mark.parametrize("stack", ["denying", "staging"])
def test_every_constraint_is_valid_against_the_crd_of_its_template(stack, request):
    plan = request.getfixturevalue(stack)
    assert [str(f) for f in crds.gatekeeper_constraints(plan, Context())] == []


def refusal(urn: str, rule: str) -> str:
    return f"{urn} would be rejected by Kubernetes: {rule} ({CONSTRAINT_SOURCE})"


def test_the_judge_refuses_constraints_their_templates_do_not_allow(denying):
    constraint = constraints(denying, "use1")["allowed-registries"]

    def judged(change) -> list[str]:
        return [str(f) for f in crds.gatekeeper_constraints(edited(denying, constraint, inputs=change), Context())]

    assert judged(lambda i: i["spec"]["parameters"].update(registries="europe-docker.pkg.dev/acme")) == [
        refusal(constraint.urn, "MulticlusterAllowedRegistries spec.parameters.registries: "
                "'europe-docker.pkg.dev/acme' is not of type 'array'")
    ]  # fmt: skip
    assert judged(lambda i: i["spec"]["parameters"].update(repos=["x"])) == [
        refusal(constraint.urn, "MulticlusterAllowedRegistries spec.parameters: Additional properties are not "
                "allowed ('repos' was unexpected)")
    ]  # fmt: skip
    assert judged(lambda i: i["spec"].update(enforcementAction="audit")) == [
        refusal(constraint.urn, "MulticlusterAllowedRegistries spec.enforcementAction 'audit' is not one of deny, "
                "dryrun, warn, scoped")
    ]  # fmt: skip
    assert judged(lambda i: i["spec"].update(selector={})) == [
        refusal(constraint.urn, "MulticlusterAllowedRegistries spec.selector: not a field of a constraint (match, "
                "enforcementAction, scopedEnforcementActions, parameters)")
    ]  # fmt: skip


def test_the_judge_refuses_a_constraint_no_template_of_its_cluster_defines(denying):
    constraint = constraints(denying, "use1")["no-latest-tag"]
    template = denying.named("use1-policy-no-latest-tag-template", TEMPLATE)
    plan = edited(denying, template, inputs=lambda i: i["spec"]["crd"]["spec"]["names"].update(kind="Other"))
    assert [str(f) for f in crds.gatekeeper_constraints(plan, Context())] == [
        refusal(constraint.urn, "no ConstraintTemplate of this cluster defines MulticlusterNoLatestTag: Gatekeeper "
                "serves no such resource")
    ]  # fmt: skip


def test_templates_are_valid_against_the_upstream_crd(denying, upstream):
    findings = [str(f) for f in crds.custom_resources(denying, Context(upstream=upstream)) if "gatekeeper" in f.urn]
    assert findings == []


# --- validation -------------------------------------------------------------------------------------------------


def issues(policy: dict) -> list[str]:
    config = fleet(aws_cluster("use1", "us-east-1", 1), policy=policy)
    return config_issues(config)


def test_policy_is_validated_with_its_key_path():
    assert issues({"enforce": ["allowed-registries"]}) == [
        "multicluster:policy.allowedRegistries allowed-registries is enforced but no registry is allowed: every pod "
        "would be refused"
    ]
    assert issues({"enforce": ["no-latest-tag", "no-latest-tag"]}) == [
        "multicluster:policy.enforce[1] 'no-latest-tag' is listed twice"
    ]
    (bad,) = issues({"enforce": ["no-root"]})
    assert bad.startswith("multicluster:policy.enforce[0] ")
    (registry,) = issues({"enforce": ["allowed-registries"], "allowedRegistries": ["https://ghcr.io"]})
    assert registry.startswith("multicluster:policy.allowedRegistries[0] 'https://ghcr.io' is not a registry host")
    assert issues({"enforce": ["no-privileged"], "mode": "dryrun"}) == []


def test_with_observability_gatekeeper_is_scraped_and_violations_alert(staging):
    monitor = staging.named("aws-use1-telemetry-gatekeeper", "kubernetes:monitoring.coreos.com/v1:PodMonitor")
    assert monitor.input("spec.selector") == {"matchLabels": {"gatekeeper.sh/system": "yes"}}
    assert monitor.input("spec.namespaceSelector") == {"matchNames": ["gatekeeper-system"]}
    assert monitor.input("spec.podMetricsEndpoints") == [{"port": "metrics", "interval": "30s"}]
    rules = [
        rule
        for r in staging.of_type("kubernetes:monitoring.coreos.com/v1:PrometheusRule")
        for group in r.input("spec.groups")
        for rule in group["rules"]
    ]
    (alert,) = [rule for rule in rules if rule.get("alert") == "PolicyViolations"]
    assert alert["expr"] == "max by (cluster, enforcement_action) (gatekeeper_violations) > 0"
