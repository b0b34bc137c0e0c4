"""One measured run, in a fresh process: `python -m bench.child program|preview|floor INPUT OUTPUT`.

`program` plans a fleet config (INPUT: engine settings as JSON) through the real program, with the
judge as the offline plan runs it (an observer of the mocks, then the plan checks), timed apart;
`preview` does the same as a first `pulumi preview` (unknown outputs: `--engine-preview`);
`floor` registers the resources listed in INPUT (written by a `program` run) with no logic:
same types, names, inputs, parents, providers and dependencies (as `depends_on`: the dependency graph is
part of the plan, which any program producing it registers), same mocks. It imports the
SDK module of every type it registers (a program cannot register `gcp:compute/...` without
importing `pulumi_gcp.compute`), then registers each resource through the SDK's own class for its
type with the property bag the generated constructor would build (no program logic), so that both
sides pay the SDK's per-resource work (typed input translation, typed output resolution).
Both write wall time (imports included), peak RSS and counts to OUTPUT.
"""

from __future__ import annotations

import json
import re
import resource
import sys
import time
from pathlib import Path
from typing import Any

STACK = "bench"


def main(kind: str, input_path: Path, output_path: Path) -> None:
    started = time.perf_counter()
    data = json.loads(input_path.read_text())
    loaded = time.perf_counter()
    cpu_loaded = _cpu_seconds()
    result = _floor(data) if kind == "floor" else _program(data, preview=kind == "preview")
    finished = time.perf_counter()
    cpu = _cpu_seconds() - cpu_loaded
    judge = result.get("judgeCpuSeconds", 0.0)
    result |= {
        "seconds": finished - loaded - judge,
        # CPU time is what the machine load (other jobs on a shared runner) does not inflate. The program's
        # figures leave the judge's CPU out (the floor has no judge); its cost is reported on its own. (Wall
        # time inside the observer is no measure of it: the SDK's threads hold the GIL part of that time.)
        "cpuSeconds": cpu - judge,
        "cpuSecondsWithJudge": cpu,
        "evaluateSeconds": finished - result.pop("evaluateStart") - judge,
        "peakRssMiB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "inputSeconds": loaded - started,
    }
    # Derived figures (floor spec, estimates) are computed after the clock stops.
    plan = result.pop("plan", None)
    if kind == "program":
        result |= _describe(plan, output_path)
    output_path.write_text(json.dumps(result, sort_keys=True))


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class TimedJudge:
    """The offline plan's judge, as the CLI runs it (an observer of the mocks, then the plan checks), with
    the CPU time of each part counted: the judge's cost is what it adds to the plan. Thread CPU time:
    the SDK's threads keep working while an observer runs, and process time would count them too."""

    def __init__(self, settings: dict[str, str]) -> None:
        started = time.thread_time()
        # Loading the judge (its rule tables read the botocore models) is part of its cost.
        from components.config import namespace_settings, parse_stack_config
        from offline_plan.cli import raised_quotas, upstream_dir
        from offline_plan.judge import Context, Judge

        # As the CLI does: the judge counts against the quotas the stack states as raised (reading them is its cost).
        stated = raised_quotas(parse_stack_config(*namespace_settings(settings), STACK))
        self.judge = Judge(Context(upstream=upstream_dir(None), raised_quotas=stated))
        self.load_seconds = time.thread_time() - started
        self.resource_seconds = 0.0
        self.plan_seconds = 0.0

    def __call__(self, observed: Any) -> None:
        started = time.thread_time()
        self.judge(observed)
        self.resource_seconds += time.thread_time() - started

    def finish(self, plan: Any) -> list[Any]:
        started = time.thread_time()
        findings = self.judge.finish(plan)
        self.plan_seconds += time.thread_time() - started
        return findings


def _program(settings: dict[str, str], preview: bool) -> dict[str, Any]:
    """The fleet through the real program and the judge; `preview`: as a first `pulumi preview` sees it (every
    output of a resource to be created unknown, `--engine-preview`)."""
    from components.program import main as program
    from offline_plan.capture import run_program

    judge = TimedJudge(settings)
    evaluate_start = time.perf_counter()
    plan = run_program(program, settings, [], STACK, preview=preview, observers=[judge])
    findings = judge.finish(plan)
    return {
        "evaluateStart": evaluate_start,
        "plan": plan,
        "judgeLoadCpuSeconds": judge.load_seconds,
        "judgeResourceCpuSeconds": judge.resource_seconds,
        "judgePlanCpuSeconds": judge.plan_seconds,
        "judgeCpuSeconds": judge.load_seconds + judge.resource_seconds + judge.plan_seconds,
        "judgeFindings": len(findings),
    }


