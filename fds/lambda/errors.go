package lambda

import (
	"context"
	"errors"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/smithy-go"
)

// ErrorCode returns the AWS error code in err (UnrecognizedClientException,
// InvalidSignatureException, AccessDeniedException,
// TooManyRequestsException...), for a status message; "" if err carries
// none.
func ErrorCode(err error) string {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		return apiErr.ErrorCode()
	}
	return ""
}

// IsTransient says whether discovery should be retried with backoff:
// throttling, 5xx answers, connection failures and timeouts are; refused
// credentials, missing permissions and hostile listings are not, until the
// configuration changes. It is the SDK's own retry classification, so
// discovery and the SDK agree.
func IsTransient(err error) bool {
	if err == nil || errors.Is(err, ErrTooManyFunctions) || errors.Is(err, ErrEndlessListing) {
		return false
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	return retry.IsErrorRetryables(retry.DefaultRetryables).IsErrorRetryable(err) == aws.TrueTernary
}
