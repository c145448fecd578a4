"""Analysis: plain functions from typed records and tidy frames to results. No I/O."""