def _floor(spec: list[dict[str, Any]]) -> dict[str, Any]:
    import pulumi

    from components.runtime import tune_garbage_collection
    from offline_plan.capture import run_program

    tune_garbage_collection()  # as the program does (components/program.py): the floor gets the same collector

    for module in sorted({m for entry in spec if (m := sdk_module(entry["type"]))}):
        _import_deepest(module)

    registration, component_class = _floor_classes()

    def program() -> None:
        made: dict[str, pulumi.Resource] = {}
        for entry in spec:
            opts = pulumi.ResourceOptions(
                parent=made.get(entry["parent"]),
                provider=made.get(entry["provider"]) if entry["provider"] else None,
                depends_on=[made[d] for d in entry["dependencies"]],
            )
            if entry["type"].startswith("pulumi:providers:"):
                package = entry["type"].removeprefix("pulumi:providers:")
                made[entry["urn"]] = pulumi.ProviderResource(package, entry["name"], entry["inputs"], opts)
            elif entry["custom"]:
                made[entry["urn"]] = _typed_resource(entry, opts, registration)
            else:
                component = component_class(entry["type"], entry["name"], opts)
                component.register_outputs({})
                made[entry["urn"]] = component

    evaluate_start = time.perf_counter()
    plan = run_program(program, {}, [], STACK)
    return {"evaluateStart": evaluate_start, "plan": plan, "resources": sum(1 for r in plan.resources if r.custom)}


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _typed_resource(entry: dict[str, Any], opts: Any, registration: type) -> Any:
    """Register through the SDK's own class for the type, as any program must, with no program logic.

    The class is instantiated without its generated `__init__` (which takes typed arguments) but with the
    same property bag it would build: inputs plus every output name, so that the SDK does the same
    per-property work (translation, typed output resolution) as for the real program's resources.
    """
    import importlib

    import pulumi

    cls = args_cls = None
    module = sdk_module(entry["type"])
    class_name = entry["type"].rsplit(":", 1)[1]
    if module:
        try:
            loaded = importlib.import_module(module)
            cls = getattr(loaded, class_name, None)
            # Codegen names the resource's bag `<Name>InitArgs` when `<Name>Args` is taken by a nested type.
            args_cls = getattr(loaded, f"{class_name}InitArgs", None) or getattr(loaded, f"{class_name}Args", None)
        except ModuleNotFoundError:
            pass
    if not (isinstance(cls, type) and issubclass(cls, pulumi.CustomResource) and isinstance(args_cls, type)):
        return pulumi.CustomResource(entry["type"], entry["name"], entry["inputs"], opts)
    # Generated classes fill an Args bag with every input and output property, None when not given.
    props = args_cls.__new__(args_cls)
    props.__dict__.update({name: None for name, member in vars(cls).items() if isinstance(member, property)})
    props.__dict__.update({_snake(k): v for k, v in entry["inputs"].items()})
    resource = cls.__new__(cls)
    registration(resource, entry["type"], entry["name"], props, opts)
    return resource


def _floor_classes() -> tuple[type, type]:
    """The constructor frames a program's own classes have (imported lazily, as the SDK is: see `main`).

    The SDK records where each resource was created: it walks the stack up to the third `__init__` frame (the
    SDK's Resource, then CustomResource or ComponentResource, then the resource's own class) and converts every
    frame above it (pulumi/runtime/resource.py `_get_stack_trace`). Registered with no class of its own, a floor
    resource had no third `__init__`: its stack trace came back empty and the floor skipped a cost that every
    program, however flat, pays for each resource. These stand in for the generated class and the component
    subclass, so the floor pays it for the frames of a flat program (the frames of `program` below and above).
    """
    import pulumi

    class Registration:
        def __init__(self, resource: Any, type_: str, name: str, props: Any, opts: Any) -> None:
            pulumi.CustomResource.__init__(resource, type_, name, props, opts)

    class Component(pulumi.ComponentResource):
        def __init__(self, type_: str, name: str, opts: Any) -> None:
            super().__init__(type_, name, None, opts)

    return Registration, Component


