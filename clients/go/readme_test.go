package jointspace

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The example in README.md runs against the test server as written, but for the address
// (and the collection's name, so that it cannot meet one of another run).
func TestReadmeExample(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	ok(t, err)
	blocks := regexp.MustCompile("(?s)```go\n(package main\n.*?)```").FindAllStringSubmatch(string(readme), -1)
	if len(blocks) != 1 {
		t.Fatalf("want one example program in README.md, found %d", len(blocks))
	}
	example := blocks[0][1]
	for _, s := range []string{`"localhost:8500"`, `"captions"`} {
		if !strings.Contains(example, s) {
			t.Fatalf("the example has no %s", s)
		}
	}
	example = strings.ReplaceAll(example, `"localhost:8500"`, fmt.Sprintf("%q", address))
	example = strings.ReplaceAll(example, `"captions"`, fmt.Sprintf(`"gotest_readme_%d"`, os.Getpid()))

	// a folder inside the module, so that it builds against this module and its vendor/
	dir, err := os.MkdirTemp(".", "readme-example-")
	ok(t, err)
	defer os.RemoveAll(dir)
	ok(t, os.WriteFile(filepath.Join(dir, "main.go"), []byte(example), 0o644))

	out := string(runProgram(t, buildProgram(t, dir)))
	if !strings.Contains(out, "64 dimensions") || !strings.Contains(out, "red star (") || !strings.Contains(out, "c1 ") {
		t.Errorf("the example printed:\n%s", out)
	}
}
