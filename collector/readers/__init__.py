"""Readers: the snapshot's raw JSON in, typed records and tidy frames out, read once.

Pure functions with no network import: an offline re-render (`collect --snapshot`) and the whole
analysis package load no HTTP library. The clients that fetch the JSON are `collector.pagerduty`,
`collector.prometheus` and `collector.notify`.
"""
