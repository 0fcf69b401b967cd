"""The decision families that the engine's own summaries read by meaning: the report's counts, the
award run and the ledger, targets and what-if.

Which families exist, their order, outcomes and rules are data: rules/families.yaml lists them and
rules/<family id>.yaml holds each (engine/rules_model.py loads them). A family id is also the decision's
`type` in every output. This module is the one place the engine names particular families.
"""
from __future__ import annotations

UPGRADE = "upgrade_eligibility"          # may enter the statistical scope (升规入统)
POOL = "pool_entry"                      # enters the cultivation pool (培育库)
ENTERPRISE_AWARD = "enterprise_award"    # award to a newly upgraded enterprise
TOWN_AWARD = "town_award"                # award to its town/street (or the development zone)
PRIORITY = "land_power_priority"         # priority for land and power (要素保障)
DELISTING_WARNING = "delisting_warning"  # de-listing warning (退规预警)

# The families that pay money, with the ledger's kind of award for each.
AWARD_KINDS = (("enterprise", ENTERPRISE_AWARD), ("town", TOWN_AWARD))
AWARD_TYPES = tuple(family for _, family in AWARD_KINDS)
