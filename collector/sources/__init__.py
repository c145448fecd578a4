"""Sources: one client per outside system, the only network code.

`collect` asks them once for an incident's snapshot, `collect_fleet` for the fleet review's.
"""