def sdk_module(type_token: str) -> str | None:
    """The Python SDK module that defines a type: aws:ec2/vpc:Vpc -> pulumi_aws.ec2 (None for components)."""
    package, module, name = type_token.split(":", 2)
    if package == "pulumi":
        return f"pulumi_{name.replace('-', '_')}" if module == "providers" else None
    if package == "multicluster":
        return None
    python_package = f"pulumi_{package.replace('-', '_')}"
    if module.startswith("index"):
        return python_package
    parts = module.split("/")
    if package != "kubernetes":
        return f"{python_package}.{parts[0]}"  # aws:ec2/vpc:Vpc: the ec2 package, as `aws.ec2.Vpc` loads it
    return ".".join([python_package, parts[0].split(".")[0], *parts[1:2]])  # helm.sh/v3 -> helm.v3


def _import_deepest(module: str) -> None:
    """Import `module`, or its closest existing parent (Kubernetes CRD groups have no module)."""
    import importlib

    parts = module.split(".")
    for end in range(len(parts), 0, -1):
        try:
            loaded = importlib.import_module(".".join(parts[:end]))
        except ModuleNotFoundError:
            continue
        getattr(loaded, "__all__", None)  # SDK packages load lazily on a non-dunder-metadata attribute
        if end == 1 and parts[0] == "pulumi_kubernetes" and len(parts) > 1:
            importlib.import_module("pulumi_kubernetes.apiextensions")  # CustomResource of a CRD group
        return


def _describe(plan: Any, output_path: Path) -> dict[str, Any]:
    from offline_plan.estimate import DEFAULT_PARALLELISM, estimate

    floor_path = output_path.with_suffix(".floor.json")
    floor_path.write_text(json.dumps(floor_spec(plan)))
    estimates = estimate(plan, DEFAULT_PARALLELISM)
    recommended = estimate(plan, estimates["recommendedParallelism"])
    return {
        "resources": sum(1 for r in plan.resources if r.custom),
        "registrations": len(plan.resources),
        "floorSpec": str(floor_path),
        "estimates": {k: v for k, v in estimates.items() if k != "criticalPath"},
        "criticalPath": [f"{s['name']} ({s['minutes']} min)" for s in estimates["criticalPath"] if s["minutes"]],
        "recommendedMinutes": recommended["parallelMinutes"],
        "perTopLevelType": per_top_level_type(plan),
    }


def floor_spec(plan: Any) -> list[dict[str, Any]]:
    """Every registration of the plan, each after its parent, its provider and what it depends on."""
    by_urn = {r.urn: r for r in plan.resources}
    ordered: list[dict[str, Any]] = []
    seen: set[str] = set()

    def emit(urn: str | None) -> None:
        if urn is None or urn in seen or urn not in by_urn:
            return
        r = by_urn[urn]
        emit(r.parent)
        emit(r.provider_urn)
        for dependency in r.dependencies:
            emit(dependency)
        seen.add(urn)
        ordered.append(
            {
                "urn": urn,
                "type": r.type,
                "name": r.name,
                "custom": r.custom,
                "parent": r.parent if r.parent in by_urn else None,
                "provider": r.provider_urn,
                "inputs": r.inputs,
                "dependencies": [d for d in r.dependencies if d in by_urn],
            }
        )

    for urn in by_urn:
        emit(urn)
    return ordered


def per_top_level_type(plan: Any) -> dict[str, int]:
    """Custom resources per top-level component type (cluster, mesh, link ...)."""
    by_urn = {r.urn: r for r in plan.resources}
    counts: dict[str, int] = {}
    for r in plan.resources:
        if not r.custom:
            continue
        top = r
        while top.parent in by_urn:
            top = by_urn[top.parent]
        key = top.type if top is not r else "(stack)"
        counts[key] = counts.get(key, 0) + 1
    return dict(sorted(counts.items()))


if __name__ == "__main__":
    main(sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3]))
