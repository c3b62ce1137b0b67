package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	consulapi "github.com/hashicorp/consul/api"
	vaultapi "github.com/hashicorp/vault/api"
	"sigs.k8s.io/yaml"

	"github.com/gluon-gateway/gluon/api"
	"github.com/gluon-gateway/gluon/api/consulsource"
	udsconsul "github.com/gluon-gateway/gluon/uds/consul"
)

// demoHashiCorp is the demo's Consul agent and Vault server, both in -dev
// mode on loopback ports: the demo's services register in Consul, its
// config lives in Consul's KV store and its credentials in Vault.
type demoHashiCorp struct {
	consulAddr, vaultAddr string
	consulBin, vaultBin   string
	vaultTokenFile        string
	vaultToken            string
	consul                *consulapi.Client
	vault                 *vaultapi.Client
	procs                 []*exec.Cmd
}

// demoKVPrefix is where the demo's resources live in Consul's KV store.
const demoKVPrefix = "gluon/"

// startDemoHashiCorp starts Consul and Vault with the binaries given, or
// the ones the repo's scripts build and cache (./scripts/consul-testenv,
// ./scripts/vault-testenv), and waits until both answer.
func startDemoHashiCorp(ctx context.Context, dir, consulBin, vaultBin string) (*demoHashiCorp, error) {
	h := &demoHashiCorp{}
	var err error
	if h.consulBin, err = demoTool(consulBin, "GLUON_CONSUL", "consul-testenv", "consul"); err != nil {
		return nil, err
	}
	if h.vaultBin, err = demoTool(vaultBin, "GLUON_VAULT", "vault-testenv", "vault"); err != nil {
		return nil, err
	}
	if err := h.startConsul(ctx, dir); err != nil {
		h.close()
		return nil, err
	}
	if err := h.startVault(ctx, dir); err != nil {
		h.close()
		return nil, err
	}
	return h, nil
}

// demoTool is the binary to run: the flag's, the environment's, the one a
// repo script builds (it prints the cached path, building it once), or
// one on PATH.
func demoTool(flag, env, script, name string) (string, error) {
	if flag != "" {
		return flag, nil
	}
	if v := os.Getenv(env); v != "" {
		return v, nil
	}
	if _, err := os.Stat(filepath.Join("scripts", script)); err == nil {
		fmt.Fprintf(os.Stderr, "finding %s with ./scripts/%s (the first run builds it: 5-10 min)\n", name, script)
		cmd := exec.Command(filepath.Join("scripts", script))
		cmd.Stderr = os.Stderr
		out, err := cmd.Output()
		if err != nil {
			return "", fmt.Errorf("demo: ./scripts/%s: %w", script, err)
		}
		return strings.TrimSpace(string(out)), nil
	}
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	return "", fmt.Errorf("demo: no %s binary: give --%s-bin, set %s, or run from the repository root, where ./scripts/%s builds one", name, name, env, script)
}

// freePorts are n free loopback ports, as demoListenAddr finds them.
func freePorts(n int) ([]string, error) {
	out := make([]string, n)
	for i := range out {
		addr, err := demoListenAddr(0)
		if err != nil {
			return nil, err
		}
		_, out[i], _ = net.SplitHostPort(addr)
	}
	return out, nil
}

func (h *demoHashiCorp) start(ctx context.Context, logFile, bin string, args ...string) error {
	log, err := os.Create(logFile)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		log.Close()
		return fmt.Errorf("demo: starting %s: %w", bin, err)
	}
	h.procs = append(h.procs, cmd)
	go func() { _ = cmd.Wait(); log.Close() }()
	return nil
}

func (h *demoHashiCorp) startConsul(ctx context.Context, dir string) error {
	ports, err := freePorts(4)
	if err != nil {
		return err
	}
	h.consulAddr = "127.0.0.1:" + ports[0]
	err = h.start(ctx, filepath.Join(dir, "consul.log"), h.consulBin, udsconsul.DevAgentArgs(ports[0], ports[1], ports[2], ports[3])...)
	if err != nil {
		return err
	}
	if h.consul, err = consulapi.NewClient(consulsource.Config(h.consulAddr)); err != nil {
		return fmt.Errorf("demo: consul client: %w", err)
	}
	return waitUntil(ctx, "consul has a leader", func() bool {
		leader, err := h.consul.Status().Leader()
		return err == nil && leader != ""
	})
}

func (h *demoHashiCorp) startVault(ctx context.Context, dir string) error {
	ports, err := freePorts(1)
	if err != nil {
		return err
	}
	port := ports[0]
	token := make([]byte, 16)
	_, _ = rand.Read(token) // crypto/rand never fails on Linux
	h.vaultToken = "demo-" + hex.EncodeToString(token)
	h.vaultTokenFile = filepath.Join(dir, "vault-token")
	if err := os.WriteFile(h.vaultTokenFile, []byte(h.vaultToken), 0o600); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	h.vaultAddr = "http://127.0.0.1:" + port
	err = h.start(ctx, filepath.Join(dir, "vault.log"), h.vaultBin, "server", "-dev", "-dev-listen-address", "127.0.0.1:"+port,
		"-dev-root-token-id", h.vaultToken, "-log-level", "warn")
	if err != nil {
		return err
	}
	cfg := vaultapi.DefaultConfig()
	cfg.Address = h.vaultAddr
	if h.vault, err = vaultapi.NewClient(cfg); err != nil {
		return fmt.Errorf("demo: vault client: %w", err)
	}
	h.vault.SetToken(h.vaultToken)
	return waitUntil(ctx, "vault is unsealed", func() bool {
		st, err := h.vault.Sys().Health()
		return err == nil && st.Initialized && !st.Sealed
	})
}

