package jointspace

import (
	"encoding/json"
	"fmt"
	"strings"

	"google.golang.org/protobuf/types/known/structpb"

	pb "github.com/jointspace/jointspace/clients/go/jointspacev1"
)

// Filter is a condition on item metadata, for Search:
//
//	jointspace.Eq("color", "blue").And(jointspace.Gte("n", 10))
//	jointspace.In("shape", "star", "circle").Or(jointspace.Exists("draft").Not())
//
// Keys name top-level metadata fields, or nested ones by a dotted path ("info.author").
// Values are JSON values: nil, bools, numbers, strings, lists and maps. Several And or Or of
// one kind are flattened into one condition. The zero Filter is no filter.
type Filter struct {
	proto *pb.Filter
	err   error
}

// Eq: metadata[key] equals value (JSON equality: 3 equals 3.0, "3" does not).
func Eq(key string, value any) Filter {
	v, err := toValue(value)
	return made(&pb.Filter{Condition: &pb.Filter_Equals{Equals: &pb.FieldValue{Key: key, Value: v}}}, key, err)
}

// Ne: metadata[key] does not equal value (also true where the key is missing).
func Ne(key string, value any) Filter {
	return Eq(key, value).Not()
}

// In: metadata[key] equals one of values (at least one, at most 1000).
func In(key string, values ...any) Filter {
	in := &pb.FieldValues{Key: key}
	for _, value := range values {
		v, err := toValue(value)
		if err != nil {
			return made(nil, key, err)
		}
		in.Values = append(in.Values, v)
	}
	return made(&pb.Filter{Condition: &pb.Filter_In{In: in}}, key, nil)
}

// Gt: metadata[key] > value. Numbers compare as numbers, strings as strings (byte order);
// items where the key is missing or holds another type do not match.
func Gt(key string, value any) Filter {
	return bound(key, value, func(r *pb.Range, v *structpb.Value) { r.Gt = v })
}

// Gte: metadata[key] >= value.
func Gte(key string, value any) Filter {
	return bound(key, value, func(r *pb.Range, v *structpb.Value) { r.Gte = v })
}

// Lt: metadata[key] < value.
func Lt(key string, value any) Filter {
	return bound(key, value, func(r *pb.Range, v *structpb.Value) { r.Lt = v })
}

// Lte: metadata[key] <= value.
func Lte(key string, value any) Filter {
	return bound(key, value, func(r *pb.Range, v *structpb.Value) { r.Lte = v })
}

// Between: low <= metadata[key] <= high, in one range condition.
func Between(key string, low, high any) Filter {
	lo, err := toValue(low)
	if err != nil {
		return made(nil, key, err)
	}
	hi, err := toValue(high)
	return made(&pb.Filter{Condition: &pb.Filter_Range{Range: &pb.Range{Key: key, Gte: lo, Lte: hi}}}, key, err)
}

// Exists: the metadata has key, with any value (null included).
func Exists(key string) Filter {
	return Filter{proto: &pb.Filter{Condition: &pb.Filter_Exists{Exists: key}}}
}

// All: every filter holds (And of them all).
func All(filters ...Filter) Filter { return join(true, filters) }

// Any: at least one filter holds (Or of them all).
func Any(filters ...Filter) Filter { return join(false, filters) }

// And: f and every one of others hold.
func (f Filter) And(others ...Filter) Filter { return join(true, append([]Filter{f}, others...)) }

// Or: f or one of others holds.
func (f Filter) Or(others ...Filter) Filter { return join(false, append([]Filter{f}, others...)) }

// Not: f does not hold.
func (f Filter) Not() Filter {
	if f.err != nil || f.proto == nil {
		return f
	}
	if not, ok := f.proto.GetCondition().(*pb.Filter_Not); ok {
		return Filter{proto: not.Not}
	}
	return Filter{proto: &pb.Filter{Condition: &pb.Filter_Not{Not: f.proto}}}
}

// IsZero says whether f is no filter.
func (f Filter) IsZero() bool { return f.proto == nil && f.err == nil }

