package main

import (
	"fmt"
	"strings"

	consulapi "github.com/hashicorp/consul/api"

	"github.com/gluon-gateway/gluon/api"
	"github.com/gluon-gateway/gluon/api/consulsource"
)

// consulStore keeps resources in Consul's KV store, where gluon serve
// --consul-prefix reads them: one YAML entry per resource, at
// <prefix>/gluon.dev/v1/<Kind>/<namespace>/<name>.
type consulStore struct {
	kv     *consulapi.KV
	prefix string
}

func newConsulStore(addr, prefix string) (*consulStore, error) {
	c, err := consulapi.NewClient(consulsource.Config(addr))
	if err != nil {
		return nil, fmt.Errorf("consul client: %w", err)
	}
	return &consulStore{kv: c.KV(), prefix: strings.TrimSuffix(prefix, "/") + "/"}, nil
}

func (s *consulStore) resources() (api.Resources, error) {
	pairs, _, err := s.kv.List(s.prefix, nil)
	if err != nil {
		return api.Resources{}, fmt.Errorf("reading consul kv %s: %w", s.prefix, err)
	}
	var res api.Resources
	for _, p := range pairs {
		if d := api.Decode(p.Value); d.Object != nil {
			res.Add(d.Object)
		}
	}
	res.Sort()
	return res, nil
}

func (s *consulStore) get(k api.Key) (api.Object, bool, error) {
	p, _, err := s.kv.Get(consulsource.Key(s.prefix, k), nil)
	if err != nil || p == nil {
		return nil, false, err
	}
	d := api.Decode(p.Value)
	if d.Err != nil {
		return nil, false, fmt.Errorf("%s: %w", p.Key, d.Err)
	}
	return d.Object, true, nil
}

func (s *consulStore) put(o api.Object) (string, error) {
	if err := o.Validate(); err != nil {
		return "", fmt.Errorf("%s is invalid: %w", api.KeyOf(o), err)
	}
	raw, err := marshal(o)
	if err != nil {
		return "", err
	}
	key := consulsource.Key(s.prefix, api.KeyOf(o))
	if _, err := s.kv.Put(&consulapi.KVPair{Key: key, Value: raw}, nil); err != nil {
		return "", fmt.Errorf("writing %s: %w", key, err)
	}
	return "consul kv " + key, nil
}

func (s *consulStore) delete(k api.Key) (string, error) {
	key := consulsource.Key(s.prefix, k)
	if _, err := s.kv.Delete(key, nil); err != nil {
		return "", fmt.Errorf("deleting %s: %w", key, err)
	}
	return "consul kv " + key, nil
}
