-- The settings the generated history follows, read as the api functions read them; intervals in
-- seconds. The names are generator.world.Settings' fields.
select
    extract(epoch from core.setting_interval('reservation_lifetime')) as reservation_lifetime,
    extract(epoch from core.setting_interval('session_lifetime')) as session_lifetime,
    extract(epoch from core.setting_interval('sign_in_code_lifetime')) as sign_in_code_lifetime,
    core.setting_int('sign_in_code_max_attempts') as sign_in_code_max_attempts,
    core.setting_int('outbox_max_attempts') as outbox_max_attempts,
    extract(epoch from core.setting_interval('telegram_link_lifetime')) as telegram_link_lifetime
