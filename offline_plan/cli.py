"""The offline plan command (`python -m offline_plan`): what `pulumi up` would create, without a cloud.

Exit codes (README "Exit codes"):
  0  the plan passed: the program ran, the judge found nothing (and, with --policy, the guardrails passed)
  1  the input is wrong: command-line arguments, the stack file (syntax, shape), or the stack configuration
  2  with --policy: a guardrail policy is violated (and the judge found nothing)
  3  the judge: a resource would be rejected by a cloud, Kubernetes, Helm or the engine, or a path the fleet
     needs is missing
  4  the program failed for another reason (a bug: the message says where)
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import traceback
from dataclasses import dataclass, field
from enum import IntEnum
from pathlib import Path
from typing import Any, NoReturn

import pulumi
from rich.console import Console

from components.config import ConfigError, StackConfig, namespace_settings
from components.config.regions import any_region
from components.config.stackfile import StackFile, StackFileError, number_hint
from components.config.stackfile import read as read_stack
from components.fleetplan import FleetPlan, validate_stack
from components.program import main as program

from .capture import Plan, run_program
from .diff import (
    BasePlan,
    BasePlanError,
    diff,
    load_base,
    outage_refusals,
    protected_deletions,
    upgrade_waves,
    version_changes,
)
from .estimate import DEFAULT_PARALLELISM
from .judge import Context, Judge
from .judge.aws import ACCOUNT, HEALTH_CHECK, SECURITY_GROUP_RULE
from .judge.rules import Finding
from .markdown import render as render_markdown
from .outage import render_text as render_outage
from .outage import require_survival, simulate
from .owners import CLUSTER_TYPES
from .report import ReportOptions, policy_results, render_text, to_json

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_UPSTREAM = PROJECT_ROOT.parent / "shared" / "upstream"
UPSTREAM_ENV = "MULTICLUSTER_UPSTREAM"


class Exit(IntEnum):
    OK = 0
    INVALID_INPUT = 1
    POLICY = 2
    REJECTED = 3
    PROGRAM_ERROR = 4
    WOULD_NOT_SURVIVE = 5


class UsageError(Exception):
    """Bad command-line arguments."""


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message} (see --help)")


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(
            f"must be at least 1 (got {value}): the engine runs at least one step at a time"
        )
    return value


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = Parser(
        prog="python -m offline_plan",
        description="What `pulumi up` would do, without a cloud: run the program under mocks and judge it.",
        epilog="Exit codes: 0 passed, 1 bad input (arguments, stack file, config), 2 guardrail policies violated, "
        "3 rejected by the judge, 4 program error, 5 would not survive the loss of a region (--require-survive).",
    )
    parser.add_argument("--stack", required=True, help="stack name (reads Pulumi.<stack>.yaml)")
    parser.add_argument("--config", type=Path, help="plan this file (Pulumi.<stack>.yaml format) instead")
    parser.add_argument("--format", choices=["text", "json", "markdown"], default="text")
    parser.add_argument(
        "--policy", action="store_true", help="also run the guardrail policies (policy/); exit 2 on a violation"
    )
    parser.add_argument(
        "--engine-preview",
        action="store_true",
        help="plan as the first `pulumi preview` of a new stack sees it: unknown outputs, unconfigured providers",
    )
    parser.add_argument(
        "--diff",
        type=Path,
        metavar="BASE.json",
        help="compare with a plan saved with --format json; with --engine-preview, preview an update of that state",
    )
    parser.add_argument(
        "--upstream",
        type=Path,
        help=f"upstream chart data (default ${UPSTREAM_ENV} or ../shared/upstream when present)",
    )
    parser.add_argument(
        "--parallel",
        type=positive_int,
        default=DEFAULT_PARALLELISM,
        help="engine parallelism for the deploy-time estimate (pulumi up --parallel)",
    )
    parser.add_argument("--show-secrets", action="store_true", help="print secret values instead of [secret]")
    parser.add_argument(
        "--region-down",
        action="append",
        default=[],
        metavar="REGION",
        help="simulate losing REGION (repeatable): who answers each name, residencies left, backups, rebuild time",
    )
    parser.add_argument(
        "--require-survive",
        choices=["region"],
        help="exit 5 when losing any single region of the fleet leaves a name unanswered or a residency unserved",
    )
    return parser.parse_args(argv)


# pulumi/pulumi pkg/backend validateStackName: "stack names must be less than 100 characters", "stack names
# may only contain alphanumeric, hyphens, underscores, and periods" (stackNameAndProjectRegexp).
STACK_NAME = re.compile(r"[A-Za-z0-9_.-]{1,100}")


def stack_name_problem(stack: str) -> str | None:
    if STACK_NAME.fullmatch(stack):
        return None
    if len(stack) > 100:
        return f"error: the stack name has {len(stack)} characters; Pulumi allows 100"
    return f"error: '{stack}' is not a stack name: Pulumi allows letters, digits, '-', '_' and '.'"


def stack_file(stack: str, explicit: Path | None) -> Path:
    if explicit:
        return explicit
    local = Path.cwd() / f"Pulumi.{stack}.yaml"
    return local if local.exists() else PROJECT_ROOT / f"Pulumi.{stack}.yaml"


def upstream_dir(explicit: Path | None) -> Path | None:
    if explicit is not None:
        return explicit
    from_env = os.environ.get(UPSTREAM_ENV)
    if from_env:
        return Path(from_env)
    return DEFAULT_UPSTREAM if DEFAULT_UPSTREAM.is_dir() else None


@dataclass
class Outcome:
    """What one plan run produced, before it is rendered."""

    plan: Plan
    findings: list[Finding]
    upstream: Path | None
    diff: dict[str, Any] | None = None
    policies: list[dict[str, Any]] | None = field(default=None)
    outage: dict[str, Any] | None = None  # --region-down
    survival_problems: list[str] = field(default_factory=list[str])  # --require-survive region


def located(issue_text: str, path: str, number: Any, stack: StackFile) -> str:
    from components.config.base import parse_path

    position = stack.position_of(parse_path(path))
    text = issue_text
    if number is not None:
        text = text.replace("quote it in the stack file", number_hint(position, number))
    return f"{stack.path.name}:{position}: {text}" if position else text


def config_report(error: ConfigError, stack: StackFile) -> str:
    lines = [f"invalid stack configuration ({len(error.issues)} problem(s)):"]
    lines += [f"  - {located(str(issue), issue.path, issue.number, stack)}" for issue in error.issues]
    return "\n".join(lines)


def run(argv: list[str] | None = None) -> int:
    try:
        return _run(argv)
    except UsageError as exc:
        print(str(exc), file=sys.stderr)
        return Exit.INVALID_INPUT
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return Exit.PROGRAM_ERROR


def _run(argv: list[str] | None) -> int:
    args = parse_args(argv)
    problem = stack_name_problem(args.stack)
    if problem:
        print(problem, file=sys.stderr)
        return Exit.INVALID_INPUT
    path = stack_file(args.stack, args.config)
    if not path.is_file():
        print(f"error: no stack file {path}" + (" (--config)" if args.config else ""), file=sys.stderr)
        return Exit.INVALID_INPUT
    try:
        stack = read_stack(path)
        base = load_base(args.diff) if args.diff else None
    except (StackFileError, BasePlanError) as exc:
        print(str(exc), file=sys.stderr)
        return Exit.INVALID_INPUT
    try:
        # Validate first, the config and the rules across blocks over its plan, so a bad config never reaches
        # the program.
        config, fleet = validate_stack(*namespace_settings(stack.settings), stack=args.stack)
    except ConfigError as exc:
        print(config_report(exc, stack), file=sys.stderr)
        return Exit.INVALID_INPUT
    unknown = [r for r in args.region_down if any_region(r) is None]
    if unknown:
        print(f"error: --region-down {unknown[0]}: not an AWS or GCP region this program knows", file=sys.stderr)
        return Exit.INVALID_INPUT
    upstream = upstream_dir(args.upstream)
    if upstream is not None and not upstream.is_dir():
        print(f"error: no upstream data folder {upstream} (--upstream or ${UPSTREAM_ENV})", file=sys.stderr)
        return Exit.INVALID_INPUT
    try:
        outcome = plan_stack(stack, args.stack, args.engine_preview, base, upstream, config, fleet)
        if args.region_down:
            outcome.outage = simulate(config, outcome.plan, args.region_down)
        if args.require_survive == "region":
            outcome.survival_problems = require_survival(config, outcome.plan)
    except pulumi.RunError as exc:
        print(str(exc), file=sys.stderr)
        return Exit.INVALID_INPUT
    except Exception as exc:  # a bug of the program: say where, without a traceback
        cause = root_cause(str(exc))
        if cause.startswith("multicluster:"):  # a config value only the cloud's answers can judge
            path = cause.split(" ", 1)[0]
            print(
                f"invalid stack configuration (found while planning):\n  - {located(cause, path, None, stack)}",
                file=sys.stderr,
            )
            return Exit.INVALID_INPUT
        print(program_error(exc), file=sys.stderr)
        return Exit.PROGRAM_ERROR
    return report(outcome, args)


def raised_quotas(config: StackConfig) -> dict[tuple[str, str], int]:
    """The quotas the stack states as raised (multicluster:quotas), as the judge's quota checks key them."""
    aws = config.quotas.aws
    raised = {("aws:ec2/eip:Eip", region): limit for region, limit in aws.elastic_ips.items()} | {
        (SECURITY_GROUP_RULE, region): limit for region, limit in aws.security_group_rules.items()
    }
    if aws.route53_health_checks is not None:
        raised[(HEALTH_CHECK, ACCOUNT)] = aws.route53_health_checks
    return raised


