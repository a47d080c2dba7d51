-- Which vehicles a part fits.

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
