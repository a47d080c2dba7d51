create or replace function api.react(p_token text, p_listing_id bigint, p_reaction text)
returns table (reaction text, like_count integer, dislike_count integer)
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_user core.users := core.authenticate(p_token);
    v_listing core.listings := core.lock_listing(p_listing_id);
    v_new core.reaction;
    v_old core.reaction;
    v_result core.reaction;
begin
    if p_reaction is null or p_reaction not in ('like', 'dislike') then
        perform core.raise_invalid(format('unknown reaction %s', core.quoted(p_reaction)), 'use like or dislike');
    end if;
    if v_listing.status not in ('published', 'reserved', 'sold') then
        raise exception using errcode = 'P0002', message = format('no listing %s', p_listing_id);
    end if;
    v_new := p_reaction::core.reaction;
    select r.reaction into v_old from core.listing_reactions as r
    where r.user_id = v_user.id and r.listing_id = p_listing_id for update;
    -- none->X creates X; X->X removes it; like<->dislike flips
    if v_old is null then
        insert into core.listing_reactions (user_id, listing_id, reaction) values (v_user.id, p_listing_id, v_new);
        v_result := v_new;
    elsif v_old = v_new then
        delete from core.listing_reactions as r where r.user_id = v_user.id and r.listing_id = p_listing_id;
        v_result := null;
    else
        update core.listing_reactions as r set reaction = v_new, reacted_at = now()
        where r.user_id = v_user.id and r.listing_id = p_listing_id;
        v_result := v_new;
    end if;
    return query
    update core.listings as l set
        like_count = l.like_count + (v_result is not distinct from 'like')::integer - (v_old is not distinct from 'like')::integer,
        dislike_count = l.dislike_count + (v_result is not distinct from 'dislike')::integer
            - (v_old is not distinct from 'dislike')::integer
    where l.id = p_listing_id
    returning v_result::text, l.like_count, l.dislike_count;
end
$$;
comment on function api.react(text, bigint, text) is
'Like or dislike a listing: none->like/dislike creates it, the same again removes it, the other one '
'flips it. Returns your reaction now (NULL: none) and the exact counts. 28000/42501; P0002 not public; '
'22023 unknown reaction.';

create or replace function api.add_favorite(p_token text, p_listing_id bigint) returns integer
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_user core.users := core.authenticate(p_token);
    v_listing core.listings := core.lock_listing(p_listing_id);
    v_count integer;
begin
    if v_listing.status not in ('published', 'reserved', 'sold') then
        raise exception using errcode = 'P0002', message = format('no listing %s', p_listing_id);
    end if;
    insert into core.favorites (user_id, listing_id) values (v_user.id, p_listing_id) on conflict do nothing;
    if found then
        update core.listings as l set favorite_count = l.favorite_count + 1 where l.id = p_listing_id
        returning l.favorite_count into v_count;
    else
        v_count := v_listing.favorite_count;
    end if;
    return v_count;
end
$$;
comment on function api.add_favorite(text, bigint) is
'Save a listing to your wish list (again: no change); returns its favorite count. 28000/42501; P0002.';

create or replace function api.remove_favorite(p_token text, p_listing_id bigint) returns integer
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_user core.users := core.authenticate(p_token);
    v_listing core.listings := core.lock_listing(p_listing_id);
    v_count integer := v_listing.favorite_count;
begin
    delete from core.favorites as f where f.user_id = v_user.id and f.listing_id = p_listing_id;
    if not found then
        raise exception using errcode = 'P0002', message = format('listing %s is not in your favorites', p_listing_id);
    end if;
    update core.listings as l set favorite_count = l.favorite_count - 1 where l.id = p_listing_id
    returning l.favorite_count into v_count;
    return v_count;
end
$$;
comment on function api.remove_favorite(text, bigint) is
'Remove a listing from your wish list; returns its favorite count. 28000/42501; P0002 not there.';

create or replace function api.favorites(p_token text)
returns table (
    listing_id bigint,
    title text,
    status text,
    price_amount bigint,
    currency text,
    city text,
    saved_at timestamptz
)
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_user core.users := core.authenticate(p_token);
begin
    return query
    select l.id, l.title, l.status::text, l.price_amount, l.currency, l.city, f.created_at
    from core.favorites as f join core.listings as l on l.id = f.listing_id
    where f.user_id = v_user.id
    order by f.created_at desc, l.id desc;
end
$$;
comment on function api.favorites(
    text
) is 'Your wish list, most recently saved first (with each listing''s status). 28000/42501.';
