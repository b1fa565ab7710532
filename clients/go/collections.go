package jointspace

import (
	"context"
	"fmt"
	"time"

	pb "github.com/jointspace/jointspace/clients/go/jointspacev1"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
)

// maxIDsPerCall is the server's limit on ids per Get or Delete, and on items per Upsert.
const maxIDsPerCall = 1000

// Item is an item to store: its id, what to embed (Input) or a precomputed Vector (one of
// the two), and metadata, any JSON object.
type Item struct {
	ID       string
	Input    Input
	Vector   []float32
	Metadata map[string]any
}

func (it Item) proto() (*pb.Item, error) {
	item := &pb.Item{Id: it.ID}
	switch {
	case !it.Input.IsZero() && it.Vector != nil:
		return nil, fmt.Errorf("jointspace: item %q has both an input and a vector", it.ID)
	case !it.Input.IsZero():
		input, err := it.Input.proto()
		if err != nil {
			return nil, fmt.Errorf("jointspace: item %q: %w", it.ID, err)
		}
		item.Content = &pb.Item_Input{Input: input}
	case it.Vector != nil:
		item.Content = &pb.Item_Vector{Vector: &pb.Vector{Values: it.Vector}}
	default:
		return nil, fmt.Errorf("jointspace: item %q has neither an input nor a vector", it.ID)
	}
	metadata, err := toStruct(it.Metadata)
	if err != nil {
		return nil, fmt.Errorf("jointspace: item %q: %w", it.ID, err)
	}
	item.Metadata = metadata
	return item, nil
}

// StoredItem is an item as stored. Vector is set when asked for; Text or Image holds the
// source when asked for and the item was embedded from one.
type StoredItem struct {
	ID        string
	Metadata  map[string]any
	Vector    []float32
	Text      string
	Image     []byte
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Hit is a search result; a higher Score is closer.
type Hit struct {
	ID       string
	Score    float32
	Metadata map[string]any
	// Vector is set when SearchOptions.IncludeVectors asked for it.
	Vector []float32
}

// CollectionOptions are the optional parts of a collection; nil means the defaults.
type CollectionOptions struct {
	// Metric: pb.Metric_COSINE (the default), INNER_PRODUCT or L2.
	Metric pb.Metric
	// VectorType: pb.VectorType_VECTOR (32-bit floats, the default) or HALFVEC.
	VectorType pb.VectorType
	// Dimension, when given, must match the model's.
	Dimension int
	// DropSources stores no sources (text, image bytes): the collection then cannot be
	// re-embedded by a rollout.
	DropSources bool
	Description string
	// M and EfConstruction tune the HNSW index (0: pgvector's 16 and 64).
	M, EfConstruction int
	// LabelPolicy says how a collection created on a label ("name@label") moves with it.
	LabelPolicy *pb.LabelPolicy
	// IndexedKeys are metadata keys searches filter on by equality ("a.b" for a nested key):
	// each value held by at least 100 items gets a partial HNSW index.
	IndexedKeys []string
}

// CreateCollection creates a collection bound to a version of model: "name" (the newest
// available), "name@version", or "name@label" (the label's version, and the collection
// follows the label). Not retried.
func (c *Client) CreateCollection(ctx context.Context, name, model string, opts *CollectionOptions) (*pb.Collection, error) {
	if opts == nil {
		opts = &CollectionOptions{}
	}
	spec, err := ParseModel(model)
	if err != nil {
		return nil, err
	}
	keep := !opts.DropSources
	request := &pb.CreateCollectionRequest{
		Name: name, Model: spec, Metric: opts.Metric, VectorType: opts.VectorType,
		Index:       &pb.IndexParameters{M: int32(opts.M), EfConstruction: int32(opts.EfConstruction)},
		KeepSources: &keep, Dimension: int32(opts.Dimension), Description: opts.Description,
		LabelPolicy: opts.LabelPolicy, IndexedKeys: opts.IndexedKeys,
	}
	ctx, cancel := c.deadline(ctx)
	defer cancel()
	collection, err := c.collections.CreateCollection(ctx, request)
	return collection, toError(err, request)
}

// SetIndexedKeys replaces a collection's indexed keys (see CollectionOptions.IndexedKeys); the
// server builds and drops their partial indexes in the background.
func (c *Client) SetIndexedKeys(ctx context.Context, name string, keys []string) (*pb.Collection, error) {
	ctx, cancel := c.deadline(ctx)
	defer cancel()
	request := &pb.UpdateCollectionRequest{
		Name: name, UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"indexed_keys"}}, IndexedKeys: keys,
	}
	collection, err := c.collections.UpdateCollection(ctx, request)
	return collection, toError(err, request)
}

