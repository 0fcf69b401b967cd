"""Analyses over evaluated registers: land/power priority, plan targets, what-if reforms and the policy's static check."""
