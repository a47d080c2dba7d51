create or replace function api.logout(p_token text) returns void
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
begin
    perform core.authenticate(p_token);
    update core.sessions as s set revoked_at = now()
    where s.token_hash = core.token_hash(p_token);
end
$$;
comment on function api.logout(text) is 'End this session: its token stops working at once. 28000 bad token.';

create or replace function api.logout_everywhere(p_token text) returns integer
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_user core.users := core.authenticate(p_token);
    v_count integer;
begin
    v_count := core.end_sessions(v_user.id);
    return v_count;
end
$$;
comment on function api.logout_everywhere(text) is
'End every session of the signed-in user, this one included (and links to connect Telegram not yet '
'used); returns how many. 28000 bad token.';
