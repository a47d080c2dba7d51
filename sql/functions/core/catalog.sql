-- The category tree.

create or replace function core.set_category_path() returns trigger
language plpgsql
set search_path = pg_catalog, pg_temp
as $$
declare
    v_parent core.categories;
begin
    if new.parent_id is null then
        new.path := array[new.id];
    else
        select c.* into strict v_parent from core.categories as c where c.id = new.parent_id;
        if v_parent.kind <> new.kind then
            raise exception using errcode = '22023',
                message = format('category %s must hold %s listings like its parent', new.slug, v_parent.kind);
        end if;
        new.path := v_parent.path || new.id;
    end if;
    return new;
end
$$;
comment on function core.set_category_path() is 'Trigger: compute core.categories.path from the parent.';
