// Command crosscheck runs the cross-language scenario of clients/crosscheck/README.md with
// the Go client, from the repository root:
//
//	crosscheck ADDRESS COLLECTION
//
// It prints one JSON object on stdout and exits 0, or exits 1 with the error on stderr.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"google.golang.org/grpc/codes"

	jointspace "github.com/jointspace/jointspace/clients/go"
)

const model = "shapes-clip"

type labelScore struct {
	Label       string  `json:"label"`
	Probability float32 `json:"probability"`
	Cosine      float32 `json:"cosine"`
}

type hit struct {
	ID    string  `json:"id"`
	Score float32 `json:"score"`
}

type output struct {
	Embed struct {
		Text  []float32 `json:"text"`
		Image []float32 `json:"image"`
	} `json:"embed"`
	Classify []labelScore `json:"classify"`
	Ingested int64        `json:"ingested"`
	Search   []hit        `json:"search"`
}

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: crosscheck ADDRESS COLLECTION")
		os.Exit(2)
	}
	out, err := run(context.Background(), os.Args[1], os.Args[2])
	if err != nil {
		fmt.Fprintln(os.Stderr, "crosscheck:", err)
		os.Exit(1)
	}
	if err := json.NewEncoder(os.Stdout).Encode(out); err != nil {
		fmt.Fprintln(os.Stderr, "crosscheck:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, address, collection string) (*output, error) {
	client, err := jointspace.Dial(address)
	if err != nil {
		return nil, err
	}
	defer client.Close()
	out := &output{}

	// 1. Embed a text and an image in one call.
	const redStar = "docs/samples/red-star.png"
	vectors, err := client.Embed(ctx, model, jointspace.Text("a small red star"), jointspace.ImageFile(redStar))
	if err != nil {
		return nil, fmt.Errorf("embed: %w", err)
	}
	out.Embed.Text, out.Embed.Image = vectors[0], vectors[1]

	// 2. Classify the image (the server's default templates).
	results, err := client.Classify(ctx, model, []string{"red star", "blue circle", "green hexagon"},
		[]jointspace.Input{jointspace.ImageFile(redStar)}, nil)
	if err != nil {
		return nil, fmt.Errorf("classify: %w", err)
	}
	for _, s := range results[0] {
		out.Classify = append(out.Classify, labelScore{s.Label, s.Probability, s.Cosine})
	}

	// 3. A fresh collection, and 500 text items through the bulk ingest.
	var refused *jointspace.Error
	if err := client.DeleteCollection(ctx, collection); err != nil && !(errors.As(err, &refused) && refused.Code == codes.NotFound) {
		return nil, fmt.Errorf("delete collection: %w", err)
	}
	if _, err := client.CreateCollection(ctx, collection, model, nil); err != nil {
		return nil, fmt.Errorf("create collection: %w", err)
	}
	result, err := client.Ingest(ctx, collection, items(), nil)
	if err != nil {
		return nil, fmt.Errorf("ingest: %w", err)
	}
	out.Ingested = result.Committed

	// 4. A filtered search, then the collection goes.
	filter := jointspace.Eq("color", "blue").And(jointspace.Gte("n", 100))
	hits, err := client.Search(ctx, collection, jointspace.Text("a blue star"),
		&jointspace.SearchOptions{TopK: 10, EfSearch: 400, Filter: filter})
	if err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	out.Search = []hit{}
	for _, h := range hits {
		out.Search = append(out.Search, hit{h.ID, h.Score})
	}
	if err := client.DeleteCollection(ctx, collection); err != nil {
		return nil, fmt.Errorf("delete collection: %w", err)
	}
	return out, nil
}

// items are the scenario's 500 captions with their color, shape and n.
func items() []jointspace.Item {
	colors := []string{"red", "green", "blue", "yellow", "purple", "orange", "white", "black"}
	shapes := []string{"circle", "square", "triangle", "star", "hexagon", "cross"}
	sizes := []string{"small", "large"}
	nouns := []string{"photo", "picture", "image", "rendering", "drawing"}
	items := make([]jointspace.Item, 500)
	for i := range items {
		color, shape, size, noun := colors[i%8], shapes[(i/8)%6], sizes[(i/48)%2], nouns[(i/96)%5]
		items[i] = jointspace.Item{
			ID:       fmt.Sprintf("item-%03d", i),
			Input:    jointspace.Text(fmt.Sprintf("a %s of a %s %s %s", noun, size, color, shape)),
			Metadata: map[string]any{"color": color, "shape": shape, "n": i},
		}
	}
	return items
}
