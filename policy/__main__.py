"""Entry point of the guardrail policy pack: `pulumi preview --policy-pack policy` runs this file."""

import sys
from pathlib import Path

from pulumi_policy import EnforcementLevel, PolicyPack

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the rules sit beside this file

from guardrails import PACK_NAME
from pack import pack_policies

PolicyPack(name=PACK_NAME, policies=pack_policies(), enforcement_level=EnforcementLevel.MANDATORY)
