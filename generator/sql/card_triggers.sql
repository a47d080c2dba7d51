-- The kept cards' insert triggers (V0036), {action}d around the load: each COPY and the listings'
-- INSERT would rewrite cards row by row; the loader fills core.listing_cards once, set-based, after
-- every table it derives from is in (listing_cards_fill).
alter table core.listings {action} trigger listings_inserted_cards;
alter table core.listing_photos {action} trigger listing_photos_inserted_cards;
alter table core.part_fitments {action} trigger part_fitments_inserted_cards;
alter table core.listing_tags {action} trigger listing_tags_inserted_cards;
