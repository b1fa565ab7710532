-- The form every key row must have, so that a row written by hand or by a faulty client
-- cannot pass for a key: the id is 16 lowercase hex digits (as keys are sent and revoked),
-- the stored hash is a whole SHA-256, and a key grants at least one scope. Keys made by
-- KeyService or `jointspace keys bootstrap` always had this form.
ALTER TABLE api_keys
  ADD CONSTRAINT api_keys_id_form CHECK (id ~ '^[0-9a-f]{16}$'),
  ADD CONSTRAINT api_keys_secret_sha256_length CHECK (octet_length(secret_sha256) = 32),
  ADD CONSTRAINT api_keys_scopes_not_empty CHECK (cardinality(scopes) > 0);
