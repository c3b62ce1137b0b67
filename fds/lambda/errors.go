package lambda

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
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

// maxSnippet bounds how much of an answer that is no AWS error shows in
// the Upstream's status.
const maxSnippet = 200

// describe leads a discovery failure with what an operator searches for:
// AWS's error code when it answered one; else the HTTP status and the
// start of what came instead (a proxy's HTML page, say); else the error as
// it is (no answer at all).
func describe(err error) error {
	if code := ErrorCode(err); code != "" && code != "UnknownError" {
		return fmt.Errorf("AWS %s: %w", code, err)
	}
	var re *smithyhttp.ResponseError
	if !errors.As(err, &re) {
		return err
	}
	msg := fmt.Sprintf("AWS answered HTTP %d", re.HTTPStatusCode())
	var de *smithy.DeserializationError
	if errors.As(err, &de) && len(de.Snapshot) > 0 {
		snippet := strings.ToValidUTF8(string(de.Snapshot), "?")
		if len(snippet) > maxSnippet {
			snippet = snippet[:maxSnippet] + "…"
		}
		msg += fmt.Sprintf(" %q", snippet)
	}
	return fmt.Errorf("%s: %w", msg, err)
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
