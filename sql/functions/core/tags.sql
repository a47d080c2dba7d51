-- Tags: one normalisation, one way to set a listing's tags.

create or replace function core.normalize_tag(p_tag text) returns text
language plpgsql
immutable
set search_path = pg_catalog, pg_temp
as $$
declare
    v_tag text := lower(btrim(regexp_replace(left(coalesce(p_tag, ''), 200), '\s+', ' ', 'g')));
begin
    if char_length(p_tag) > 200 or char_length(v_tag) not between 2 and 30 or v_tag !~ '^[[:alnum:]_ -]+$' then
        perform core.raise_invalid(
            format('%s is not a tag', core.quoted(p_tag)), 'a tag is 2-30 letters, digits, -, _ and spaces'
        );
    end if;
    return v_tag;
end
$$;
comment on function core.normalize_tag(text) is
'A tag in its stored form: lower case, trimmed, runs of spaces as one; 22023 unless 2-30 letters, '
'digits, -, _ and spaces.';

create or replace function core.normalize_tags(p_tags text[]) returns text[]
language plpgsql
stable
set search_path = pg_catalog, pg_temp
as $$
declare
    v_tags text[];
begin
    if array_ndims(p_tags) > 1 then
        perform core.raise_invalid('tags must be a flat list');
    end if;
    -- normalised, duplicates (in any spelling) once, in the order first given
    select coalesce(array_agg(t.name order by t.first), '{}') into v_tags
    from (
        select n.name, min(n.position) as first
        from unnest(coalesce(p_tags, '{}')) with ordinality as i (tag, position)
        cross join lateral (select core.normalize_tag(i.tag) as name, i.position) as n
        group by n.name
    ) as t;
    if cardinality(v_tags) > core.setting_int('max_tags_per_listing') then
        perform core.raise_invalid(format('at most %s tags per listing', core.setting_int('max_tags_per_listing')));
    end if;
    return v_tags;
end
$$;
comment on function core.normalize_tags(text[]) is
'A listing''s tags as they are stored: normalised, duplicates (in any spelling) once in the order first '
'given, at most max_tags_per_listing; 22023 otherwise.';

create or replace function core.set_listing_tags(p_listing_id bigint, p_tags text[]) returns text[]
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
as $$
declare
    v_tags text[] := core.normalize_tags(p_tags);
begin
    insert into core.tags (name) select t from unnest(v_tags) as t on conflict (name) do nothing;
    delete from core.listing_tags as lt where lt.listing_id = p_listing_id;
    insert into core.listing_tags (listing_id, tag_id)
    select p_listing_id, t.id from core.tags as t where t.name = any(v_tags);
    return v_tags;
end
$$;
comment on function core.set_listing_tags(bigint, text[]) is
'Replace a listing''s tags (normalised, duplicates once, at most max_tags_per_listing; 22023 '
'otherwise); returns the stored names.';

create or replace function core.listing_tag_names(p_listing_id bigint) returns text[]
language sql
stable
set search_path = pg_catalog, pg_temp
as $$
    select coalesce(array_agg(t.name order by t.name), '{}')
    from core.listing_tags as lt join core.tags as t on t.id = lt.tag_id
    where lt.listing_id = p_listing_id
$$;
comment on function core.listing_tag_names(bigint) is 'A listing''s tags, alphabetically.';
