// Package jointspace is the Go client of Jointspace, a gRPC server for multimodal embeddings:
// embed texts and images into one space, classify them zero-shot, keep their vectors in
// collections (PostgreSQL + pgvector) with bulk ingest and filtered search, and move a
// collection to a new model version with a rollout.
//
//	client, err := jointspace.Dial("localhost:8500")
//	if err != nil { ... }
//	defer client.Close()
//	vectors, err := client.Embed(ctx, "shapes-clip", jointspace.Text("a red star"), jointspace.ImageFile("star.png"))
//
// It is a thin layer over the generated stubs in the packages jointspacev1, configv1 and
// inference; Conn gives the connection for anything it does not wrap.
//
// Models are named as "name", "name@version" or "name@label" ("shapes-clip@2",
// "shapes-clip@stable"); without a version or label the newest available version answers.
//
// Every call has a deadline: the context's, or else the client's default (WithTimeout,
// 30 s); the streams (Ingest, WatchRollout) have only the context's. Calls that can be
// repeated without harm (embedding, reads, searches, upserts and deletes by id) are
// retried on UNAVAILABLE and RESOURCE_EXHAUSTED with exponential backoff, through gRPC's
// service config; creating, starting and switching things never are.
//
// For a server that requires API keys, Dial with WithAPIKey(os.Getenv("JOINTSPACE_API_KEY")).
//
// A call the server refuses returns an *Error with the gRPC code, the server's message and
// the request field the message names; get it with errors.As.
package jointspace

import (
	"context"
	"fmt"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	pb "github.com/jointspace/jointspace/clients/go/jointspacev1"
)

// DefaultMaxMessageBytes is the server's default limit on a message it takes in
// (--max-message-bytes): 64 MiB.
const DefaultMaxMessageBytes = 64 << 20

// Client is a connection to a Jointspace server. It is safe for concurrent use; Close it
// when done.
type Client struct {
	conn            *grpc.ClientConn
	owned           bool
	timeout         time.Duration
	maxMessageBytes int

	embedding   pb.EmbeddingServiceClient
	models      pb.ModelServiceClient
	collections pb.CollectionServiceClient
	rollouts    pb.RolloutServiceClient
	health      healthpb.HealthClient
}

type settings struct {
	timeout         time.Duration
	retry           RetryPolicy
	maxMessageBytes int
	creds           credentials.TransportCredentials
	apiKey          string
	dialOptions     []grpc.DialOption
}

// An Option configures a Client.
type Option func(*settings)

// WithTimeout sets the deadline of each call whose context has none (default 30 s; 0: none).
// Ingest and WatchRollout run as long as their context lets them.
func WithTimeout(d time.Duration) Option {
	return func(s *settings) { s.timeout = d }
}

// WithRetry sets the retry policy of the calls that can be repeated (DefaultRetryPolicy
// unless given); a policy of MaxAttempts 1 turns retries off. Dial only: a client made with
// New uses the connection's own service config.
func WithRetry(p RetryPolicy) Option {
	return func(s *settings) { s.retry = p }
}

// WithMaxMessageBytes sets the largest message sent or received, which Ingest sizes its
// messages to; keep it at the server's --max-message-bytes (DefaultMaxMessageBytes).
func WithMaxMessageBytes(n int) Option {
	return func(s *settings) { s.maxMessageBytes = n }
}

// WithTransportCredentials makes Dial use TLS (or other transport security); without it the
// connection is plaintext.
func WithTransportCredentials(c credentials.TransportCredentials) Option {
	return func(s *settings) { s.creds = c }
}

// WithAPIKey sends key as the metadata "authorization: Bearer <key>" with every call, for a
// server that requires API keys (see docs/operations.md). It is sent over plaintext too, as a
// server on a private network takes it; prefer reading the key from JOINTSPACE_API_KEY to
// writing it in code or on a command line. Dial only: with New, give the connection
// grpc.WithPerRPCCredentials(jointspace.APIKey(key)) yourself.
func WithAPIKey(key string) Option {
	return func(s *settings) { s.apiKey = key }
}

// APIKey is a gRPC per-call credential that sends "authorization: Bearer <key>", over TLS or
// plaintext alike.
type APIKey string

// GetRequestMetadata gives the authorization metadata of every call.
func (k APIKey) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer " + string(k)}, nil
}

// RequireTransportSecurity is false: the server takes keys over plaintext (behind TLS ending elsewhere).
func (k APIKey) RequireTransportSecurity() bool {
	return false
}

