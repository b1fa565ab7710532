package jointspace

import (
	"context"
	"fmt"
	"math"
	"os"
	"testing"

	pb "github.com/jointspace/jointspace/clients/go/jointspacev1"
)

func TestEmbed_textAndImageIntoOneSpace(t *testing.T) {
	client, ctx := testClient(t), context.Background()
	vectors, err := client.Embed(ctx, "shapes-clip@2", Text("a small red star"), ImageFile(sample("red-star.png")))
	ok(t, err)
	if len(vectors) != 2 || len(vectors[0]) != 64 || len(vectors[1]) != 64 {
		t.Fatalf("want two vectors of 64, got %d of %d", len(vectors), len(vectors[0]))
	}
	if norm := squaredNorm(vectors[1]); math.Abs(norm-1) > 1e-4 {
		t.Errorf("the image's vector is not normalized: squared norm %v", norm)
	}
	v1, err := client.Embed(ctx, "shapes-clip@1", Text("a red star"))
	ok(t, err)
	if len(v1[0]) != 32 {
		t.Errorf("version 1 embeds into 32 dimensions, got %d", len(v1[0]))
	}
}

func TestEmbed_imageBytesAndFileAgree_underALabel(t *testing.T) {
	client, ctx := testClient(t), context.Background()
	label := fmt.Sprintf("gotest_embed_%d", os.Getpid())
	_, err := client.SetLabel(ctx, "shapes-clip", label, 2, nil)
	ok(t, err)
	t.Cleanup(func() { _, _ = client.DeleteLabel(context.Background(), "shapes-clip", label, nil) })

	fromFile, err := client.Embed(ctx, "shapes-clip@"+label, ImageFile(sample("red-star.png")))
	ok(t, err)
	data, err := os.ReadFile(sample("red-star.png"))
	ok(t, err)
	fromBytes, err := client.Embed(ctx, "shapes-clip@2", Image(data))
	ok(t, err)
	for i := range fromFile[0] {
		if math.Abs(float64(fromFile[0][i]-fromBytes[0][i])) > 1e-6 {
			t.Fatalf("value %d: %v from the file under %s, %v from the bytes on version 2",
				i, fromFile[0][i], label, fromBytes[0][i])
		}
	}
}

func TestEmbedTensors_runsTheImageSignatureOnPixels(t *testing.T) {
	client, ctx := testClient(t), context.Background()
	pixels := make([]float32, 64*64*3)
	for i := range pixels {
		pixels[i] = float32(i%7) / 7
	}
	tensor := &pb.Tensor{Dtype: pb.DataType_FP32, Shape: []int64{64, 64, 3}, FloatVal: pixels}
	vectors, err := client.EmbedTensors(ctx, "shapes-clip@2", "encode_image", "embedding", tensor, tensor)
	ok(t, err)
	if len(vectors) != 2 || len(vectors[0]) != 64 {
		t.Fatalf("want two vectors of 64, got %d", len(vectors))
	}
}

func TestClassify_redStarAndBlueCircle(t *testing.T) {
	client, ctx := testClient(t), context.Background()
	labels := []string{"red star", "red circle", "blue star", "blue circle", "green hexagon"}
	images := []Input{ImageFile(sample("red-star.png")), ImageFile(sample("blue-circle.png"))}
	results, err := client.Classify(ctx, testModel, labels, images, &ClassifyOptions{TopK: 2})
	ok(t, err)
	if len(results) != 2 || len(results[0]) != 2 {
		t.Fatalf("want 2 labels for each of 2 images, got %v", results)
	}
	star, circle := results[0], results[1]
	if star[0].Label != "red star" || star[0].Probability <= 0.5 || star[0].Probability < star[1].Probability {
		t.Errorf("the red star is classified %v", star)
	}
	if circle[0].Label != "blue circle" {
		t.Errorf("the blue circle is classified %v", circle)
	}
}

func TestScore_ranksCaptionsForAnImage(t *testing.T) {
	client, ctx := testClient(t), context.Background()
	scores, err := client.Score(ctx, testModel, []Input{ImageFile(sample("blue-circle.png"))},
		[]Input{Text("a small blue circle on the right"), Text("a small yellow triangle at the top")})
	ok(t, err)
	if cosines := scores.Cosines[0]; cosines[0] <= cosines[1] {
		t.Errorf("the right caption scores %v, the wrong one %v", cosines[0], cosines[1])
	}
	if sum := scores.Probabilities[0][0] + scores.Probabilities[0][1]; math.Abs(float64(sum)-1) > 1e-5 {
		t.Errorf("the probabilities sum to %v", sum)
	}
}

func TestModelsAndLabels(t *testing.T) {
	client, ctx := testClient(t), context.Background()
	models, err := client.ListModels(ctx)
	ok(t, err)
	found := false
	for _, m := range models {
		found = found || m.GetName() == "shapes-clip"
	}
	if !found {
		t.Fatalf("shapes-clip is not among %v", models)
	}
	status, err := client.ModelStatus(ctx, "shapes-clip", 0)
	ok(t, err)
	available := map[int64]bool{}
	for _, v := range status.GetVersions() {
		available[v.GetVersion()] = v.GetState() == pb.ModelState_AVAILABLE
	}
	if !available[1] || !available[2] {
		t.Errorf("want versions 1 and 2 available, got %v", status.GetVersions())
	}
	metadata, err := client.ModelMetadata(ctx, "shapes-clip@2")
	ok(t, err)
	if metadata.GetEmbeddingDimension() != 64 {
		t.Errorf("version 2 has dimension %d", metadata.GetEmbeddingDimension())
	}

	label := fmt.Sprintf("gotest_history_%d", os.Getpid())
	t.Cleanup(func() { _, _ = client.DeleteLabel(context.Background(), "shapes-clip", label, nil) })
	by := &LabelOptions{ChangedBy: "gotest"}
	_, err = client.SetLabel(ctx, "shapes-clip", label, 1, by)
	ok(t, err)
	_, err = client.SplitLabel(ctx, "shapes-clip", label, map[int64]uint32{1: 90, 2: 10}, by)
	ok(t, err)
	history, err := client.LabelHistory(ctx, "shapes-clip", label)
	ok(t, err)
	if len(history) != 2 || fmt.Sprint(history[0].GetTo().GetWeights()) != "map[1:1]" ||
		fmt.Sprint(history[1].GetTo().GetWeights()) != "map[1:90 2:10]" || history[1].GetChangedBy() != "gotest" {
		t.Errorf("the label's history is %v", history)
	}
	deleted, err := client.DeleteLabel(ctx, "shapes-clip", label, by)
	ok(t, err)
	if deleted.GetTo() != nil {
		t.Errorf("a deleted label points at %v", deleted.GetTo())
	}
}

func TestServerReady(t *testing.T) {
	ready, err := testClient(t).ServerReady(context.Background())
	ok(t, err)
	if !ready {
		t.Error("the server says it is not ready")
	}
}

func squaredNorm(v []float32) float64 {
	sum := 0.0
	for _, x := range v {
		sum += float64(x) * float64(x)
	}
	return sum
}
