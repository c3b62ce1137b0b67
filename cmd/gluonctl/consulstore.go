package main

import (
	"fmt"
	"log/slog"
	"strings"

	consulapi "github.com/hashicorp/consul/api"

	"github.com/gluon-gateway/gluon/api"
	"github.com/gluon-gateway/gluon/api/consulsource"
	"github.com/gluon-gateway/gluon/controlplane"
	"github.com/gluon-gateway/gluon/fds/consulcatalog"
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
	objects, err := s.objects()
	var res api.Resources
	for _, o := range objects {
		res.Add(o)
	}
	res.Sort()
	return res, err
}

// objects are the resources of the entries under the prefix that decode.
func (s *consulStore) objects() ([]api.Object, error) {
	pairs, _, err := s.kv.List(s.prefix, nil)
	if err != nil {
		return nil, fmt.Errorf("reading consul kv %s: %w", s.prefix, err)
	}
	var out []api.Object
	for _, p := range pairs {
		if d := api.Decode(p.Value); d.Object != nil {
			out = append(out, d.Object)
		}
	}
	return out, nil
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

// status is what the leader of the replicas on the prefix wrote under its
// status prefix: each resource's verdict, and the functions it discovered.
// A resource in KV with no verdict yet is reported as not seen.
func (s *consulStore) status() (*statusDoc, error) {
	statusPrefix := consulsource.StatusPrefix(s.prefix)
	verdicts, err := consulsource.ReadStatus(s.kv, statusPrefix)
	if err != nil {
		return nil, err
	}
	objects, err := s.objects()
	if err != nil {
		return nil, err
	}
	reports := api.Reports{}
	for k, st := range verdicts {
		reports[k] = &api.Report{Key: k, State: st.State, Problems: st.Problems}
	}
	for _, o := range objects {
		if k := api.KeyOf(o); reports[k] == nil {
			reports.Warn(k, api.Problem{Code: api.NotSeen, Message: "no status yet: no Gluon leader has written one under " + statusPrefix})
		}
	}
	published, _, err := s.kv.List(consulcatalog.Prefix(statusPrefix), nil)
	if err != nil {
		return nil, fmt.Errorf("reading the published function catalog: %w", err)
	}
	list := reports.List()
	fns := consulcatalog.SnapshotOf(published, slog.New(slog.DiscardHandler)).List()
	return &statusDoc{Status: controlplane.Status{Ready: len(list) > 0, Reports: list, Functions: fns}, storedIn: "Consul's " + statusPrefix}, nil
}
