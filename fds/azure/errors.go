package azure

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
)

// ErrorCode returns the error code in err, for a status message: ARM's
// (AuthorizationFailed, InvalidAuthenticationToken, ResourceNotFound...)
// or, when AAD refused the principal, AAD's (invalid_client,
// unauthorized_client...; "AuthenticationFailed" when AAD said nothing
// parseable); "" if err carries none.
func ErrorCode(err error) string {
	var re *azcore.ResponseError
	if errors.As(err, &re) {
		return re.ErrorCode
	}
	var af *azidentity.AuthenticationFailedError
	if errors.As(err, &af) {
		if af.RawResponse != nil {
			if body, err := runtime.Payload(af.RawResponse); err == nil {
				var aad struct {
					Error string `json:"error"`
				}
				if json.Unmarshal(body, &aad) == nil && aad.Error != "" {
					return aad.Error
				}
			}
		}
		return "AuthenticationFailed"
	}
	return ""
}

// IsTransient says whether discovery should be retried with backoff:
// throttling (429), 5xx answers from ARM or AAD, connection failures and
// timeouts are; refused credentials, missing roles and unknown apps are
// not, until the configuration changes.
func IsTransient(err error) bool {
	if err == nil || errors.Is(err, ErrTooManyFunctions) {
		return false
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	status := 0
	var re *azcore.ResponseError
	var af *azidentity.AuthenticationFailedError
	switch {
	case errors.As(err, &re):
		status = re.StatusCode
	case errors.As(err, &af):
		if af.RawResponse == nil {
			// azidentity keeps no cause (it flattens MSAL's error into a
			// message): no response means AAD was not reached at all.
			return true
		}
		status = af.RawResponse.StatusCode
	}
	if status != 0 {
		return status == http.StatusTooManyRequests || status >= 500
	}
	var netErr net.Error
	return errors.As(err, &netErr)
}
