package jointspace

import (
	"context"
	"io"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	pb "github.com/jointspace/jointspace/clients/go/jointspacev1"
)

// scenes are the first 24 sample scenes (NNN-color-shape.png), with their color and shape.
func scenes(t *testing.T) []Item {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(samples, "scenes", "*.png"))
	ok(t, err)
	sort.Strings(files)
	var items []Item
	for _, f := range files[:24] {
		parts := strings.SplitN(strings.TrimSuffix(filepath.Base(f), ".png"), "-", 3)
		items = append(items, Item{ID: "scene-" + parts[0], Input: ImageFile(f),
			Metadata: map[string]any{"color": parts[1], "shape": parts[2]}})
	}
	return items
}

func TestRollout_fromVersion1To2_promoteRollbackFinalize(t *testing.T) {
	client := testClient(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	name := collectionName(t, client)
	_, err := client.CreateCollection(ctx, name, "shapes-clip@1", nil)
	ok(t, err)
	result, err := client.Ingest(ctx, name, scenes(t), &IngestOptions{BatchSize: 8})
	ok(t, err)
	if result.Committed != 24 {
		t.Fatalf("ingested %+v", result)
	}

	dry, err := client.StartRollout(ctx, name, "@2", &RolloutOptions{DryRun: true})
	ok(t, err)
	if dry.GetProgress().GetTotal() != 24 || dry.GetToDimension() != 64 {
		t.Errorf("the dry run says %v", dry)
	}
	started, err := client.StartRollout(ctx, name, "shapes-clip@2", nil)
	ok(t, err)
	if started.GetTo().GetVersion() != 2 {
		t.Errorf("started %v", started)
	}

	watch, err := client.WatchRollout(ctx, name, 0)
	ok(t, err)
	var states []pb.Rollout_State
	var rollout *pb.Rollout
	for rollout == nil || rollout.GetState() != pb.Rollout_READY {
		rollout, err = watch.Next()
		if err == io.EOF {
			t.Fatalf("the watch ended at %v", states)
		}
		ok(t, err)
		states = append(states, rollout.GetState())
	}
	watch.Close()
	if rollout.GetProgress().GetDone() != 24 || rollout.GetId() != started.GetId() {
		t.Errorf("ready: %v", rollout)
	}

	evaluation, err := client.EvaluateRollout(ctx, name, &EvaluationOptions{ClassKey: "shape",
		ClassTemplate: "a photo of a {}", Queries: []LabeledQuery{{Text("a red star"), []string{"scene-018"}}}})
	ok(t, err)
	if a := evaluation.GetNeighbourAgreement(); a < 0 || a > 1 || evaluation.GetTo().ZeroShotAccuracy == nil {
		t.Errorf("the evaluation is %v", evaluation)
	}

	step := func(do func(context.Context, string) (*pb.Rollout, error), want pb.Rollout_State, dimension int32) {
		t.Helper()
		r, err := do(ctx, name)
		ok(t, err)
		c, err := client.GetCollection(ctx, name)
		ok(t, err)
		if r.GetState() != want || c.GetDimension() != dimension {
			t.Fatalf("want %v on %d dimensions, got %v on %d", want, dimension, r.GetState(), c.GetDimension())
		}
	}
	step(client.Promote, pb.Rollout_PROMOTED, 64)
	_, err = client.Upsert(ctx, name, []Item{{ID: "new", Input: Text("a small red star"), Metadata: map[string]any{"shape": "star"}}})
	ok(t, err)
	step(client.Rollback, pb.Rollout_ROLLED_BACK, 32)
	if got, err := client.Get(ctx, name, []string{"new"}, nil); err != nil || len(got) != 1 {
		t.Errorf("the item written after the promote is not in the old version: %v, %v", got, err)
	}
	step(client.Promote, pb.Rollout_PROMOTED, 64)
	step(client.Finalize, pb.Rollout_FINALIZED, 64)

	hits, err := client.Search(ctx, name, Text("a red star"), &SearchOptions{TopK: 3, IncludeVectors: true})
	ok(t, err)
	if len(hits[0].Vector) != 64 {
		t.Errorf("after the rollout the vectors have %d values", len(hits[0].Vector))
	}
	rollouts, err := client.ListRollouts(ctx, name)
	ok(t, err)
	if len(rollouts) != 1 || rollouts[0].GetId() != started.GetId() {
		t.Errorf("the collection's rollouts are %v", rollouts)
	}
	final, err := client.WaitForRollout(ctx, name)
	ok(t, err)
	if final.GetState() != pb.Rollout_FINALIZED {
		t.Errorf("waiting for a finalized rollout gave %v", final.GetState())
	}
}