def plan_stack(
    stack: StackFile,
    name: str,
    preview: bool,
    base: BasePlan | None,
    upstream: Path | None,
    config: StackConfig | None = None,
    fleet: FleetPlan | None = None,
) -> Outcome:
    judge = Judge(
        Context(
            upstream=upstream,
            base=base.resources if base is not None else None,
            raised_quotas=raised_quotas(config) if config is not None else {},
        )
    )
    state = base.state() if base is not None and preview else None
    plan = run_program(
        program, stack.settings, stack.secret_keys, name, preview=preview, state=state, observers=[judge]
    )
    refusals = protected_deletions(base, plan) + outage_refusals(base, plan) if base is not None else []
    changes = diff(base, plan) if base is not None else None
    if base is not None and changes is not None and fleet is not None:
        serving = {n for n, c in fleet.clusters.items() if not c.spec.drain}
        moved = version_changes(base, plan, CLUSTER_TYPES)
        waves, warnings = upgrade_waves(moved, dict(fleet.failover_groups), serving, refuse=fleet.protected)
        refusals += waves
        changes["warnings"] = warnings
        for warning in warnings:
            print(warning, file=sys.stderr)
    findings = judge.finish(plan) + refusals
    return Outcome(plan, findings, upstream, changes)


def root_cause(message: str) -> str:
    """The innermost message of an error the SDK wrapped per input and resource ("... has risen: <cause>")."""
    return message.rsplit("has risen: ", 1)[-1].strip()