// GetCollection describes a collection: its model version, dimension, item count, rollout.
func (c *Client) GetCollection(ctx context.Context, name string) (*pb.Collection, error) {
	ctx, cancel := c.deadline(ctx)
	defer cancel()
	request := &pb.GetCollectionRequest{Name: name}
	collection, err := c.collections.GetCollection(ctx, request)
	return collection, toError(err, request)
}

// ListCollections lists every collection, sorted by name.
func (c *Client) ListCollections(ctx context.Context) ([]*pb.Collection, error) {
	ctx, cancel := c.deadline(ctx)
	defer cancel()
	request := &pb.ListCollectionsRequest{}
	response, err := c.collections.ListCollections(ctx, request)
	if err != nil {
		return nil, toError(err, request)
	}
	return response.GetCollections(), nil
}

// DeleteCollection drops a collection, its tables and its view. Not retried.
func (c *Client) DeleteCollection(ctx context.Context, name string) error {
	ctx, cancel := c.deadline(ctx)
	defer cancel()
	request := &pb.DeleteCollectionRequest{Name: name}
	_, err := c.collections.DeleteCollection(ctx, request)
	return toError(err, request)
}

// Upsert inserts or replaces items by id in one transaction (at most 1000 items; Ingest
// takes any number). It returns the number written.
func (c *Client) Upsert(ctx context.Context, collection string, items []Item) (int, error) {
	request := &pb.UpsertRequest{Collection: collection, Items: make([]*pb.Item, len(items))}
	for i, item := range items {
		p, err := item.proto()
		if err != nil {
			return 0, err
		}
		request.Items[i] = p
	}
	ctx, cancel := c.deadline(ctx)
	defer cancel()
	response, err := c.collections.Upsert(ctx, request)
	if err != nil {
		return 0, toError(err, request)
	}
	return int(response.GetUpsertedCount()), nil
}

// GetOptions say what Get returns besides ids and metadata; nil means neither.
type GetOptions struct {
	IncludeVectors bool
	IncludeSources bool
	// ModelVersion is the version whose vectors to return: 0, the collection's; during a
	// rollout the other one may be named.
	ModelVersion int64
}

// Get fetches items by id, in the order asked; ids that are not stored are left out. More
// than 1000 ids take several calls.
func (c *Client) Get(ctx context.Context, collection string, ids []string, opts *GetOptions) ([]StoredItem, error) {
	if opts == nil {
		opts = &GetOptions{}
	}
	var found []StoredItem
	for start := 0; start < len(ids); start += maxIDsPerCall {
		request := &pb.GetRequest{
			Collection: collection, Ids: ids[start:minInt(start+maxIDsPerCall, len(ids))],
			IncludeVectors: opts.IncludeVectors, IncludeSources: opts.IncludeSources, ModelVersion: opts.ModelVersion,
		}
		response, err := c.get(ctx, request)
		if err != nil {
			return found, err
		}
		for _, item := range response.GetItems() {
			found = append(found, storedItem(item))
		}
	}
	return found, nil
}

func (c *Client) get(ctx context.Context, request *pb.GetRequest) (*pb.GetResponse, error) {
	ctx, cancel := c.deadline(ctx)
	defer cancel()
	response, err := c.collections.Get(ctx, request)
	return response, toError(err, request)
}

func storedItem(item *pb.StoredItem) StoredItem {
	stored := StoredItem{
		ID: item.GetId(), Metadata: fromStruct(item.GetMetadata()),
		Text: item.GetSource().GetText(), Image: item.GetSource().GetImage(),
		CreatedAt: item.GetCreatedAt().AsTime(), UpdatedAt: item.GetUpdatedAt().AsTime(),
	}
	if item.GetVector() != nil {
		stored.Vector = item.GetVector().GetValues()
	}
	return stored
}

// Delete deletes items by id (ids not stored are no error) and returns how many were
// deleted. More than 1000 ids take several calls, each its own transaction.
func (c *Client) Delete(ctx context.Context, collection string, ids []string) (int, error) {
	deleted := 0
	for start := 0; start < len(ids); start += maxIDsPerCall {
		request := &pb.DeleteRequest{Collection: collection, Ids: ids[start:minInt(start+maxIDsPerCall, len(ids))]}
		n, err := c.delete(ctx, request)
		deleted += n
		if err != nil {
			return deleted, err
		}
	}
	return deleted, nil
}

func (c *Client) delete(ctx context.Context, request *pb.DeleteRequest) (int, error) {
	ctx, cancel := c.deadline(ctx)
	defer cancel()
	response, err := c.collections.Delete(ctx, request)
	return int(response.GetDeletedCount()), toError(err, request)
}

func minInt(a, b int) int {
	if a < b {
		return a
	}
	return b
}
