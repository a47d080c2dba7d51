-- Where the listings are copied before they join their search vectors: like core.listings, with
-- its generated part_number and its defaults (an empty search vector).
create temporary table listings_staged (
    like core.listings including defaults including generated
) on commit drop
