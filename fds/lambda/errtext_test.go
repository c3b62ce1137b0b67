package lambda

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestDiscoveryErrorsSayWhatCame: a failure leads with AWS's error code
// when AWS sent one; an answer that is no AWS error shows its HTTP status
// and the start of its body (bounded), never "AWS :" with no code.
func TestDiscoveryErrorsSayWhatCame(t *testing.T) {
	page := func(status int, contentType, body string) http.HandlerFunc {
		return func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", contentType)
			if status == http.StatusForbidden {
				w.Header().Set("X-Amzn-Errortype", "AccessDeniedException")
			}
			w.WriteHeader(status)
			w.Write([]byte(body))
		}
	}
	for name, c := range map[string]struct {
		h    http.HandlerFunc
		want string
	}{
		"a proxy's error page": {page(502, "text/html", "<html>bad gateway</html>"), `AWS answered HTTP 502 "<html>bad gateway</html>": `},
		"a huge error page":    {page(502, "text/html", "<html>"+strings.Repeat("x", 5000)), `AWS answered HTTP 502 "<html>` + strings.Repeat("x", maxSnippet-6) + `…": `},
		"no error code":        {page(404, "application/json", `{"message": "nope"}`), "AWS answered HTTP 404: "},
		"AWS's error":          {page(403, "application/json", `{"message": "denied"}`), "AWS AccessDeniedException: "},
	} {
		f := NewFinder(Config{Endpoint: fake(t, c.h, c.h), Region: "eu-west-1", AccessKeyID: key, SecretAccessKey: secret, RetryMaxAttempts: 1}, nil)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_, err := f.Discover(ctx)
		cancel()
		if err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("%s: %v\nwant it to start with %q", name, err, c.want)
		}
	}
}
