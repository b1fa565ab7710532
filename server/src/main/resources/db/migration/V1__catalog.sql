-- The catalog of collections. Runs with search_path = jointspace (Flyway's schema).
-- pgvector's types live in public so that SQL users see them with the default search_path.
SET LOCAL client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS vector WITH SCHEMA public;

-- One row per collection: the model version bound to it and how its vectors are indexed.
CREATE TABLE collections (
  name                 text PRIMARY KEY,
  model_name           text NOT NULL,
  model_version        bigint NOT NULL CHECK (model_version > 0),
  dimension            integer NOT NULL CHECK (dimension > 0),
  metric               text NOT NULL CHECK (metric IN ('cosine', 'inner_product', 'l2')),
  vector_type          text NOT NULL CHECK (vector_type IN ('vector', 'halfvec')),
  hnsw_m               integer NOT NULL,
  hnsw_ef_construction integer NOT NULL,
  keep_sources         boolean NOT NULL,
  description          text NOT NULL DEFAULT '',
  active_table         text NOT NULL,
  created_at           timestamptz NOT NULL DEFAULT now()
);

-- The item tables of each collection, one per model version; the view points at the active one.
CREATE TABLE collection_tables (
  collection    text NOT NULL REFERENCES collections (name) ON DELETE CASCADE,
  model_version bigint NOT NULL,
  table_name    text NOT NULL UNIQUE,
  state         text NOT NULL CHECK (state IN ('active', 'shadow', 'retired')),
  created_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (collection, model_version)
);
