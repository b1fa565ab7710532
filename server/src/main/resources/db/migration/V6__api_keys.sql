-- API keys (KeyService). A key is js_<id>_<secret>; only the SHA-256 of the secret is kept.
-- scopes: one grant per element, as given: 'infer', 'collections:read=products,images'.
-- A revocation sends NOTIFY jointspace_keys so every server drops the key from its cache.
CREATE TABLE api_keys (
  id text PRIMARY KEY,
  name text NOT NULL,
  secret_sha256 bytea NOT NULL,
  scopes text[] NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  created_by text NOT NULL,
  expires_at timestamptz,
  revoked_at timestamptz,
  last_used_at timestamptz
);
