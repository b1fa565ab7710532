package jointspace

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"sort"
	"testing"

	"google.golang.org/grpc/codes"
)

var (
	colors = []string{"red", "green", "blue", "yellow", "purple"}
	shapes = []string{"star", "circle", "triangle", "square", "hexagon"}
)

// caption is item n: "a {color} {shape}", with its color, shape and n as metadata.
func caption(n int) Item {
	color, shape := colors[n%len(colors)], shapes[(n/len(colors))%len(shapes)]
	return Item{ID: fmt.Sprintf("item-%04d", n), Input: Text("a " + color + " " + shape),
		Metadata: map[string]any{"color": color, "shape": shape, "n": n}}
}

func captions(count int) []Item {
	items := make([]Item, count)
	for n := range items {
		items[n] = caption(n)
	}
	return items
}

func itemCount(t *testing.T, client *Client, collection string) int64 {
	t.Helper()
	c, err := client.GetCollection(context.Background(), collection)
	ok(t, err)
	return c.GetItemCount()
}

func TestIndexedKeys_setAtCreation_thenReplaced(t *testing.T) {
	client, ctx := testClient(t), context.Background()
	name := collectionName(t, client)
	created, err := client.CreateCollection(ctx, name, testModel, &CollectionOptions{IndexedKeys: []string{"color", "info.kind"}})
	ok(t, err)
	if fmt.Sprint(created.GetIndexedKeys()) != "[color info.kind]" {
		t.Errorf("created with indexed keys %v", created.GetIndexedKeys())
	}
	updated, err := client.SetIndexedKeys(ctx, name, []string{"color"})
	ok(t, err)
	if fmt.Sprint(updated.GetIndexedKeys()) != "[color]" {
		t.Errorf("updated to indexed keys %v", updated.GetIndexedKeys())
	}
	_, err = client.SetIndexedKeys(ctx, name, []string{"a..b"})
	var e *Error
	if !errors.As(err, &e) || e.Code != codes.InvalidArgument {
		t.Errorf("a bad key gave %v", err)
	}
}

func TestIngest_500Items_thenSearchWithFilters(t *testing.T) {
	client, ctx := testClient(t), context.Background()
	name := collectionName(t, client)
	_, err := client.CreateCollection(ctx, name, testModel, &CollectionOptions{Description: "gotest"})
	ok(t, err)
	var progress []int64
	result, err := client.Ingest(ctx, name, captions(500), &IngestOptions{BatchSize: 100,
		Progress: func(r IngestResult) { progress = append(progress, r.Committed) }})
	ok(t, err)
	if result != (IngestResult{Committed: 500, Messages: 5}) {
		t.Errorf("ingest did %+v", result)
	}
	if fmt.Sprint(progress) != "[100 200 300 400 500]" {
		t.Errorf("progress reported %v", progress)
	}
	if n := itemCount(t, client, name); n != 500 {
		t.Errorf("the collection holds %d items", n)
	}

	blueFrom100 := Eq("color", "blue").And(Gte("n", 100))
	hits, err := client.Search(ctx, name, Text("a blue circle"), &SearchOptions{TopK: 5, Filter: blueFrom100})
	ok(t, err)
	if len(hits) != 5 {
		t.Fatalf("want 5 hits, got %d", len(hits))
	}
	for _, h := range hits {
		if h.Metadata["color"] != "blue" || h.Metadata["n"].(float64) < 100 {
			t.Errorf("hit %s does not match %v: %v", h.ID, blueFrom100, h.Metadata)
		}
	}
	if hits[0].Metadata["shape"] != "circle" {
		t.Errorf("the best hit for a blue circle is %v", hits[0].Metadata)
	}
	if !sort.SliceIsSorted(hits, func(i, j int) bool { return hits[i].Score > hits[j].Score }) {
		t.Errorf("hits are not best first: %v", hits)
	}

	either := In("shape", "star", "hexagon").And(Eq("color", "red").Or(Eq("color", "green")).Not(), Exists("n"))
	hits, err = client.Search(ctx, name, Text("a red star"), &SearchOptions{TopK: 50, Filter: either})
	ok(t, err)
	if len(hits) == 0 {
		t.Fatal("no hits")
	}
	for _, h := range hits {
		shape, color := h.Metadata["shape"], h.Metadata["color"]
		if shape != "star" && shape != "hexagon" || color == "red" || color == "green" {
			t.Errorf("hit %s does not match %v: %v", h.ID, either, h.Metadata)
		}
	}
}

