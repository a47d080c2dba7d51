create or replace function api.moderation_queue(
    p_token text,
    p_limit integer default 50,
    p_cursor text default null,
    p_kind text default null,
    p_category_id bigint default null,
    p_waiting_minutes integer default null
)
returns table (
    listing_id bigint, kind text, title text, seller_id bigint, shop_id bigint, category_id bigint,
    waiting_since timestamptz, revision_id bigint, changes jsonb, next_cursor text
)
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_user core.users := core.authenticate(p_token);
    v_after_at timestamptz;
    v_after_id bigint;
    v_categories bigint[];
begin
    perform core.require_platform_role(v_user, 'moderator');
    perform core.check_limit(p_limit, 500);
    select k.at, k.id into v_after_at, v_after_id from core.keyset_after(p_cursor) as k;
    if p_kind is not null and not p_kind = any(enum_range(null::core.listing_kind)::text[]) then
        perform core.raise_invalid(format('unknown kind %s', core.quoted(p_kind)), 'car, part or service');
    end if;
    if p_category_id is not null then
        v_categories := core.category_subtree(p_category_id);
        if cardinality(v_categories) = 0 then
            perform core.raise_invalid(format('unknown category %s', p_category_id));
        end if;
    end if;
    if p_waiting_minutes not between 0 and 525600 then
        perform core.raise_invalid('waiting minutes must be 0 to 525600 (a year)');
    end if;
    -- new listings (status pending) and changes to public ones (pending revisions), oldest first;
    -- each part read in order from its partial index, then merged
    return query
    with queue as (
        (
            select l.id, l.kind, l.title, l.seller_id, l.shop_id, l.category_id, l.status_changed_at as at,
                r.id as revision_id, r.changes
            from core.listings as l
            left join core.listing_revisions as r on r.listing_id = l.id and r.status = 'pending'
            where l.status = 'pending'
                and (v_after_at is null or (l.status_changed_at, l.id) > (v_after_at, v_after_id))
                and (p_kind is null or l.kind::text = p_kind)
                and (v_categories is null or l.category_id = any(v_categories))
                and (p_waiting_minutes is null or l.status_changed_at <= now() - make_interval(mins => p_waiting_minutes))
            order by l.status_changed_at, l.id
            limit p_limit + 1
        )
        union all
        (
            select l.id, l.kind, l.title, l.seller_id, l.shop_id, l.category_id, r.updated_at, r.id, r.changes
            from core.listing_revisions as r
            join core.listings as l on l.id = r.listing_id
            where r.status = 'pending' and l.status <> 'pending'
                and (v_after_at is null or (r.updated_at, l.id) > (v_after_at, v_after_id))
                and (p_kind is null or l.kind::text = p_kind)
                and (v_categories is null or l.category_id = any(v_categories))
                and (p_waiting_minutes is null or r.updated_at <= now() - make_interval(mins => p_waiting_minutes))
            order by r.updated_at, r.listing_id
            limit p_limit + 1
        )
    ),
    page as (
        select q.*, row_number() over (order by q.at, q.id) as n, count(*) over () as total from queue as q
    )
    select p.id, p.kind::text, p.title, p.seller_id, p.shop_id, p.category_id, p.at, p.revision_id, p.changes,
        case when p.n = p_limit and p.total > p_limit then core.keyset_cursor(p.at, p.id) end
    from page as p
    where p.n <= p_limit
    order by p.at, p.id;
end
$$;
comment on function api.moderation_queue(text, integer, text, text, bigint, integer) is
'What waits for moderators, oldest first: new listings (status pending) and changes to listings on '
'sale (revision_id and changes: the fields as they would become), in keyset pages of P_LIMIT (1-500; '
'the last row of a page with more after it carries next_cursor for P_CURSOR), of one kind, a category '
'subtree, or waiting at least P_WAITING_MINUTES. Decide with api.approve_listing / '
'api.reject_listing. 28000/42501 token; 42501 not a moderator; 22023 bad limit, cursor, kind, category '
'or minutes.';

create or replace function api.approve_listing(p_token text, p_listing_id bigint) returns text
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
begin
    return core.moderate_listing(p_token, p_listing_id, 'published', null);
end
$$;
comment on function api.approve_listing(text, bigint) is
'Publish a listing waiting for moderation, or approve the changes waiting on a listing on sale (they '
'become what the public sees, channel posts included); the seller is notified; audited. Returns '
'published or edit_approved. 28000/42501 token; 42501 not a moderator, or your own listing; P0002 no '
'listing; 55000 nothing of it waits; 22023 approved changes that no longer pass the listing rules.';

