-- Promoted listings come first in the feed, a search and a fitment search, a part of their own
-- (api.search): the newest promoted listings that match. Without an index in feed order that
-- holds only them, that part walked every published listing newest first to find the few
-- promoted ones that fit a car (60,000 rows, 285 ms at scale 1; bench/scale.py). A lapsed
-- promotion keeps its date, so these hold every listing ever promoted; the walk skips the lapsed.
create index index_listings_on_promoted_feed on core.listings (sort_date desc, id desc)
where status = 'published' and promoted_until is not null;
create index index_listings_on_promoted_category_feed on core.listings (category_id, sort_date desc, id desc)
where status = 'published' and promoted_until is not null;
