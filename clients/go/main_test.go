package jointspace

// The tests run against a live server: `./jointspace serve` from the repository root on a
// free port, with its own PostgreSQL in a temporary folder (the launcher builds the server
// first when it is stale), stopped with SIGTERM at the end. Set JOINTSPACE_TEST_ADDRESS
// (host:port) to use a server that is already running instead.

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"
)

const (
	startTimeout = 15 * time.Minute // a first start builds the server and provisions PostgreSQL
	stopTimeout  = 60 * time.Second
	testModel    = "shapes-clip@2"
)

var (
	address  string
	repoRoot string
	samples  string
)

func TestMain(m *testing.M) {
	if needsRetryEnvironment() {
		// gRPC-Go before 1.40 honours the retry policy only with GRPC_GO_RETRY=on, read when
		// the process starts: run the tests again with it.
		env := append(os.Environ(), "GRPC_GO_RETRY=on")
		if err := syscall.Exec(os.Args[0], os.Args, env); err != nil {
			fmt.Fprintln(os.Stderr, "cannot run the tests again with GRPC_GO_RETRY=on:", err)
			os.Exit(1)
		}
	}
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		panic(err)
	}
	repoRoot, samples = root, filepath.Join(root, "docs", "samples")
	os.Exit(runWithServer(m))
}

func needsRetryEnvironment() bool {
	var major, minor int
	if _, err := fmt.Sscanf(grpc.Version, "%d.%d", &major, &minor); err != nil {
		return false
	}
	return major == 1 && minor < 40 && !strings.EqualFold(os.Getenv("GRPC_GO_RETRY"), "on")
}

func runWithServer(m *testing.M) int {
	if given := os.Getenv("JOINTSPACE_TEST_ADDRESS"); given != "" {
		address = given
		return m.Run()
	}
	folder, err := os.MkdirTemp("", "jointspace-go-test-")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(folder)
	port, err := freePort()
	if err != nil {
		panic(err)
	}
	address = "127.0.0.1:" + strconv.Itoa(port)
	logPath := filepath.Join(folder, "serve.log")
	log, err := os.Create(logPath)
	if err != nil {
		panic(err)
	}
	defer log.Close()
	server := exec.Command(filepath.Join(repoRoot, "jointspace"), "serve", "--grpc-port", strconv.Itoa(port),
		"--http-port", "-1", "--data-dir", filepath.Join(folder, "pg"))
	server.Dir, server.Stdout, server.Stderr = repoRoot, log, log
	fmt.Fprintf(os.Stderr, "starting ./jointspace serve on %s (building it first when it is stale)\n", address)
	if err := server.Start(); err != nil {
		panic(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- server.Wait() }()

	code := 1
	if err := waitUntilReady(exited); err != nil {
		fmt.Fprintf(os.Stderr, "%v\n%s\n", err, tail(logPath))
	} else {
		code = m.Run()
	}

	_ = server.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-exited:
		if err != nil && code == 0 {
			fmt.Fprintf(os.Stderr, "the server exited with %v\n%s\n", err, tail(logPath))
			code = 1
		}
	case <-time.After(stopTimeout):
		_ = server.Process.Kill()
		<-exited
		fmt.Fprintf(os.Stderr, "the server did not stop within %v of SIGTERM\n", stopTimeout)
		code = 1
	}
	return code
}

// waitUntilReady waits for gRPC health to report SERVING.
func waitUntilReady(exited chan error) error {
	client, err := Dial(address, WithTimeout(2*time.Second), WithRetry(RetryPolicy{MaxAttempts: 1}))
	if err != nil {
		return err
	}
	defer client.Close()
	deadline := time.Now().Add(startTimeout)
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			exited <- err
			return fmt.Errorf("the server exited: %v", err)
		default:
		}
		if ready, err := client.ServerReady(context.Background()); err == nil && ready {
			return nil
		}
		time.Sleep(500 * time.Millisecond)
	}
	return fmt.Errorf("the server was not ready within %v", startTimeout)
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func tail(path string) string {
	data, _ := os.ReadFile(path)
	if len(data) > 3000 {
		data = data[len(data)-3000:]
	}
	return string(data)
}

// testClient is a client of the test server, closed when the test ends.
func testClient(t *testing.T, opts ...Option) *Client {
	t.Helper()
	client, err := Dial(address, append([]Option{WithTimeout(60 * time.Second)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	return client
}

var names atomic.Int64

// collectionName is a fresh collection name; the collection, if the test made one, is
// dropped when the test ends.
func collectionName(t *testing.T, client *Client) string {
	t.Helper()
	name := fmt.Sprintf("gotest_%d_%d", os.Getpid(), names.Add(1))
	t.Cleanup(func() { _ = client.DeleteCollection(context.Background(), name) })
	return name
}

func sample(name string) string {
	return filepath.Join(samples, name)
}

// ok ends the test when err is not nil.
func ok(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// buildProgram builds the main package in dir (relative to this module) and gives the binary.
func buildProgram(t *testing.T, dir string) string {
	t.Helper()
	goTool := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(goTool); err != nil {
		if goTool, err = exec.LookPath("go"); err != nil {
			t.Fatal("no go command to build with:", err)
		}
	}
	binary := filepath.Join(t.TempDir(), filepath.Base(dir))
	build := exec.Command(goTool, "build", "-o", binary, "./"+filepath.ToSlash(dir))
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./%s: %v\n%s", dir, err, out)
	}
	return binary
}

// runProgram runs a binary from the repository root (where the sample paths start) and gives its stdout.
func runProgram(t *testing.T, binary string, args ...string) []byte {
	t.Helper()
	var stderr strings.Builder
	run := exec.Command(binary, args...)
	run.Dir, run.Stderr = repoRoot, &stderr
	out, err := run.Output()
	if err != nil {
		t.Fatalf("%s: %v\n%s", filepath.Base(binary), err, stderr.String())
	}
	return out
}
