package jointspace

import (
	"fmt"
	"strconv"
	"strings"

	pb "github.com/jointspace/jointspace/clients/go/jointspacev1"
)

// ParseModel reads a model reference: "name" (the newest available version), "name@3" (a
// version) or "name@stable" (a label; digits only make a version).
func ParseModel(model string) (*pb.ModelSpec, error) {
	name, after, hasAt := strings.Cut(model, "@")
	if name == "" {
		return nil, fmt.Errorf("jointspace: model %q has no name (write name, name@version or name@label)", model)
	}
	spec := &pb.ModelSpec{Name: name}
	if !hasAt {
		return spec, nil
	}
	if after == "" {
		return nil, fmt.Errorf("jointspace: model %q: nothing after @ (write name@version or name@label)", model)
	}
	if version, err := strconv.ParseInt(after, 10, 64); err == nil && isDigits(after) {
		spec.VersionChoice = &pb.ModelSpec_Version{Version: version}
	} else {
		spec.VersionChoice = &pb.ModelSpec_Label{Label: after}
	}
	return spec, nil
}

// ModelString writes a spec as ParseModel reads it.
func ModelString(spec *pb.ModelSpec) string {
	switch choice := spec.GetVersionChoice().(type) {
	case *pb.ModelSpec_Version:
		return fmt.Sprintf("%s@%d", spec.GetName(), choice.Version)
	case *pb.ModelSpec_Label:
		return spec.GetName() + "@" + choice.Label
	}
	return spec.GetName()
}

func isDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}
