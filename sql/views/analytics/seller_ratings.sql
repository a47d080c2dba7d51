create or replace view analytics.seller_ratings as
select
    r.seller_id,
    count(*) as reviews,
    round(avg(r.rating), 2) as average_rating,
    max(r.created_at) as last_review_at
from core.reviews as r
group by r.seller_id;
comment on view analytics.seller_ratings is
'Each seller''s rating: number of reviews, average (1-5), latest review.';
