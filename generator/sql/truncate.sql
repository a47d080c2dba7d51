-- Empty the marketplace tables in the load's transaction: a table truncated in it may be copied
-- with FREEZE.
truncate {tables} restart identity
