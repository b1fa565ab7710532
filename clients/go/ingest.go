package jointspace

import (
	"context"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"sync"
	"sync/atomic"
	"unicode/utf8"

	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	pb "github.com/jointspace/jointspace/clients/go/jointspacev1"
)

// maxItemsPerMessage is the server's limit on items per UpsertStream message.
const maxItemsPerMessage = 10000

// messageHeadroom is room left in each message for gRPC's framing and the collection's name.
const messageHeadroom = 4096

// IngestOptions tune Ingest; nil means the defaults.
type IngestOptions struct {
	// BatchSize is the items per stream message, each message one transaction on the server;
	// fewer when the message would pass the client's largest message. 1 to 10000; 0: 1000.
	BatchSize int
	// MaxAhead is how many messages may wait for their commit before the next is sent; 0: 2.
	MaxAhead int
	// Resume skips the items whose ids the collection holds already (looked up with Get,
	// 1000 at a time), so an ingest that stopped part way can be run again with the same
	// items and writes only what is missing. It skips by id: an item stored with other
	// content is not rewritten.
	Resume bool
	// Progress, when set, is called after each commit with the counts so far, one call at a
	// time, from a goroutine of the ingest.
	Progress func(IngestResult)
}

// IngestResult is what an ingest did: items the server committed, items skipped as already
// stored (Resume), and stream messages sent.
type IngestResult struct {
	Committed int64
	Skipped   int64
	Messages  int
}

// IngestError is an ingest whose stream ended in an error, most often a message the server
// refused: the first message not committed (the messages before it stay committed) and the
// item the server's message named, if any. errors.As finds the *Error in it.
type IngestError struct {
	// Message is the zero-based index, on the stream, of the first message not committed:
	// the one the server refused.
	Message int
	// ItemID is the id of the item the server's message named (items[i]), or "".
	ItemID string
	Err    *Error
}

func (e *IngestError) Error() string {
	if e.ItemID != "" {
		return fmt.Sprintf("%v (item %q)", e.Err, e.ItemID)
	}
	return e.Err.Error()
}

// Unwrap gives the *Error.
func (e *IngestError) Unwrap() error { return e.Err }

// GRPCStatus is the refusal as a gRPC status.
func (e *IngestError) GRPCStatus() *status.Status { return e.Err.GRPCStatus() }

// Ingest writes items over one CollectionService.UpsertStream: see IngestFrom.
func (c *Client) Ingest(ctx context.Context, collection string, items []Item, opts *IngestOptions) (IngestResult, error) {
	i := 0
	return c.IngestFrom(ctx, collection, func() (Item, error) {
		if i == len(items) {
			return Item{}, io.EOF
		}
		i++
		return items[i-1], nil
	}, opts)
}

// IngestFrom writes the items next yields, until it returns io.EOF, over one
// CollectionService.UpsertStream: BatchSize items per message (fewer to stay under the
// client's largest message), each message one transaction on the server, answered once
// committed; no more than MaxAhead messages wait for their answer. Image files are read as
// their message is made, so a large ingest holds only a few messages in memory.
//
// When next fails (or an image cannot be read, or an item is larger than a message may be),
// the messages already sent are committed first, and that error is returned then, with the
// counts so far. When the server refuses a message (or the stream ends otherwise: ctx, the
// connection), the error is an *IngestError; the messages before it stay committed, and
// running the same ingest again with Resume writes the rest. The stream has no deadline but
// ctx's.
func (c *Client) IngestFrom(ctx context.Context, collection string, next func() (Item, error), opts *IngestOptions) (IngestResult, error) {
	o := IngestOptions{BatchSize: 1000, MaxAhead: 2}
	if opts != nil {
		o = *opts
		if o.BatchSize == 0 {
			o.BatchSize = 1000
		}
		if o.MaxAhead == 0 {
			o.MaxAhead = 2
		}
	}
	if o.BatchSize < 1 || o.BatchSize > maxItemsPerMessage {
		return IngestResult{}, fmt.Errorf("jointspace: IngestOptions.BatchSize must be 1..%d, got %d", maxItemsPerMessage, o.BatchSize)
	}
	if o.MaxAhead < 1 {
		return IngestResult{}, fmt.Errorf("jointspace: IngestOptions.MaxAhead must be positive, got %d", o.MaxAhead)
	}
	run := &ingest{client: c, collection: collection, options: o, next: next, unanswered: map[int][]string{}}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	run.ctx, run.cancel = ctx, cancel
	return run.run()
}

// ingest is one run: the caller's goroutine makes and sends the messages, another takes the answers.
type ingest struct {
	ctx        context.Context
	cancel     context.CancelFunc
	client     *Client
	collection string
	options    IngestOptions
	next       func() (Item, error)

	committed atomic.Int64
	skipped   atomic.Int64
	sent      atomic.Int64

	mu         sync.Mutex
	unanswered map[int][]string // ids of each message sent and not yet answered, by index
	answered   int

	resumed []Item // items looked up and not stored, waiting to be sent (Resume)
	carry   *pb.Item
}

