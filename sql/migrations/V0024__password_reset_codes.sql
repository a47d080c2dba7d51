-- Password recovery (issue 16): one-time codes sent through the account's channels, kept like the
-- Telegram sign-in codes (bcrypt-hashed, expiring, a bounded number of attempts), but for an
-- identifier (an email address or a phone number) rather than a phone. A code is stored whether
-- or not the identifier has an account, so asking tells nobody which accounts exist.
create table core.password_reset_codes (
    id bigint generated always as identity,
    identifier text not null,
    user_id bigint,
    code_hash text not null,
    created_at timestamptz not null default now(),
    expires_at timestamptz not null,
    attempts integer not null default 0,
    max_attempts integer not null,
    used_at timestamptz,
    constraint pk_password_reset_codes primary key (id),
    constraint fk_password_reset_codes_user_id_users foreign key (user_id)
    references core.users (id) on delete cascade,
    constraint check_password_reset_codes_identifier check (
        identifier ~ '^(email|phone):' and char_length(identifier) <= 300
    ),
    constraint check_password_reset_codes_code_hash check (
        code_hash like '$2_$%' and char_length(code_hash) = 60
    ),
    constraint check_password_reset_codes_attempts check (attempts between 0 and max_attempts),
    constraint check_password_reset_codes_expiry check (expires_at >= created_at)
);
comment on table core.password_reset_codes is
'Six-digit password reset codes per identifier (email:… or phone:…), bcrypt-hashed, with expiry and a '
'bounded number of attempts; user_id is null when the identifier has no account (never sent).';
create index index_password_reset_codes_on_identifier on core.password_reset_codes (identifier, created_at);
create index index_password_reset_codes_on_created_at on core.password_reset_codes (created_at);
create index index_password_reset_codes_on_user_id on core.password_reset_codes (user_id)
where user_id is not null;
