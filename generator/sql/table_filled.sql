-- Whether a core table holds a row (the table is an identifier composed in by the caller).
select exists (select from core.{table})
