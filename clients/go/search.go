package jointspace

import (
	"context"
	"fmt"

	pb "github.com/jointspace/jointspace/clients/go/jointspacev1"
)

// Query is what Search looks for: an Input (Text, Image, ImageFile), embedded with the
// collection's model version; a Vector of the collection's dimension; or ByID, a stored
// item (left out of the hits).
type Query interface {
	setQuery(*pb.SearchRequest) error
}

// Vector is a precomputed vector, as a Query.
type Vector []float32

// ByID is the stored item with this id, as a Query.
func ByID(id string) Query { return storedID(id) }

type storedID string

func (id storedID) setQuery(r *pb.SearchRequest) error {
	r.Query = &pb.SearchRequest_Id{Id: string(id)}
	return nil
}

func (v Vector) setQuery(r *pb.SearchRequest) error {
	r.Query = &pb.SearchRequest_Vector{Vector: &pb.Vector{Values: v}}
	return nil
}

func (in Input) setQuery(r *pb.SearchRequest) error {
	input, err := in.proto()
	if err != nil {
		return fmt.Errorf("jointspace: the query: %w", err)
	}
	r.Query = &pb.SearchRequest_Input{Input: input}
	return nil
}

// SearchOptions tune Search; nil means the defaults.
type SearchOptions struct {
	// TopK is how many hits to return, 1 to 1000; 0: 10.
	TopK int
	// Filter keeps only items whose metadata matches.
	Filter Filter
	// IncludeVectors returns each hit's vector.
	IncludeVectors bool
	// NoMetadata leaves the hits' metadata out.
	NoMetadata bool
	// EfSearch is HNSW's candidate list size (1..1000): larger is more accurate and slower.
	// 0: the server's choice from TopK.
	EfSearch int
	// ModelVersion is the version to search: 0, the collection's; during a rollout the other
	// one may be named.
	ModelVersion int64
}

// Search finds the items nearest to query in a collection, best first.
func (c *Client) Search(ctx context.Context, collection string, query Query, opts *SearchOptions) ([]Hit, error) {
	if opts == nil {
		opts = &SearchOptions{}
	}
	if query == nil {
		return nil, fmt.Errorf("jointspace: Search needs a query")
	}
	includeMetadata := !opts.NoMetadata
	request := &pb.SearchRequest{
		Collection: collection, TopK: int32(opts.TopK), IncludeVectors: opts.IncludeVectors,
		IncludeMetadata: &includeMetadata, EfSearch: int32(opts.EfSearch), ModelVersion: opts.ModelVersion,
	}
	if err := query.setQuery(request); err != nil {
		return nil, err
	}
	filter, err := opts.Filter.Proto()
	if err != nil {
		return nil, err
	}
	request.Filter = filter
	ctx, cancel := c.deadline(ctx)
	defer cancel()
	response, err := c.collections.Search(ctx, request)
	if err != nil {
		return nil, toError(err, request)
	}
	hits := make([]Hit, len(response.GetHits()))
	for i, h := range response.GetHits() {
		hits[i] = Hit{ID: h.GetId(), Score: h.GetScore(), Metadata: fromStruct(h.GetMetadata())}
		if h.GetVector() != nil {
			hits[i].Vector = h.GetVector().GetValues()
		}
	}
	return hits, nil
}
