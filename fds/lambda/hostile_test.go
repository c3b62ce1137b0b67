package lambda

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// fake answers the listings with the given functions, so tests can play
// a hostile or failing Lambda (no signature check).
func fake(t *testing.T, list, aliases http.HandlerFunc) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if strings.HasSuffix(r.URL.Path, "/aliases") {
			aliases(w, r)
			return
		}
		list(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func answer(body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, body) }
}

const oneFunction = `{"Functions":[{"FunctionName":"f","Version":"$LATEST","FunctionArn":"arn:aws:lambda:eu-west-1:1:function:f:$LATEST"}]}`

func TestHostileListingsTerminate(t *testing.T) {
	var n atomic.Int64
	freshMarker := func(items string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, `{"Functions":[%s],"NextMarker":"m%d"}`, items, n.Add(1))
		}
	}
	for _, tc := range []struct {
		name          string
		list, aliases http.HandlerFunc
		want          error
	}{
		{"the same marker forever",
			answer(`{"Functions":[{"FunctionName":"f","Version":"$LATEST"}],"NextMarker":"again"}`), answer(`{}`), ErrEndlessListing},
		{"empty pages with fresh markers forever", freshMarker(""), answer(`{}`), ErrEndlessListing},
		{"functions with fresh markers forever", freshMarker(`{"FunctionName":"f","Version":"1"}`), answer(`{}`), ErrTooManyFunctions},
		{"aliases with the same marker forever", answer(oneFunction), answer(`{"Aliases":[{"Name":"a"}],"NextMarker":"again"}`), ErrEndlessListing},
		{"more aliases than allowed", answer(oneFunction),
			answer(`{"Aliases":[` + strings.Repeat(`{"Name":"a"},`, 30) + `{"Name":"z"}]}`), ErrTooManyFunctions},
	} {
		t.Run(tc.name, func(t *testing.T) {
			url := fake(t, tc.list, tc.aliases)
			start := time.Now()
			_, err := discover(t, Config{Endpoint: url, AccessKeyID: key, SecretAccessKey: secret, MaxFunctions: 20})
			if !errors.Is(err, tc.want) || IsTransient(err) {
				t.Fatalf("got %v, want permanent %v", err, tc.want)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Fatalf("took %s", d)
			}
		})
	}
}

func TestLatestARNIsUnqualified(t *testing.T) {
	url := fake(t, answer(oneFunction), answer(`{"Aliases":[]}`))
	fns, err := discover(t, Config{Endpoint: url, AccessKeyID: key, SecretAccessKey: secret})
	if err != nil {
		t.Fatal(err)
	}
	if len(fns) != 1 || fns[0].Name != "f" || fns[0].Lambda.ARN != "arn:aws:lambda:eu-west-1:1:function:f" {
		t.Fatalf("got %+v", fns)
	}
}

func TestServerFailuresAreTransient(t *testing.T) {
	unavailable := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Amzn-ErrorType", "ServiceException")
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprint(w, `{"message":"try later"}`)
	}
	hang := func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	for name, cfg := range map[string]Config{
		"503 on ListFunctions": {Endpoint: fake(t, unavailable, answer(`{}`))},
		"503 on ListAliases":   {Endpoint: fake(t, answer(oneFunction), unavailable)},
		"no answer":            {Endpoint: fake(t, hang, answer(`{}`)), RequestTimeout: 200 * time.Millisecond},
		"connection refused":   {Endpoint: closed.URL},
	} {
		cfg.AccessKeyID, cfg.SecretAccessKey = key, secret
		_, err := discover(t, cfg)
		if err == nil || !IsTransient(err) {
			t.Fatalf("%s: got %v, want a transient error", name, err)
		}
	}
}
