-- The marketplace's integrity rules some row breaks: none on a sound database.
select
    rule,
    violations,
    sample_ids
from ops.integrity_violations();
