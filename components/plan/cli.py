"""The offline plan command (`python -m components.plan`): what `pulumi up` would create, without a cloud."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import pulumi
from rich.console import Console

from ..config import ConfigError, namespace_settings, parse_stack_config, read_stack_file
from ..program import main as program
from .capture import run_program
from .estimate import DEFAULT_PARALLELISM
from .report import ReportOptions, policy_results, render_markdown, render_text, to_json

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m components.plan", description=__doc__)
    parser.add_argument("--stack", required=True, help="stack name (reads Pulumi.<stack>.yaml)")
    parser.add_argument("--config", type=Path, help="plan this file (Pulumi.<stack>.yaml format) instead")
    parser.add_argument("--format", choices=["text", "json", "markdown"], default="text")
    parser.add_argument(
        "--policy", action="store_true", help="also run the guardrail policies (policy/); exit 2 on a violation"
    )
    parser.add_argument(
        "--parallel",
        type=int,
        default=DEFAULT_PARALLELISM,
        help="engine parallelism for the deploy-time estimate (pulumi up --parallel)",
    )
    parser.add_argument("--show-secrets", action="store_true", help="print secret values instead of [secret]")
    return parser.parse_args(argv)


def stack_file(stack: str, explicit: Path | None) -> Path:
    if explicit:
        return explicit
    local = Path.cwd() / f"Pulumi.{stack}.yaml"
    return local if local.exists() else PROJECT_ROOT / f"Pulumi.{stack}.yaml"


def run(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    path = stack_file(args.stack, args.config)
    if not path.exists():
        print(f"error: no stack file {path}", file=sys.stderr)
        return 1
    settings, secret_keys = read_stack_file(path)
    try:
        # Validate first, so a bad config never reaches the program.
        parse_stack_config(*namespace_settings(settings))
        plan = run_program(program, settings, secret_keys, args.stack)
    except (ConfigError, pulumi.RunError) as exc:
        print(str(exc), file=sys.stderr)
        return 1
    # The Markdown report always shows the guardrails; --policy also makes them decide the exit code.
    results = policy_results(plan) if args.policy or args.format == "markdown" else None
    options = ReportOptions(
        show_secrets=args.show_secrets,
        policy=args.policy,
        parallelism=args.parallel,
        computed_policy_results=results,
    )
    if args.format == "json":
        json.dump(to_json(plan, options), sys.stdout, indent=2, sort_keys=True)
        sys.stdout.write("\n")
    elif args.format == "markdown":
        sys.stdout.write(render_markdown(plan, options))
    else:
        render_text(plan, Console(), options)
    if args.policy and any(result["violations"] for result in results or []):
        print("guardrail policies failed: see the report above", file=sys.stderr)
        return 2
    return 0
