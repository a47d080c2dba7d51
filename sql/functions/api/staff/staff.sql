create or replace function api.set_user_role(
    p_token text, p_user_id bigint, p_role text, p_reason text default null
)
returns void
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_admin core.users := core.authenticate(p_token);
    v_target core.users;
begin
    perform core.require_platform_role(v_admin, 'admin');
    if p_role is null or p_role not in ('user', 'moderator', 'admin') then
        perform core.raise_invalid(format('unknown role %s', core.quoted(p_role)), 'roles are user, moderator and admin');
    end if;
    perform core.check_length(p_reason, 'the reason', 500);
    select u.* into v_target from core.users as u where u.id = p_user_id for update;
    if not found then
        raise exception using errcode = 'P0002', message = format('no user %s', p_user_id);
    end if;
    if v_target.role = p_role::core.user_role then
        raise exception using errcode = '55000', message = format('user %s is already a %s', p_user_id, p_role),
            detail = '{"reason": "role_unchanged"}';
    end if;
    if v_target.blocked_at is not null and p_role <> 'user' then
        raise exception using errcode = '55000', message = 'a blocked user cannot be given staff powers',
            detail = '{"reason": "user_blocked"}';
    end if;
    -- role changes of admins are serialised, so two admins demoting themselves at once cannot both
    -- see the other one still there
    perform pg_advisory_xact_lock(hashtextextended('bazaar:admins', 0));
    if v_target.role = 'admin' and not exists (
        select from core.users as u where u.role = 'admin' and u.id <> v_target.id and u.blocked_at is null
    ) then
        raise exception using errcode = '55000', message = 'the marketplace always keeps an admin',
            hint = 'appoint another admin first',
            detail = '{"reason": "last_admin"}';
    end if;
    update core.users as u set role = p_role::core.user_role where u.id = v_target.id;
    perform core.audit(v_admin.id, 'set_user_role', v_target.id, null, nullif(btrim(p_reason), ''),
                       jsonb_build_object('from', v_target.role, 'to', p_role));
end
$$;
comment on function api.set_user_role(text, bigint, text, text) is
'Admins appoint or remove moderators and admins (role user|moderator|admin); audited. 28000 bad token; '
'42501 not an admin; P0002 no user; 22023 bad role, reason over 500; 55000 no change, blocked target, or '
'last admin.';

create or replace function api.block_user(p_token text, p_user_id bigint, p_reason text) returns void
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_admin core.users := core.authenticate(p_token);
    v_reason text := core.clean_name(p_reason, 'the reason', 3, 500);
    v_target core.users;
begin
    perform core.require_platform_role(v_admin, 'admin');
    select u.* into v_target from core.users as u where u.id = p_user_id for update;
    if not found then
        raise exception using errcode = 'P0002', message = format('no user %s', p_user_id);
    end if;
    if v_target.id = v_admin.id then
        perform core.raise_invalid('you cannot block yourself');
    end if;
    if v_target.role = 'admin' then
        raise exception using errcode = '42501', message = 'an admin cannot be blocked',
            hint = 'remove the admin role first';
    end if;
    if v_target.blocked_at is not null then
        raise exception using errcode = '55000', message = format('user %s is already blocked', p_user_id),
            detail = '{"reason": "already_blocked"}';
    end if;
    update core.users as u
    set blocked_at = now(), blocked_reason = v_reason, blocked_by = v_admin.id
    where u.id = v_target.id;
    -- sessions stop working at once (core.authenticate also checks blocked_at)
    perform core.end_sessions(v_target.id);
    perform core.set_seller_blocked(v_target.id, true);
    perform core.audit(v_admin.id, 'block_user', v_target.id, null, v_reason);
end
$$;
comment on function api.block_user(text, bigint, text) is
'Block a user (admins; reason 3-500 chars): their sessions end at once; they cannot sign in, post, chat '
'or order; their listings leave search, cards, contacts and channels (marked off sale) until unblocked. '
'Audited. 28000 bad token; 42501 not an admin or target is an admin; P0002 no user; '
'22023 bad reason or self; 55000 already blocked.';

create or replace function api.unblock_user(p_token text, p_user_id bigint, p_reason text default null)
returns void
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_admin core.users := core.authenticate(p_token);
    v_target core.users;
begin
    perform core.require_platform_role(v_admin, 'admin');
    perform core.check_length(p_reason, 'the reason', 500);
    select u.* into v_target from core.users as u where u.id = p_user_id for update;
    if not found then
        raise exception using errcode = 'P0002', message = format('no user %s', p_user_id);
    end if;
    if v_target.blocked_at is null then
        raise exception using errcode = '55000', message = format('user %s is not blocked', p_user_id),
            detail = '{"reason": "not_blocked"}';
    end if;
    update core.users as u set blocked_at = null, blocked_reason = null, blocked_by = null where u.id = v_target.id;
    perform core.set_seller_blocked(v_target.id, false);
    perform core.audit(v_admin.id, 'unblock_user', v_target.id, null, nullif(btrim(p_reason), ''),
                       jsonb_build_object('was_blocked_for', v_target.blocked_reason));
end
$$;
comment on function api.unblock_user(text, bigint, text) is
'Lift a block (admins): the user''s listings are public again as they were; old sessions stay ended. '
'Audited. 28000 bad token; 42501 not an admin; '
'P0002 no user; 55000 not blocked; 22023 reason over 500.';

create or replace function api.audit_log(
    p_token text, p_limit integer default 50, p_before_id bigint default null
)
returns table (
    id bigint,
    created_at timestamptz,
    actor_id bigint,
    actor_name text,
    action text,
    target_user_id bigint,
    target_shop_id bigint,
    reason text,
    details jsonb
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
    select a.id, a.created_at, a.actor_id, u.display_name, a.action, a.target_user_id, a.target_shop_id,
        a.reason, a.details
    from core.audit_log as a left join core.users as u on u.id = a.actor_id
    where p_before_id is null or a.id < p_before_id
    order by a.id desc
    limit p_limit;
end
$$;
comment on function api.audit_log(text, integer, bigint) is
'Staff actions, newest first, P_LIMIT (1-500) at a time before P_BEFORE_ID (read-only: nothing in api '
'edits the log). Moderators and admins. 28000 bad token; 42501 not staff; 22023 bad limit.';
