-- Keyset pages: a cursor names the last row of a page by its time and id, so the next page starts
-- right after it, however many rows came or went since (api.moderation_queue, the back office).

create or replace function core.keyset_cursor(p_at timestamptz, p_id bigint) returns text
language sql
immutable
set search_path = pg_catalog, pg_temp
as $$
    select to_char(p_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') || '/' || p_id
$$;
comment on function core.keyset_cursor(timestamptz, bigint) is
'The cursor of a row of a keyset page: its time (UTC, microseconds) and id, as '
'2026-11-30T07:00:00.000000/42.';

create or replace function core.keyset_after(p_cursor text, out at timestamptz, out id bigint)
language plpgsql
immutable
set search_path = pg_catalog, pg_temp
as $$
begin
    if p_cursor is null then
        return;
    end if;
    if p_cursor !~ '^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}/\d{1,18}$' then
        perform core.raise_invalid('not a cursor of this list', 'pass next_cursor as it came');
    end if;
    begin
        at := split_part(p_cursor, '/', 1)::timestamp at time zone 'UTC';
    exception when datetime_field_overflow or invalid_datetime_format then
        perform core.raise_invalid('not a cursor of this list', 'pass next_cursor as it came');
    end;
    id := split_part(p_cursor, '/', 2)::bigint;
end
$$;
comment on function core.keyset_after(text) is
'The time and id a cursor names (both NULL for a NULL cursor, the first page); 22023 for anything '
'core.keyset_cursor did not make.';

create or replace function core.shop_page(
    p_token text, p_shop_id bigint, p_status text, p_statuses text[], p_cursor text, p_limit integer,
    p_action text, out at timestamptz, out id bigint
)
language plpgsql
stable
set search_path = pg_catalog, pg_temp
as $$
declare
    v_user core.users := core.authenticate(p_token);
begin
    perform core.require_shop_role(v_user.id, p_shop_id, '{owner,manager,seller}', p_action);
    perform core.check_limit(p_limit, 500);
    if p_status is not null and not p_status = any(p_statuses) then
        perform core.raise_invalid(format('unknown status %s', core.quoted(p_status)),
                                   array_to_string(p_statuses, ', '));
    end if;
    select k.at, k.id into at, id from core.keyset_after(p_cursor) as k;
end
$$;
comment on function core.shop_page(text, bigint, text, text[], text, integer, text) is
'The checks of a page of a shop''s back office (the caller is a member, the limit 1-500, the status one '
'of P_STATUSES) and where it starts: the time and id the cursor names (NULL for the first page).';
