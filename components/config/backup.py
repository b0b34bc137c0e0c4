"""Config block `multicluster:backup`: Velero chart, schedules and bucket retention.

Also the cron arithmetic the block needs: parsing (as Velero's robfig/cron standard parser does)
and the RPO the schedules give (the longest gap between two scheduled backups).
"""

from __future__ import annotations

import calendar
import functools
import itertools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Annotated

from pydantic import AfterValidator, Field, field_validator

from .base import Issue, Model, dns_label, format_path
from .fleetview import BlockRules
from .needs import Needs

if TYPE_CHECKING:
    from .clusters import ClusterConfig
    from .fleetview import FleetView

VELERO_CHART_VERSION = "12.1.0"
SEMVER = re.compile(r"^\d+\.\d+\.\d+$")
GO_DURATION = re.compile(r"^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$")
GO_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600}

# --- cron ----------------------------------------------------------------------------------

MONTHS = {name: i + 1 for i, name in enumerate(calendar.month_abbr[1:])}
WEEKDAYS = {name: i for i, name in enumerate(("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"))}
DESCRIPTORS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}


@dataclass(frozen=True)
class CronField:
    name: str
    low: int
    high: int
    names: dict[str, int] | None = None


CRON_FIELDS = (
    CronField("minute", 0, 59),
    CronField("hour", 0, 23),
    CronField("day of month", 1, 31),
    CronField("month", 1, 12, {k.upper(): v for k, v in MONTHS.items()}),
    CronField("day of week", 0, 6, WEEKDAYS),
)


@dataclass(frozen=True)
class Cron:
    """A parsed 5-field cron expression. `dom_star`/`dow_star` follow robfig/cron (used by Velero)."""

    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]
    dom_star: bool
    dow_star: bool

    def fires_on(self, day: date) -> bool:
        if day.month not in self.months:
            return False
        dom = day.day in self.days
        dow = (day.isoweekday() % 7) in self.weekdays
        # Both restricted: either matches (classic cron); otherwise both must match.
        return dom and dow if self.dom_star or self.dow_star else dom or dow

    def minutes_of_day(self) -> list[int]:
        return sorted(h * 60 + m for h in self.hours for m in self.minutes)


def parse_cron(expression: str) -> Cron:
    """Parse a cron expression or raise ValueError with a message naming the faulty field."""
    text = DESCRIPTORS.get(expression.strip(), expression.strip())
    parts = text.split()
    if len(parts) != 5:
        raise ValueError(
            f"'{expression}' is not a cron expression: expected 5 fields "
            f"(minute hour day-of-month month day-of-week), got {len(parts)}"
        )
    values: list[frozenset[int]] = []
    stars: list[bool] = []
    for part, spec in zip(parts, CRON_FIELDS, strict=True):
        try:
            found, star = _parse_field(part, spec)
        except ValueError as exc:
            raise ValueError(f"'{expression}': {spec.name} {exc}") from None
        values.append(frozenset(found))
        stars.append(star)
    return Cron(*values, dom_star=stars[2], dow_star=stars[4])


def _parse_field(text: str, spec: CronField) -> tuple[set[int], bool]:
    found: set[int] = set()
    star = False
    for item in text.split(","):
        range_text, _, step_text = item.partition("/")
        step = _number(step_text, "step") if step_text else 1
        if step < 1:
            raise ValueError(f"step must be at least 1 (got '{item}')")
        if range_text in ("*", "?"):
            low, high = spec.low, spec.high
            star = star or step == 1
        else:
            low_text, dash, high_text = range_text.partition("-")
            low = _value(low_text, spec)
            high = _value(high_text, spec) if dash else (spec.high if step_text else low)
            if low > high:
                raise ValueError(f"range '{range_text}' is reversed")
        found.update(range(low, high + 1, step))
    return found, star


def _value(text: str, spec: CronField) -> int:
    if spec.names and text.upper() in spec.names:
        return spec.names[text.upper()]
    value = _number(text, "value")
    if not spec.low <= value <= spec.high:
        raise ValueError(f"value {value} is outside {spec.low}-{spec.high}")
    return value


def _number(text: str, what: str) -> int:
    if not text.isdigit():
        raise ValueError(f"{what} '{text}' is not a number")
    return int(text)


