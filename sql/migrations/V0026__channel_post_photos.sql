-- Channel posts delivered by the worker (issue 16): a post with a photo is a Telegram photo
-- message, edited through its caption (or its media when the first photo changed); a post
-- without one is a text message. Which of the two a post is decides how it can be edited, so
-- the photo it shows is kept with its message id.
alter table core.channel_posts
add column telegram_photo text,
add constraint check_channel_posts_telegram_photo check (char_length(telegram_photo) <= 256) not valid;
comment on column core.channel_posts.telegram_photo is
'The storage key of the photo the channel message shows (a photo message), or null (a text message '
'or not delivered yet): edits of a photo message go through its caption.';
