-- A collection created on a model label follows it: when the label moves to another
-- version, a rollout of the collection starts by itself, under the collection's policy
-- (JSON: auto-promote thresholds, unembeddable items, rate, finalize_after).
ALTER TABLE collections ADD COLUMN model_label text;
ALTER TABLE collections ADD COLUMN label_policy jsonb;
