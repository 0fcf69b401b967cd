"""Money: the award ledger, the year's award run, totals by town and beneficiary, audit records and review sheets."""
