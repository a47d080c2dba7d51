create or replace function ops.bootstrap_admin(p_identifier text) returns bigint
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
as $$
declare
    v_user core.users;
begin
    if exists (select from core.users as u where u.role = 'admin') then
        raise exception using errcode = '55000', message = 'the marketplace already has an admin',
            hint = 'an admin appoints others with api.set_user_role',
            detail = '{"reason": "admin_exists"}';
    end if;
    if position('@' in coalesce(p_identifier, '')) > 0 then
        select u.* into v_user from core.users as u where u.email = core.normalize_email(p_identifier) for update;
    else
        select u.* into v_user from core.users as u where u.phone = core.normalize_phone(p_identifier) for update;
    end if;
    if v_user.id is null then
        raise exception using errcode = 'P0002', message = format('no user with email or phone %s', core.quoted(p_identifier));
    end if;
    update core.users as u set role = 'admin' where u.id = v_user.id;
    perform core.audit(null, 'bootstrap_admin', v_user.id, null, 'first admin, appointed by an operator');
    return v_user.id;
end
$$;
comment on function ops.bootstrap_admin(text) is
'Operators only (admin DSN): make the first admin of an empty marketplace. 55000 when an admin exists; '
'P0002 unknown email/phone.';
