-- One bcrypt hash of the staging password for every account, one of the staging code for every
-- sign-in code: at the marketplace's cost (bcrypt_cost), with a salt made from the seed, so the same
-- seed gives the same hashes. core.check_password refuses a password the api would (22023).
select
    core.check_password(%(password)s) as checked,
    ext.crypt(%(password)s, '$2a$' || lpad(core.setting_int('bcrypt_cost')::text, 2, '0') || '$' || %(salt)s)
    as password_hash,
    ext.crypt(%(code)s, '$2a$' || lpad(core.setting_int('bcrypt_cost')::text, 2, '0') || '$' || %(code_salt)s)
    as code_hash
