"""Money: the award ledger, the year's award run, totals by town and beneficiary, audit records and review sheets."""

# Decisions that pay money: each has an award, a review sheet and, by default, an audit record
# (engine/awards/audit.py gets_audit_record). Here, in a module that imports nothing, so that
# `scaleup review --type` can offer them without loading the engine.
PAYING_TYPES = ("enterprise_award", "town_award")