# Over 1901-2099 the calendar (leap years and weekdays) repeats every 28 years exactly.
CALENDAR_CYCLE_START = date(2028, 1, 1)
CALENDAR_CYCLE_DAYS = (date(2056, 1, 1) - CALENDAR_CYCLE_START).days


def max_gap_minutes(crons: Iterable[Cron]) -> int | None:
    """Longest time between two consecutive firings of any of the crons, in minutes.

    Enumerates every firing of one full 28-year calendar cycle and wraps around, so the result is
    exact (Feb 29 and weekday/day-of-month combinations included). None when nothing ever fires.
    """
    return _max_gap_minutes(tuple(crons))


# The walk covers ~10k days: each set of schedules is walked once per process (validation, every cluster).
@functools.lru_cache(maxsize=256)
def _max_gap_minutes(crons: tuple[Cron, ...]) -> int | None:
    longest, first, last = 0, None, None
    day_cache: dict[frozenset[int], tuple[list[int], int]] = {}
    for offset in range(CALENDAR_CYCLE_DAYS):
        day = CALENDAR_CYCLE_START + timedelta(days=offset)
        firing = frozenset(i for i, cron in enumerate(crons) if cron.fires_on(day))
        if not firing:
            continue
        if firing not in day_cache:
            minutes = sorted({m for i in firing for m in crons[i].minutes_of_day()})
            day_cache[firing] = minutes, max((b - a for a, b in itertools.pairwise(minutes)), default=0)
        minutes, within_day = day_cache[firing]
        base = offset * 1440
        if last is None:
            first = base + minutes[0]
        else:
            longest = max(longest, base + minutes[0] - last)
        longest = max(longest, within_day)
        last = base + minutes[-1]
    if first is None or last is None:
        return None
    return max(longest, CALENDAR_CYCLE_DAYS * 1440 - last + first)


def format_minutes(minutes: int) -> str:
    """2160 -> '36h', 90 -> '1h30m' (Go duration style, as Velero ttls are written)."""
    hours, rest = divmod(minutes, 60)
    return (f"{hours}h" if hours else "") + (f"{rest}m" if rest or not hours else "")


# --- models --------------------------------------------------------------------------------


def cron_expression(value: str) -> str:
    cron = parse_cron(value)
    if max_gap_minutes([cron]) is None:
        raise ValueError(f"'{value}' never fires (no such date)")
    return value


def go_duration(value: str) -> str:
    if not GO_DURATION.match(value):
        raise ValueError(f"'{value}' is not a duration (use Go syntax, e.g. 720h, 90m, 1h30m)")
    if duration_seconds(value) <= 0:
        raise ValueError(f"'{value}' must be longer than zero")
    return value


def duration_seconds(value: str) -> float:
    return sum(float(n) * GO_UNITS[unit] for n, _, unit in re.findall(r"(\d+(\.\d+)?)(ns|us|µs|ms|s|m|h)", value))


def namespace_name(value: str) -> str:
    return value if value == "*" else dns_label(value, 63)


# Velero names each backup "<schedule>-<timestamp>" and labels it with the schedule name (max 63):
# "velero-" + cluster (24) + "-" + this name must stay within that.
ScheduleName = Annotated[str, AfterValidator(lambda v: dns_label(v, 24))]


class BackupSchedule(Model):
    """One Velero schedule, installed in every cluster."""

    name: ScheduleName = Field(description="DNS label, unique in the block, at most 24 characters.")
    cron: Annotated[str, AfterValidator(cron_expression)] = Field(
        description="5-field cron (UTC) or @hourly/@daily/@weekly/@monthly/@yearly."
    )
    ttl: Annotated[str, AfterValidator(go_duration)] = Field(
        default="720h", description="How long Velero keeps a backup."
    )
    included_namespaces: list[Annotated[str, AfterValidator(namespace_name)]] = Field(
        default_factory=lambda: ["*"], min_length=1, description="Namespaces to back up; ['*'] = all."
    )
    file_system_backup: bool = Field(
        default=True,
        description="Back up pod volumes with the node-agent (Kopia) into the bucket, restorable by every peer; "
        "false takes disk snapshots instead, which peers in another cloud or AWS region cannot restore.",
    )


