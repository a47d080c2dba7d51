-- Stream rows into a table: text or binary format, FREEZE when the table was truncated in this
-- transaction and is not partitioned.
copy {schema}.{table} ({columns}) from stdin with (format {format}, freeze {freeze})
