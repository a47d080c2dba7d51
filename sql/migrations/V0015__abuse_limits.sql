-- Hostile input cannot stop the marketplace (ADR 0011), the schema's part in four migrations (4/4):
-- every value an api function stores has a type and a bound the table itself enforces, so no
-- writer (the api, the generator, a hand-written fix) can store what a reader later fails on.

-- Sign-in codes belong to a phone number -----------------------------------------------------------
-- A code is issued (and its tries counted) for any phone, with or without an account, so neither
-- asking for a code nor guessing one tells whether the number has an account.

alter table core.sign_in_codes
add column phone text,
alter column user_id drop not null;
update core.sign_in_codes as c set phone = u.phone
from core.users as u
where u.id = c.user_id;
delete from core.sign_in_codes
where phone is null;
alter table core.sign_in_codes
alter column phone set not null,
add constraint check_sign_in_codes_phone check (phone ~ '^\+[1-9][0-9]{7,14}$'),
add constraint check_sign_in_codes_code_hash check (code_hash like '$2_$%' and char_length(code_hash) = 60);
create index index_sign_in_codes_on_phone_created_at on core.sign_in_codes (phone, created_at);
create index index_sign_in_codes_on_created_at on core.sign_in_codes (created_at);
create index index_sign_in_failures_on_failed_at on core.sign_in_failures (failed_at);
comment on table core.sign_in_codes is
'Six-digit Telegram sign-in codes (bcrypt-hashed) per phone number, with expiry and a bounded number of '
'attempts; a code for a number without an eligible account is stored but never sent.';

-- What the abuse limits count ----------------------------------------------------------------------

alter table core.users
add column signup_fingerprint text,
add constraint check_users_signup_fingerprint check (char_length(signup_fingerprint) between 8 and 128);
comment on column core.users.signup_fingerprint is
'The client the account was opened from (what the application passes: a device or network fingerprint), '
'for the registration_limit.';
create index index_users_on_signup_fingerprint_created_at on core.users (signup_fingerprint, created_at)
where signup_fingerprint is not null;
create index index_users_on_created_at on core.users (created_at);

alter table core.listings add column clickers_notified_at timestamptz;
comment on column core.listings.clickers_notified_at is
'When the seller last messaged the listing''s clickers (api.notify_clickers; notify_clickers_interval).';

drop index core.index_contact_clicks_on_viewer_id;
create index index_contact_clicks_on_viewer_id on core.contact_clicks (viewer_id, clicked_at)
where viewer_id is not null;
create index index_contact_clicks_on_fingerprint on core.contact_clicks (fingerprint, clicked_at)
where fingerprint is not null;