// WithDialOptions adds gRPC dial options (interceptors, keepalive, ...), applied after the
// client's own. Dial only.
func WithDialOptions(opts ...grpc.DialOption) Option {
	return func(s *settings) { s.dialOptions = append(s.dialOptions, opts...) }
}

func newSettings(opts []Option) (*settings, error) {
	s := &settings{timeout: 30 * time.Second, retry: DefaultRetryPolicy, maxMessageBytes: DefaultMaxMessageBytes}
	for _, o := range opts {
		o(s)
	}
	if s.timeout < 0 {
		return nil, fmt.Errorf("jointspace: the timeout must not be negative, got %v", s.timeout)
	}
	if s.maxMessageBytes <= 0 {
		return nil, fmt.Errorf("jointspace: the largest message must be positive, got %d bytes", s.maxMessageBytes)
	}
	if err := s.retry.validate(); err != nil {
		return nil, err
	}
	return s, nil
}

// Dial connects to a server at address ("host:port"). It does not wait for the server: the
// first call does, within its deadline.
func Dial(address string, opts ...Option) (*Client, error) {
	s, err := newSettings(opts)
	if err != nil {
		return nil, err
	}
	dial := []grpc.DialOption{
		// A request is retried only while gRPC still holds all it sent (256 KiB by default):
		// hold up to a whole message, so an Upsert of images is retried too.
		grpc.WithDefaultCallOptions(grpc.MaxCallSendMsgSize(s.maxMessageBytes),
			grpc.MaxCallRecvMsgSize(s.maxMessageBytes), grpc.MaxRetryRPCBufferSize(s.maxMessageBytes)),
	}
	if s.creds != nil {
		dial = append(dial, grpc.WithTransportCredentials(s.creds))
	} else {
		dial = append(dial, grpc.WithInsecure())
	}
	if s.apiKey != "" {
		dial = append(dial, grpc.WithPerRPCCredentials(APIKey(s.apiKey)))
	}
	if s.retry.MaxAttempts > 1 {
		dial = append(dial, grpc.WithDefaultServiceConfig(s.retry.serviceConfig()))
	} else {
		dial = append(dial, grpc.WithDisableRetry())
	}
	conn, err := grpc.Dial(address, append(dial, s.dialOptions...)...)
	if err != nil {
		return nil, fmt.Errorf("jointspace: dial %s: %w", address, err)
	}
	c := newClient(conn, s)
	c.owned = true
	return c, nil
}

// New wraps a connection made elsewhere (with its own credentials, service config and
// interceptors; RetryPolicy.ServiceConfig gives the retry policy Dial would use). Close does
// not close it. Of the options, WithTimeout and WithMaxMessageBytes apply.
func New(conn *grpc.ClientConn, opts ...Option) (*Client, error) {
	s, err := newSettings(opts)
	if err != nil {
		return nil, err
	}
	return newClient(conn, s), nil
}

func newClient(conn *grpc.ClientConn, s *settings) *Client {
	return &Client{
		conn:            conn,
		timeout:         s.timeout,
		maxMessageBytes: s.maxMessageBytes,
		embedding:       pb.NewEmbeddingServiceClient(conn),
		models:          pb.NewModelServiceClient(conn),
		collections:     pb.NewCollectionServiceClient(conn),
		rollouts:        pb.NewRolloutServiceClient(conn),
		health:          healthpb.NewHealthClient(conn),
	}
}

// Close closes the connection (when Dial made it); calls in flight are cancelled.
func (c *Client) Close() error {
	if !c.owned {
		return nil
	}
	return c.conn.Close()
}

// Conn is the connection, for the services this package does not wrap (KServe v2's
// inference.GRPCInferenceService, reflection) or for the stubs themselves.
func (c *Client) Conn() *grpc.ClientConn {
	return c.conn
}

// ServerReady says whether the server is ready: gRPC health reports SERVING once every model
// it knows has an available version.
func (c *Client) ServerReady(ctx context.Context) (bool, error) {
	ctx, cancel := c.deadline(ctx)
	defer cancel()
	response, err := c.health.Check(ctx, &healthpb.HealthCheckRequest{})
	if err != nil {
		return false, toError(err, nil)
	}
	return response.GetStatus() == healthpb.HealthCheckResponse_SERVING, nil
}

// deadline gives ctx the client's default timeout when it has no deadline of its own.
func (c *Client) deadline(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok || c.timeout == 0 {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, c.timeout)
}