func (r *ingest) run() (IngestResult, error) {
	stream, err := r.client.collections.UpsertStream(r.ctx)
	if err != nil {
		return r.result(), toError(err, &pb.UpsertStreamRequest{})
	}
	ahead := make(chan struct{}, r.options.MaxAhead) // one token per message waiting for its answer
	done := make(chan struct{})
	var streamErr error
	go func() {
		defer close(done)
		streamErr = r.answers(stream, ahead)
	}()

	var sourceErr, sendErr error
	for {
		message, err := r.message()
		if err != nil {
			sourceErr = err
			break
		}
		if message == nil {
			break
		}
		select {
		case ahead <- struct{}{}:
		case <-done: // the server ended the stream: its error says why
		}
		if r.stopped(done) {
			break
		}
		r.mu.Lock()
		index := int(r.sent.Load())
		r.unanswered[index] = ids(message.Items)
		r.mu.Unlock()
		r.sent.Add(1)
		if err := stream.Send(message); err != nil {
			if err != io.EOF { // io.EOF: the stream ended, and the answers' side has the status
				sendErr = toError(err, message)
				r.cancel()
			}
			break
		}
	}
	_ = stream.CloseSend()
	<-done
	if sendErr != nil {
		return r.result(), sendErr
	}
	if streamErr != nil {
		return r.result(), r.refusal(streamErr)
	}
	return r.result(), sourceErr
}

func (r *ingest) stopped(done chan struct{}) bool {
	select {
	case <-done:
		return true
	default:
		return false
	}
}

// answers takes the server's answers until the stream ends; each frees a place for one more message.
func (r *ingest) answers(stream pb.CollectionService_UpsertStreamClient, ahead chan struct{}) error {
	for {
		answer, err := stream.Recv()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		r.committed.Store(answer.GetTotalCommitted())
		r.mu.Lock()
		delete(r.unanswered, r.answered)
		r.answered++
		r.mu.Unlock()
		<-ahead
		if r.options.Progress != nil {
			r.options.Progress(r.result())
		}
	}
}

var refusedItem = regexp.MustCompile(`^items\[(\d+)\]`)

// refusal is the stream's error as an *IngestError: answers come in order, so the message
// refused is the first one not answered.
func (r *ingest) refusal(err error) error {
	e, ok := toError(err, &pb.UpsertStreamRequest{}).(*Error)
	if !ok {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	refused := &IngestError{Message: r.answered, Err: e}
	if m := refusedItem.FindStringSubmatch(e.Field); m != nil {
		if i, err := strconv.Atoi(m[1]); err == nil && i < len(r.unanswered[r.answered]) {
			refused.ItemID = r.unanswered[r.answered][i]
		}
	}
	return refused
}

func (r *ingest) result() IngestResult {
	return IngestResult{Committed: r.committed.Load(), Skipped: r.skipped.Load(), Messages: int(r.sent.Load())}
}

// message makes the next stream message, or nil when there are no more items.
func (r *ingest) message() (*pb.UpsertStreamRequest, error) {
	budget := r.client.maxMessageBytes - messageHeadroom - len(r.collection)
	message := &pb.UpsertStreamRequest{Collection: r.collection}
	size := 0
	for len(message.Items) < r.options.BatchSize {
		item := r.carry
		r.carry = nil
		if item == nil {
			next, err := r.nextItem()
			if err == io.EOF {
				break
			}
			if err != nil {
				return nil, err
			}
			if item, err = next.proto(); err != nil {
				return nil, err
			}
		}
		itemSize := fieldSize(proto.Size(item))
		if itemSize > budget {
			return nil, fmt.Errorf("jointspace: item %q takes %d bytes, more than a message may (%d)",
				item.GetId(), itemSize, r.client.maxMessageBytes)
		}
		if size+itemSize > budget {
			r.carry = item
			break
		}
		message.Items = append(message.Items, item)
		size += itemSize
	}
	if len(message.Items) == 0 {
		return nil, nil
	}
	return message, nil
}

// nextItem is the next item to send: with Resume, the next one the collection does not hold.
func (r *ingest) nextItem() (Item, error) {
	if !r.options.Resume {
		return r.next()
	}
	for len(r.resumed) == 0 {
		var chunk []Item
		var end error
		for len(chunk) < maxIDsPerCall {
			item, err := r.next()
			if err != nil {
				end = err
				break
			}
			chunk = append(chunk, item)
		}
		if err := r.leaveOutStored(chunk); err != nil {
			return Item{}, err
		}
		if end != nil && len(r.resumed) == 0 {
			return Item{}, end
		}
		if end != nil {
			// give out what is left, then the end (io.EOF or the source's error)
			r.next = func() (Item, error) { return Item{}, end }
		}
	}
	item := r.resumed[0]
	r.resumed = r.resumed[1:]
	return item, nil
}

// leaveOutStored keeps, in r.resumed, the items of chunk whose ids the collection does not hold.
func (r *ingest) leaveOutStored(chunk []Item) error {
	var lookup []string
	for _, item := range chunk {
		if storable(item.ID) { // a bad id is left to the write, which names it
			lookup = append(lookup, item.ID)
		}
	}
	stored := map[string]bool{}
	if len(lookup) > 0 {
		found, err := r.client.Get(r.ctx, r.collection, lookup, nil)
		if err != nil {
			return fmt.Errorf("jointspace: looking up the stored ids: %w", err)
		}
		for _, s := range found {
			stored[s.ID] = true
		}
	}
	for _, item := range chunk {
		if stored[item.ID] {
			r.skipped.Add(1)
		} else {
			r.resumed = append(r.resumed, item)
		}
	}
	return nil
}

// storable says whether the server would take id: 1 to 512 bytes of UTF-8, no NUL.
func storable(id string) bool {
	for _, c := range id {
		if c == 0 {
			return false
		}
	}
	return id != "" && len(id) <= 512 && utf8.ValidString(id)
}

// fieldSize is the bytes an item of size bytes takes in its message: tag, length, body.
func fieldSize(size int) int {
	n := 1
	for v := size; v >= 0x80; v >>= 7 {
		n++
	}
	return 1 + n + size
}

func ids(items []*pb.Item) []string {
	out := make([]string, len(items))
	for i, item := range items {
		out[i] = item.GetId()
	}
	return out
}