def program_error(exc: BaseException) -> str:
    frames = traceback.extract_tb(exc.__traceback__)
    ours = [f for f in frames if str(PROJECT_ROOT) in f.filename and "/venv/" not in f.filename]
    where = f" (at {Path(ours[-1].filename).relative_to(PROJECT_ROOT)}:{ours[-1].lineno})" if ours else ""
    return f"error: the program failed: {type(exc).__name__}: {root_cause(str(exc))}{where}"


def report(outcome: Outcome, args: argparse.Namespace) -> int:
    plan = outcome.plan
    # The Markdown report always shows the guardrails; --policy also makes them decide the exit code.
    results = policy_results(plan) if args.policy or args.format == "markdown" else None
    options = ReportOptions(
        show_secrets=args.show_secrets,
        policy=args.policy,
        parallelism=args.parallel,
        computed_policy_results=results,
        findings=outcome.findings,
        upstream=outcome.upstream,
        diff=outcome.diff,
    )
    outage_lines = render_outage(outcome.outage) if outcome.outage is not None else []
    if args.format == "json":
        document = to_json(plan, options)
        if outcome.outage is not None:
            document["regionDown"] = outcome.outage
        if args.require_survive:
            document["survival"] = {"require": args.require_survive, "problems": outcome.survival_problems}
        json.dump(document, sys.stdout, indent=2, sort_keys=True)
        sys.stdout.write("\n")
    elif args.format == "markdown":
        sys.stdout.write(render_markdown(plan, options))
        if outage_lines:
            sys.stdout.write("\n\n### Region loss\n\n```text\n" + "\n".join(outage_lines) + "\n```\n")
    else:
        render_text(plan, Console(), options)
        for line in outage_lines:
            print(line)
    if outcome.findings:
        print(f"the judge rejects {len(outcome.findings)} thing(s):", file=sys.stderr)
        for finding in outcome.findings:
            print(f"  - {finding}", file=sys.stderr)
        return Exit.REJECTED
    if args.policy and any(result["violations"] for result in results or []):
        print("guardrail policies failed: see the report above", file=sys.stderr)
        return Exit.POLICY
    if outcome.survival_problems:
        print("the fleet would not survive the loss of a region:", file=sys.stderr)
        for problem in outcome.survival_problems:
            print(f"  - {problem}", file=sys.stderr)
        return Exit.WOULD_NOT_SURVIVE
    return Exit.OK
