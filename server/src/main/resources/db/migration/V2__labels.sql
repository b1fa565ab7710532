-- Model labels changed at run time (ModelService.SetLabel / DeleteLabel): where each label
-- points now, and every change. The server configuration gives the start values; a row here
-- overrides them. Targets are JSON objects {"<version>": <weight>, ...}.
CREATE TABLE model_labels (
  model       text NOT NULL,
  label       text NOT NULL,
  -- null: the label was deleted
  target      jsonb,
  -- where calls go until every version of target is AVAILABLE (a label moved onto a loading version)
  fallback    jsonb,
  changed_at  timestamptz NOT NULL DEFAULT now(),
  changed_by  text NOT NULL DEFAULT '',
  PRIMARY KEY (model, label)
);

CREATE TABLE model_label_changes (
  id          bigserial PRIMARY KEY,
  model       text NOT NULL,
  label       text NOT NULL,
  from_target jsonb,
  to_target   jsonb,
  changed_at  timestamptz NOT NULL DEFAULT now(),
  changed_by  text NOT NULL DEFAULT ''
);
CREATE INDEX model_label_changes_by_label ON model_label_changes (model, label, id);
