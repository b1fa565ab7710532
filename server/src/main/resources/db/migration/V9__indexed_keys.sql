-- Metadata keys that searches filter on by equality (CreateCollectionRequest.indexed_keys):
-- for each frequent value of such a key the server keeps a partial HNSW index of the items
-- holding it (store/KeyIndexes), named <table>_k<8 hex digits>, with its key and value in the
-- index's comment.
ALTER TABLE collections ADD COLUMN indexed_keys text[] NOT NULL DEFAULT '{}';
