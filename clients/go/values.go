package jointspace

import (
	"encoding/json"
	"fmt"

	"google.golang.org/protobuf/types/known/structpb"
)

// toValue is a JSON-like Go value as a protobuf Value: nil, bools, numbers, strings,
// map[string]any and []any directly; anything else (typed slices and maps, structs) as
// encoding/json writes it.
func toValue(v any) (*structpb.Value, error) {
	if value, err := structpb.NewValue(v); err == nil {
		return value, nil
	}
	data, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("%v (%T) is not a JSON value: %w", v, v, err)
	}
	var plain any
	if err := json.Unmarshal(data, &plain); err != nil {
		return nil, err
	}
	return structpb.NewValue(plain)
}

// toStruct is metadata as a protobuf Struct; nil stays nil.
func toStruct(metadata map[string]any) (*structpb.Struct, error) {
	if metadata == nil {
		return nil, nil
	}
	s := &structpb.Struct{Fields: make(map[string]*structpb.Value, len(metadata))}
	for key, v := range metadata {
		value, err := toValue(v)
		if err != nil {
			return nil, fmt.Errorf("metadata %q: %w", key, err)
		}
		s.Fields[key] = value
	}
	return s, nil
}

// fromStruct is metadata as Go values: JSON has one number type, so numbers come back as
// float64; nil for none.
func fromStruct(s *structpb.Struct) map[string]any {
	if s == nil {
		return nil
	}
	return s.AsMap()
}
