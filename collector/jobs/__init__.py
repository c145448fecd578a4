"""Jobs beside the CLI: batch, webhook receiver, fleet review and hand-offs.

Loops over the pipeline that draft each report exactly once.
"""
