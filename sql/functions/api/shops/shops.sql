create or replace function api.create_shop(p_token text, p_name text, p_description text default '')
returns bigint
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_user core.users := core.authenticate(p_token);
    v_name text := core.clean_display_name(p_name, 'shop name', 2, 100);
    v_description text := coalesce(btrim(p_description), '');
    v_id bigint;
begin
    if char_length(v_description) > 4000 then
        perform core.raise_invalid('the shop description must be at most 4000 characters long');
    end if;
    if exists (select from core.shops as s where lower(s.name) = lower(v_name)) then
        raise exception using errcode = '23505', message = format('a shop named "%s" already exists', v_name);
    end if;
    insert into core.shops (name, description, created_by) values (v_name, v_description, v_user.id)
    returning id into v_id;
    insert into core.shop_members (shop_id, user_id, role, added_by) values (v_id, v_user.id, 'owner', v_user.id);
    return v_id;
end
$$;
comment on function api.create_shop(text, text, text) is
'Create a shop owned by the signed-in user; returns its id. 28000 bad token; 42501 blocked; '
'22023 name not 2-100 chars, with control or invisible characters, or description over 4000; 23505 name '
'taken (case-insensitive).';

create or replace function api.update_shop_description(p_token text, p_shop_id bigint, p_description text)
returns void
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_user core.users := core.authenticate(p_token);
    v_description text := coalesce(btrim(p_description), '');
begin
    perform core.require_shop_role(v_user.id, p_shop_id, '{owner,manager}', 'edit the shop');
    if char_length(v_description) > 4000 then
        perform core.raise_invalid('the shop description must be at most 4000 characters long');
    end if;
    update core.shops as s set description = v_description where s.id = p_shop_id;
end
$$;
comment on function api.update_shop_description(text, bigint, text) is
'Edit a shop''s description (owners and managers). 28000 bad token; P0002 no shop; 42501 not allowed; '
'22023 over 4000 characters.';

create or replace function api.shop_profile(p_shop_id bigint)
returns table (id bigint, name text, description text, created_at timestamptz, members integer)
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
begin
    return query
    select s.id, s.name, s.description, s.created_at,
        (select count(*)::integer from core.shop_members as m where m.shop_id = s.id)
    from core.shops as s where s.id = p_shop_id;
    if not found then
        raise exception using errcode = 'P0002', message = format('no shop %s', p_shop_id);
    end if;
end
$$;
comment on function api.shop_profile(bigint) is 'Public card of a shop; no token needed. P0002 unknown shop.';

create or replace function api.my_shops(p_token text)
returns table (shop_id bigint, name text, role text, added_at timestamptz)
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_user core.users := core.authenticate(p_token);
begin
    return query
    select s.id, s.name, m.role::text, m.added_at
    from core.shop_members as m join core.shops as s on s.id = m.shop_id
    where m.user_id = v_user.id
    order by s.name;
end
$$;
comment on function api.my_shops(text) is
'The shops the signed-in user belongs to, with their role. 28000 bad token.';
