package consulcatalog

import (
	"io"
	"log/slog"
	"reflect"
	"testing"

	consulapi "github.com/hashicorp/consul/api"

	"github.com/gluon-gateway/gluon/functions"
)

// TestEntriesKeepWhatStatusPagesLeaveOut: a follower must translate what
// the leader does, so the fields JSON leaves out for status pages (Azure
// keys, descriptor sets) travel in the published entry.
func TestEntriesKeepWhatStatusPagesLeaveOut(t *testing.T) {
	d := functions.Discovered{
		Upstream:        functions.UpstreamRef{Namespace: "default", Name: "shop"},
		Functions:       []functions.Function{{Name: "hello", Kind: functions.KindAzure, Azure: &functions.AzureFunction{FunctionName: "hello", Route: "api/hello", AuthLevel: "function"}}},
		Source:          "arm",
		AzureKeys:       &functions.AzureKeys{Function: map[string]string{"hello": "fn-key"}, Host: "host-key", Master: "master-key"},
		GRPCDescriptors: []byte{0x0a, 0x03, 'a', '.', 'p'},
	}
	v, err := encode(d)
	if err != nil {
		t.Fatal(err)
	}
	got, err := decode(v)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, d) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", got, d)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	snap := SnapshotOf(consulapi.KVPairs{{Key: "p/functions/default/shop", Value: v}, {Key: "p/functions/default/bad", Value: []byte("not gzip")}}, log)
	if len(snap) != 1 || snap[d.Upstream].AzureKeys.Host != "host-key" {
		t.Fatalf("snapshot of one good and one bad entry: %+v", snap)
	}
}
