"""The guardrail policy pack (`pulumi preview --policy-pack policy`); rules live in guardrails.py."""
