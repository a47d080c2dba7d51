-- What a listing may hold: its kind, attributes, texts, price, photos; one check for create and edit.

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
    -- 10^11 minor units (a billion roubles): every order total fits a bigint (V0013)
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

create or replace function core.check_photo_keys(p_keys text[]) returns text[]
language plpgsql
stable
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
    return coalesce(p_keys, '{}');
end
$$;
comment on function core.check_photo_keys(text[]) is
'A listing''s photos as ordered storage keys (at most max_photos, no duplicates, letters, digits, / . _ '
'-): the keys, or 22023.';

create or replace function core.set_listing_photos(p_listing_id bigint, p_keys text[]) returns integer
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
as $$
declare
    v_count integer := cardinality(core.check_photo_keys(p_keys));
begin
    delete from core.listing_photos as p where p.listing_id = p_listing_id;
    insert into core.listing_photos (listing_id, position, storage_key)
    select p_listing_id, k.position, k.key from unnest(p_keys) with ordinality as k (key, position);
    update core.listings as l set photo_count = v_count where l.id = p_listing_id;
    return v_count;
end
$$;
comment on function core.set_listing_photos(bigint, text[]) is
'Replace a listing''s photos with the ordered storage keys (at most max_photos, no duplicates).';

create or replace function core.attributes_problem(
    p_kind core.listing_kind, p_category_id bigint, p_attributes jsonb
) returns text
language plpgsql
stable
set search_path = pg_catalog, pg_temp
as $$
begin
    if core.check_attributes(p_kind, p_category_id, p_attributes) is distinct from p_attributes then
        return 'not in normal form';
    end if;
    return null;
exception when invalid_parameter_value then
    return sqlerrm;
end
$$;
comment on function core.attributes_problem(core.listing_kind, bigint, jsonb) is
'Why stored attributes are not what core.check_attributes makes of them for the kind and category '
'(its message, or "not in normal form"), or NULL when they are: the integrity report''s attribute rule.';
