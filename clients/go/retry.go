package jointspace

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"time"
)

// RetryPolicy says how often and how patiently the calls that can be repeated without harm
// are retried when the server answers UNAVAILABLE or RESOURCE_EXHAUSTED. gRPC waits a random
// time up to InitialBackoff before the second attempt, and multiplies that bound by 2 for
// each further one, up to MaxBackoff.
type RetryPolicy struct {
	// MaxAttempts is the attempts per call, the first included; gRPC allows at most 5.
	// 1 turns retries off.
	MaxAttempts    int
	InitialBackoff time.Duration
	MaxBackoff     time.Duration
}

// DefaultRetryPolicy: 5 attempts, backoff from 0.2 s up to 5 s.
var DefaultRetryPolicy = RetryPolicy{MaxAttempts: 5, InitialBackoff: 200 * time.Millisecond, MaxBackoff: 5 * time.Second}

// retriedMethods are the methods retried, by gRPC service: they read, or write by id (the
// same write twice leaves the same state). Creating, deleting collections, starting and
// stepping rollouts, moving labels and the streams are left out: a retry after a lost
// answer could do them twice.
var retriedMethods = map[string][]string{
	"jointspace.v1.EmbeddingService":  {"Embed", "Classify", "Score"},
	"jointspace.v1.ModelService":      {"ListModels", "GetModelStatus", "GetModelMetadata", "ListLabelHistory"},
	"jointspace.v1.CollectionService": {"GetCollection", "ListCollections", "Get", "Search", "Upsert", "Delete"},
	"jointspace.v1.RolloutService":    {"GetRollout", "ListRollouts"},
	"inference.GRPCInferenceService": {"ServerLive", "ServerReady", "ModelReady", "ServerMetadata",
		"ModelMetadata", "ModelInfer"},
	"grpc.health.v1.Health": {"Check"},
}

// retriedCodes are the status codes that make a retry worth it.
var retriedCodes = []string{"UNAVAILABLE", "RESOURCE_EXHAUSTED"}

func (p RetryPolicy) validate() error {
	if p.MaxAttempts < 1 || p.MaxAttempts > 5 {
		return fmt.Errorf("jointspace: RetryPolicy.MaxAttempts must be 1..5, got %d", p.MaxAttempts)
	}
	if p.MaxAttempts > 1 && (p.InitialBackoff <= 0 || p.MaxBackoff < p.InitialBackoff) {
		return fmt.Errorf("jointspace: RetryPolicy needs 0 < InitialBackoff <= MaxBackoff, got %v and %v",
			p.InitialBackoff, p.MaxBackoff)
	}
	return nil
}

// ServiceConfig is the gRPC service config (JSON) of the policy, for grpc.WithDefaultServiceConfig.
func (p RetryPolicy) ServiceConfig() (string, error) {
	if err := p.validate(); err != nil {
		return "", err
	}
	return p.serviceConfig(), nil
}

func (p RetryPolicy) serviceConfig() string {
	type name struct {
		Service string `json:"service"`
		Method  string `json:"method"`
	}
	services := make([]string, 0, len(retriedMethods))
	for service := range retriedMethods {
		services = append(services, service)
	}
	sort.Strings(services)
	var names []name
	for _, service := range services {
		for _, method := range retriedMethods[service] {
			names = append(names, name{service, method})
		}
	}
	seconds := func(d time.Duration) string { return strconv.FormatFloat(d.Seconds(), 'f', -1, 64) + "s" }
	config := map[string]any{
		"methodConfig": []any{map[string]any{
			"name": names,
			"retryPolicy": map[string]any{
				"maxAttempts":          p.MaxAttempts,
				"initialBackoff":       seconds(p.InitialBackoff),
				"maxBackoff":           seconds(p.MaxBackoff),
				"backoffMultiplier":    2,
				"retryableStatusCodes": retriedCodes,
			},
		}},
	}
	out, err := json.Marshal(config)
	if err != nil {
		panic(err) // plain maps and strings always marshal
	}
	return string(out)
}