var errStopped = errors.New("the items stopped")

func TestIngest_resumesAfterAPartialRun(t *testing.T) {
	client, ctx := testClient(t), context.Background()
	name := collectionName(t, client)
	_, err := client.CreateCollection(ctx, name, testModel, nil)
	ok(t, err)

	n := 0
	failingAfter250 := func() (Item, error) {
		if n == 250 {
			return Item{}, errStopped
		}
		n++
		return caption(n - 1), nil
	}
	result, err := client.IngestFrom(ctx, name, failingAfter250, &IngestOptions{BatchSize: 100})
	if !errors.Is(err, errStopped) {
		t.Fatalf("want the items' error, got %v", err)
	}
	// the two full messages were sent and committed; the half-made third never left
	if result.Committed != 200 || itemCount(t, client, name) != 200 {
		t.Errorf("after the failure: %+v, %d stored", result, itemCount(t, client, name))
	}

	result, err = client.Ingest(ctx, name, captions(500), &IngestOptions{BatchSize: 100, Resume: true})
	ok(t, err)
	if result.Committed != 300 || result.Skipped != 200 || itemCount(t, client, name) != 500 {
		t.Errorf("resumed: %+v, %d stored", result, itemCount(t, client, name))
	}
	again, err := client.Ingest(ctx, name, captions(500), &IngestOptions{Resume: true})
	ok(t, err)
	if again != (IngestResult{Skipped: 500}) {
		t.Errorf("again: %+v", again)
	}
}

func TestIngest_aRefusedItemStopsTheIngest_andResumeWritesTheRest(t *testing.T) {
	client, ctx := testClient(t), context.Background()
	name := collectionName(t, client)
	_, err := client.CreateCollection(ctx, name, testModel, nil)
	ok(t, err)
	items := captions(10)
	items[7] = Item{ID: items[7].ID, Vector: []float32{0.5, 0.5}} // 2 values in a collection of 64

	result, err := client.Ingest(ctx, name, items, &IngestOptions{BatchSize: 5, MaxAhead: 1})
	var refused *IngestError
	if !errors.As(err, &refused) {
		t.Fatalf("want an *IngestError, got %v", err)
	}
	if refused.Message != 1 || refused.ItemID != "item-0007" {
		t.Errorf("refused message %d, item %q: %v", refused.Message, refused.ItemID, err)
	}
	var e *Error
	if !errors.As(err, &e) || e.Code != codes.InvalidArgument || e.Field != "items[2].vector.values" {
		t.Errorf("want INVALID_ARGUMENT on items[2].vector.values, got %#v", e)
	}
	if result.Committed != 5 || itemCount(t, client, name) != 5 {
		t.Errorf("after the refusal: %+v, %d stored", result, itemCount(t, client, name))
	}

	items[7] = caption(7)
	result, err = client.Ingest(ctx, name, items, &IngestOptions{Resume: true})
	ok(t, err)
	if result.Committed != 5 || result.Skipped != 5 || itemCount(t, client, name) != 10 {
		t.Errorf("resumed: %+v, %d stored", result, itemCount(t, client, name))
	}
}