func waitUntil(ctx context.Context, what string, cond func() bool) error {
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			return fmt.Errorf("demo: waited 30s for: %s", what)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return nil
}

func (h *demoHashiCorp) close() {
	for _, p := range h.procs {
		_ = p.Process.Kill()
	}
}

// moveConfig moves the demo's config file into Consul and Vault: every
// static Upstream's host registers in Consul as a service of the
// Upstream's name, which then becomes a consul Upstream; every Secret's
// values go to Vault at secret/gluon/<name>, the Secret naming that path;
// every resource is written to KV at its key under the demo prefix.
func (h *demoHashiCorp) moveConfig(ctx context.Context, file string) error {
	raw, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("demo config: %w", err)
	}
	for _, d := range api.DecodeAll(raw) {
		if d.Err != nil {
			return fmt.Errorf("demo config: %w", d.Err)
		}
		if err := h.moveResource(ctx, d.Object); err != nil {
			return err
		}
	}
	return nil
}

func (h *demoHashiCorp) moveResource(ctx context.Context, o api.Object) error {
	switch r := o.(type) {
	case *api.Upstream:
		if err := h.registerService(r); err != nil {
			return err
		}
	case *api.Secret:
		if err := h.storeSecret(ctx, r); err != nil {
			return err
		}
	}
	value, err := yaml.Marshal(o)
	if err != nil {
		return fmt.Errorf("demo config: %w", err)
	}
	key := consulsource.Key(demoKVPrefix, api.KeyOf(o))
	if _, err := h.consul.KV().Put(&consulapi.KVPair{Key: key, Value: value}, nil); err != nil {
		return fmt.Errorf("demo: writing %s: %w", key, err)
	}
	return nil
}

// registerService registers a static Upstream's one host in Consul, with
// a TCP health check, and makes the Upstream a consul one.
func (h *demoHashiCorp) registerService(u *api.Upstream) error {
	if u.Spec.Static == nil || len(u.Spec.Static.Hosts) != 1 {
		return nil
	}
	host := u.Spec.Static.Hosts[0]
	addr := net.JoinHostPort(host.Addr, strconv.Itoa(int(host.Port)))
	err := h.consul.Agent().ServiceRegister(&consulapi.AgentServiceRegistration{ID: u.Name + "-1", Name: u.Name, Address: host.Addr, Port: int(host.Port),
		Check: &consulapi.AgentServiceCheck{TCP: addr, Interval: "1s", Timeout: "1s", Status: consulapi.HealthPassing}})
	if err != nil {
		return fmt.Errorf("demo: registering %s in consul: %w", u.Name, err)
	}
	u.Spec.Static, u.Spec.Consul = nil, &api.ConsulUpstream{ServiceName: u.Name}
	return nil
}

// storeSecret writes a Secret's values to Vault's KV v2 store and makes
// the Secret point there.
func (h *demoHashiCorp) storeSecret(ctx context.Context, s *api.Secret) error {
	raw, err := json.Marshal(s.Spec)
	if err != nil {
		return fmt.Errorf("demo secret %s: %w", s.Name, err)
	}
	var data map[string]any
	if err := json.Unmarshal(raw, &data); err != nil {
		return fmt.Errorf("demo secret %s: %w", s.Name, err)
	}
	if _, err := h.vault.KVv2("secret").Put(ctx, "gluon/"+s.Name, data); err != nil {
		return fmt.Errorf("demo: writing secret %s to vault: %w", s.Name, err)
	}
	s.Spec = api.SecretSpec{Vault: &api.VaultSecret{Path: "secret/gluon/" + s.Name}}
	return nil
}

// serveOptions points gluon serve at the demo's Consul and Vault.
func (h *demoHashiCorp) serveOptions(o serveOptions) serveOptions {
	o.configDir = ""
	o.consul = consulOptions{addr: h.consulAddr, prefix: demoKVPrefix, namespace: "default", replicaID: "demo"}
	o.vault = vaultOptions{addr: h.vaultAddr, tokenFile: h.vaultTokenFile, approleMount: "approle", pollInterval: time.Second}
	return o
}

// describe says where the demo's Consul and Vault are, and how to look at
// what they hold with their own CLIs.
func (h *demoHashiCorp) describe() string {
	return fmt.Sprintf(`
Consul (services, and the config under %s): http://%s/ui/
Vault (the Secrets' values under secret/gluon/): %s, token in %s
  CONSUL_HTTP_ADDR=%s %s catalog services
  CONSUL_HTTP_ADDR=%s %s kv get -recurse %s
  VAULT_ADDR=%s VAULT_TOKEN=$(cat %s) %s kv get secret/gluon/aws-demo
`, demoKVPrefix, h.consulAddr, h.vaultAddr, h.vaultTokenFile,
		h.consulAddr, h.consulBin, h.consulAddr, h.consulBin, demoKVPrefix,
		h.vaultAddr, h.vaultTokenFile, h.vaultBin)
}