# A drill restores <ns> into "<ns>-drill", which must stay a 63-character label.
DrillNamespace = Annotated[str, AfterValidator(lambda v: dns_label(v, 63 - len("-drill")))]


class DrillConfig(Model):
    """Scheduled restore drills: each cluster restores its peers' newest backups, one peer after the other."""

    cron: Annotated[str, AfterValidator(cron_expression)] = Field(
        description="When each cluster runs its drill (5-field cron, UTC)."
    )
    namespaces: list[DrillNamespace] = Field(min_length=1, description="What is restored, into <ns>-drill.")
    timeout_minutes: int = Field(default=60, ge=1, le=1440, description="How long one restore may take.")

    def period_minutes(self) -> int:
        gap = max_gap_minutes([parse_cron(self.cron)])
        assert gap is not None  # the cron was checked to fire
        return gap


class BackupConfig(Model):
    """`multicluster:backup`: Velero in every cluster, a hardened bucket per cluster, restore from peers."""

    chart_version: str = Field(default=VELERO_CHART_VERSION, description="Velero Helm chart version (pinned).")
    schedules: list[BackupSchedule] = Field(min_length=1)
    retention_days: int = Field(default=30, ge=1, le=3650, description="Days noncurrent object versions are kept.")
    drills: DrillConfig | None = Field(default=None, description="Scheduled restore drills (none by default).")

    @field_validator("chart_version")
    @classmethod
    def _pinned(cls, value: str) -> str:
        if not SEMVER.match(value):
            raise ValueError(f"'{value}' is not an exact chart version (e.g. {VELERO_CHART_VERSION})")
        return value

    @property
    def file_system_backup(self) -> bool:
        return any(s.file_system_backup for s in self.schedules)

    def rpo_minutes(self) -> int:
        gap = max_gap_minutes([parse_cron(s.cron) for s in self.schedules])
        assert gap is not None  # every cron was checked to fire
        return gap


# --- who restores from whom ----------------------------------------------------------------


def restore_peers(config: FleetView) -> dict[str, list[ClusterConfig]]:
    """For each cluster, the clusters whose backups it can restore: its failover group, itself excluded.

    By name, never by position: reordering the clusters in the config changes no policy or chart value."""
    peers: dict[str, list[ClusterConfig]] = {}
    for group in config.failover_groups().values():
        for cluster in group:
            peers[cluster.name] = sorted((c for c in group if c.name != cluster.name), key=lambda c: c.name)
    return peers


def needs(config: FleetView) -> Needs:
    """Velero reads its peers' buckets keylessly across clouds: a GKE cluster with S3 peers through AWS's trust of
    its issuer, an EKS cluster with GCS peers through a workload identity pool in gcp:project."""
    if config.block(BackupConfig) is None:
        return Needs()
    peers = restore_peers(config)
    trusts = frozenset(
        name for name, of in peers.items() if config.cluster(name).cloud == "gcp" and any(p.cloud == "aws" for p in of)
    )
    clouds = {c.cloud for c in config.clusters}
    return Needs(aws_trusts=trusts, gcp_project_purposes=("federation",) if {"aws", "gcp"} <= clouds else ())


def check(config: FleetView) -> list[Issue]:
    """Unique schedule names, gcp:project for EKS readers of GCS peers, and in a partitioned fleet
    no bucket or storage location outside a residency."""
    backup = config.block(BackupConfig)
    if backup is None:
        return []
    return (
        _unique_schedules(backup)
        + _federation_project_issues(config)
        + _residency_issues(config)
        + _snapshot_restore_issues(config, backup)
        + _drill_issues(backup)
    )


def _drill_issues(backup: BackupConfig) -> list[Issue]:
    """A drill restores namespaces some schedule backs up, or it would restore nothing and pass."""
    if backup.drills is None:
        return []
    covered = {ns for s in backup.schedules for ns in s.included_namespaces}
    return [
        Issue(
            format_path(("backup", "drills", "namespaces", i)),
            f"'{ns}' is in no schedule's includedNamespaces: the drill would restore nothing",
        )
        for i, ns in enumerate(backup.drills.namespaces)
        if "*" not in covered and ns not in covered
    ]


