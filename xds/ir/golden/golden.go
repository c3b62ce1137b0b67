// Package golden runs golden-file tests: testdata/<case>.in.yaml is fed to a
// function whose YAML output is compared, semantically, to <case>.out.yaml.
// `go test ./... -update` (or GLUON_UPDATE_GOLDEN=1) rewrites the outputs and
// removes outputs whose input is gone.
package golden

import (
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

var update = flag.Bool("update", false, "rewrite golden .out.yaml files")

// Updating reports whether golden files are being rewritten.
func Updating() bool { return *update || os.Getenv("GLUON_UPDATE_GOLDEN") == "1" }

// Run calls translate on every testdata/*.in.yaml and checks its output.
func Run(t *testing.T, translate func(t *testing.T, in []byte) any) {
	t.Helper()
	ins, err := filepath.Glob("testdata/*.in.yaml")
	if err != nil || len(ins) == 0 {
		t.Fatalf("no golden inputs in testdata/: %v", err)
	}
	for _, in := range ins {
		name := strings.TrimSuffix(filepath.Base(in), ".in.yaml")
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			check(t, strings.TrimSuffix(in, ".in.yaml")+".out.yaml", translate(t, data))
		})
	}
	if Updating() {
		removeStale(t)
	}
}

func check(t *testing.T, outPath string, got any) {
	t.Helper()
	gotYAML, err := yaml.Marshal(got)
	if err != nil {
		t.Fatalf("marshal output: %v", err)
	}
	if Updating() {
		if err := os.WriteFile(outPath, gotYAML, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(outPath)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	var g, w any
	if err := yaml.Unmarshal(gotYAML, &g); err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(want, &w); err != nil {
		t.Fatalf("%s: %v", outPath, err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Errorf("%s differs (run with -update to accept):\n--- got\n%s\n--- want\n%s", outPath, gotYAML, want)
	}
}

func removeStale(t *testing.T) {
	outs, _ := filepath.Glob("testdata/*.out.yaml")
	for _, out := range outs {
		in := strings.TrimSuffix(out, ".out.yaml") + ".in.yaml"
		if _, err := os.Stat(in); os.IsNotExist(err) {
			if err := os.Remove(out); err != nil {
				t.Error(err)
			}
		}
	}
}
