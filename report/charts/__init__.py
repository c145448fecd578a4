"""Charts: one module per chart family, facts in, PNG out (matplotlib, Agg)."""
