-- The sequence of a core table's identity column id, or no row when it has none.
select pg_get_serial_sequence(%(qualified)s, 'id')
where exists (
    select from information_schema.columns
    where
        table_schema = 'core'
        and table_name = %(table)s
        and column_name = 'id'
        and is_identity = 'YES'
)
