package jointspace

import (
	"context"
	"fmt"
	"io"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/durationpb"

	pb "github.com/jointspace/jointspace/clients/go/jointspacev1"
)

// RolloutOptions are the optional parts of a rollout; nil means the defaults.
type RolloutOptions struct {
	// Unembeddable says what to do with items that have no source: pb.UnembeddablePolicy_UNEMBEDDABLE_FAIL
	// (the default), UNEMBEDDABLE_DROP or UNEMBEDDABLE_KEEP_IN_OLD.
	Unembeddable pb.UnembeddablePolicy
	// RateLimit is the backfill's items per second over all servers; 0: none.
	RateLimit float64
	// FinalizeAfter finalizes the rollout by itself this long after the promote; 0: only when asked.
	FinalizeAfter time.Duration
	// DryRun only checks and reports (total, unembeddable items, target dimension).
	DryRun bool
}

// StartRollout starts re-embedding a collection with another version of its model: target
// is "name@version", "name@label" or "name" (the newest available version); "@version",
// "@label" or "" name the collection's own model. Not retried.
func (c *Client) StartRollout(ctx context.Context, collection, target string, opts *RolloutOptions) (*pb.Rollout, error) {
	if opts == nil {
		opts = &RolloutOptions{}
	}
	if target == "" || target[0] == '@' {
		current, err := c.GetCollection(ctx, collection)
		if err != nil {
			return nil, err
		}
		target = current.GetModel().GetName() + target
	}
	spec, err := ParseModel(target)
	if err != nil {
		return nil, err
	}
	request := &pb.StartRolloutRequest{Collection: collection, Target: spec, Unembeddable: opts.Unembeddable,
		RateLimit: opts.RateLimit, DryRun: opts.DryRun}
	if opts.FinalizeAfter > 0 {
		request.FinalizeAfter = durationpb.New(opts.FinalizeAfter)
	}
	ctx, cancel := c.deadline(ctx)
	defer cancel()
	rollout, err := c.rollouts.StartRollout(ctx, request)
	return rollout, toError(err, request)
}

// GetRollout gives the collection's open rollout, else its newest; or, with id, that one.
func (c *Client) GetRollout(ctx context.Context, collection string, id int64) (*pb.Rollout, error) {
	ctx, cancel := c.deadline(ctx)
	defer cancel()
	request := &pb.GetRolloutRequest{Collection: collection, RolloutId: id}
	rollout, err := c.rollouts.GetRollout(ctx, request)
	return rollout, toError(err, request)
}

// ListRollouts lists every rollout of a collection (or of all, collection ""), newest first.
func (c *Client) ListRollouts(ctx context.Context, collection string) ([]*pb.Rollout, error) {
	ctx, cancel := c.deadline(ctx)
	defer cancel()
	request := &pb.ListRolloutsRequest{Collection: collection}
	response, err := c.rollouts.ListRollouts(ctx, request)
	if err != nil {
		return nil, toError(err, request)
	}
	return response.GetRollouts(), nil
}

// RolloutWatch is a rollout as it changes: the rollout now, then again each time its state
// or progress changes. Close it (or cancel the context given to WatchRollout) when done.
type RolloutWatch struct {
	stream  pb.RolloutService_WatchRolloutClient
	request *pb.GetRolloutRequest
	cancel  context.CancelFunc
}

// Next waits for the next state of the rollout. It returns io.EOF once the rollout is
// FINALIZED or ABORTED and the server has ended the watch.
func (w *RolloutWatch) Next() (*pb.Rollout, error) {
	rollout, err := w.stream.Recv()
	if err == io.EOF {
		return nil, io.EOF
	}
	if err != nil {
		return nil, toError(err, w.request)
	}
	return rollout, nil
}

// Close ends the watch.
func (w *RolloutWatch) Close() error {
	w.cancel()
	return nil
}

// WatchRollout watches the collection's open rollout (else its newest; or, with id, that
// one) until it ends, ctx is done or the watch is closed. It has no deadline but ctx's.
func (c *Client) WatchRollout(ctx context.Context, collection string, id int64) (*RolloutWatch, error) {
	ctx, cancel := context.WithCancel(ctx)
	request := &pb.GetRolloutRequest{Collection: collection, RolloutId: id}
	stream, err := c.rollouts.WatchRollout(ctx, request)
	if err != nil {
		cancel()
		return nil, toError(err, request)
	}
	return &RolloutWatch{stream: stream, request: request, cancel: cancel}, nil
}

