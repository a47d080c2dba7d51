create or replace function api.edit_listing(p_token text, p_listing_id bigint, p_changes jsonb) returns void
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_user core.users := core.authenticate(p_token);
    v_listing core.listings := core.lock_listing(p_listing_id);
    v_key text;
    v_new core.listings;
    v_by_moderator boolean;
    v_photos text[];
    v_tags text[];
begin
    if p_changes is null or jsonb_typeof(p_changes) <> 'object' or p_changes = '{}' then
        perform core.raise_invalid('changes must be a non-empty JSON object');
    end if;
    -- moderators may edit a listing waiting for them; otherwise the seller's side
    v_by_moderator := v_listing.status = 'pending' and v_user.role >= 'moderator'
        and not core.may_manage_listing(v_user, v_listing);
    if not v_by_moderator then
        perform core.require_listing_manager(v_user, v_listing);
    end if;
    if v_listing.status = 'sold' then
        raise exception using errcode = '55000', message = format('a %s listing cannot be edited', v_listing.status);
    end if;
    for v_key in select jsonb_object_keys(p_changes) loop
        if v_key in ('price_amount', 'currency', 'wholesale_price_amount', 'wholesale_min_quantity') then
            perform core.raise_invalid(format('"%s" is changed with api.change_price', v_key));
        end if;
        if v_key not in ('title', 'description', 'brand', 'model_id', 'region', 'city', 'quantity',
                         'contact_name', 'contact_phone', 'attributes', 'photos', 'tags') then
            perform core.raise_invalid(format('%s cannot be edited', core.quoted(v_key)));
        end if;
    end loop;
    -- the changed row goes through the same rules as a new listing (core.check_listing)
    v_new := v_listing;
    if p_changes ? 'title' then v_new.title := core.json_string(p_changes -> 'title', 'title'); end if;
    if p_changes ? 'description' then
        v_new.description := core.json_string(p_changes -> 'description', 'description');
    end if;
    if p_changes ? 'region' then v_new.region := core.json_string(p_changes -> 'region', 'region'); end if;
    if p_changes ? 'city' then v_new.city := core.json_string(p_changes -> 'city', 'city'); end if;
    if p_changes ? 'brand' then v_new.brand := core.json_string(p_changes -> 'brand', 'brand'); end if;
    if p_changes ? 'contact_name' then
        v_new.contact_name := core.json_string(p_changes -> 'contact_name', 'contact_name');
    end if;
    if p_changes ? 'contact_phone' then
        v_new.contact_phone := core.json_string(p_changes -> 'contact_phone', 'contact_phone');
    end if;
    if p_changes ? 'model_id' then
        v_new.model_id := core.json_whole_number(p_changes -> 'model_id', 'model_id', 1);
    end if;
    if p_changes ? 'quantity' then
        v_new.quantity := core.json_whole_number(p_changes -> 'quantity', 'quantity', 1, 1000000);
        if v_new.quantity is null then
            perform core.raise_invalid('the quantity must be at least 1 (mark the listing sold instead)');
        end if;
    end if;
    if p_changes ? 'attributes' then
        v_new.attributes := p_changes -> 'attributes';
    end if;
    if p_changes ? 'photos' then
        v_photos := core.json_string_array(p_changes -> 'photos', 'photos');
    end if;
    if p_changes ? 'tags' then
        v_tags := core.json_string_array(p_changes -> 'tags', 'tags');
    end if;
    v_new := core.check_listing(v_new);
    if v_new.quantity < v_listing.reserved_quantity then
        raise exception using
            errcode = '55000',
            message = format('%s unit(s) are reserved by open orders', v_listing.reserved_quantity),
            hint = 'wait for those orders to be paid, cancelled or expired';
    end if;
    update core.listings as l set
        title = v_new.title, description = v_new.description, brand = v_new.brand, model_id = v_new.model_id,
        region = v_new.region, city = v_new.city, quantity = v_new.quantity, contact_name = v_new.contact_name,
        contact_phone = v_new.contact_phone, attributes = v_new.attributes
    where l.id = p_listing_id;
    if p_changes ? 'quantity' then
        perform core.sync_listing_status(p_listing_id, v_user.id);
    end if;
    if p_changes ? 'photos' then
        perform core.set_listing_photos(p_listing_id, coalesce(v_photos, '{}'));
    end if;
    if p_changes ? 'tags' then
        perform core.set_listing_tags(p_listing_id, coalesce(v_tags, '{}'));
    end if;
    -- a new title, description or photos edits the channel posts (ADR 0009)
    perform core.sync_channel_posts(p_listing_id);
    if v_by_moderator then
        perform core.audit(v_user.id, 'edit_listing', v_listing.seller_id, v_listing.shop_id, null,
                           jsonb_build_object('listing_id', p_listing_id, 'changes', p_changes));
    end if;
