package jointspace

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
)

// The cross-language scenario's program (cmd/crosscheck), run as clients/crosscheck runs it.
func TestCrosscheckProgram(t *testing.T) {
	binary := buildProgram(t, "cmd/crosscheck")
	collection := fmt.Sprintf("gotest_crosscheck_%d", os.Getpid())
	out := runProgram(t, binary, address, collection)

	var got struct {
		Embed    map[string][]float32
		Classify []struct {
			Label       string
			Probability float32
			Cosine      float32
		}
		Ingested int
		Search   []map[string]any
	}
	decoder := json.NewDecoder(strings.NewReader(string(out)))
	decoder.DisallowUnknownFields()
	ok(t, decoder.Decode(&got))
	if len(got.Embed) != 2 || len(got.Embed["text"]) != 64 || len(got.Embed["image"]) != 64 {
		t.Errorf("embed: %d vectors", len(got.Embed))
	}
	if len(got.Classify) != 3 || got.Classify[0].Label != "red star" || got.Classify[0].Probability < got.Classify[1].Probability {
		t.Errorf("classify: %+v", got.Classify)
	}
	if got.Ingested != 500 {
		t.Errorf("ingested %d", got.Ingested)
	}
	if len(got.Search) != 10 {
		t.Fatalf("search: %d hits", len(got.Search))
	}
	for _, hit := range got.Search {
		// item i is blue when i % 8 == 2; the filter also asks for n >= 100
		i, err := strconv.Atoi(strings.TrimPrefix(hit["id"].(string), "item-"))
		if len(hit) != 2 || err != nil || i%8 != 2 || i < 100 {
			t.Errorf("hit %v does not match the filter", hit)
		}
	}
	if _, err := testClient(t).GetCollection(context.Background(), collection); err == nil {
		t.Errorf("the program left %s behind", collection)
	}
}
