package main

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/gluon-gateway/gluon/api"
)

// options are the global flags and the command's streams.
type options struct {
	output    string
	configDir string
	adminAddr string
	// adminTokenFile and adminCA reach an admin endpoint that is guarded.
	adminTokenFile string
	adminCA        string
	kubeconfig     string
	// consulAddr and consulPrefix are Consul mode: resources in KV.
	consulAddr, consulPrefix string
	namespace                string
	dryRun                   bool
	interactive              bool

	in          io.Reader
	out, errOut io.Writer
	prompts     *bufio.Reader
}

// errProblems makes gluonctl exit 1 after it printed what is wrong.
var errProblems = errors.New("problems found")

func exitCode(err error) int {
	if errors.Is(err, errProblems) {
		return 1
	}
	return 2
}

// store is where resources live: a config directory, or a cluster.
type store interface {
	resources() (api.Resources, error)
	get(api.Key) (api.Object, bool, error)
	// put and delete return where they wrote (a file, an API server).
	put(api.Object) (string, error)
	delete(api.Key) (string, error)
}

// store is the cluster of --kubeconfig (Kubernetes mode), the KV store of
// --consul-addr (Consul mode), else the --config-dir directory.
func (o *options) store() (store, error) {
	if o.kubeconfig != "" {
		return newKubeStore(o.kubeconfig)
	}
	if o.consulAddr != "" {
		return newConsulStore(o.consulAddr, o.consulPrefix)
	}
	return &fileStore{dir: o.configDir}, nil
}

// write saves a resource, or prints it with --dry-run.
func (o *options) write(obj api.Object) error {
	if o.dryRun {
		if s, ok := obj.(*api.Secret); ok {
			obj = redactedSecret(s) // secrets are never echoed, even on request
		}
		raw, err := marshal(obj)
		if err != nil {
			return err
		}
		_, err = o.out.Write(raw)
		return err
	}
	s, err := o.store()
	if err != nil {
		return err
	}
	file, err := s.put(obj)
	if err != nil {
		return err
	}
	fmt.Fprintf(o.out, "%s written to %s\n", api.KeyOf(obj), file)
	return nil
}

// prompt asks for a value on the terminal when -i is set and the flag was
// left empty.
func (o *options) prompt(label string, value *string) error {
	if *value != "" || !o.interactive {
		return nil
	}
	if o.prompts == nil {
		o.prompts = newPrompts(o.in)
	}
	fmt.Fprintf(o.errOut, "%s: ", label)
	line, err := o.prompts.ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("reading %s: %w", label, err)
	}
	*value = strings.TrimSpace(line)
	return nil
}

func newPrompts(in io.Reader) *bufio.Reader { return bufio.NewReader(in) }

// render prints v as YAML or JSON, or calls table for the table format.
func (o *options) render(v any, table func(io.Writer) error) error {
	switch o.output {
	case "yaml":
		b, err := yaml.Marshal(v)
		if err != nil {
			return err
		}
		_, err = o.out.Write(b)
		return err
	case "json":
		enc := json.NewEncoder(o.out)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	case "table", "":
		return table(o.out)
	}
	return fmt.Errorf("--output: want table, yaml or json, got %q", o.output)
}

// admin GETs a path of the control plane's admin endpoint into v, with
// the bearer token and over TLS when those are set.
func (o *options) admin(path string, v any) error {
	req, client, err := o.adminRequest(path)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("the control plane's admin endpoint: %w (is gluon serve running? set --admin-addr)", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", path, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		return fmt.Errorf("GET %s: %w", path, err)
	}
	return nil
}

func redactedSecret(s *api.Secret) *api.Secret {
	out := *s
	if s.Spec.AWS != nil {
		aws := *s.Spec.AWS
		aws.SecretKey = "[redacted]"
		if aws.SessionToken != "" {
			aws.SessionToken = "[redacted]"
		}
		out.Spec.AWS = &aws
	}
	if s.Spec.Azure != nil {
		az := *s.Spec.Azure
		az.APIKeys = map[string]string{}
		for fn := range s.Spec.Azure.APIKeys {
			az.APIKeys[fn] = "[redacted]"
		}
		for _, v := range []*string{&az.HostKey, &az.MasterKey, &az.ClientSecret} {
			if *v != "" {
				*v = "[redacted]"
			}
		}
		out.Spec.Azure = &az
	}
	if s.Spec.TLS != nil {
		t := *s.Spec.TLS
		t.PrivateKey = "[redacted]"
		out.Spec.TLS = &t
	}
	if s.Spec.Header != nil {
		h := &api.HeaderSecret{Headers: map[string]string{}}
		for name := range s.Spec.Header.Headers {
			h.Headers[name] = "[redacted]"
		}
		out.Spec.Header = h
	}
	if s.Spec.APIKey != nil {
		// The metadata says who the client is, which is no secret.
		out.Spec.APIKey = &api.APIKeySecret{APIKey: "[redacted]", Metadata: s.Spec.APIKey.Metadata}
	}
	if s.Spec.Htpasswd != nil {
		out.Spec.Htpasswd = &api.HtpasswdSecret{Users: "[redacted]"}
	}
	return &out
}

func (o *options) adminRequest(path string) (*http.Request, *http.Client, error) {
	client := &http.Client{Timeout: 5 * time.Second}
	scheme := "http"
	if o.adminCA != "" {
		pemBytes, err := os.ReadFile(o.adminCA)
		if err != nil {
			return nil, nil, fmt.Errorf("--admin-ca: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pemBytes) {
			return nil, nil, fmt.Errorf("--admin-ca %s holds no PEM certificate", o.adminCA)
		}
		client.Transport = &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}
		scheme = "https"
	}
	req, err := http.NewRequest(http.MethodGet, scheme+"://"+o.adminAddr+path, nil)
	if err != nil {
		return nil, nil, err
	}
	if o.adminTokenFile != "" {
		token, err := os.ReadFile(o.adminTokenFile)
		if err != nil {
			return nil, nil, fmt.Errorf("--admin-token-file: %w", err)
		}
		req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(token)))
	}
	return req, client, nil
}
