// Package consulcatalog shares function discovery's results between
// replicas through Consul's KV store: the elected leader publishes its
// catalog, one entry per upstream at <prefix>functions/<namespace>/<name>,
// and the other replicas follow it with blocking queries, so that every
// replica translates the same input and serves the same snapshot version.
//
// Entries hold what the status pages leave out (Azure function keys, gRPC
// descriptor sets): the prefix needs the ACLs of the config prefix, which
// holds Secrets too.
package consulcatalog

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strings"

	consulapi "github.com/hashicorp/consul/api"

	"github.com/gluon-gateway/gluon/functions"
)

// Prefix is where the catalog of statusPrefix ("gluon-status/") lives.
func Prefix(statusPrefix string) string {
	return strings.TrimSuffix(statusPrefix, "/") + "/functions/"
}

func entryKey(prefix string, ref functions.UpstreamRef) string {
	return prefix + ref.Namespace + "/" + ref.Name
}

// entry is one upstream's discovery result with the fields its JSON form
// leaves out for status pages.
type entry struct {
	functions.Discovered
	AzureKeys       *azureKeys `json:"azureKeys,omitempty"`
	GRPCDescriptors []byte     `json:"grpcDescriptors,omitempty"`
}

type azureKeys struct {
	Function map[string]string `json:"function,omitempty"`
	Host     string            `json:"host,omitempty"`
	Master   string            `json:"master,omitempty"`
}

// encode is d as an entry's value: gzipped JSON, since OpenAPI catalogs
// and descriptor sets compress well and Consul caps a value at 512 KiB.
func encode(d functions.Discovered) ([]byte, error) {
	e := entry{Discovered: d, GRPCDescriptors: d.GRPCDescriptors}
	if k := d.AzureKeys; k != nil {
		e.AzureKeys = &azureKeys{Function: k.Function, Host: k.Host, Master: k.Master}
	}
	raw, err := json.Marshal(e)
	if err != nil {
		return nil, fmt.Errorf("encoding %s: %w", d.Upstream, err)
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(raw); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// maxEntry bounds what a published entry may inflate to.
const maxEntry = 64 << 20

func decode(value []byte) (functions.Discovered, error) {
	zr, err := gzip.NewReader(bytes.NewReader(value))
	if err != nil {
		return functions.Discovered{}, err
	}
	raw, err := io.ReadAll(io.LimitReader(zr, maxEntry))
	if err != nil {
		return functions.Discovered{}, err
	}
	var e entry
	if err := json.Unmarshal(raw, &e); err != nil {
		return functions.Discovered{}, err
	}
	d := e.Discovered
	d.GRPCDescriptors = e.GRPCDescriptors
	if k := e.AzureKeys; k != nil {
		d.AzureKeys = &functions.AzureKeys{Function: k.Function, Host: k.Host, Master: k.Master}
	}
	return d, nil
}

// SnapshotOf is the catalog a list of the prefix's entries holds. An entry
// that does not decode is logged and left out.
func SnapshotOf(pairs consulapi.KVPairs, log *slog.Logger) functions.Snapshot {
	out := functions.Snapshot{}
	for _, p := range pairs {
		d, err := decode(p.Value)
		if err != nil {
			log.Error("a published catalog entry does not decode; it is left out", "key", p.Key, "err", err)
			continue
		}
		out[d.Upstream] = d
	}
	return out
}
