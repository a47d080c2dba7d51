-- Every listing's kept card, computed from the loaded tables in one statement (its key and foreign
-- key are rebuilt afterwards, like any loaded table's).
insert into core.listing_cards
select * from core.listing_card_rows(array(select l.id from core.listings as l))
