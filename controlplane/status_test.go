package controlplane

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/gluon-gateway/gluon/api/filesource"
	"github.com/gluon-gateway/gluon/xds/ir/golden"
	"github.com/gluon-gateway/gluon/xds/server"
)

// TestStatusGolden runs a config directory (one file, the case's input)
// through the pipeline and renders what /statusz reports of each resource:
// state and problems, each with its code, field path and message.
func TestStatusGolden(t *testing.T) {
	golden.Run(t, func(t *testing.T, in []byte) any {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "config.yaml"), in, 0o600); err != nil {
			t.Fatal(err)
		}
		loader, err := filesource.NewLoader(dir, nil)
		if err != nil {
			t.Fatal(err)
		}
		snap, err := loader.Load()
		if err != nil {
			t.Fatal(err)
		}
		log := slog.New(slog.NewTextHandler(io.Discard, nil))
		p := New(server.New("", log), log)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel() // stops the discovery pollers Apply starts
		p.Apply(ctx, snap, nil)
		st := p.Status()
		return map[string]any{"reports": st.Reports, "errors": st.Errors}
	})
}
