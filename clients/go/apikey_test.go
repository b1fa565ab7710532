package jointspace

import (
	"context"
	"net"
	"sync"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"

	pb "github.com/jointspace/jointspace/clients/go/jointspacev1"
)

// recordingServer is a plaintext gRPC server on loopback that keeps the authorization
// metadata of every call it receives (health answers; RolloutService answers UNIMPLEMENTED).
type recordingServer struct {
	mu   sync.Mutex
	seen map[string][]string // method -> authorization values
}

func (r *recordingServer) record(ctx context.Context, method string) {
	md, _ := metadata.FromIncomingContext(ctx)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seen[method] = append(r.seen[method], md.Get("authorization")...)
}

func startRecordingServer(t *testing.T) (*recordingServer, string) {
	t.Helper()
	rec := &recordingServer{seen: map[string][]string{}}
	server := grpc.NewServer(
		grpc.UnaryInterceptor(func(ctx context.Context, req interface{}, info *grpc.UnaryServerInfo,
			handler grpc.UnaryHandler) (interface{}, error) {
			rec.record(ctx, info.FullMethod)
			return handler(ctx, req)
		}),
		grpc.StreamInterceptor(func(srv interface{}, ss grpc.ServerStream, info *grpc.StreamServerInfo,
			handler grpc.StreamHandler) error {
			rec.record(ss.Context(), info.FullMethod)
			return handler(srv, ss)
		}))
	healthpb.RegisterHealthServer(server, health.NewServer())
	pb.RegisterRolloutServiceServer(server, pb.UnimplementedRolloutServiceServer{})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	ok(t, err)
	go func() { _ = server.Serve(l) }()
	t.Cleanup(server.Stop)
	return rec, l.Addr().String()
}

func TestWithAPIKey_sendsTheKeyWithEveryCall_overPlaintext(t *testing.T) {
	rec, addr := startRecordingServer(t)
	client, err := Dial(addr, WithAPIKey("js_0123456789abcdef_secret"), WithRetry(RetryPolicy{MaxAttempts: 1}))
	ok(t, err)
	defer client.Close()
	ctx := context.Background()
	if _, err := client.ServerReady(ctx); err != nil {
		t.Fatal(err)
	}
	watch, err := client.WatchRollout(ctx, "products", 0)
	ok(t, err)
	if _, err := watch.Next(); err == nil {
		t.Fatal("the recording server has no rollouts; want an error")
	}
	watch.Close()
	want := "Bearer js_0123456789abcdef_secret"
	for _, method := range []string{"/grpc.health.v1.Health/Check", "/jointspace.v1.RolloutService/WatchRollout"} {
		rec.mu.Lock()
		got := rec.seen[method]
		rec.mu.Unlock()
		if len(got) != 1 || got[0] != want {
			t.Errorf("%s: authorization %q, want [%q]", method, got, want)
		}
	}
}

func TestWithoutAPIKey_sendsNoAuthorization(t *testing.T) {
	rec, addr := startRecordingServer(t)
	client, err := Dial(addr)
	ok(t, err)
	defer client.Close()
	if _, err := client.ServerReady(context.Background()); err != nil {
		t.Fatal(err)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if got := rec.seen["/grpc.health.v1.Health/Check"]; len(got) != 0 {
		t.Errorf("authorization %q, want none", got)
	}
}
