package jointspace

import (
	"testing"

	"google.golang.org/protobuf/proto"
)

func TestFilter_readsAsItWasWritten(t *testing.T) {
	for _, c := range []struct {
		filter Filter
		want   string
	}{
		{Eq("color", "blue").And(Gte("n", 10)), `color = "blue" and n >= 10`},
		{Eq("a", 1).And(Eq("b", true)).And(Eq("c", nil)), `a = 1 and b = true and c = null`},
		{All(Eq("a", 1), All(Eq("b", 2), Eq("c", 3))), `a = 1 and b = 2 and c = 3`},
		{In("shape", "star", "circle").Or(Exists("draft").Not()), `shape in ("star", "circle") or not exists draft`},
		{Eq("a", 1).Or(Eq("b", 2)).And(Ne("c", "x")), `(a = 1 or b = 2) and not c = "x"`},
		{Between("n", 1, 5.5), `n >= 1 and n <= 5.5`},
		{Lt("info.year", 2030).Not().Not(), `info.year < 2030`},
		{Eq("tags", []string{"a", "b"}), `tags = ["a","b"]`},
		{Any(Eq("a", 1)), `a = 1`},
		{All(), ``},
		{Eq("a", 1).And(Filter{}), `a = 1`},
	} {
		if got := c.filter.String(); got != c.want {
			t.Errorf("got %s, want %s", got, c.want)
		}
	}
}

func TestFilter_flattensAndsAndOrs(t *testing.T) {
	f, err := Eq("a", 1).And(Eq("b", 2)).And(Eq("c", 3), Eq("d", 4)).Proto()
	ok(t, err)
	if n := len(f.GetAnd().GetFilters()); n != 4 {
		t.Errorf("want one and of 4 conditions, got %v", f)
	}
	g, err := All(Eq("a", 1), Eq("b", 2), Eq("c", 3), Eq("d", 4)).Proto()
	ok(t, err)
	if !proto.Equal(f, g) {
		t.Errorf("%v and %v differ", f, g)
	}
}

func TestFilter_keepsTheErrorOfAValueThatIsNotJSON(t *testing.T) {
	f := Eq("ok", 1).And(In("k", 1, func() {}))
	if _, err := f.Proto(); err == nil {
		t.Errorf("a function as a filter value: want an error, got %v", f)
	}
	if !(Filter{}).IsZero() || Eq("a", 1).IsZero() {
		t.Error("IsZero")
	}
}
