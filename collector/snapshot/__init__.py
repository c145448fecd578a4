"""The snapshot: everything fetched, saved and loaded with a schema.

Its readers turn the raw JSON into typed records and frames, once; none touches the network.
"""
