-- A psycopg.sql template: {role} is an identifier, {verifier} a SCRAM verifier quoted as a
-- literal (ALTER ROLE takes no bind parameters). Never a plain password.
alter role {role} login password {verifier}