VELERO_LOCATIONS_DOC = "https://velero.io/docs/main/locations/#limitations--caveats"


def _snapshot_restore_issues(config: FleetView, backup: BackupConfig) -> list[Issue]:
    """A schedule that snapshots volumes cannot serve a peer in another cloud, or in another AWS region.

    Velero: "Cross-provider snapshots are not supported", and AWS does not restore an EBS snapshot outside its
    region (VELERO_LOCATIONS_DOC); GCE disk snapshots are global, so GKE peers in other regions can use them.
    The node-agent's file-system backup (Kopia) writes volume data into the bucket, which any peer can read.
    """
    peers = restore_peers(config)
    unusable: list[tuple[ClusterConfig, ClusterConfig]] = []
    for cluster in config.clusters:
        for peer in peers.get(cluster.name, []):
            if peer.cloud != cluster.cloud or (cluster.cloud == "aws" and peer.region != cluster.region):
                unusable.append((peer, cluster))
    if not unusable:
        return []
    source, reader = min(unusable, key=lambda pair: (pair[0].name, pair[1].name))
    why = "another cloud" if source.cloud != reader.cloud else f"another AWS region ({reader.region})"
    return [
        Issue(
            format_path(("backup", "schedules", i, "fileSystemBackup")),
            f"is false, so volumes are backed up as {'EBS' if source.cloud == 'aws' else 'persistent disk'} "
            f"snapshots, but '{reader.name}' restores the backups of '{source.name}' in {why}, where those "
            f"snapshots cannot be restored ({VELERO_LOCATIONS_DOC}): set fileSystemBackup: true "
            "(Kopia file-system backup)",
        )
        for i, schedule in enumerate(backup.schedules)
        if not schedule.file_system_backup
    ]


def _federation_project_issues(config: FleetView) -> list[Issue]:
    """EKS clusters read GCS peers through workload identity pools in gcp:project: a stable home that
    neither the order of the clusters nor a new GKE cluster can move (which would replace the pools)."""
    if config.gcp_project:
        return []
    peers = restore_peers(config)
    issues: list[Issue] = []
    for cluster in config.clusters:
        gcp_peers = [p.name for p in peers.get(cluster.name, []) if p.cloud == "gcp"]
        if cluster.cloud == "aws" and gcp_peers:
            issues.append(
                Issue(
                    format_path(("backup",)),
                    f"cluster '{cluster.name}' (EKS) reads the backups of GCP peers "
                    f"({', '.join(gcp_peers)}) through a workload identity pool, which requires gcp:project "
                    "(the project holding the pool)",
                )
            )
    return issues


def _unique_schedules(backup: BackupConfig) -> list[Issue]:
    issues: list[Issue] = []
    seen: dict[str, int] = {}
    for i, schedule in enumerate(backup.schedules):
        if schedule.name in seen:
            issues.append(
                Issue(
                    format_path(("backup", "schedules", i, "name")),
                    f"'{schedule.name}' is already used by schedules[{seen[schedule.name]}]",
                )
            )
        else:
            seen.setdefault(schedule.name, i)
    return issues


def _residency_issues(config: FleetView) -> list[Issue]:
    if config.topology != "partitioned":
        return []
    issues: list[Issue] = []
    peers = restore_peers(config)
    for cluster in config.clusters:
        residency = config.residencies.get(cluster.residency or "")
        if residency is None:
            continue  # reported by the topology checks
        allowed = residency.regions
        where = f"residency '{cluster.residency}' (regions: {', '.join(allowed)})"
        if cluster.region not in allowed:
            issues.append(
                Issue(
                    format_path(("backup",)),
                    f"the backup bucket of cluster '{cluster.name}' would be in {cluster.region}, outside {where}",
                )
            )
        for peer in peers.get(cluster.name, []):
            if peer.residency != cluster.residency or peer.region not in allowed:
                issues.append(
                    Issue(
                        format_path(("backup",)),
                        f"cluster '{cluster.name}' would read the backups of '{peer.name}' in {peer.region}, "
                        f"outside {where}",
                    )
                )
    return issues


# Declared by the `multicluster:backup` field of StackConfig: what validation and the fleet's needs call.
BACKUP_RULES = BlockRules(check, needs)
