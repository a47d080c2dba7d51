-- The Telegram bot's side of sign-in (issue 16): a signed-in user asks the app for a link, opens
-- t.me/<bot>?start=<link token>, and the bot (the delivery worker reading getUpdates) links that
-- chat to the account; a contact the person shares fills the account's phone. One worker polls
-- the Bot API at a time (two getUpdates would each get the same updates): it holds a lease here,
-- with the offset of the next update, so a restart or another worker carries on where it stopped.
insert into core.settings (key, value, description, value_type, min_value, max_value) values
(
    'telegram_link_lifetime', '"15 minutes"',
    'How long a link to connect Telegram to an account (t.me/<bot>?start=<token>) can be used.',
    'interval', '1 minute', '1 day'
),
(
    'telegram_link_hourly_limit', '5', 'Links to connect Telegram one account may ask for in an hour.',
    'integer', '1', '100'
),
(
    'telegram_poll_lease', '"90 seconds"',
    'How long a worker holds the right to read the bot''s updates without renewing it; after that '
    'another worker takes over.',
    'interval', '10 seconds', '1 hour'
);

create table core.telegram_link_tokens (
    id bigint generated always as identity,
    user_id bigint not null,
    token_hash bytea not null,
    created_at timestamptz not null default now(),
    expires_at timestamptz not null,
    used_at timestamptz,
    chat_id bigint,
    constraint pk_telegram_link_tokens primary key (id),
    constraint fk_telegram_link_tokens_user_id_users foreign key (user_id)
    references core.users (id) on delete cascade,
    constraint check_telegram_link_tokens_expiry check (expires_at >= created_at),
    constraint check_telegram_link_tokens_used check ((used_at is null) = (chat_id is null))
);
comment on table core.telegram_link_tokens is
'One-time links to connect a Telegram chat to an account (sha256 of the token, as for sessions); '
'chat_id is the chat that used it.';
create unique index index_telegram_link_tokens_on_token_hash on core.telegram_link_tokens (token_hash);
create index index_telegram_link_tokens_on_user_id on core.telegram_link_tokens (user_id, created_at);

create table core.telegram_bot (
    id smallint not null default 1,
    poller text,
    poll_until timestamptz,
    next_update_id bigint not null default 0,
    constraint pk_telegram_bot primary key (id),
    constraint check_telegram_bot_one_row check (id = 1),
    constraint check_telegram_bot_poller check (char_length(poller) <= 100),
    constraint check_telegram_bot_next_update_id check (next_update_id >= 0)
);
comment on table core.telegram_bot is
'The bot''s update reading: the worker that holds it (until poll_until) and the id of the next update '
'to ask Telegram for (getUpdates offset). One row.';
insert into core.telegram_bot (id) values (1);
