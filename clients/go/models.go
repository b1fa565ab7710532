package jointspace

import (
	"context"
	"fmt"

	pb "github.com/jointspace/jointspace/clients/go/jointspacev1"
)

// ListModels lists every model the server knows, with its versions (newest first) and labels.
func (c *Client) ListModels(ctx context.Context) ([]*pb.ModelSummary, error) {
	ctx, cancel := c.deadline(ctx)
	defer cancel()
	request := &pb.ListModelsRequest{}
	response, err := c.models.ListModels(ctx, request)
	if err != nil {
		return nil, toError(err, request)
	}
	return response.GetModels(), nil
}

// ModelStatus gives the state of every version of a model (version 0) or of one, and its labels.
func (c *Client) ModelStatus(ctx context.Context, name string, version int64) (*pb.GetModelStatusResponse, error) {
	ctx, cancel := c.deadline(ctx)
	defer cancel()
	request := &pb.GetModelStatusRequest{Name: name, Version: version}
	response, err := c.models.GetModelStatus(ctx, request)
	return response, toError(err, request)
}

// ModelMetadata gives the signatures, embedding dimension and encoder spec of an available
// version ("name", "name@version" or "name@label").
func (c *Client) ModelMetadata(ctx context.Context, model string) (*pb.GetModelMetadataResponse, error) {
	spec, err := ParseModel(model)
	if err != nil {
		return nil, err
	}
	ctx, cancel := c.deadline(ctx)
	defer cancel()
	request := &pb.GetModelMetadataRequest{Model: spec}
	response, err := c.models.GetModelMetadata(ctx, request)
	return response, toError(err, request)
}

// LabelOptions are the optional parts of a label change; nil means none.
type LabelOptions struct {
	// AllowLoading accepts versions that are still loading.
	AllowLoading bool
	// ChangedBy is who makes the change, for the history; empty: the caller's address.
	ChangedBy string
}

// SetLabel points a model's label at one version. The label change is not retried.
func (c *Client) SetLabel(ctx context.Context, model, label string, version int64, opts *LabelOptions) (*pb.LabelChange, error) {
	return c.setLabel(ctx, &pb.SetLabelRequest{Model: model, Label: label,
		Target: &pb.SetLabelRequest_Version{Version: version}}, opts)
}

// SplitLabel splits a model's label between versions by weight ({2: 90, 3: 10}): calls go
// to version v with probability weight(v) / the sum of weights, or by their routing key.
func (c *Client) SplitLabel(ctx context.Context, model, label string, weights map[int64]uint32, opts *LabelOptions) (*pb.LabelChange, error) {
	if len(weights) == 0 {
		return nil, fmt.Errorf("jointspace: a split needs at least one version")
	}
	return c.setLabel(ctx, &pb.SetLabelRequest{Model: model, Label: label,
		Target: &pb.SetLabelRequest_Split{Split: &pb.LabelTarget{Weights: weights}}}, opts)
}

func (c *Client) setLabel(ctx context.Context, request *pb.SetLabelRequest, opts *LabelOptions) (*pb.LabelChange, error) {
	if opts != nil {
		request.AllowLoading = opts.AllowLoading
		request.ChangedBy = opts.ChangedBy
	}
	ctx, cancel := c.deadline(ctx)
	defer cancel()
	change, err := c.models.SetLabel(ctx, request)
	return change, toError(err, request)
}

// DeleteLabel removes a label (a configured one too; the removal is recorded).
func (c *Client) DeleteLabel(ctx context.Context, model, label string, opts *LabelOptions) (*pb.LabelChange, error) {
	request := &pb.DeleteLabelRequest{Model: model, Label: label}
	if opts != nil {
		request.ChangedBy = opts.ChangedBy
	}
	ctx, cancel := c.deadline(ctx)
	defer cancel()
	change, err := c.models.DeleteLabel(ctx, request)
	return change, toError(err, request)
}

// LabelHistory lists every recorded change of a model's labels (label "") or of one label,
// oldest first.
func (c *Client) LabelHistory(ctx context.Context, model, label string) ([]*pb.LabelChange, error) {
	ctx, cancel := c.deadline(ctx)
	defer cancel()
	request := &pb.ListLabelHistoryRequest{Model: model, Label: label}
	response, err := c.models.ListLabelHistory(ctx, request)
	if err != nil {
		return nil, toError(err, request)
	}
	return response.GetChanges(), nil
}
