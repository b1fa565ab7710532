package jointspace

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Error is a call the server refused, or that did not complete (deadline, cancellation,
// no connection): the gRPC status code, the server's message, and the request field the
// message names. Get it with errors.As; status.Code and status.FromError read it too.
type Error struct {
	Code    codes.Code
	Message string
	// Field is the request field the server's message starts with, such as "items[3].id"
	// or "top_k" (the server names one for INVALID_ARGUMENT and RESOURCE_EXHAUSTED); "" when
	// it names none.
	Field string
}

func (e *Error) Error() string {
	return codeName(e.Code) + ": " + e.Message
}

// GRPCStatus is the error as a gRPC status.
func (e *Error) GRPCStatus() *status.Status {
	return status.New(e.Code, e.Message)
}

// Retryable says whether the same call may succeed later: UNAVAILABLE (the server or its
// database is not reachable, the model version not loaded yet), RESOURCE_EXHAUSTED (queues
// full) or ABORTED (a conflicting change; nothing was written). RESOURCE_EXHAUSTED is also
// the answer to a request over a limit, which no retry mends: Field names the limited field.
func (e *Error) Retryable() bool {
	return e.Code == codes.Unavailable || e.Code == codes.ResourceExhausted || e.Code == codes.Aborted
}

// toError turns a gRPC error into an *Error; request, when given, lets it recognize the field
// the message names. Context errors become DEADLINE_EXCEEDED and CANCELLED, as gRPC reports them.
func toError(err error, request protoreflect.ProtoMessage) error {
	if err == nil {
		return nil
	}
	var already *Error
	if errors.As(err, &already) {
		return err
	}
	s, ok := status.FromError(err)
	if !ok {
		switch {
		case errors.Is(err, context.DeadlineExceeded):
			s = status.New(codes.DeadlineExceeded, err.Error())
		case errors.Is(err, context.Canceled):
			s = status.New(codes.Canceled, err.Error())
		default:
			return err
		}
	}
	e := &Error{Code: s.Code(), Message: s.Message()}
	if request != nil && (e.Code == codes.InvalidArgument || e.Code == codes.ResourceExhausted) {
		e.Field = fieldOf(e.Message, request.ProtoReflect().Descriptor())
	}
	return e
}

var (
	// A stream's error names the request message it is about first ("message 3: items[1].id ...").
	streamMessage = regexp.MustCompile(`^message \d+: `)
	// A field path: names with optional indexes, joined by dots ("items[3].input.text").
	fieldPath = regexp.MustCompile(`^[A-Za-z_]\w*(?:\[\d+\])?(?:\.[A-Za-z_]\w*(?:\[\d+\])?)*`)
)

// fieldOf is the field path message starts with, when the request type has such a field.
//
// The server's messages read "FIELD PROBLEM" ("items[3].id is empty"), the path followed by
// a space or a colon, and on a stream after "message N: ". Only a path whose first name is a
// field of the request counts, so a message that starts with an ordinary word names none;
// the path is kept up to the last name the request type has ("items[1].metadata.color" is
// "items[1].metadata": metadata is a Struct).
func fieldOf(message string, request protoreflect.MessageDescriptor) string {
	message = strings.TrimPrefix(message, streamMessage.FindString(message))
	path := fieldPath.FindString(message)
	if path == "" || len(path) < len(message) && message[len(path)] != ' ' && message[len(path)] != ':' {
		return ""
	}
	var kept []string
	descriptor := request
	for _, part := range strings.Split(path, ".") {
		if descriptor == nil {
			break
		}
		name := part
		if i := strings.IndexByte(part, '['); i >= 0 {
			name = part[:i]
		}
		field := descriptor.Fields().ByName(protoreflect.Name(name))
		if field == nil {
			break
		}
		kept = append(kept, part)
		descriptor = field.Message()
	}
	return strings.Join(kept, ".")
}

// codeName is the code as gRPC's specification spells it ("NOT_FOUND").
func codeName(c codes.Code) string {
	if name, ok := codeNames[c]; ok {
		return name
	}
	return fmt.Sprintf("CODE(%d)", uint32(c))
}

var codeNames = map[codes.Code]string{
	codes.OK:                 "OK",
	codes.Canceled:           "CANCELLED",
	codes.Unknown:            "UNKNOWN",
	codes.InvalidArgument:    "INVALID_ARGUMENT",
	codes.DeadlineExceeded:   "DEADLINE_EXCEEDED",
	codes.NotFound:           "NOT_FOUND",
	codes.AlreadyExists:      "ALREADY_EXISTS",
	codes.PermissionDenied:   "PERMISSION_DENIED",
	codes.ResourceExhausted:  "RESOURCE_EXHAUSTED",
	codes.FailedPrecondition: "FAILED_PRECONDITION",
	codes.Aborted:            "ABORTED",
	codes.OutOfRange:         "OUT_OF_RANGE",
	codes.Unimplemented:      "UNIMPLEMENTED",
	codes.Internal:           "INTERNAL",
	codes.Unavailable:        "UNAVAILABLE",
	codes.DataLoss:           "DATA_LOSS",
	codes.Unauthenticated:    "UNAUTHENTICATED",
}
