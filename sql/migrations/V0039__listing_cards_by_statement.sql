-- A bulk insert of listings made their kept cards (V0036) row by row: the insert trigger becomes a
-- statement's, with the new rows as a transition table, like the photos', fitments' and tags'.
drop trigger listings_inserted_cards on core.listings;
create trigger listings_inserted_cards after insert on core.listings
referencing new table as new_rows
for each statement execute function core.listing_cards_follow_parts();
