create or replace function core.shop_role(p_user_id bigint, p_shop_id bigint) returns core.shop_member_role
language sql
stable
set search_path = pg_catalog, pg_temp
as $$
    select m.role from core.shop_members as m where m.shop_id = p_shop_id and m.user_id = p_user_id
$$;
comment on function core.shop_role(bigint, bigint) is
'The role of a user in a shop, or NULL when not a member.';

create or replace function core.has_role_on_shop(
    p_user_id bigint, p_shop_id bigint, p_roles core.shop_member_role[] default null
) returns boolean
language sql
stable
set search_path = pg_catalog, pg_temp
as $$
    select coalesce(core.shop_role(p_user_id, p_shop_id) = any(coalesce(p_roles, enum_range(null::core.shop_member_role))), false)
$$;
comment on function core.has_role_on_shop(bigint, bigint, core.shop_member_role[]) is
'May this user act for this shop: a member with one of P_ROLES (any role when NULL). '
'The one check all shop rules use.';

create or replace function core.require_shop_role(
    p_user_id bigint, p_shop_id bigint, p_roles core.shop_member_role[], p_action text
) returns void
language plpgsql
stable
set search_path = pg_catalog, pg_temp
as $$
begin
    if not exists (select from core.shops as s where s.id = p_shop_id) then
        raise exception using errcode = 'P0002', message = format('no shop %s', p_shop_id);
    end if;
    if not core.has_role_on_shop(p_user_id, p_shop_id, p_roles) then
        raise exception using
            errcode = '42501',
            message = format('only a shop %s may %s', array_to_string(p_roles, ' or '), p_action);
    end if;
end
$$;
comment on function core.require_shop_role(bigint, bigint, core.shop_member_role[], text) is
'P0002 when the shop does not exist; 42501 unless the user has one of P_ROLES in it.';

create or replace function core.require_another_owner(p_shop_id bigint, p_user_id bigint) returns void
language plpgsql
stable
set search_path = pg_catalog, pg_temp
as $$
begin
    if not exists (
        select from core.shop_members as m
        where m.shop_id = p_shop_id and m.role = 'owner' and m.user_id <> p_user_id
    ) then
        raise exception using
            errcode = '55000',
            message = 'a shop always keeps an owner',
            hint = 'make another member an owner first',
            detail = '{"reason": "last_owner"}';
    end if;
end
$$;
comment on function core.require_another_owner(bigint, bigint) is
'55000 unless the shop has an owner other than P_USER_ID: checked before an owner leaves or is demoted.';

create or replace function core.shop_member_role(p_role text) returns core.shop_member_role
language plpgsql
immutable
set search_path = pg_catalog, pg_temp
as $$
begin
    if p_role is null or p_role not in ('owner', 'manager', 'seller') then
        perform core.raise_invalid(format('unknown shop role %s', core.quoted(p_role)), 'roles are owner, manager and seller');
    end if;
    return p_role::core.shop_member_role;
end
$$;
comment on function core.shop_member_role(text) is
'Parse a shop role (owner|manager|seller); 22023 otherwise.';

create or replace function core.acts_for_seller(p_user_id bigint, p_seller_id bigint, p_shop_id bigint)
returns boolean
language plpgsql
stable
set search_path = pg_catalog, pg_temp
as $$
begin
    if p_shop_id is null then
        return p_seller_id = p_user_id;
    end if;
    -- for a shop: its owners and managers, and the member who published, while still a member
    return core.has_role_on_shop(p_user_id, p_shop_id, '{owner,manager}')
        or (p_seller_id = p_user_id and core.has_role_on_shop(p_user_id, p_shop_id));
end
$$;
comment on function core.acts_for_seller(bigint, bigint, bigint) is
'May this user act as the seller of something sold by P_SELLER_ID, for shop P_SHOP_ID if any: the '
'person themself; for a shop, its owners and managers, and the seller only while still a member.';

-- A shop always keeps an owner: checked at commit, after every change of membership.
-- SECURITY DEFINER: a deferred trigger fires at COMMIT, after the api function that changed the
-- row has returned, so it runs as the session user (bazaar_app), who cannot read core.
create or replace function core.check_shop_keeps_owner() returns trigger
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
begin
    if exists (select from core.shops as s where s.id = old.shop_id)
        and not exists (
            select from core.shop_members as m where m.shop_id = old.shop_id and m.role = 'owner'
        ) then
        raise exception using
            errcode = '55000',
            message = format('shop %s would be left without an owner', old.shop_id),
            hint = 'make another member the owner first',
            detail = '{"reason": "last_owner"}';
    end if;
    return null;
end
$$;
comment on function core.check_shop_keeps_owner() is
'Constraint trigger: a shop that still exists has at least one owner at commit.';

create or replace function core.add_shop_member(
    p_owner core.users, p_shop_id bigint, p_member core.users, p_role text
) returns void
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
as $$
begin
    if p_member.blocked_at is not null then
        raise exception using errcode = '55000', message = 'a blocked user cannot join a shop',
            detail = '{"reason": "user_blocked"}';
    end if;
    if core.shop_role(p_member.id, p_shop_id) is not null then
        raise exception using
            errcode = '23505',
            message = format('user %s is already a member of this shop', p_member.id),
            hint = 'change their role instead';
    end if;
    insert into core.shop_members (shop_id, user_id, role, added_by)
    values (p_shop_id, p_member.id, core.shop_member_role(p_role), p_owner.id);
end
$$;
comment on function core.add_shop_member(core.users, bigint, core.users, text) is
'Make P_MEMBER a member of the shop with P_ROLE, added by P_OWNER: 55000 blocked; 23505 already a member.';