end
$$;
comment on function api.edit_listing(text, bigint, jsonb) is
'Change some fields of a listing: title, description, brand, model_id, region, city, quantity, '
'contact_name, contact_phone (JSON strings or whole numbers as their type), attributes (re-checked), '
'photos (ordered keys), tags (the whole list, normalised, at most max_tags_per_listing); the result '
'passes the same rules as a new listing (core.check_listing). The seller side edits '
'their listing; a moderator edits one waiting for moderation (audited). Prices: api.change_price. '
'28000/42501 token; 42501 not allowed; P0002 no listing; 55000 sold, or a quantity under the units '
'reserved by open orders; 22023 bad change.';

create or replace function api.submit_listing(p_token text, p_listing_id bigint) returns text
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
begin
    return core.seller_transition(p_token, p_listing_id, 'pending');
end
$$;
comment on function api.submit_listing(text, bigint) is
'Send a draft (or a rejected, expired or archived listing) to moderation. 28000/42501 token; 42501 not '
'the seller; P0002 no listing; 55000 not from that state.';

create or replace function api.archive_listing(p_token text, p_listing_id bigint) returns text
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
begin
    return core.seller_transition(p_token, p_listing_id, 'archived');
end
$$;
comment on function api.archive_listing(text, bigint) is
'Take a listing off the marketplace (kept, can be resubmitted). 28000/42501 token; 42501 not the seller; '
'P0002 no listing; 55000 reserved or sold.';

create or replace function api.mark_listing_sold(p_token text, p_listing_id bigint) returns text
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
begin
    return core.seller_transition(p_token, p_listing_id, 'sold');
end
$$;
comment on function api.mark_listing_sold(text, bigint) is
'Mark a published or reserved listing sold. 28000/42501 token; 42501 not the seller; P0002; 55000.';

create or replace function api.bump_listing(p_token text, p_listing_id bigint) returns timestamptz
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_user core.users := core.authenticate(p_token);
    v_listing core.listings := core.lock_listing(p_listing_id);
    v_interval interval := core.setting_interval('bump_interval');
begin
    perform core.require_listing_manager(v_user, v_listing);
    if v_listing.status <> 'published' then
        raise exception using errcode = '55000', message = 'only a published listing can be bumped';
    end if;
    if v_listing.bumped_at > now() - v_interval then
        raise exception using
            errcode = 'BZ429',
            message = 'this listing was bumped recently',
            hint = format('it can be bumped again after %s',
                          to_char(v_listing.bumped_at + v_interval, 'YYYY-MM-DD HH24:MI TZ'));
    end if;
    update core.listings as l set sort_date = now(), bumped_at = now() where l.id = p_listing_id;
    return now();
end
$$;
comment on function api.bump_listing(text, bigint) is
'Move a published listing to the top of the feed (its sort date; created_at stays), at most once per '
'bump_interval. 28000/42501 token; 42501 not the seller; P0002; 55000 not published; BZ429 too soon.';

