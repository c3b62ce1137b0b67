package standin

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// FuzzVerify feeds arbitrary Authorization headers, dates, paths and
// bodies to the stand-in: nothing panics, and nothing is accepted without
// a valid signature (which a fuzzer cannot forge).
func FuzzVerify(f *testing.F) {
	now := time.Now().UTC().Format(amzDateFormat)
	f.Add("AWS4-HMAC-SHA256 Credential="+testKey+"/"+now[:8]+"/us-east-1/lambda/aws4_request, SignedHeaders=host;x-amz-date, Signature=00", now, "/2015-03-31/functions/echo/invocations", "{}")
	f.Add("AWS4-HMAC-SHA256 Credential=a/b/c/d/e, SignedHeaders=;;;, Signature=", "x", "/2015-03-31/functions", "")
	f.Add("AWS4-HMAC-SHA256 ,,,=,", now, "/2015-03-31/functions/%zz/aliases", "\x00")
	s := New(Options{})
	s.AddCredentials(testKey, testSecret, "")
	if err := s.AddFunction(Function{Name: "echo", Handler: Echo}); err != nil {
		f.Fatal(err)
	}
	defer s.Close()
	f.Fuzz(func(t *testing.T, auth, date, path, body string) {
		req, err := http.NewRequest(http.MethodPost, "http://127.0.0.1"+path, strings.NewReader(body))
		if err != nil {
			return
		}
		req.Header.Set("Authorization", auth)
		req.Header.Set("X-Amz-Date", date)
		w := httptest.NewRecorder()
		s.ServeHTTP(w, req)
		if w.Code < 400 {
			t.Fatalf("accepted: %d %s", w.Code, w.Body)
		}
	})
}
