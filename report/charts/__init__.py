"""Charts: one module per chart family, facts in, PNG out (matplotlib, Agg); `plan` sizes them
and names their jobs without matplotlib."""
