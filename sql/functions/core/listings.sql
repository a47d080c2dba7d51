-- Listing rules shared by the api functions: attribute checks, who may edit, the status machine.

create or replace function core.check_attributes(
    p_kind core.listing_kind, p_category_id bigint, p_attributes jsonb
) returns jsonb
language plpgsql
stable
set search_path = pg_catalog, pg_temp
as $$
declare
    v_path bigint[];
    v_def core.attribute_definitions;
    v_key text;
    v_value jsonb;
    v_text text;
    v_number numeric;
    v_result jsonb := '{}';
begin
    if p_attributes is null or jsonb_typeof(p_attributes) <> 'object' then
        perform core.raise_invalid('attributes must be a JSON object');
    end if;
    select c.path into v_path from core.categories as c where c.id = p_category_id;
    -- unknown attributes are refused: a typo must not be stored silently
    for v_key in select jsonb_object_keys(p_attributes) loop
        if not exists (
            select from core.attribute_definitions as d
            where d.kind = p_kind and d.name = v_key and (d.category_id is null or d.category_id = any(v_path))
        ) then
            perform core.raise_invalid(
                format('attribute %s does not exist for %s listings in this category', core.quoted(v_key), p_kind)
            );
        end if;
        if jsonb_typeof(p_attributes -> v_key) in ('object', 'array') then
            perform core.raise_invalid(format('attribute "%s" must be a single value, not a JSON %s',
                                              v_key, jsonb_typeof(p_attributes -> v_key)));
        end if;
    end loop;
    for v_def in
        select d.* from core.attribute_definitions as d
        where d.kind = p_kind and (d.category_id is null or d.category_id = any(v_path))
        order by d.name
    loop
        v_value := p_attributes -> v_def.name;
        if v_value is null or v_value = 'null'::jsonb or btrim(v_value #>> '{}') = '' then
            if v_def.required then
                perform core.raise_invalid(format('attribute "%s" (%s) is required', v_def.name, v_def.label));
            end if;
            continue;
        end if;
        v_text := btrim(v_value #>> '{}');
        case v_def.value_type
            when 'integer' then
                -- stored as a JSON integer whatever the spelling (2015, 2015.0, "2015"), so every
                -- reader compares it as one
                v_result := v_result || jsonb_build_object(v_def.name, core.json_whole_number(
                    v_value, format('attribute "%s"', v_def.name), coalesce(v_def.min_value, -2147483648),
                    coalesce(v_def.max_value, 2147483647)));
            when 'number' then
                v_number := core.json_number(v_value, format('attribute "%s"', v_def.name),
                                             coalesce(v_def.min_value, -1e15), coalesce(v_def.max_value, 1e15));
                v_result := v_result || jsonb_build_object(v_def.name, trim_scale(v_number));
            when 'boolean' then
                if lower(v_text) not in ('true', 'false') then
                    perform core.raise_invalid(format('attribute "%s" must be true or false', v_def.name));
                end if;
                v_result := v_result || jsonb_build_object(v_def.name, lower(v_text)::boolean);
            when 'enum' then
                if not v_text = any(v_def.allowed_values) then
                    perform core.raise_invalid(
                        format('attribute "%s" must be one of %s, not %s',
                               v_def.name, array_to_string(v_def.allowed_values, ', '), core.quoted(v_text))
                    );
                end if;
                v_result := v_result || jsonb_build_object(v_def.name, v_text);
            else
                if char_length(v_text) > v_def.max_length then
                    perform core.raise_invalid(
                        format('attribute "%s" must be at most %s characters long', v_def.name, v_def.max_length)
                    );
                end if;
                if v_def.pattern is not null and v_text !~ v_def.pattern then
                    perform core.raise_invalid(format('attribute "%s" has the wrong format: %s', v_def.name,
                                                      core.quoted(v_text)));
                end if;
                v_result := v_result || jsonb_build_object(v_def.name, v_text);
        end case;
    end loop;
    return v_result;
end
$$;
comment on function core.check_attributes(core.listing_kind, bigint, jsonb) is
'Check listing attributes against the definitions of the kind and of the category and its ancestors; '
'returns them normalised (whole numbers as JSON integers, numbers as numbers, trimmed text). 22023 '
'naming the attribute otherwise.';

create or replace function core.listing_kind(p_kind text) returns core.listing_kind
language plpgsql
immutable
set search_path = pg_catalog, pg_temp
as $$
begin
    if p_kind is null or p_kind not in ('car', 'part', 'service') then
        perform core.raise_invalid(format('unknown listing kind %s', core.quoted(p_kind)),
                                   'kinds are car, part and service');
    end if;
    return p_kind::core.listing_kind;
end
$$;
comment on function core.listing_kind(text) is 'Parse a listing kind (car|part|service); 22023 otherwise.';

create or replace function core.lock_listing(p_listing_id bigint) returns core.listings
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
as $$
declare
    v_listing core.listings;
begin
    select l.* into v_listing from core.listings as l where l.id = p_listing_id for update;
    if not found then
        raise exception using errcode = 'P0002', message = format('no listing %s', p_listing_id);
    end if;
    return v_listing;
end
$$;
comment on function core.lock_listing(
    bigint
) is 'Lock a listing row for a change; P0002 when it does not exist.';

create or replace function core.visible_listing(p_listing_id bigint, p_token text) returns core.listings
language plpgsql
stable
set search_path = pg_catalog, pg_temp
as $$
declare
    v_listing core.listings;
    v_viewer core.users;
begin
    select l.* into v_listing from core.listings as l where l.id = p_listing_id;
    if v_listing.id is null or v_listing.status not in ('published', 'reserved', 'sold') then
        -- not public: only its seller side and staff see it, with a valid token
        if p_token is not null then
            v_viewer := core.authenticate(p_token);
        end if;
        if v_listing.id is null or v_viewer.id is null
            or not (core.may_manage_listing(v_viewer, v_listing) or v_viewer.role >= 'moderator') then
            raise exception using errcode = 'P0002', message = format('no listing %s', p_listing_id);
        end if;
    end if;
    return v_listing;
end
$$;
comment on function core.visible_listing(bigint, text) is
'The listing if the viewer may see it: anyone when published, reserved or sold; otherwise its seller '
'side or staff (P_TOKEN). P0002 otherwise (28000/42501 for a bad token).';

create or replace function core.may_manage_listing(p_user core.users, p_listing core.listings) returns boolean
language plpgsql
stable
set search_path = pg_catalog, pg_temp
as $$
begin
    return core.acts_for_seller(p_user.id, p_listing.seller_id, p_listing.shop_id);
end
$$;
comment on function core.may_manage_listing(core.users, core.listings) is
'The listing''s seller (while still a member of its shop, if it has one), or an owner or manager of '
'that shop: core.acts_for_seller.';

create or replace function core.require_listing_manager(
    p_user core.users, p_listing core.listings
) returns void
language plpgsql
stable
set search_path = pg_catalog, pg_temp
as $$
begin
    if not core.may_manage_listing(p_user, p_listing) then
        raise exception using
            errcode = '42501',
            message = 'only the seller (or an owner or manager of the shop) may change this listing';
    end if;
end
$$;
comment on function core.require_listing_manager(core.users, core.listings) is
'42501 unless the user may manage the listing (see core.may_manage_listing).';

create or replace function core.transition_listing(
    p_listing core.listings, p_to core.listing_status, p_actor_id bigint, p_reason text default null
) returns core.listings
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
as $$
declare
    v_row core.listings;
    v_lifetime interval;
begin
    if not exists (
        select from core.listing_transitions as t where t.from_status = p_listing.status and t.to_status = p_to
    ) then
        raise exception using
            errcode = '55000',
            message = format('a %s listing cannot become %s', p_listing.status, p_to);
    end if;
    select c.listing_lifetime into v_lifetime from core.categories as c where c.id = p_listing.category_id;
    update core.listings as l set
        status = p_to,
        status_changed_at = now(),
        rejection_reason = case when p_to = 'rejected' then p_reason end,
        published_at = case when p_to = 'published' then coalesce(l.published_at, now()) else l.published_at end,
        expires_at = case when p_to = 'published' and p_listing.status = 'pending' then now() + v_lifetime
                          else l.expires_at end,
        sort_date = case when p_to = 'published' and p_listing.status = 'pending' then now() else l.sort_date end
    where l.id = p_listing.id
    returning l.* into v_row;
    insert into core.listing_status_history (listing_id, from_status, to_status, changed_by, reason)
    values (p_listing.id, p_listing.status, p_to, p_actor_id, p_reason);
    if p_to = 'published' and p_listing.status = 'pending' then
        -- saved searches are matched after the commit, by ops.match_saved_searches: no saved
        -- search can fail or slow down a publication
        insert into core.saved_search_queue (listing_id) values (p_listing.id) on conflict do nothing;
        perform core.publish_to_channels(v_row);
    else
        -- reserved, sold, archived, back on sale: the channel posts show the new status
        perform core.sync_channel_posts(p_listing.id);
    end if;
    return v_row;
end
$$;
comment on function core.transition_listing(core.listings, core.listing_status, bigint, text) is
'Move a listing along core.listing_transitions (55000 for any other move), recording the history; '
'publishing from moderation starts the category''s lifetime, puts it on top of the feed, queues it for '
'saved-search matching and posts it to the matching Telegram channels; other moves queue an edit of its '
'channel posts when what they show changes.';

create or replace function core.check_listing(p_listing core.listings) returns core.listings
language plpgsql
stable
set search_path = pg_catalog, pg_temp
as $$
declare
    v_listing core.listings := p_listing;
begin
    -- every rule on what a listing holds, for create and edit alike
    v_listing.title := btrim(v_listing.title);
    v_listing.description := coalesce(btrim(v_listing.description), '');
    v_listing.region := btrim(v_listing.region);
    v_listing.city := btrim(v_listing.city);
    perform core.check_listing_text(v_listing.title, v_listing.description, v_listing.region, v_listing.city);
    perform core.check_price(v_listing.price_amount, v_listing.currency, v_listing.wholesale_price_amount,
                             v_listing.wholesale_min_quantity);
    if v_listing.quantity is null or v_listing.quantity not between 1 and 1000000 then
        perform core.raise_invalid('the quantity must be 1 to 1000000 (mark the listing sold instead of 0)');
    end if;
    v_listing.brand := nullif(btrim(core.check_length(v_listing.brand, 'the brand', 60)), '');
    if v_listing.brand ~ '[[:cntrl:]]' then
        perform core.raise_invalid('the brand must not contain control characters');
    end if;
    v_listing.contact_name := nullif(btrim(v_listing.contact_name), '');
    if v_listing.contact_name is not null then
        v_listing.contact_name := core.clean_name(v_listing.contact_name, 'the contact name', 1, 80);
    end if;
    v_listing.contact_phone := core.normalize_phone(nullif(btrim(v_listing.contact_phone), ''));
    if v_listing.kind = 'car' and v_listing.model_id is null then
        perform core.raise_invalid('a car listing needs a model from the vehicle catalog');
    end if;
    if v_listing.model_id is not null
        and not exists (select from core.vehicle_models as m where m.id = v_listing.model_id) then
        perform core.raise_invalid(format('unknown vehicle model %s', v_listing.model_id));
    end if;
    v_listing.attributes := core.check_attributes(v_listing.kind, v_listing.category_id, v_listing.attributes);
    return v_listing;
end
$$;
comment on function core.check_listing(core.listings) is
'A listing''s content checked and normalised, the one rule for api.create_listing and api.edit_listing: '
'texts (core.check_listing_text), price (core.check_price), quantity 1-1000000, brand up to 60, contact '
'name up to 80 and phone (E.164), a car''s model, attributes (core.check_attributes). 22023 naming the '
'first bad field.';

create or replace function core.check_listing_text(
    p_title text, p_description text, p_region text, p_city text
) returns void
language plpgsql
immutable
set search_path = pg_catalog, pg_temp
as $$
begin
    perform core.clean_name(p_title, 'title', 3, 120);
    perform core.clean_name(p_region, 'region', 2, 80);
    perform core.clean_name(p_city, 'city', 2, 80);
    if char_length(coalesce(p_description, '')) > 5000 then
        perform core.raise_invalid('the description must be at most 5000 characters long');
    end if;
end
$$;
comment on function core.check_listing_text(text, text, text, text) is
'Title 3-120 characters, region and city 2-80, description up to 5000; 22023 otherwise.';

create or replace function core.check_price(
    p_price bigint, p_currency text, p_wholesale_price bigint, p_wholesale_min_quantity integer
) returns void
language plpgsql
immutable
set search_path = pg_catalog, pg_temp
as $$
begin
    -- 10^11 minor units (a billion roubles): every order total fits a bigint (V0012)
    if p_price is null or p_price not between 1 and 100000000000 then
        perform core.raise_invalid('the price must be 1 to 100000000000 minor units (kopecks)');
    end if;
    if p_currency is null or p_currency !~ '^[A-Z]{3}$' then
        perform core.raise_invalid(format('%s is not a currency code', core.quoted(p_currency)),
                                   'use ISO 4217: RUB, USD, EUR');
    end if;
    if (p_wholesale_price is null) <> (p_wholesale_min_quantity is null) then
        perform core.raise_invalid('a wholesale price needs its minimum quantity, and the other way round');
    end if;
    if p_wholesale_price is not null and (p_wholesale_price <= 0 or p_wholesale_price >= p_price) then
        perform core.raise_invalid('the wholesale price must be positive and lower than the unit price');
    end if;
    if p_wholesale_min_quantity is not null and p_wholesale_min_quantity not between 2 and 1000000 then
        perform core.raise_invalid('the wholesale minimum quantity must be 2 to 1000000');
    end if;
end
$$;
comment on function core.check_price(bigint, text, bigint, integer) is
'Unit price 1 to 10^11 minor units; wholesale price (lower) and its minimum quantity (>= 2) together or not '
'at all. 22023 otherwise.';

create or replace function core.set_listing_photos(p_listing_id bigint, p_keys text[]) returns integer
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
as $$
declare
    v_count integer := coalesce(cardinality(p_keys), 0);
begin
    if v_count > core.setting_int('max_photos') then
        perform core.raise_invalid(format('at most %s photos per listing', core.setting_int('max_photos')));
    end if;
    if array_ndims(p_keys) > 1 then
        perform core.raise_invalid('photos must be a flat list of storage keys');
    end if;
    if exists (select from unnest(p_keys) as k
               where k is null or char_length(k) not between 3 and 256 or k !~ '^[A-Za-z0-9][A-Za-z0-9/._-]+$') then
        perform core.raise_invalid('a photo key is empty or has characters other than letters, digits, / . _ -');
    end if;
    if (select count(distinct k) from unnest(p_keys) as k) <> v_count then
        perform core.raise_invalid('the same photo is listed twice');
    end if;
    delete from core.listing_photos as p where p.listing_id = p_listing_id;
    insert into core.listing_photos (listing_id, position, storage_key)
    select p_listing_id, k.position, k.key from unnest(p_keys) with ordinality as k (key, position);
    update core.listings as l set photo_count = v_count where l.id = p_listing_id;
    return v_count;
end
$$;
comment on function core.set_listing_photos(bigint, text[]) is
'Replace a listing''s photos with the ordered storage keys (at most max_photos, no duplicates).';

create or replace function core.seller_transition(
    p_token text, p_listing_id bigint, p_to core.listing_status
) returns text
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
as $$
declare
    v_user core.users := core.authenticate(p_token);
    v_listing core.listings := core.lock_listing(p_listing_id);
begin
    perform core.require_listing_manager(v_user, v_listing);
    if p_to in ('sold', 'archived') and v_listing.reserved_quantity > 0 then
        raise exception using
            errcode = '55000',
            message = format('%s unit(s) are reserved by open orders', v_listing.reserved_quantity),
            hint = 'confirm or cancel those orders first';
    end if;
    return (core.transition_listing(v_listing, p_to, v_user.id)).status::text;
end
$$;
comment on function core.seller_transition(text, bigint, core.listing_status) is
'A status move the seller side makes (submit, archive, sold): authenticate, lock, check, move.';

create or replace function core.moderate_listing(
    p_token text, p_listing_id bigint, p_to core.listing_status, p_reason text
) returns text
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
as $$
declare
    v_user core.users := core.authenticate(p_token);
    v_listing core.listings := core.lock_listing(p_listing_id);
begin
    perform core.require_platform_role(v_user, 'moderator');
    if core.may_manage_listing(v_user, v_listing) then
        -- a moderator's own listing (or their shop's) is moderated by someone else
        raise exception using errcode = '42501', message = 'you cannot moderate your own listing',
            hint = 'another moderator decides on it';
    end if;
    if v_listing.status <> 'pending' then
        raise exception using
            errcode = '55000',
            message = format('a %s listing is not waiting for moderation', v_listing.status);
    end if;
    perform core.transition_listing(v_listing, p_to, v_user.id, p_reason);
    perform core.notify(v_listing.seller_id, 'moderation_' || p_to::text,
                        jsonb_build_object('listing_id', p_listing_id, 'title', v_listing.title, 'reason', p_reason));
    perform core.audit(v_user.id, case p_to when 'published' then 'approve_listing' else 'reject_listing' end,
                       v_listing.seller_id, v_listing.shop_id, p_reason,
                       jsonb_build_object('listing_id', p_listing_id));
    return p_to::text;
end
$$;
comment on function core.moderate_listing(text, bigint, core.listing_status, text) is
'A moderation decision (published or rejected with a reason): moderators only, never on a listing they '
'may manage themselves, pending listings only, audited.';

create or replace function core.sync_listing_status(p_listing_id bigint, p_actor_id bigint) returns void
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
as $$
declare
    v_listing core.listings;
begin
    select l.* into v_listing from core.listings as l where l.id = p_listing_id;
    -- on sale with every unit held: reserved; reserved with a unit free again: on sale
    if v_listing.status = 'published' and v_listing.reserved_quantity > 0
        and v_listing.quantity = v_listing.reserved_quantity then
        perform core.transition_listing(v_listing, 'reserved', p_actor_id, 'every unit reserved');
    elsif v_listing.status = 'reserved' and v_listing.quantity > v_listing.reserved_quantity then
        perform core.transition_listing(v_listing, 'published', p_actor_id, 'units available again');
    end if;
end
$$;
comment on function core.sync_listing_status(bigint, bigint) is
'Make a listing''s status follow its stock after the quantity changed: reserved when every unit is held, '
'published again when one is free.';

create or replace function core.find_listing(
    p_listing_id bigint, p_statuses core.listing_status[] default null
) returns core.listings
language plpgsql
stable
set search_path = pg_catalog, pg_temp
as $$
declare
    v_listing core.listings;
begin
    select l.* into v_listing from core.listings as l where l.id = p_listing_id;
    -- a listing outside the statuses the caller may see does not exist for that caller
    if not found or (p_statuses is not null and not v_listing.status = any(p_statuses)) then
        raise exception using errcode = 'P0002', message = format('no listing %s', p_listing_id);
    end if;
    return v_listing;
end
$$;
comment on function core.find_listing(bigint, core.listing_status[]) is
'A listing (not locked); P0002 when it does not exist or is in none of P_STATUSES (any status when NULL).';

create or replace function core.check_contact_reveals(
    p_viewer_id bigint, p_fingerprint text, p_listing_id bigint
) returns void
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
as $$
declare
    v_since timestamptz := now() - core.setting_interval('contact_reveal_window');
    v_opened bigint;
    v_again boolean;
begin
    -- one viewer's contact openings are counted one at a time
    perform pg_advisory_xact_lock(hashtextextended(format('contacts:%s:%s', p_viewer_id, p_fingerprint), 0));
    -- (two queries, so each uses its index: viewer_id or fingerprint, with clicked_at)
    if p_viewer_id is not null then
        select count(distinct c.listing_id), bool_or(c.listing_id = p_listing_id) into v_opened, v_again
        from core.contact_clicks as c where c.viewer_id = p_viewer_id and c.clicked_at > v_since;
    else
        select count(distinct c.listing_id), bool_or(c.listing_id = p_listing_id) into v_opened, v_again
        from core.contact_clicks as c where c.fingerprint = p_fingerprint and c.clicked_at > v_since;
    end if;
    if v_again then
        return;  -- the same contacts again: nothing new is revealed
    end if;
    if v_opened >= core.setting_int('contact_reveal_limit') then
        raise exception using
            errcode = 'BZ429',
            message = format('contacts of %s listings were opened within %s', v_opened,
                             core.setting('contact_reveal_window') #>> '{}'),
            hint = 'try again later';
    end if;
end
$$;
comment on function core.check_contact_reveals(bigint, text, bigint) is
'BZ429 when a viewer (user id, or anonymous fingerprint) already opened the contacts of '
'contact_reveal_limit other listings within contact_reveal_window: phone numbers cannot be harvested.';
