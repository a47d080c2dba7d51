-- Indexes the hot searches need at scale (issue 18, ADR 0022; bench/scale.py measures them):
--
-- A category's feed, newest first: the rows in feed order within one category, so a page is an
-- index range however small the category (index_listings_on_feed walks every published listing
-- and filters).
create index index_listings_on_category_feed on core.listings (category_id, sort_date desc, id desc)
where status = 'published';
-- Region and city filters: a text search for a frequent word within a region ANDs the GIN index
-- with this one, instead of ranking every listing that has the word (38 ms -> 8 ms at scale 0.1).
create index index_listings_on_region on core.listings (lower(region)) where status = 'published';
create index index_listings_on_city on core.listings (lower(city)) where status = 'published';
-- Parts that fit a car: the listings of a model and year straight from the index, without a visit
-- to the table.
create index index_part_fitments_on_model_years on core.part_fitments (model_id, year_from, year_to)
include (listing_id);
drop index core.index_part_fitments_on_model_id;