func TestIngest_keepsMessagesUnderTheSizeLimit(t *testing.T) {
	ctx := context.Background()
	image, err := os.ReadFile(sample("red-star.png"))
	ok(t, err)
	small := testClient(t, WithMaxMessageBytes(4*len(image)+8192))
	name := collectionName(t, small)
	_, err = small.CreateCollection(ctx, name, testModel, nil)
	ok(t, err)
	items := make([]Item, 20)
	for n := range items {
		items[n] = Item{ID: fmt.Sprintf("img-%d", n), Input: Image(image)}
	}
	result, err := small.Ingest(ctx, name, items, nil)
	ok(t, err)
	if result.Committed != 20 || result.Messages != 5 {
		t.Errorf("ingest did %+v", result)
	}

	tooBig := []Item{{ID: "big", Input: Image(bytes.Repeat(image, 5))}}
	if _, err := small.Ingest(ctx, name, tooBig, nil); err == nil || errors.As(err, new(*Error)) {
		t.Errorf("an item over the message limit: want an error before sending, got %v", err)
	}
}

func TestUpsertGetDelete_andSearchByIDAndVector(t *testing.T) {
	client, ctx := testClient(t), context.Background()
	name := collectionName(t, client)
	_, err := client.CreateCollection(ctx, name, testModel, nil)
	ok(t, err)
	written, err := client.Upsert(ctx, name, []Item{
		{ID: "star", Input: ImageFile(sample("red-star.png")), Metadata: map[string]any{"color": "red"}},
		{ID: "circle", Input: ImageFile(sample("blue-circle.png")), Metadata: map[string]any{"color": "blue"}},
		{ID: "caption", Input: Text("a small green hexagon at the top"),
			Metadata: map[string]any{"info": map[string]any{"year": 2023, "tags": []string{"a", "b"}}}},
	})
	ok(t, err)
	if written != 3 {
		t.Errorf("wrote %d", written)
	}

	items, err := client.Get(ctx, name, []string{"circle", "missing", "caption"},
		&GetOptions{IncludeVectors: true, IncludeSources: true})
	ok(t, err)
	if len(items) != 2 || items[0].ID != "circle" || items[1].ID != "caption" {
		t.Fatalf("got %v", items)
	}
	circle, _ := os.ReadFile(sample("blue-circle.png"))
	if !bytes.Equal(items[0].Image, circle) || items[0].Text != "" {
		t.Errorf("the circle's source is not its image")
	}
	if items[1].Text != "a small green hexagon at the top" || len(items[1].Vector) != 64 || items[1].CreatedAt.IsZero() {
		t.Errorf("the caption is %+v", items[1])
	}
	if fmt.Sprint(items[1].Metadata) != "map[info:map[tags:[a b] year:2023]]" {
		t.Errorf("the caption's metadata is %v", items[1].Metadata)
	}

	hits, err := client.Search(ctx, name, ByID("star"), &SearchOptions{TopK: 5})
	ok(t, err)
	if len(hits) != 2 || hits[0].ID == "star" || hits[1].ID == "star" {
		t.Errorf("searching by the star's id found %v", hits)
	}
	hits, err = client.Search(ctx, name, Vector(items[0].Vector), &SearchOptions{TopK: 1, IncludeVectors: true})
	ok(t, err)
	if hits[0].ID != "circle" || math.Abs(float64(hits[0].Score)-1) > 1e-4 || len(hits[0].Vector) != 64 {
		t.Errorf("searching by the circle's vector found %v", hits)
	}
	hits, err = client.Search(ctx, name, Text("x"), &SearchOptions{Filter: All(Gt("info.year", 2020), Lt("info.year", 2030))})
	ok(t, err)
	if len(hits) != 1 || hits[0].ID != "caption" {
		t.Errorf("the nested filter found %v", hits)
	}

	deleted, err := client.Delete(ctx, name, []string{"star", "missing"})
	ok(t, err)
	if deleted != 1 || itemCount(t, client, name) != 2 {
		t.Errorf("deleted %d, %d left", deleted, itemCount(t, client, name))
	}
	collections, err := client.ListCollections(ctx)
	ok(t, err)
	listed := false
	for _, c := range collections {
		listed = listed || c.GetName() == name
	}
	if !listed {
		t.Errorf("%s is not listed", name)
	}
}
