package dataplane

import (
	"errors"
	"net/http"
	"os"
	"time"

	"github.com/gluon-gateway/gluon/dataplane/internal/downstream"
)

// bodyReadFailed answers a request whose body could not be read: a
// timeout is 408 (the client's) or 504 (the route's), a malformed body
// 400; a client that went away gets no answer.
func bodyReadFailed(w http.ResponseWriter, r *http.Request, err error, routeDeadline time.Time) {
	var bt *downstream.BodyTimeoutError
	timedOut := errors.Is(err, os.ErrDeadlineExceeded)
	switch {
	case errors.As(err, &bt) && bt.Route || bt == nil && timedOut && passed(routeDeadline):
		localReply(w, http.StatusGatewayTimeout, msgTimeout)
	case timedOut:
		w.Header()["Connection"] = []string{"close"}
		localReply(w, http.StatusRequestTimeout, "stream timeout")
	case r.Context().Err() != nil || downstream.ConnectionError(err):
		return
	default:
		w.Header()["Connection"] = []string{"close"}
		localReply(w, http.StatusBadRequest, "malformed request body")
	}
}
