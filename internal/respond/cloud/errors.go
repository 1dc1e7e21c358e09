package cloud

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/alibabacloud-go/tea/tea"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
)

// APIError is a provider API call that failed. It names the action, the
// resource, the API operation and the provider's error code and message,
// and wraps the SDK error.
type APIError struct {
	Action    string // registry name of the action
	Resource  string // provider resource id the call was about
	Operation string // API operation, e.g. "RevokeSecurityGroupIngress"
	Code      string // provider error code, e.g. "InvalidGroup.NotFound"; empty for transport errors
	Message   string // provider error message
	RequestID string // provider request id, when the response had one
	Err       error  // the SDK error
}

func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s: %s failed", e.Action, e.Resource, e.Operation)
	switch {
	case e.Code != "" && e.Message != "":
		fmt.Fprintf(&b, ": %s: %s", e.Code, e.Message)
	case e.Code != "":
		fmt.Fprintf(&b, ": %s", e.Code)
	case e.Err != nil:
		fmt.Fprintf(&b, ": %v", e.Err)
	}
	if e.RequestID != "" {
		fmt.Fprintf(&b, " (request id %s)", e.RequestID)
	}
	return b.String()
}

func (e *APIError) Unwrap() error { return e.Err }

// ErrorCode returns the provider error code of err, or "" when err carries
// none.
func ErrorCode(err error) string {
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.Code
	}
	return ""
}

// awsError wraps an AWS SDK error with the action, resource and operation.
func awsError(action, resource, op string, err error) *APIError {
	e := &APIError{Action: action, Resource: resource, Operation: op, Err: err}
	var api smithy.APIError
	if errors.As(err, &api) {
		e.Code, e.Message = api.ErrorCode(), api.ErrorMessage()
	}
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		e.RequestID = re.ServiceRequestID()
	}
	return e
}

// awsCode is the AWS API error code of err, or "".
func awsCode(err error) string {
	var api smithy.APIError
	if errors.As(err, &api) {
		return api.ErrorCode()
	}
	return ""
}

// aliError wraps an Alibaba Cloud SDK error with the action, resource and
// operation. The SDK's message repeats the status and request id, so the
// provider's own Message is taken from the response body when it is there.
func aliError(action, resource, op string, err error) *APIError {
	e := &APIError{Action: action, Resource: resource, Operation: op, Err: err}
	var se *tea.SDKError
	if !errors.As(err, &se) {
		return e
	}
	e.Code = tea.StringValue(se.Code)
	e.Message = tea.StringValue(se.Message)
	if se.Data != nil {
		var body struct {
			Message   string `json:"Message"`
			RequestID string `json:"RequestId"`
		}
		if json.Unmarshal([]byte(tea.StringValue(se.Data)), &body) == nil {
			if body.Message != "" {
				e.Message = body.Message
			}
			e.RequestID = body.RequestID
		}
	}
	return e
}

// aliCode is the Alibaba Cloud API error code of err, or "".
func aliCode(err error) string {
	var se *tea.SDKError
	if errors.As(err, &se) {
		return tea.StringValue(se.Code)
	}
	return ""
}
