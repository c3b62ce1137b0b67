package ir

// APIKeyAuth admits a route's requests that carry one of Credentials'
// keys, read from Header, Query or Cookie (the first set, in that order).
type APIKeyAuth struct {
	Credentials []APIKeyCredential `json:"credentials,omitempty"`
	Header      string             `json:"header,omitempty"`
	Query       string             `json:"query,omitempty"`
	Cookie      string             `json:"cookie,omitempty"`
	// ClientIDHeader, when set, carries the client's id upstream.
	ClientIDHeader string `json:"clientIdHeader,omitempty"`
	// KeepCredentials forwards the key upstream.
	KeepCredentials bool `json:"keepCredentials,omitempty"`
	// ClientHeaders are, by client, the request headers an admitted
	// client's requests carry (its key's metadata); whatever a caller
	// sends in any of them is dropped.
	ClientHeaders map[string]map[string]string `json:"clientHeaders,omitempty"`
}

// APIKeyCredential is a client's key.
type APIKeyCredential struct {
	Key    string `json:"key"`
	Client string `json:"client"`
}

// BasicAuth admits a route's requests with a user and password of Users
// (an htpasswd file).
type BasicAuth struct {
	Users string `json:"users"`
	// ForwardUsernameHeader, when set, carries the user's name upstream.
	ForwardUsernameHeader string `json:"forwardUsernameHeader,omitempty"`
}
