package jointspace

import (
	"fmt"
	"os"

	pb "github.com/jointspace/jointspace/clients/go/jointspacev1"
)

// Input is one thing to embed, classify, score, store or search by: a text, an image (its
// encoded bytes, or a file read when the call is made) or a raw tensor. Make it with Text,
// Image, ImageFile or TensorInput; the zero Input is none.
type Input struct {
	kind   inputKind
	text   string
	image  []byte
	path   string
	tensor *pb.Tensor
}

type inputKind int

const (
	noInput inputKind = iota
	textInput
	imageInput
	imageFileInput
	tensorInput
)

// Text is a text, tokenized with the model version's tokenizer.
func Text(s string) Input { return Input{kind: textInput, text: s} }

// Image is an encoded image: PNG, JPEG, GIF (first frame) or BMP.
func Image(encoded []byte) Input { return Input{kind: imageInput, image: encoded} }

// ImageFile is an image file, read when the call that sends it is made.
func ImageFile(path string) Input { return Input{kind: imageFileInput, path: path} }

// TensorInput is a raw tensor for the signature's input, without the batch dimension when
// the signature has one (see EmbedTensors). Tensors cannot be mixed with texts and images.
func TensorInput(t *pb.Tensor) Input { return Input{kind: tensorInput, tensor: t} }

// FloatTensor is an FP32 tensor of the given shape (row-major values) as an Input.
func FloatTensor(shape []int64, values []float32) Input {
	return TensorInput(&pb.Tensor{Dtype: pb.DataType_FP32, Shape: shape, FloatVal: values})
}

// IsZero says whether the Input is none.
func (in Input) IsZero() bool { return in.kind == noInput }

func (in Input) String() string {
	switch in.kind {
	case textInput:
		return fmt.Sprintf("text %q", in.text)
	case imageInput:
		return fmt.Sprintf("image of %d bytes", len(in.image))
	case imageFileInput:
		return "image file " + in.path
	case tensorInput:
		return fmt.Sprintf("tensor %v %v", in.tensor.GetDtype(), in.tensor.GetShape())
	}
	return "no input"
}

// proto is the Input message; an image file is read now.
func (in Input) proto() (*pb.Input, error) {
	switch in.kind {
	case textInput:
		return &pb.Input{Content: &pb.Input_Text{Text: in.text}}, nil
	case imageInput:
		return &pb.Input{Content: &pb.Input_Image{Image: in.image}}, nil
	case imageFileInput:
		data, err := os.ReadFile(in.path)
		if err != nil {
			return nil, fmt.Errorf("reading an image: %w", err)
		}
		return &pb.Input{Content: &pb.Input_Image{Image: data}}, nil
	case tensorInput:
		return &pb.Input{Content: &pb.Input_Tensor{Tensor: in.tensor}}, nil
	}
	return nil, fmt.Errorf("an empty Input: make one with Text, Image, ImageFile or TensorInput")
}

func protos(inputs []Input) ([]*pb.Input, error) {
	if len(inputs) == 0 {
		return nil, fmt.Errorf("jointspace: give at least one input")
	}
	out := make([]*pb.Input, len(inputs))
	for i, in := range inputs {
		p, err := in.proto()
		if err != nil {
			return nil, fmt.Errorf("jointspace: inputs[%d]: %w", i, err)
		}
		out[i] = p
	}
	return out, nil
}
