create or replace function api.moderation_queue(p_token text, p_limit integer default 50)
returns table (
    listing_id bigint, kind text, title text, seller_id bigint, shop_id bigint, category_id bigint,
    waiting_since timestamptz
)
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_user core.users := core.authenticate(p_token);
begin
    perform core.require_platform_role(v_user, 'moderator');
    perform core.check_limit(p_limit, 500);
    return query
    select l.id, l.kind::text, l.title, l.seller_id, l.shop_id, l.category_id, l.status_changed_at
    from core.listings as l
    where l.status = 'pending'
    order by l.status_changed_at, l.id
    limit p_limit;
end
$$;
comment on function api.moderation_queue(text, integer) is
'Listings waiting for moderation, oldest first (moderators). 28000/42501 token; 42501 not a moderator; '
'22023 limit not 1-500.';

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
'Publish a listing waiting for moderation (moderators); audited. 28000/42501 token; 42501 not a '
'moderator; P0002 no listing; 55000 not pending.';

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
'Reject a listing waiting for moderation with a reason the seller sees (moderators); audited. '
'28000/42501 token; 42501 not a moderator; P0002; 55000 not pending; 22023 reason not 3-500 chars.';

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
