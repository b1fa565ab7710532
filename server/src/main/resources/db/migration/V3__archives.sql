-- Versions added with ModelService.UploadVersion, so that every server process sharing this
-- database writes and serves them: the zip archive of each version folder, and when it was
-- retired (DeleteVersion) if it was.
CREATE TABLE model_archives (
  model        text NOT NULL,
  version      bigint NOT NULL CHECK (version > 0),
  archive      bytea NOT NULL,
  uploaded_by  text NOT NULL DEFAULT '',
  uploaded_at  timestamptz NOT NULL DEFAULT now(),
  deleted_at   timestamptz,
  PRIMARY KEY (model, version)
);
