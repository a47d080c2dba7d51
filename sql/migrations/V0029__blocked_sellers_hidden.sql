-- A blocked seller's listings leave the public marketplace (issue 17): search, cards, contacts,
-- price history, saved-search matches and channel posts treat them as off sale while the block
-- lasts, and unblocking brings them back as they were. Kept on the listing (set by api.block_user,
-- cleared by api.unblock_user) so that search tests one column of the row it already reads instead
-- of looking up the seller of every candidate.
alter table core.listings add column seller_blocked boolean not null default false;
comment on column core.listings.seller_blocked is
'True while the listing''s seller is blocked: off the public marketplace, its status unchanged.';

update core.listings as l set seller_blocked = true
from core.users as u
where u.id = l.seller_id and u.blocked_at is not null;
