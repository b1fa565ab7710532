package jointspace

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
)

// relay passes TCP connections through to the test server, counting the HTTP/2 HEADERS
// frames clients send: one per call attempt (gRPC opens a stream per attempt).
type relay struct {
	listener net.Listener
	headers  atomic.Int64
	wg       sync.WaitGroup
}

func startRelay(t *testing.T) *relay {
	t.Helper()
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	ok(t, err)
	r := &relay{listener: listener}
	go r.accept()
	t.Cleanup(func() {
		listener.Close()
		r.wg.Wait()
	})
	return r
}

func (r *relay) address() string { return r.listener.Addr().String() }

func (r *relay) accept() {
	for {
		client, err := r.listener.Accept()
		if err != nil {
			return
		}
		server, err := net.Dial("tcp", address)
		if err != nil {
			client.Close()
			continue
		}
		r.wg.Add(2)
		go func() {
			defer r.wg.Done()
			_, _ = io.Copy(client, server)
			client.Close()
		}()
		go func() {
			defer r.wg.Done()
			r.countFrames(client, server)
			server.Close()
		}()
	}
}

// countFrames copies the client's side: the connection preface, then frames of a 9-byte
// header (length, type, flags, stream) and a payload; type 1 is HEADERS.
func (r *relay) countFrames(from io.Reader, to io.Writer) {
	preface := make([]byte, 24)
	if _, err := io.ReadFull(from, preface); err != nil {
		return
	}
	if _, err := to.Write(preface); err != nil {
		return
	}
	header := make([]byte, 9)
	for {
		if _, err := io.ReadFull(from, header); err != nil {
			return
		}
		if header[3] == 1 {
			r.headers.Add(1)
		}
		length := binary.BigEndian.Uint32(append([]byte{0}, header[:3]...))
		if _, err := to.Write(header); err != nil {
			return
		}
		if _, err := io.CopyN(to, from, int64(length)); err != nil {
			return
		}
	}
}

// attempts runs call and says how many attempts it made, with its error.
func (r *relay) attempts(call func() error) (int64, error) {
	before := r.headers.Load()
	err := call()
	return r.headers.Load() - before, err
}

var quickRetries = RetryPolicy{MaxAttempts: 3, InitialBackoff: 10 * time.Millisecond, MaxBackoff: 40 * time.Millisecond}

func TestRetries_repeatCallsThatCanBeRepeated_andNothingElse(t *testing.T) {
	ctx := context.Background()
	relay := startRelay(t)
	client := testClient(t)
	retrying := mustDial(t, relay.address(), WithRetry(quickRetries))
	name := collectionName(t, client)
	_, err := client.CreateCollection(ctx, name, testModel, nil)
	ok(t, err)

	// over a limit: RESOURCE_EXHAUSTED, which a retry cannot mend, but the policy retries
	// the code for the calls it covers, which shows here
	n, err := relay.attempts(func() error {
		_, err := retrying.Search(ctx, name, Text("a red star"), &SearchOptions{TopK: 5000})
		return err
	})
	if e := asError(t, err, codes.ResourceExhausted); e.Field != "top_k" || n != 3 {
		t.Errorf("Search over the top_k limit: %d attempts, field %q", n, e.Field)
	}
	items := make([]Item, 1001)
	for i := range items {
		items[i] = Item{ID: "x", Vector: make([]float32, 64)}
	}
	n, err = relay.attempts(func() error { _, err := retrying.Upsert(ctx, name, items); return err })
	if e := asError(t, err, codes.ResourceExhausted); e.Field != "items" || n != 3 {
		t.Errorf("Upsert over the item limit: %d attempts, field %q", n, e.Field)
	}

	n, err = relay.attempts(func() error {
		_, err := retrying.CreateCollection(ctx, name+"_x", testModel, &CollectionOptions{Description: strings.Repeat("d", 5000)})
		return err
	})
	if e := asError(t, err, codes.ResourceExhausted); e.Field != "description" || n != 1 {
		t.Errorf("CreateCollection over the description limit: %d attempts, field %q", n, e.Field)
	}

	once := mustDial(t, relay.address(), WithRetry(RetryPolicy{MaxAttempts: 1}))
	n, err = relay.attempts(func() error {
		_, err := once.Search(ctx, name, Text("a red star"), &SearchOptions{TopK: 5000})
		return err
	})
	if asError(t, err, codes.ResourceExhausted); n != 1 {
		t.Errorf("without retries, Search made %d attempts", n)
	}
}

func TestRetryPolicy_serviceConfigNamesOnlyRepeatableMethods(t *testing.T) {
	config, err := DefaultRetryPolicy.ServiceConfig()
	ok(t, err)
	var parsed struct {
		MethodConfig []struct {
			Name        []struct{ Service, Method string }
			RetryPolicy struct {
				MaxAttempts                int
				InitialBackoff, MaxBackoff string
				RetryableStatusCodes       []string
			}
		}
	}
	ok(t, json.Unmarshal([]byte(config), &parsed))
	policy := parsed.MethodConfig[0].RetryPolicy
	if policy.MaxAttempts != 5 || policy.InitialBackoff != "0.2s" || policy.MaxBackoff != "5s" ||
		strings.Join(policy.RetryableStatusCodes, ",") != "UNAVAILABLE,RESOURCE_EXHAUSTED" {
		t.Errorf("the policy is %+v", policy)
	}
	retried := map[string]bool{}
	for _, name := range parsed.MethodConfig[0].Name {
		retried[name.Service+"/"+name.Method] = true
	}
	for _, method := range []string{"EmbeddingService/Embed", "CollectionService/Search", "CollectionService/Upsert",
		"CollectionService/Delete", "CollectionService/Get", "ModelService/ListModels", "RolloutService/GetRollout"} {
		if !retried["jointspace.v1."+method] {
			t.Errorf("%s is not retried", method)
		}
	}
	for _, method := range []string{"CollectionService/CreateCollection", "CollectionService/DeleteCollection",
		"CollectionService/UpsertStream", "ModelService/SetLabel", "RolloutService/StartRollout",
		"RolloutService/PromoteRollout", "RolloutService/RollbackRollout", "RolloutService/AbortRollout"} {
		if retried["jointspace.v1."+method] {
			t.Errorf("%s is retried", method)
		}
	}
	if _, err := (RetryPolicy{MaxAttempts: 6}).ServiceConfig(); err == nil {
		t.Error("6 attempts: want an error")
	}
}

func TestDeadlines_theContextsElseTheClients(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Microsecond)
	defer cancel()
	_, err := testClient(t).Embed(ctx, testModel, Text("a red star"))
	asError(t, err, codes.DeadlineExceeded)

	hurried := testClient(t, WithTimeout(time.Microsecond))
	_, err = hurried.Classify(context.Background(), testModel, []string{"red star", "blue circle"},
		[]Input{ImageFile(sample("red-star.png"))}, nil)
	asError(t, err, codes.DeadlineExceeded)

	patient, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err = hurried.Embed(patient, testModel, Text("a red star"))
	ok(t, err)
}

func mustDial(t *testing.T, target string, opts ...Option) *Client {
	t.Helper()
	client, err := Dial(target, opts...)
	ok(t, err)
	t.Cleanup(func() { client.Close() })
	return client
}
