-- The kept listing cards (V0036, ADR 0022) show each seller's display name: the masked one, from
-- core.users (replica mode fired none of the triggers that keep the cards in step)
update core.listing_cards as k set seller_name = u.display_name
from core.listings as l
inner join core.users as u on l.seller_id = u.id
where l.id = k.listing_id and k.seller_name is distinct from u.display_name