create or replace function api.reject_listing(p_token text, p_listing_id bigint, p_reason text) returns text
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
begin
    return core.moderate_listing(
        p_token, p_listing_id, 'rejected', core.clean_name(p_reason, 'the reason', 3, 500)
    );
end
$$;
comment on function api.reject_listing(text, bigint, text) is
'Reject a listing waiting for moderation, or the changes waiting on a listing on sale (it stays as it '
'was), with a reason the seller sees (moderators); audited. Returns rejected or edit_rejected. '
'28000/42501 token; 42501 not a moderator, or your own listing; P0002; 55000 nothing of it waits; 22023 '
'reason not 3-500 chars.';

create or replace function api.promote_listing(
    p_token text, p_listing_id bigint, p_until timestamptz
) returns void
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_user core.users := core.authenticate(p_token);
    v_listing core.listings := core.lock_listing(p_listing_id);
begin
    perform core.require_platform_role(v_user, 'moderator');
    if p_until is not null and p_until <= now() then
        perform core.raise_invalid('the promotion must end in the future (NULL ends it now)');
    end if;
    update core.listings as l set promoted_until = p_until where l.id = p_listing_id;
    perform core.audit(v_user.id, 'promote_listing', v_listing.seller_id, v_listing.shop_id, null,
                       jsonb_build_object('listing_id', p_listing_id, 'until', p_until));
end
$$;
comment on function api.promote_listing(text, bigint, timestamptz) is
'Give a listing the promoted (VIP) mark until a time, or end it with NULL (moderators); audited. '
'Promoted listings come first in the feed and in relevance order. 28000/42501; 42501; P0002; 22023.';

create or replace function api.set_ad_insert(p_token text, p_listing_id bigint, p_text text) returns void
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_user core.users := core.authenticate(p_token);
    v_listing core.listings := core.lock_listing(p_listing_id);
begin
    perform core.require_platform_role(v_user, 'moderator');
    if char_length(p_text) > 1000 then
        perform core.raise_invalid('an advertising insert is at most 1000 characters');
    end if;
    update core.listings as l set ad_insert = nullif(btrim(p_text), '') where l.id = p_listing_id;
    perform core.audit(v_user.id, 'set_ad_insert', v_listing.seller_id, v_listing.shop_id, null,
                       jsonb_build_object('listing_id', p_listing_id, 'text', p_text));
end
$$;
comment on function api.set_ad_insert(text, bigint, text) is
'Attach an advertising insert to a listing, or clear it with NULL (moderators); audited. '
'28000/42501; 42501; P0002; 22023 over 1000 characters.';

create or replace function api.create_ad_campaign(
    p_token text, p_category_id bigint, p_title text, p_body text, p_ends_at timestamptz
) returns table (campaign_id bigint, listing_id bigint)
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_user core.users := core.authenticate(p_token);
    v_title text := core.clean_name(p_title, 'campaign title', 3, 120);
    v_campaign bigint;
    v_listing bigint;
begin
    perform core.require_platform_role(v_user, 'moderator');
    if not exists (select from core.categories as c where c.id = p_category_id) then
        perform core.raise_invalid(format('unknown category %s', p_category_id));
    end if;
    if p_body is null or btrim(p_body) = '' or char_length(p_body) > 1000 then
        perform core.raise_invalid('the campaign text must be 1-1000 characters');
    end if;
    if p_ends_at is null or p_ends_at <= now() then
        perform core.raise_invalid('the campaign must end in the future');
    end if;
    -- a random published listing of the category or its subcategories
    select l.id into v_listing
    from core.listings as l
    where l.status = 'published' and not l.seller_blocked
        and l.category_id in (select c.id from core.categories as c where c.path @> array[p_category_id])
    order by random()
    limit 1
    for update skip locked;
    if v_listing is null then
        raise exception using errcode = 'P0002', message = 'no published listing in this category to show the campaign in';
    end if;
    insert into core.ad_campaigns (category_id, title, body, ends_at, created_by)
    values (p_category_id, v_title, btrim(p_body), p_ends_at, v_user.id)
    returning id into v_campaign;
    update core.listings as l set ad_campaign_id = v_campaign where l.id = v_listing;
    perform core.audit(v_user.id, 'create_ad_campaign', null, null, null,
                       jsonb_build_object('campaign_id', v_campaign, 'listing_id', v_listing));
    return query select v_campaign, v_listing;
end
$$;
comment on function api.create_ad_campaign(text, bigint, text, text, timestamptz) is
'Start an advertising campaign shown in a random published listing of a category (moderators); '
'returns the campaign and the listing chosen; audited. 28000/42501; 42501; 22023 bad argument; '
'P0002 no published listing there.';
