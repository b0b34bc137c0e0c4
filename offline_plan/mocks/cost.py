"""Budgets and their email channels (multicluster:cost): the outputs the providers read back.

aws_budgets_budget: id `<account>:<name>`, arn `arn:aws:budgets::<account>:budget/<name>`
(terraform-provider-aws internal/service/budgets/budget.go); google_monitoring_notification_channel: `name`
`projects/<project>/notificationChannels/<numeric id>`; google_billing_budget: `name`
`billingAccounts/<account>/budgets/<id>` (billingbudgets v1 Budget.name).
"""

from __future__ import annotations

from typing import Any

from . import ACCOUNT_ID, MockResource, resource


@resource("aws:budgets/budget:Budget")
def aws_budget(r: MockResource) -> dict[str, Any]:
    name = r.inputs["name"]
    return {
        "id": f"{ACCOUNT_ID}:{name}",
        "arn": f"arn:aws:budgets::{ACCOUNT_ID}:budget/{name}",
        "accountId": ACCOUNT_ID,
    }


@resource("gcp:monitoring/notificationChannel:NotificationChannel")
def notification_channel(r: MockResource) -> dict[str, Any]:
    number = int(r.hex(12), 16) % 10**19
    name = f"projects/{r.project}/notificationChannels/{number}"
    return {"id": name, "name": name, "verificationStatus": "VERIFIED"}


@resource("gcp:billing/budget:Budget")
def billing_budget(r: MockResource) -> dict[str, Any]:
    budget = r.hex(8) + "-" + r.hex(4)
    name = f"billingAccounts/{r.inputs['billingAccount']}/budgets/{budget}"
    return {"id": name, "name": name}
