"""What the Pulumi engine refuses in an update: replacing a protected resource.

In an update preview from a saved state (`--engine-preview --diff BASE.json`) the resources of the base exist with
their saved outputs. A TLS certificate whose renewal time has come is replaced by its provider (terraform-provider-tls
internal/provider/common_cert.go modifyPlanIfCertificateReadyForRenewal, at d72d90e: once `validity_end_time -
early_renewal_hours` has passed, `ready_for_renewal` is marked RequiresReplace; Read sets it true from the same
time). The engine refuses to replace a resource protected before and after the update (pulumi/pulumi
pkg/resource/deploy/step_generator.go, at 1b59498: `if new.Protect && old.Protect && !IgnoreProtect`), so a
protected CA certificate due for renewal stops the update: unprotect it first, or rotate it (docs/mesh.md).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from ..values import is_unknown
from . import Context, plan_check
from .rules import Finding, of_type

ENGINE = "the Pulumi engine"
CERTIFICATES = ("tls:index/selfSignedCert:SelfSignedCert", "tls:index/locallySignedCert:LocallySignedCert")
PROTECTED_REPLACEMENT_SOURCE = (
    "pulumi/pulumi pkg/resource/deploy/step_generator.go: 'unable to replace resource %q as it is currently marked "
    "for protection. To unprotect the resource, remove the `protect` flag from the resource in your Pulumi program "
    "and run `pulumi up`'; terraform-provider-tls common_cert.go modifyPlanIfCertificateReadyForRenewal: a "
    "certificate past validity_end_time - early_renewal_hours (ready_for_renewal) is replaced"
)


def now() -> datetime:
    """The time the update runs at (a function, so that tests can set it)."""
    return datetime.now(UTC)


@plan_check
def protected_replacements(plan: Any, context: Context) -> Iterator[Finding]:
    if getattr(plan, "mode", "up") != "preview":
        return  # a plan of `pulumi up` creates every certificate now: nothing is due
    base = context.base or {}
    for type_ in CERTIFICATES:
        for cert in of_type(plan, type_):
            if not _saved(cert) or not cert.protect:
                continue
            saved = base.get(cert.urn)
            if saved is not None and not saved.get("protect"):
                continue  # protected by this update only: the engine lets it be replaced (old.Protect is false)
            due = renewal_due(cert.outputs, cert.inputs)
            if due:
                yield Finding(
                    cert.urn,
                    ENGINE,
                    f"it is protected and {due}, so its provider replaces it and the update stops: 'unable to "
                    f'replace resource "{cert.urn}" as it is currently marked for protection\'; unprotect it in one '
                    "`pulumi up` first (or rotate it: docs/mesh.md, Root rotation)",
                    PROTECTED_REPLACEMENT_SOURCE,
                )


def _saved(resource: Any) -> bool:
    """A resource of the saved state: in a preview only those have an id (a new one's is unknown)."""
    return isinstance(resource.id, str) and bool(resource.id) and not is_unknown(resource.id)


def renewal_due(outputs: dict[str, Any], inputs: dict[str, Any]) -> str | None:
    """Why a saved certificate is due for replacement, or None (unknown values are not judged)."""
    if outputs.get("readyForRenewal") is True:
        return "its saved state says readyForRenewal"
    end = _time(outputs.get("validityEndTime"))
    hours = next((h for h in (outputs.get("earlyRenewalHours"), inputs.get("earlyRenewalHours")) if h is not None), 0)
    if end is None or is_unknown(hours) or not isinstance(hours, int | float):
        return None
    renew_at = end - timedelta(hours=float(hours))
    if now() >= renew_at:
        early = f" less {hours:g} h of early renewal" if hours else ""
        return f"its validity ends {outputs['validityEndTime']}{early} (renewal from {renew_at:%Y-%m-%dT%H:%M:%SZ})"
    return None


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str) or is_unknown(value):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