// WaitForRollout watches the collection's rollout until it reaches one of states (READY
// when none are given) or ends (FINALIZED, ABORTED, FAILED), and returns it then: check its
// State. Give ctx a deadline.
func (c *Client) WaitForRollout(ctx context.Context, collection string, states ...pb.Rollout_State) (*pb.Rollout, error) {
	if len(states) == 0 {
		states = []pb.Rollout_State{pb.Rollout_READY}
	}
	watch, err := c.WatchRollout(ctx, collection, 0)
	if err != nil {
		return nil, err
	}
	defer watch.Close()
	var last *pb.Rollout
	for {
		rollout, err := watch.Next()
		if err == io.EOF && last != nil {
			return last, nil
		}
		if err != nil {
			return last, err
		}
		last = rollout
		switch rollout.GetState() {
		case pb.Rollout_FINALIZED, pb.Rollout_ABORTED, pb.Rollout_FAILED:
			return rollout, nil
		}
		for _, s := range states {
			if rollout.GetState() == s {
				return rollout, nil
			}
		}
	}
}

// PauseRollout stops the backfill; writes still go to both versions.
func (c *Client) PauseRollout(ctx context.Context, collection string) (*pb.Rollout, error) {
	return c.step(ctx, c.rollouts.PauseRollout, collection)
}

// ResumeRollout continues a paused backfill, or retries the failed items of a FAILED one.
func (c *Client) ResumeRollout(ctx context.Context, collection string) (*pb.Rollout, error) {
	return c.step(ctx, c.rollouts.ResumeRollout, collection)
}

// Promote: READY or ROLLED_BACK -> PROMOTED, the target becomes the collection's version.
func (c *Client) Promote(ctx context.Context, collection string) (*pb.Rollout, error) {
	return c.step(ctx, c.rollouts.PromoteRollout, collection)
}

// Rollback: PROMOTED -> ROLLED_BACK, back to the old version with every write since.
func (c *Client) Rollback(ctx context.Context, collection string) (*pb.Rollout, error) {
	return c.step(ctx, c.rollouts.RollbackRollout, collection)
}

// Finalize: PROMOTED -> FINALIZED, drops the old version's table.
func (c *Client) Finalize(ctx context.Context, collection string) (*pb.Rollout, error) {
	return c.step(ctx, c.rollouts.FinalizeRollout, collection)
}

// Abort: any open state but PROMOTED -> ABORTED, drops the target's table.
func (c *Client) Abort(ctx context.Context, collection string) (*pb.Rollout, error) {
	return c.step(ctx, c.rollouts.AbortRollout, collection)
}

// LabeledQuery is a query with the ids a good answer holds, for EvaluateRollout's recall@k.
type LabeledQuery struct {
	Query       Input
	ExpectedIDs []string
}

// EvaluationOptions say how EvaluateRollout compares the versions; nil means the defaults.
type EvaluationOptions struct {
	// SampleSize is the stored items sampled (0: 200), K the neighbours compared (0: 10).
	SampleSize, K int
	// Queries give recall@k per version.
	Queries []LabeledQuery
	// ClassKey is a metadata key holding each item's class, for zero-shot accuracy;
	// ClassTemplate puts the class in a sentence ("a photo of a {}"; default "{}").
	ClassKey, ClassTemplate string
}

// EvaluateRollout compares the two versions of a rollout whose backfill is done.
func (c *Client) EvaluateRollout(ctx context.Context, collection string, opts *EvaluationOptions) (*pb.Evaluation, error) {
	if opts == nil {
		opts = &EvaluationOptions{}
	}
	request := &pb.EvaluateRolloutRequest{Collection: collection, SampleSize: int32(opts.SampleSize), K: int32(opts.K),
		ClassKey: opts.ClassKey, ClassTemplate: opts.ClassTemplate}
	for i, q := range opts.Queries {
		input, err := q.Query.proto()
		if err != nil {
			return nil, fmt.Errorf("jointspace: queries[%d]: %w", i, err)
		}
		request.Queries = append(request.Queries, &pb.LabeledQuery{Query: input, ExpectedIds: q.ExpectedIDs})
	}
	ctx, cancel := c.deadline(ctx)
	defer cancel()
	evaluation, err := c.rollouts.EvaluateRollout(ctx, request)
	return evaluation, toError(err, request)
}

type stepMethod func(context.Context, *pb.RolloutRequest, ...grpc.CallOption) (*pb.Rollout, error)

func (c *Client) step(ctx context.Context, method stepMethod, collection string) (*pb.Rollout, error) {
	ctx, cancel := c.deadline(ctx)
	defer cancel()
	request := &pb.RolloutRequest{Collection: collection}
	rollout, err := method(ctx, request)
	return rollout, toError(err, request)
}
