package jointspace

import (
	"context"
	"errors"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	pb "github.com/jointspace/jointspace/clients/go/jointspacev1"
)

// asError is err's *Error, or the test's end.
func asError(t *testing.T, err error, code codes.Code) *Error {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("want an *Error with %v, got %v", code, err)
	}
	if e.Code != code {
		t.Fatalf("want %v, got %v", code, e)
	}
	return e
}

func TestErrors_unknownCollectionIsNotFound(t *testing.T) {
	client, ctx := testClient(t), context.Background()
	_, err := client.Search(ctx, "no_such_collection", Text("a red star"), nil)
	e := asError(t, err, codes.NotFound)
	if !strings.Contains(e.Message, "no_such_collection") || e.Field != "" {
		t.Errorf("got message %q, field %q", e.Message, e.Field)
	}
	if status.Code(err) != codes.NotFound || !strings.HasPrefix(err.Error(), "NOT_FOUND: ") {
		t.Errorf("the error reads %q, status %v", err, status.Code(err))
	}
}

func TestErrors_invalidArgumentNamesTheField(t *testing.T) {
	client, ctx := testClient(t), context.Background()
	name := collectionName(t, client)
	_, err := client.CreateCollection(ctx, name, testModel, nil)
	ok(t, err)

	_, err = client.Upsert(ctx, name, []Item{{ID: "a", Input: Text("a red star")}, {ID: "", Input: Text("x")}})
	e := asError(t, err, codes.InvalidArgument)
	if e.Field != "items[1].id" || !strings.HasPrefix(e.Message, "items[1].id ") {
		t.Errorf("got field %q, message %q", e.Field, e.Message)
	}
	_, err = client.Embed(ctx, testModel, Text("a red star"), Text(""))
	if e := asError(t, err, codes.InvalidArgument); e.Field != "inputs[1].text" {
		t.Errorf("got field %q, message %q", e.Field, e.Message)
	}
	_, err = client.CreateCollection(ctx, name, testModel, nil)
	asError(t, err, codes.AlreadyExists)
}

func TestErrors_mistakesTheClientSeesAreNotCalls(t *testing.T) {
	client, ctx := testClient(t), context.Background()
	for what, err := range map[string]error{
		"a model without a name": second(client.Embed(ctx, "@2", Text("x"))),
		"no inputs":              second(client.Embed(ctx, testModel)),
		"an empty input":         second(client.Embed(ctx, testModel, Input{})),
		"a missing image file":   second(client.Embed(ctx, testModel, ImageFile("no/such/file.png"))),
		"no query":               second(client.Search(ctx, "any", nil, nil)),
		"a filter on a channel":  second(client.Search(ctx, "any", Text("x"), &SearchOptions{Filter: Eq("k", make(chan int))})),
		"an input and a vector":  second(client.Upsert(ctx, "any", []Item{{ID: "a", Input: Text("x"), Vector: []float32{1}}})),
		"a batch over 10000":     second(client.Ingest(ctx, "any", nil, &IngestOptions{BatchSize: 10001})),
	} {
		if err == nil || errors.As(err, new(*Error)) {
			t.Errorf("%s: want an error of the client's, got %v", what, err)
		}
	}
}

func second[T any](_ T, err error) error { return err }

func TestFieldOf(t *testing.T) {
	for _, c := range []struct {
		message string
		request proto.Message
		field   string
	}{
		{"items[3].id is empty", &pb.UpsertRequest{}, "items[3].id"},
		{"items[3].input.text: too long", &pb.UpsertRequest{}, "items[3].input.text"},
		{"message 2: items[0].id is empty", &pb.UpsertStreamRequest{}, "items[0].id"},
		{"top_k 5000 is over the limit", &pb.SearchRequest{}, "top_k"},
		{"filter.range mixes kinds", &pb.SearchRequest{}, "filter.range"},
		{"filter.and.filters[2].range.key is empty", &pb.SearchRequest{}, "filter.and.filters[2].range.key"},
		{"items[1].metadata.color is too big", &pb.UpsertRequest{}, "items[1].metadata"},
		{"inputs[0].image is not an image", &pb.EmbedRequest{}, "inputs[0].image"},
		{"unknown model 'x'", &pb.EmbedRequest{}, ""},
		{"inputs, of all things", &pb.EmbedRequest{}, ""},
		{"name", &pb.GetCollectionRequest{}, "name"},
	} {
		if got := fieldOf(c.message, c.request.ProtoReflect().Descriptor()); got != c.field {
			t.Errorf("fieldOf(%q) = %q, want %q", c.message, got, c.field)
		}
	}
}
