package standin

import (
	"crypto/subtle"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// msiPath is where the function host serves the managed identity endpoint.
const msiPath = "/msi/token"

// serveMSI is App Service's managed identity endpoint, which azidentity
// (MSAL) uses when IDENTITY_ENDPOINT and IDENTITY_HEADER are set:
//
//	GET <endpoint>?api-version=2019-08-01&resource=<audience>[&client_id=<id>]
//	X-IDENTITY-HEADER: <secret>
//
// The token is for the resource (a scope without "/.default"), of the
// system-assigned identity or of the user-assigned one named by client_id,
// if AddManagedIdentity registered it. Tokens are checked like those of the
// client-credentials grant.
func (s *Server) serveMSI(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		msiError(w, http.StatusMethodNotAllowed, "The managed identity endpoint accepts GET only.")
		return
	}
	hdr := r.Header.Get("X-IDENTITY-HEADER")
	if hdr == "" {
		msiError(w, http.StatusBadRequest, "The X-IDENTITY-HEADER header is missing.")
		return
	}
	if subtle.ConstantTimeCompare([]byte(hdr), []byte(s.msiHeader)) != 1 {
		msiError(w, http.StatusUnauthorized, "The X-IDENTITY-HEADER header is not valid.")
		return
	}
	q := r.URL.Query()
	if v := q.Get("api-version"); v != "2019-08-01" {
		msiError(w, http.StatusBadRequest, "Unsupported api-version '"+v+"'.")
		return
	}
	resource := strings.TrimSuffix(q.Get("resource"), "/.default")
	if resource == "" {
		msiError(w, http.StatusBadRequest, "The resource parameter is required.")
		return
	}
	if q.Has("object_id") || q.Has("principal_id") || q.Has("mi_res_id") || q.Has("msi_res_id") {
		msiError(w, http.StatusBadRequest, "The stand-in names user-assigned identities by client_id only.")
		return
	}
	id := q.Get("client_id")
	s.mu.Lock()
	ok := s.identities[id]
	s.mu.Unlock()
	if !ok {
		msiError(w, http.StatusBadRequest, "No Managed Identity found for specified ClientId/ResourceId/PrincipalId.")
		return
	}
	clientID := id
	if clientID == "" {
		clientID = "system-assigned"
	}
	tok, lifetime := s.newToken(resource, clientID)
	expiresOn := time.Now().Add(lifetime).Unix()
	out := map[string]any{
		"access_token": tok, "expires_on": strconv.FormatInt(expiresOn, 10),
		"resource": resource, "token_type": "Bearer",
	}
	if id != "" {
		out["client_id"] = id
	}
	writeJSON(w, http.StatusOK, out)
}

func msiError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]any{"statusCode": status, "message": msg})
}
