-- bazaar:as-admin
-- amcheck (contrib) checks B-tree indexes and heap pages for corruption: `bazaar backup verify`
-- runs it on every restored copy. Superuser-only functions, kept in ext with pgcrypto.
create extension if not exists amcheck with schema ext;
