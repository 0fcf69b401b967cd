"""scaleup engine: loads policies and rule records, compiles them into durable_rules, evaluates
enterprise facts "as of" a date, and explains every decision. Knows no district's numbers."""

__version__ = "0.1.0"
