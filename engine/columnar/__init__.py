"""The columnar engine: the rule records compiled to column operations (a second backend, proved equal to durable_rules), its frames, reader and outputs."""