// Proto is the filter as the API's message (nil for no filter), or the error of a value that
// is not JSON.
func (f Filter) Proto() (*pb.Filter, error) { return f.proto, f.err }

// String writes the filter for people, in the style of the command line's --filter
// ("color = \"blue\" and n >= 10").
func (f Filter) String() string {
	if f.err != nil {
		return "invalid filter: " + f.err.Error()
	}
	if f.proto == nil {
		return ""
	}
	return describe(f.proto, false)
}

func made(proto *pb.Filter, key string, err error) Filter {
	if err != nil {
		return Filter{err: fmt.Errorf("jointspace: filter on %q: %w", key, err)}
	}
	return Filter{proto: proto}
}

func bound(key string, value any, set func(*pb.Range, *structpb.Value)) Filter {
	v, err := toValue(value)
	r := &pb.Range{Key: key}
	set(r, v)
	return made(&pb.Filter{Condition: &pb.Filter_Range{Range: r}}, key, err)
}

// join makes an And (and) or Or of filters, flattening parts that are of the same kind and
// leaving out zero filters; one part is returned as it is.
func join(and bool, filters []Filter) Filter {
	var parts []*pb.Filter
	for _, f := range filters {
		if f.err != nil {
			return f
		}
		if f.proto == nil {
			continue
		}
		switch c := f.proto.GetCondition().(type) {
		case *pb.Filter_And:
			if and {
				parts = append(parts, c.And.GetFilters()...)
				continue
			}
		case *pb.Filter_Or:
			if !and {
				parts = append(parts, c.Or.GetFilters()...)
				continue
			}
		}
		parts = append(parts, f.proto)
	}
	switch {
	case len(parts) == 0:
		return Filter{}
	case len(parts) == 1:
		return Filter{proto: parts[0]}
	case and:
		return Filter{proto: &pb.Filter{Condition: &pb.Filter_And{And: &pb.Filters{Filters: parts}}}}
	default:
		return Filter{proto: &pb.Filter{Condition: &pb.Filter_Or{Or: &pb.Filters{Filters: parts}}}}
	}
}

// describe writes a condition; nested says whether an and/or needs parentheses.
func describe(f *pb.Filter, nested bool) string {
	switch c := f.GetCondition().(type) {
	case *pb.Filter_Equals:
		return c.Equals.GetKey() + " = " + literal(c.Equals.GetValue())
	case *pb.Filter_In:
		values := make([]string, len(c.In.GetValues()))
		for i, v := range c.In.GetValues() {
			values[i] = literal(v)
		}
		return c.In.GetKey() + " in (" + strings.Join(values, ", ") + ")"
	case *pb.Filter_Range:
		r := c.Range
		var parts []string
		for _, b := range []struct {
			op    string
			value *structpb.Value
		}{{">", r.GetGt()}, {">=", r.GetGte()}, {"<", r.GetLt()}, {"<=", r.GetLte()}} {
			if b.value != nil {
				parts = append(parts, r.GetKey()+" "+b.op+" "+literal(b.value))
			}
		}
		return group(parts, " and ", nested && len(parts) > 1)
	case *pb.Filter_Exists:
		return "exists " + c.Exists
	case *pb.Filter_Not:
		return "not " + describe(c.Not, true)
	case *pb.Filter_And:
		return group(describeAll(c.And.GetFilters()), " and ", nested)
	case *pb.Filter_Or:
		return group(describeAll(c.Or.GetFilters()), " or ", nested)
	}
	return "?"
}

func describeAll(filters []*pb.Filter) []string {
	out := make([]string, len(filters))
	for i, f := range filters {
		out[i] = describe(f, true)
	}
	return out
}

func group(parts []string, op string, parenthesize bool) string {
	joined := strings.Join(parts, op)
	if parenthesize {
		return "(" + joined + ")"
	}
	return joined
}

func literal(v *structpb.Value) string {
	data, err := json.Marshal(v.AsInterface())
	if err != nil {
		return "?"
	}
	return string(data)
}
