create or replace function api.shop_members(p_token text, p_shop_id bigint)
returns table (user_id bigint, display_name text, role text, added_at timestamptz)
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_user core.users := core.authenticate(p_token);
begin
    -- members see their shop's list; moderators and admins see every shop's
    if v_user.role = 'user' then
        perform core.require_shop_role(v_user.id, p_shop_id, '{owner,manager,seller}', 'see its members');
    elsif not exists (select from core.shops as s where s.id = p_shop_id) then
        raise exception using errcode = 'P0002', message = format('no shop %s', p_shop_id);
    end if;
    return query
    select m.user_id, u.display_name, m.role::text, m.added_at
    from core.shop_members as m join core.users as u on u.id = m.user_id
    where m.shop_id = p_shop_id
    order by m.role, u.display_name;
end
$$;
comment on function api.shop_members(text, bigint) is
'The members of a shop (visible to its members and to staff). 28000 bad token; P0002 no shop; '
'42501 not a member.';

create or replace function api.add_shop_member(
    p_token text, p_shop_id bigint, p_user_id bigint, p_role text default 'seller'
) returns void
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_user core.users := core.authenticate(p_token);
    v_member core.users;
begin
    perform core.require_shop_role(v_user.id, p_shop_id, '{owner}', 'add members');
    perform core.shop_member_role(p_role);
    select u.* into v_member from core.users as u where u.id = p_user_id;
    if not found then
        raise exception using errcode = 'P0002', message = format('no user %s', p_user_id);
    end if;
    perform core.add_shop_member(v_user, p_shop_id, v_member, p_role);
end
$$;
comment on function api.add_shop_member(text, bigint, bigint, text) is
'Add a user to a shop as owner, manager or seller (owners only). 28000 bad token; P0002 no shop or user; '
'42501 not an owner; 22023 bad role; 23505 already a member; 55000 user blocked.';

create or replace function api.invite_shop_member(
    p_token text, p_shop_id bigint, p_identifier text, p_role text default 'seller'
) returns bigint
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_user core.users := core.authenticate(p_token);
    v_member core.users;
begin
    perform core.require_shop_role(v_user.id, p_shop_id, '{owner}', 'add members');
    perform core.shop_member_role(p_role);
    v_member := core.user_by_identifier(core.identifier_key(p_identifier));
    if v_member.id is null then
        raise exception using
            errcode = 'P0002', message = 'no account has this e-mail address or phone number',
            hint = 'ask them to register first';
    end if;
    perform core.add_shop_member(v_user, p_shop_id, v_member, p_role);
    return v_member.id;
end
$$;
comment on function api.invite_shop_member(text, bigint, text, text) is
'Add the person with this e-mail address or phone number to a shop as owner, manager or seller (owners '
'only; the answer is their user id). 28000 bad token; P0002 no shop, or no account with it; 42501 not '
'an owner; 22023 bad identifier or role; 23505 already a member; 55000 user blocked.';

create or replace function api.set_shop_member_role(
    p_token text, p_shop_id bigint, p_user_id bigint, p_role text
)
returns void
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_user core.users := core.authenticate(p_token);
    v_current core.shop_member_role;
begin
    perform core.require_shop_role(v_user.id, p_shop_id, '{owner}', 'change roles');
    perform core.shop_member_role(p_role);
    select m.role into v_current from core.shop_members as m
    where m.shop_id = p_shop_id and m.user_id = p_user_id for update;
    if not found then
        raise exception using errcode = 'P0002', message = format('user %s is not a member of this shop', p_user_id);
    end if;
    if v_current = 'owner' and p_role <> 'owner' then
        perform core.require_another_owner(p_shop_id, p_user_id);
    end if;
    update core.shop_members as m set role = core.shop_member_role(p_role)
    where m.shop_id = p_shop_id and m.user_id = p_user_id;
end
$$;
comment on function api.set_shop_member_role(text, bigint, bigint, text) is
'Change a member''s role (owners only). 28000 bad token; P0002 no shop or not a member; 42501 not an '
'owner; 22023 bad role; 55000 would leave the shop without an owner.';

create or replace function api.remove_shop_member(p_token text, p_shop_id bigint, p_user_id bigint)
returns void
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_user core.users := core.authenticate(p_token);
    v_role core.shop_member_role;
begin
    -- owners remove anyone; any member may leave
    if p_user_id is distinct from v_user.id then
        perform core.require_shop_role(v_user.id, p_shop_id, '{owner}', 'remove members');
    else
        perform core.require_shop_role(v_user.id, p_shop_id, '{owner,manager,seller}', 'leave it');
    end if;
    select m.role into v_role from core.shop_members as m
    where m.shop_id = p_shop_id and m.user_id = p_user_id for update;
    if not found then
        raise exception using errcode = 'P0002', message = format('user %s is not a member of this shop', p_user_id);
    end if;
    if v_role = 'owner' then
        perform core.require_another_owner(p_shop_id, p_user_id);
    end if;
    delete from core.shop_members as m where m.shop_id = p_shop_id and m.user_id = p_user_id;
end
$$;
comment on function api.remove_shop_member(text, bigint, bigint) is
'Remove a member (owners), or leave a shop (any member). 28000 bad token; P0002 no shop or not a member; '
'42501 not an owner; 55000 the last owner cannot go.';
