package jointspace

import (
	"context"

	pb "github.com/jointspace/jointspace/clients/go/jointspacev1"
)

// Embed embeds texts and images with one model version into its one space: one vector per
// input, in input order. model is "name", "name@version" or "name@label".
func (c *Client) Embed(ctx context.Context, model string, inputs ...Input) ([][]float32, error) {
	return c.embed(ctx, model, "", "", inputs)
}

// EmbedTensors runs raw tensors through a signature of the model (any SavedModel serves
// them): one vector per tensor, read from the signature's output. signature and output may
// be empty: the model's default signature, its only output.
func (c *Client) EmbedTensors(ctx context.Context, model, signature, output string, tensors ...*pb.Tensor) ([][]float32, error) {
	inputs := make([]Input, len(tensors))
	for i, t := range tensors {
		inputs[i] = TensorInput(t)
	}
	return c.embed(ctx, model, signature, output, inputs)
}

func (c *Client) embed(ctx context.Context, model, signature, output string, inputs []Input) ([][]float32, error) {
	spec, err := ParseModel(model)
	if err != nil {
		return nil, err
	}
	spec.SignatureName = signature
	request := &pb.EmbedRequest{Model: spec, OutputName: output}
	if request.Inputs, err = protos(inputs); err != nil {
		return nil, err
	}
	ctx, cancel := c.deadline(ctx)
	defer cancel()
	response, err := c.embedding.Embed(ctx, request)
	if err != nil {
		return nil, toError(err, request)
	}
	vectors := make([][]float32, len(response.GetEmbeddings()))
	for i, e := range response.GetEmbeddings() {
		vectors[i] = e.GetValues()
	}
	return vectors, nil
}

// LabelScore is one label of a classification.
type LabelScore struct {
	Label string
	// Probability is the softmax over the labels of the model's logit scale times the cosine.
	Probability float32
	Cosine      float32
}

// ClassifyOptions tunes Classify; nil means the defaults.
type ClassifyOptions struct {
	// Templates have one "{}" where the label goes ("a photo of a {}."); none: the server's
	// four ("a photo of a {}.", "a picture of a {}.", "an image of a {}.", "a rendering of a {}.").
	Templates []string
	// TopK is how many labels to return per input, best first; 0: all.
	TopK int
}

// Classify scores images or texts against text labels, zero-shot: per input (in input
// order), the labels best first.
func (c *Client) Classify(ctx context.Context, model string, labels []string, inputs []Input, opts *ClassifyOptions) ([][]LabelScore, error) {
	if opts == nil {
		opts = &ClassifyOptions{}
	}
	spec, err := ParseModel(model)
	if err != nil {
		return nil, err
	}
	request := &pb.ClassifyRequest{Model: spec, Labels: labels, Templates: opts.Templates, TopK: int32(opts.TopK)}
	if request.Inputs, err = protos(inputs); err != nil {
		return nil, err
	}
	ctx, cancel := c.deadline(ctx)
	defer cancel()
	response, err := c.embedding.Classify(ctx, request)
	if err != nil {
		return nil, toError(err, request)
	}
	results := make([][]LabelScore, len(response.GetResults()))
	for i, r := range response.GetResults() {
		for _, s := range r.GetScores() {
			results[i] = append(results[i], LabelScore{s.GetLabel(), s.GetProbability(), s.GetCosine()})
		}
	}
	return results, nil
}

// Scores are the cosine similarities of each query (row) to each candidate (column), and
// per query the softmax over the candidates of the model's logit scale times the cosines.
type Scores struct {
	Cosines       [][]float32
	Probabilities [][]float32
}

// Score compares every query with every candidate, of any modality: rank captions for an
// image, or images for a text.
func (c *Client) Score(ctx context.Context, model string, queries, candidates []Input) (*Scores, error) {
	spec, err := ParseModel(model)
	if err != nil {
		return nil, err
	}
	request := &pb.ScoreRequest{Model: spec, Softmax: true}
	if request.Queries, err = protos(queries); err != nil {
		return nil, err
	}
	if request.Candidates, err = protos(candidates); err != nil {
		return nil, err
	}
	ctx, cancel := c.deadline(ctx)
	defer cancel()
	response, err := c.embedding.Score(ctx, request)
	if err != nil {
		return nil, toError(err, request)
	}
	scores := &Scores{}
	for _, row := range response.GetRows() {
		scores.Cosines = append(scores.Cosines, row.GetCosines())
		scores.Probabilities = append(scores.Probabilities, row.GetProbabilities())
	}
	return scores, nil
}