create or replace function api.change_price(
    p_token text,
    p_listing_id bigint,
    p_price_amount bigint,
    p_wholesale_price_amount bigint default null,
    p_wholesale_min_quantity integer default null
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
    perform core.require_listing_manager(v_user, v_listing);
    if v_listing.status in ('sold', 'reserved') then
        raise exception using errcode = '55000', message = format('a %s listing keeps its price', v_listing.status);
    end if;
    perform core.check_price(p_price_amount, v_listing.currency, p_wholesale_price_amount, p_wholesale_min_quantity);
    if (p_price_amount, p_wholesale_price_amount, p_wholesale_min_quantity)
        is not distinct from (v_listing.price_amount, v_listing.wholesale_price_amount, v_listing.wholesale_min_quantity) then
        return;
    end if;
    update core.listings as l set
        price_amount = p_price_amount,
        wholesale_price_amount = p_wholesale_price_amount,
        wholesale_min_quantity = p_wholesale_min_quantity
    where l.id = p_listing_id;
    insert into core.listing_price_history
    (listing_id, price_amount, currency, wholesale_price_amount, wholesale_min_quantity, changed_by)
    values (p_listing_id, p_price_amount, v_listing.currency, p_wholesale_price_amount, p_wholesale_min_quantity,
            v_user.id);
    if p_price_amount < v_listing.price_amount and v_listing.status = 'published' then
        -- a price drop reaches, once each, everyone who saved the listing or opened its contacts
        perform core.notify(interested.user_id, 'price_drop',
                            jsonb_build_object('listing_id', p_listing_id, 'title', v_listing.title,
                                               'old_price', v_listing.price_amount, 'new_price', p_price_amount,
                                               'currency', v_listing.currency))
        from (
            select f.user_id from core.favorites as f where f.listing_id = p_listing_id
            union
            select c.viewer_id from core.contact_clicks as c
            where c.listing_id = p_listing_id and c.viewer_id is not null
        ) as interested
        where interested.user_id <> v_listing.seller_id;
    end if;
end
$$;
comment on function api.change_price(text, bigint, bigint, bigint, integer) is
'Set the unit price and the optional wholesale price with its minimum quantity (minor units); every '
'change is kept in the price history; a drop notifies, once each, those who saved the listing or opened '
'its contacts. 28000/42501 token; 42501 not the seller; P0002; 55000 reserved '
'or sold; 22023 bad price.';

create or replace function api.price_history(p_listing_id bigint)
returns table (
    changed_at timestamptz,
    price_amount bigint,
    currency text,
    wholesale_price_amount bigint,
    wholesale_min_quantity integer
)
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
begin
    if not exists (select from core.listings as l where l.id = p_listing_id and l.status in ('published', 'reserved', 'sold')) then
        raise exception using errcode = 'P0002', message = format('no listing %s', p_listing_id);
    end if;
    return query
    select h.changed_at, h.price_amount, h.currency, h.wholesale_price_amount, h.wholesale_min_quantity
    from core.listing_price_history as h where h.listing_id = p_listing_id order by h.id;
end
$$;
comment on function api.price_history(bigint) is
'Every price of a public listing, oldest first; no token needed. P0002 unknown or not public.';

create or replace function api.listing_history(p_token text, p_listing_id bigint)
returns table (changed_at timestamptz, from_status text, to_status text, changed_by bigint, reason text)
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_user core.users := core.authenticate(p_token);
    v_listing core.listings;
begin
    v_listing := core.find_listing(p_listing_id);
    if v_user.role < 'moderator' then
        perform core.require_listing_manager(v_user, v_listing);
    end if;
    return query
    select h.changed_at, h.from_status::text, h.to_status::text, h.changed_by, h.reason
    from core.listing_status_history as h where h.listing_id = p_listing_id order by h.id;
end
$$;
comment on function api.listing_history(text, bigint) is
'The status history of a listing (its seller side and staff). 28000/42501 token; 42501; P0002.';

create or replace function api.my_listings(p_token text, p_status text default null)
returns table (
    listing_id bigint, kind text, title text, status text, price_amount bigint, currency text,
    created_at timestamptz, sort_date timestamptz, shop_id bigint
)
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_user core.users := core.authenticate(p_token);
begin
    if p_status is not null and not p_status = any(enum_range(null::core.listing_status)::text[]) then
        perform core.raise_invalid(format('unknown status %s', core.quoted(p_status)));
    end if;
    return query
    select l.id, l.kind::text, l.title, l.status::text, l.price_amount, l.currency, l.created_at, l.sort_date,
        l.shop_id
    from core.listings as l
    where l.seller_id = v_user.id and (p_status is null or l.status::text = p_status)
    order by l.sort_date desc, l.id desc;
end
$$;
comment on function api.my_listings(text, text) is
'The signed-in user''s own listings in any status (or one status), newest first. 28000/42501; 22023.';

create or replace function api.add_fitment(
    p_token text, p_listing_id bigint, p_model_id bigint, p_year_from integer, p_year_to integer
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
    if v_user.role < 'moderator' then
        perform core.require_listing_manager(v_user, v_listing);
    end if;
    if v_listing.kind <> 'part' then
        perform core.raise_invalid('fitment is for part listings');
    end if;
    if not exists (select from core.vehicle_models as m where m.id = p_model_id) then
        perform core.raise_invalid(format('unknown vehicle model %s', p_model_id));
    end if;
    if p_year_from is null or p_year_to is null or p_year_from not between 1950 and 2100 or p_year_to < p_year_from then
        perform core.raise_invalid('years must be 1950-2100 with year_from <= year_to');
    end if;
    insert into core.part_fitments (listing_id, model_id, year_from, year_to, added_by)
    values (p_listing_id, p_model_id, p_year_from, p_year_to, v_user.id)
    on conflict (listing_id, model_id, year_from) do update set year_to = excluded.year_to;
    if v_user.role >= 'moderator' and not core.may_manage_listing(v_user, v_listing) then
        perform core.audit(v_user.id, 'add_fitment', v_listing.seller_id, v_listing.shop_id, null,
                           jsonb_build_object('listing_id', p_listing_id, 'model_id', p_model_id,
                                              'years', format('%s-%s', p_year_from, p_year_to)));
    end if;
end
$$;
comment on function api.add_fitment(text, bigint, bigint, integer, integer) is
'Say a part fits a vehicle model for some years (moderators, or the seller side). 28000/42501 token; '
'42501 not allowed; P0002 no listing; 22023 not a part, unknown model, bad years.';

create or replace function api.remove_fitment(
    p_token text, p_listing_id bigint, p_model_id bigint, p_year_from integer
)
returns void
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_user core.users := core.authenticate(p_token);
    v_listing core.listings := core.lock_listing(p_listing_id);
begin
    if v_user.role < 'moderator' then
        perform core.require_listing_manager(v_user, v_listing);
    end if;
    delete from core.part_fitments as f
    where f.listing_id = p_listing_id and f.model_id = p_model_id and f.year_from = p_year_from;
    if not found then
        raise exception using errcode = 'P0002', message = 'no such fitment on this listing';
    end if;
end
$$;
comment on function api.remove_fitment(text, bigint, bigint, integer) is
'Remove a fitment (moderators, or the seller side). 28000/42501; 42501; P0002.';
