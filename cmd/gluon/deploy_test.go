package main

import (
	"os"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// TestShippedDeploymentGuardsItsPorts parses the shipped Deployment's
// arguments with serve's own flags: every flag exists, and its
// non-loopback endpoints are guarded by mutual TLS and the admin token.
func TestShippedDeploymentGuardsItsPorts(t *testing.T) {
	raw, err := os.ReadFile("../../deploy/deployment.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var dep struct {
		Spec struct {
			Template struct {
				Spec struct {
					Containers []struct{ Args []string }
				}
			}
		}
	}
	if err := yaml.Unmarshal([]byte(strings.SplitN(string(raw), "\n---\n", 2)[0]), &dep); err != nil {
		t.Fatal(err)
	}
	args := dep.Spec.Template.Spec.Containers[0].Args
	cmd := serveCommand()
	if err := cmd.ParseFlags(args[1:]); err != nil {
		t.Fatalf("the Deployment's arguments: %v", err)
	}
	var o serveOptions
	flags := cmd.Flags()
	o.xdsAddr, _ = flags.GetString("xds-addr")
	o.rlsAddr, _ = flags.GetString("ratelimit-addr")
	o.adminAddr, _ = flags.GetString("admin-addr")
	for _, name := range []string{"xds-client-ca", "ratelimit-client-ca", "admin-token-file", "proxy-tls-cert"} {
		if v, _ := flags.GetString(name); v == "" {
			t.Errorf("the Deployment does not set --%s", name)
		}
	}
	if isLoopback(o.xdsAddr) || isLoopback(o.adminAddr) {
		t.Fatalf("the Deployment binds loopback only; this test means to check remote exposure")
	}
}
