package standin

import (
	"crypto/subtle"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// token is an issued bearer token. Tokens are opaque (not JWTs): the
// stand-in is the only party that checks them.
type token struct {
	audience, clientID string
	expires            time.Time
}

// serveTLS routes the TLS server: AAD under /{tenant}/, ARM under /subscriptions/.
func (s *Server) serveTLS(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/subscriptions/") {
		s.serveARM(w, r)
		return
	}
	tenant, rest, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	switch {
	case rest == "v2.0/.well-known/openid-configuration" && r.Method == http.MethodGet:
		s.openIDConfiguration(w, tenant)
	case rest == "oauth2/v2.0/token" && r.Method == http.MethodPost:
		s.issueToken(w, r, tenant)
	default:
		http.NotFound(w, r)
	}
}

// openIDConfiguration is what MSAL reads before asking for a token; the
// issuer must share the authority's host.
func (s *Server) openIDConfiguration(w http.ResponseWriter, tenant string) {
	if tenant != s.tenant {
		aadError(w, http.StatusBadRequest, "invalid_tenant", "AADSTS90002: Tenant '"+tenant+"' not found.")
		return
	}
	base := s.tls.URL + "/" + tenant
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                base + "/v2.0",
		"authorization_endpoint":                base + "/oauth2/v2.0/authorize",
		"token_endpoint":                        base + "/oauth2/v2.0/token",
		"jwks_uri":                              base + "/discovery/v2.0/keys",
		"response_types_supported":              []string{"code", "id_token", "token"},
		"subject_types_supported":               []string{"pairwise"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"token_endpoint_auth_methods_supported": []string{"client_secret_post", "private_key_jwt", "client_secret_basic"},
		"tenant_region_scope":                   "NA",
	})
}

// issueToken is the client_credentials grant. Error codes are AAD's, so
// that azidentity's messages name the real failure.
func (s *Server) issueToken(w http.ResponseWriter, r *http.Request, tenant string) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		aadError(w, http.StatusBadRequest, "invalid_request", "AADSTS900144: malformed request body.")
		return
	}
	if tenant != s.tenant {
		aadError(w, http.StatusBadRequest, "invalid_request", "AADSTS90002: Tenant '"+tenant+"' not found.")
		return
	}
	if gt := r.PostForm.Get("grant_type"); gt != "client_credentials" {
		aadError(w, http.StatusBadRequest, "unsupported_grant_type", "AADSTS70003: The app requested an unsupported grant type '"+gt+"'.")
		return
	}
	clientID := r.PostForm.Get("client_id")
	if !s.authenticateClient(w, r.PostForm) {
		return
	}
	audience := ""
	for _, sc := range strings.Fields(r.PostForm.Get("scope")) {
		if a, ok := strings.CutSuffix(sc, "/.default"); ok {
			audience = a
		}
	}
	if audience == "" {
		aadError(w, http.StatusBadRequest, "invalid_scope", "AADSTS1002012: The provided value for scope is not valid: client credential flows must have a scope value with /.default.")
		return
	}
	tok, lifetime := s.newToken(audience, clientID)
	secs := max(int(lifetime.Seconds()), 1)
	writeJSON(w, http.StatusOK, map[string]any{
		"token_type": "Bearer", "expires_in": secs, "ext_expires_in": secs, "access_token": tok,
	})
}

// authenticateClient checks a client_credentials request's client: a
// client secret, or a federated assertion (workload identity). It answers
// the refusal itself.
func (s *Server) authenticateClient(w http.ResponseWriter, form url.Values) bool {
	clientID := form.Get("client_id")
	s.mu.Lock()
	secret, isSecretClient := s.clients[clientID]
	assertion, isFederated := s.federated[clientID]
	s.mu.Unlock()
	if !isSecretClient && !isFederated {
		aadError(w, http.StatusBadRequest, "unauthorized_client", "AADSTS700016: Application with identifier '"+clientID+"' was not found in the directory.")
		return false
	}
	if at := form.Get("client_assertion_type"); at != "" || form.Has("client_assertion") {
		switch {
		case at != jwtBearer:
			aadError(w, http.StatusBadRequest, "invalid_request", "AADSTS50027: Invalid client_assertion_type '"+at+"'.")
			return false
		case !isFederated:
			aadError(w, http.StatusBadRequest, "invalid_client", "AADSTS70021: No matching federated identity record found for presented assertion.")
			return false
		case subtle.ConstantTimeCompare([]byte(form.Get("client_assertion")), []byte(assertion)) != 1:
			aadError(w, http.StatusBadRequest, "invalid_client", "AADSTS700213: No matching federated identity record found for presented assertion subject.")
			return false
		}
		return true
	}
	if !isSecretClient || subtle.ConstantTimeCompare([]byte(form.Get("client_secret")), []byte(secret)) != 1 {
		aadError(w, http.StatusUnauthorized, "invalid_client", "AADSTS7000215: Invalid client secret provided.")
		return false
	}
	return true
}

// jwtBearer is the client_assertion_type of a federated credential.
const jwtBearer = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// newToken issues a token for audience and returns it with its lifetime.
func (s *Server) newToken(audience, clientID string) (string, time.Duration) {
	tok, lifetime := newSecret(), s.tokenLifetime
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.tokens) >= 1000 { // long runs refresh often: forget expired tokens
		now := time.Now()
		for k, t := range s.tokens {
			if now.After(t.expires) {
				delete(s.tokens, k)
			}
		}
	}
	s.tokens[tok] = token{audience: audience, clientID: clientID, expires: time.Now().Add(lifetime)}
	return tok, lifetime
}

// TokensIssued is how many tokens for audience the stand-in has issued
// and not forgotten (past a thousand tokens, expired ones are).
func (s *Server) TokensIssued(audience string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, t := range s.tokens {
		if t.audience == audience {
			n++
		}
	}
	return n
}

// checkToken says whether the request carries an unexpired token issued
// here for audience; trailing slashes do not count ("https://x/" scope
// "https://x//.default").
func (s *Server) checkToken(r *http.Request, audience string) bool {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || tok == "" {
		return false
	}
	s.mu.Lock()
	t, ok := s.tokens[tok]
	s.mu.Unlock()
	return ok && time.Now().Before(t.expires) &&
		strings.TrimRight(t.audience, "/") == strings.TrimRight(audience, "/")
}

func aadError(w http.ResponseWriter, status int, code, desc string) {
	writeJSON(w, status, map[string]any{
		"error": code, "error_description": desc, "error_codes": []int{}, "timestamp": time.Now().UTC().Format(time.DateTime),
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v) //nolint:errcheck // the client went away
}
