package dataplane

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/cespare/xxhash/v2"
	route "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
)

// hashPolicy is one compiled RouteAction hash_policy: what of the request
// a ring hash or maglev cluster hashes.
type hashPolicy struct {
	header   string // canonical header name
	cookie   string
	ttl      time.Duration // with hasTTL, a missing cookie is set by the proxy
	hasTTL   bool
	path     string
	sourceIP bool
	terminal bool
}

func compileHashPolicies(in []*route.RouteAction_HashPolicy) ([]hashPolicy, error) {
	out := make([]hashPolicy, 0, len(in))
	for i, hp := range in {
		p, err := compileHashPolicy(hp)
		if err != nil {
			return nil, fmt.Errorf("hash_policy[%d]: %w", i, err)
		}
		out = append(out, p)
	}
	return out, nil
}

func compileHashPolicy(hp *route.RouteAction_HashPolicy) (hashPolicy, error) {
	if err := onlyFields(hp, "header", "cookie", "connection_properties", "terminal"); err != nil {
		return hashPolicy{}, err
	}
	p := hashPolicy{terminal: hp.GetTerminal()}
	switch s := hp.GetPolicySpecifier().(type) {
	case *route.RouteAction_HashPolicy_Header_:
		if err := onlyFields(s.Header, "header_name"); err != nil {
			return p, err
		}
		if s.Header.GetHeaderName() == "" {
			return p, errors.New("header.header_name is empty")
		}
		p.header = http.CanonicalHeaderKey(s.Header.GetHeaderName())
	case *route.RouteAction_HashPolicy_Cookie_:
		c := s.Cookie
		if err := onlyFields(c, "name", "ttl", "path"); err != nil {
			return p, err
		}
		if c.GetName() == "" {
			return p, errors.New("cookie.name is empty")
		}
		p.cookie, p.path = c.GetName(), c.GetPath()
		if c.GetTtl() != nil {
			d, err := duration(c.GetTtl())
			if err != nil {
				return p, fmt.Errorf("cookie.ttl: %w", err)
			}
			p.ttl, p.hasTTL = d, true
		}
	case *route.RouteAction_HashPolicy_ConnectionProperties_:
		if err := onlyFields(s.ConnectionProperties, "source_ip"); err != nil {
			return p, err
		}
		if !s.ConnectionProperties.GetSourceIp() {
			return p, errors.New("connection_properties hashes nothing (source_ip is false)")
		}
		p.sourceIP = true
	default:
		return p, errors.New("only header, cookie and connection_properties hash policies are supported")
	}
	return p, nil
}

// requestHash combines the hashes the policies yield, as Envoy does (rotate
// left and xor), stopping after a terminal policy that yielded one. A
// cookie policy with a TTL whose cookie is missing makes one up: setCookie
// is then the Set-Cookie value for the response, so the client sticks.
func requestHash(policies []hashPolicy, r *http.Request) (hash uint64, hashed bool, setCookie string) {
	for _, p := range policies {
		v, ok := "", false
		switch {
		case p.header != "":
			if vv := r.Header[p.header]; len(vv) > 0 {
				v, ok = vv[0], true
			}
		case p.cookie != "":
			if c, err := r.Cookie(p.cookie); err == nil {
				v, ok = c.Value, true
			} else if p.hasTTL {
				v, ok = strconv.FormatUint(xxhash.Sum64String(r.RemoteAddr), 16), true
				setCookie = newHashCookie(p, v)
			}
		case p.sourceIP:
			if ip, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
				v, ok = ip, true
			}
		}
		if !ok {
			continue
		}
		h := xxhash.Sum64String(v)
		if hashed {
			h ^= hash<<1 | hash>>63
		}
		hash, hashed = h, true
		if p.terminal {
			break
		}
	}
	return hash, hashed, setCookie
}

func newHashCookie(p hashPolicy, value string) string {
	c := &http.Cookie{Name: p.cookie, Value: value, Path: p.path, HttpOnly: true}
	if p.ttl > 0 {
		c.MaxAge = int(p.ttl / time.Second)
	}
	return c.String()
}
