"""Incident Timeline Collector: drafts post-incident reports from PagerDuty and Prometheus."""

__version__ = "0.1.0"
