// Package consulsource reads Gluon's resources from Consul's KV store, in
// Gloo's layout: <prefix>/<group>/<version>/<Kind>/<namespace>/<name>, each
// value one resource in YAML. It follows the prefix with blocking queries;
// an entry that does not parse, or that holds another resource than its
// key names, is rejected alone and the last good version of what it held
// keeps serving, as a file does in the file source.
package consulsource

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	consulapi "github.com/hashicorp/consul/api"

	"github.com/gluon-gateway/gluon/api"
	"github.com/gluon-gateway/gluon/api/filesource"
)

// Source is one KV prefix.
type Source struct {
	client *consulapi.Client
	prefix string
	loader *filesource.Loader
	log    *slog.Logger
}

// New returns the source of prefix ("gluon/"). With a state store, the last
// good resources survive a restart, as the file source's do.
func New(c *consulapi.Client, prefix string, state api.StateStore, log *slog.Logger) (*Source, error) {
	loader, err := filesource.NewLoader("", state)
	return &Source{client: c, prefix: strings.TrimSuffix(prefix, "/") + "/", loader: loader, log: log}, err
}

// Key is where a resource lives under prefix: every Gluon resource is
// gluon.dev/v1.
func Key(prefix string, k api.Key) string {
	ns := k.Namespace
	if ns == "" {
		ns = "default"
	}
	return strings.TrimSuffix(prefix, "/") + "/" + api.Group + "/v1/" + string(k.Kind) + "/" + ns + "/" + k.Name
}

// Run reads the prefix, then again after every change, calling onLoad each
// time until ctx ends; a failed read is passed on (the last good config
// stays) and retried.
func (s *Source) Run(ctx context.Context, onLoad func(api.Snapshot, error)) error {
	WatchPrefix(ctx, s.client.KV(), s.prefix,
		func(pairs consulapi.KVPairs) { onLoad(s.loader.LoadDocuments(s.documents(pairs)), nil) },
		func(err error) { onLoad(api.Snapshot{}, err) })
	return nil
}

// WatchPrefix lists the entries under prefix, then again after every
// change (a blocking query), giving each list to onList until ctx ends. A
// failed read goes to onErr and is retried with back-off.
func WatchPrefix(ctx context.Context, kv *consulapi.KV, prefix string, onList func(consulapi.KVPairs), onErr func(error)) {
	var index uint64
	wait := 100 * time.Millisecond
	for ctx.Err() == nil {
		q := (&consulapi.QueryOptions{WaitIndex: index, WaitTime: 5 * time.Minute}).WithContext(ctx)
		pairs, meta, err := kv.List(prefix, q)
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			onErr(fmt.Errorf("reading consul kv %s: %w", prefix, err))
			sleep(ctx, wait)
			wait = min(2*wait, 10*time.Second)
			continue
		case meta.LastIndex == index:
			continue // the wait ran out with nothing new
		}
		wait = 100 * time.Millisecond
		index = NextIndex(index, meta.LastIndex)
		onList(pairs)
	}
}

// NextIndex is the index of the next blocking query after one that
// returned last: Consul's, reset when it goes backwards (as Consul's
// documentation asks).
func NextIndex(prev, last uint64) uint64 {
	if last < prev || last == 0 {
		return 0
	}
	return last
}

// documents are the entries as documents, in key order (Consul lists them
// so); folder entries (keys ending in "/") are not resources.
func (s *Source) documents(pairs consulapi.KVPairs) []filesource.Document {
	var out []filesource.Document
	for _, p := range pairs {
		if strings.HasSuffix(p.Key, "/") {
			continue
		}
		out = append(out, filesource.Document{Name: p.Key, Data: p.Value, Err: s.checkKey(p.Key, p.Value)})
	}
	return out
}

var errLayout = errors.New("not where its resource belongs")

// checkKey checks that an entry's key is <prefix><group>/<version>/<Kind>/
// <namespace>/<name> and that its value is that one resource.
func (s *Source) checkKey(key string, value []byte) error {
	parts := strings.Split(strings.TrimPrefix(key, s.prefix), "/")
	if len(parts) != 5 {
		return fmt.Errorf("%w: a key is <prefix>/<group>/<version>/<Kind>/<namespace>/<name>", errLayout)
	}
	docs := api.DecodeAll(value)
	if len(docs) != 1 {
		return fmt.Errorf("%w: an entry holds one resource, this one holds %d", errLayout, len(docs))
	}
	if docs[0].Err != nil {
		return nil // the loader reports it
	}
	if want := Key(s.prefix, api.KeyOf(docs[0].Object)); want != key {
		return fmt.Errorf("%w: it holds %s, whose key is %s", errLayout, api.KeyOf(docs[0].Object), want)
	}
	return nil
}

// Config is the Consul client configuration for addr (host:port, or
// https://host:port), the environment's CONSUL_* settings filling in the
// rest.
func Config(addr string) *consulapi.Config {
	cfg := consulapi.DefaultConfig()
	cfg.Address = addr
	if strings.HasPrefix(addr, "https://") {
		cfg.Scheme = "https"
	}
	return cfg
}
