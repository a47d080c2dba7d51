-- Free tags on listings: normalised (lower case, trimmed, single spaces), many-to-many, capped per
-- listing, a search filter, and the most used tags per category for analysts.

insert into core.settings (key, value, description) values
('max_tags_per_listing', '10', 'Tags one listing may carry.');

create table core.tags (
    id bigint generated always as identity,
    name text not null,
    created_at timestamptz not null default now(),
    constraint pk_tags primary key (id),
    constraint check_tags_name check (
        char_length(name) between 2 and 30
        and name = lower(name)
        and name = btrim(name)
        and name !~ '\s\s'
        and name ~ '^[[:alnum:]_ -]+$'
    )
);
comment on table core.tags is
'A free tag, stored once in its normalised form (lower case, trimmed, single spaces; 2-30 letters, '
'digits, -, _ and spaces); core.normalize_tag makes that form.';
create unique index index_tags_on_name on core.tags (name);

create table core.listing_tags (
    listing_id bigint not null,
    tag_id bigint not null,
    constraint pk_listing_tags primary key (listing_id, tag_id),
    constraint fk_listing_tags_listing_id_listings foreign key (listing_id)
    references core.listings (id) on delete cascade,
    constraint fk_listing_tags_tag_id_tags foreign key (tag_id) references core.tags (id) on delete cascade
);
comment on table core.listing_tags is 'Which tags a listing carries (at most max_tags_per_listing).';
create index index_listing_tags_on_tag_id on core.listing_tags (tag_id, listing_id);
