-- Statistics for a loaded table.
analyze core.{table}
