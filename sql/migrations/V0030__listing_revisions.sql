-- Edits of a public listing are moderated (issue 17, docs/adr/0019-moderated-edits.md): a change of
-- what a listing says (title, description, brand, model, contacts, attributes, photos, tags) made
-- while it is on sale waits here as one pending revision, and the public keeps seeing the approved
-- version until a moderator approves it. Price, quantity, place and status change at once.
create table core.listing_revisions (
    id bigint generated always as identity,
    listing_id bigint not null,
    changes jsonb not null,
    status text not null default 'pending',
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    created_by bigint,
    decided_at timestamptz,
    decided_by bigint,
    reason text,
    constraint pk_listing_revisions primary key (id),
    constraint fk_listing_revisions_listing_id_listings foreign key (listing_id)
    references core.listings (id) on delete cascade,
    constraint fk_listing_revisions_created_by_users foreign key (created_by)
    references core.users (id) on delete set null,
    constraint fk_listing_revisions_decided_by_users foreign key (decided_by)
    references core.users (id) on delete set null,
    constraint check_listing_revisions_status check (
        status in ('pending', 'approved', 'rejected', 'withdrawn')
    ),
    constraint check_listing_revisions_changes check (
        jsonb_typeof(changes) = 'object' and octet_length(changes::text) <= 262144
    ),
    constraint check_listing_revisions_decided check ((status = 'pending') = (decided_at is null)),
    constraint check_listing_revisions_reason check (char_length(reason) <= 500)
);
comment on table core.listing_revisions is
'Changes to the content of a public listing waiting for (or given) a moderator''s decision: changes '
'holds the checked new values by field (photos and tags as whole lists); one pending revision per '
'listing, which later edits extend.';
create unique index index_listing_revisions_on_pending_listing on core.listing_revisions (listing_id)
where status = 'pending';
create index index_listing_revisions_on_pending_queue on core.listing_revisions (updated_at, listing_id)
where status = 'pending';
create index index_listing_revisions_on_listing_id on core.listing_revisions (listing_id);
create index index_listing_revisions_on_created_by on core.listing_revisions (created_by);
create index index_listing_revisions_on_decided_by on core.listing_revisions (decided_by);
