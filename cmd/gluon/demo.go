package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/grpc"

	"github.com/gluon-gateway/gluon/cmd/internal/demofile"
	azurestandin "github.com/gluon-gateway/gluon/fds/azure/standin"
	"github.com/gluon-gateway/gluon/fds/lambda/standin"
	"github.com/gluon-gateway/gluon/fds/openapi/petstore"
)

// demoCommand starts everything a newcomer needs to see Gluon work: sample
// services, a config directory, the control plane and the embedded data
// plane, then prints curl lines that work.
func demoCommand() *cobra.Command {
	var o demoOptions
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run a self-contained demo: sample services, config, control plane and data plane",
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runDemo(cmd.Context(), cmd.OutOrStdout(), o)
		},
	}
	f := cmd.Flags()
	f.IntVar(&o.port, "port", 8080, "gateway port (a free one is used if it is taken)")
	f.BoolVar(&o.verbose, "verbose", false, "show the control plane's logs")
	f.BoolVar(&o.consul, "consul", false, "run the demo on Consul and Vault (started in -dev mode): services registered in Consul, config in its KV store, credentials in Vault")
	f.StringVar(&o.consulBin, "consul-bin", "", "the consul binary for --consul (default: $GLUON_CONSUL, what ./scripts/consul-testenv builds, or consul on PATH)")
	f.StringVar(&o.vaultBin, "vault-bin", "", "the vault binary for --consul (default: $GLUON_VAULT, what ./scripts/vault-testenv builds, or vault on PATH)")
	return cmd
}

type demoOptions struct {
	port                int
	verbose, consul     bool
	consulBin, vaultBin string
}

func runDemo(ctx context.Context, out io.Writer, do demoOptions) error {
	dir, err := os.MkdirTemp("", "gluon-demo-")
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	defer os.RemoveAll(dir)
	services, err := startDemoServices(dir)
	if err != nil {
		return err
	}
	defer services.close()
	gw, err := demoListenAddr(do.port)
	if err != nil {
		return err
	}
	configDir := filepath.Join(dir, "config")
	if err := writeDemoConfig(configDir, gw, services); err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if do.verbose {
		log = newLogger()
	}
	admin, err := demoAdminAddr()
	if err != nil {
		return err
	}
	o := serveOptions{configDir: configDir, xdsAddr: "127.0.0.1:0", adminAddr: admin, rlsAddr: "127.0.0.1:0", stateDir: filepath.Join(dir, "state"), dataplane: "embedded", proxy: "gateway-proxy"}
	var hashi *demoHashiCorp
	if do.consul {
		if hashi, err = startDemoHashiCorp(ctx, dir, do.consulBin, do.vaultBin); err != nil {
			return err
		}
		defer hashi.close()
		if err := hashi.moveConfig(ctx, filepath.Join(configDir, "demo.yaml")); err != nil {
			return err
		}
		o = hashi.serveOptions(o)
	}
	served := make(chan error, 1)
	go func() { served <- runServe(ctx, o, log) }()
	if err := waitForGateway(ctx, gw, served); err != nil {
		return err
	}
	// gluonctl finds the demo through this record; without it, the lines
	// printed say where the demo is.
	info := demofile.Info{PID: os.Getpid(), AdminAddr: admin, ConfigDir: configDir}
	flags := " --admin-addr " + admin + " --config-dir " + configDir
	where := configDir + " (edit it: changes apply at once)"
	if hashi != nil {
		info.ConfigDir, info.ConsulAddr = "", hashi.consulAddr
		flags = " --admin-addr " + admin + " --consul-addr " + hashi.consulAddr
		where = "Consul KV " + demoKVPrefix + " at " + hashi.consulAddr + " (edit it with gluonctl or consul kv put: changes apply at once)"
	}
	if remove, err := demofile.Write(info); err == nil {
		defer remove()
		flags = ""
	}
	more := ""
	if hashi != nil {
		more = hashi.describe()
	}
	printDemo(out, gw, admin, where, flags, more)
	return <-served
}

// defaultAdminAddr is where gluonctl looks for the admin endpoint first.
const defaultAdminAddr = "127.0.0.1:9976"

// demoAdminAddr is gluonctl's default admin address when it is free, else
// a free port: a second demo, or a gluon serve already running, keeps its
// own.
func demoAdminAddr() (string, error) {
	lis, err := net.Listen("tcp", defaultAdminAddr)
	if err != nil {
		if lis, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
			return "", fmt.Errorf("demo admin address: %w", err)
		}
	}
	addr := lis.Addr().String()
	return addr, lis.Close()
}

// demoService answers with its name and what it received, so the demo's
// output shows which backend a route reached and how the request arrived.
type demoServices struct {
	servers map[string]*http.Server
	addrs   map[string]string
	lambda  *standin.Endpoint
	azure   *azurestandin.Server
	greeter *grpc.Server
}

const demoAzureClientSecret = "gluon-demo-azure-secret"

// startDemoAzure runs local stand-ins for Entra ID, ARM and a Function App
// host with two functions: greet (needs a function key) and ping
// (anonymous). Gluon discovers them through ARM and calls them with keys
// it read there. The sign-in and ARM servers are TLS with a test CA the
// demo process is told to trust (SSL_CERT_FILE, read when TLS is first
// used), as an operator would trust a private CA.
func startDemoAzure(dir string) (*azurestandin.Server, error) {
	st, err := azurestandin.New(azurestandin.Options{})
	if err != nil {
		return nil, fmt.Errorf("demo azure: %w", err)
	}
	st.AddClient("gluon-demo", demoAzureClientSecret)
	// greet reads its name as Azure's HTTP trigger template does: from the
	// query, else from a JSON body.
	greet := func(w http.ResponseWriter, r *http.Request) {
		var body struct{ Name string }
		_ = json.NewDecoder(io.LimitReader(r.Body, 1<<16)).Decode(&body) // no body, no name
		fmt.Fprintf(w, "hello, %s\n", cmp.Or(r.URL.Query().Get("name"), body.Name, "world"))
	}
	ping := func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "pong") }
	err = st.AddApp(azurestandin.App{Name: "demo-app", Functions: []azurestandin.Function{
		{Name: "greet", Route: "greet", AuthLevel: azurestandin.AuthFunction, Handler: greet},
		{Name: "ping", Route: "ping", AuthLevel: azurestandin.AuthAnonymous, Handler: ping},
	}})
	if err == nil {
		ca := filepath.Join(dir, "azure-ca.pem")
		if err = os.WriteFile(ca, st.CertPEM(), 0o600); err == nil {
			err = os.Setenv("SSL_CERT_FILE", ca)
		}
	}
	if err != nil {
		st.Close()
		return nil, fmt.Errorf("demo azure: %w", err)
	}
	return st, nil
}

// Demo AWS credentials: the local Lambda stand-in accepts only these, and
// checks every request's SigV4 signature with them.
const (
	demoAccessKey = "AKIDGLUONDEMO"
	demoSecretKey = "gluon-demo-secret"
)

// startDemoLambda runs a local Lambda with two functions: hello, an API
// Gateway-style function, and echo, with a version and an alias.
func startDemoLambda() (*standin.Endpoint, error) {
	s := standin.New(standin.Options{})
	s.AddCredentials(demoAccessKey, demoSecretKey, "")
	for _, f := range []standin.Function{
		{Name: "hello", Handler: standin.APIGatewayEcho},
		{Name: "echo", Versions: []string{"1"}, Aliases: map[string]string{"live": "1"}, Handler: standin.Echo},
	} {
		if err := s.AddFunction(f); err != nil {
			return nil, fmt.Errorf("demo lambda: %w", err)
		}
	}
	ep, err := s.Start()
	if err != nil {
		return nil, fmt.Errorf("demo lambda: %w", err)
	}
	return ep, nil
}

func startDemoServices(dir string) (*demoServices, error) {
	s := &demoServices{servers: map[string]*http.Server{}, addrs: map[string]string{}}
	handlers := map[string]http.Handler{
		"blue":     echoHandler("blue"),
		"green":    echoHandler("green"),
		"petstore": petstore.Handler(petstore.OpenAPI31),
	}
	for _, name := range []string{"blue", "green", "petstore"} {
		lis, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			s.close()
			return nil, fmt.Errorf("demo service %s: %w", name, err)
		}
		srv := &http.Server{Handler: handlers[name], ReadHeaderTimeout: 5 * time.Second}
		go srv.Serve(lis) //nolint:errcheck // ends with ErrServerClosed at close
		s.servers[name], s.addrs[name] = srv, lis.Addr().String()
	}
	ep, err := startDemoLambda()
	if err != nil {
		s.close()
		return nil, err
	}
	s.lambda = ep
	if s.azure, err = startDemoAzure(dir); err != nil {
		s.close()
		return nil, err
	}
	if s.greeter, s.addrs["greeter"], err = startDemoGreeter(); err != nil {
		s.close()
		return nil, err
	}
	return s, nil
}

func (s *demoServices) close() {
	for _, srv := range s.servers {
		srv.Close()
	}
	if s.lambda != nil {
		s.lambda.Close()
	}
	if s.azure != nil {
		s.azure.Close()
	}
	if s.greeter != nil {
		s.greeter.Stop()
	}
}

func echoHandler(name string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		headers := map[string]string{}
		for k := range r.Header {
			headers[strings.ToLower(k)] = r.Header.Get(k)
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"service": name, "method": r.Method, "path": r.URL.RequestURI(), "host": r.Host, "headers": headers})
	})
}

// demoListenAddr prefers the asked port and falls back to a free one.
func demoListenAddr(port int) (string, error) {
	for _, p := range []int{port, 0} {
		lis, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
		if err == nil {
			addr := lis.Addr().String()
			lis.Close()
			return addr, nil
		}
	}
	return "", errors.New("demo: no free port on 127.0.0.1")
}

// demoConfig's placeholders are replaced by ports; it is not a Go template,
// as its transformation templates use the same braces.
const demoConfig = `# Gluon demo config: edit me while the demo runs, changes apply at once.
apiVersion: gluon.dev/v1
kind: Gateway
metadata: {name: http}
spec:
  bindAddress: 127.0.0.1
  bindPort: GATEWAY_PORT
---
apiVersion: gluon.dev/v1
kind: Upstream
metadata: {name: blue}
spec:
  static: {hosts: [{addr: 127.0.0.1, port: BLUE_PORT}]}
---
apiVersion: gluon.dev/v1
kind: Upstream
metadata: {name: green}
spec:
  static: {hosts: [{addr: 127.0.0.1, port: GREEN_PORT}]}
---
# The petstore serves its OpenAPI document: Gluon discovers its operations
# as functions that routes call by name.
apiVersion: gluon.dev/v1
kind: Upstream
metadata: {name: petstore}
spec:
  static: {hosts: [{addr: 127.0.0.1, port: PETSTORE_PORT}]}
---
# A gRPC service with server reflection: Gluon discovers its methods as
# functions, and routes call them with JSON (transcoded to gRPC).
apiVersion: gluon.dev/v1
kind: Upstream
metadata: {name: greeter}
spec:
  useHttp2: true
  static: {hosts: [{addr: 127.0.0.1, port: GREETER_PORT}]}
---
# A local stand-in for AWS Lambda: Gluon lists its functions with the AWS
# SDK and signs every invocation with SigV4, as it would against AWS.
apiVersion: gluon.dev/v1
kind: Secret
metadata: {name: aws-demo}
spec: {aws: {accessKey: DEMO_ACCESS_KEY, secretKey: DEMO_SECRET_KEY}}
---
apiVersion: gluon.dev/v1
kind: Upstream
metadata: {name: lambda}
spec: {aws: {region: us-east-1, endpoint: "LAMBDA_URL", secretRef: {name: aws-demo}}}
---
# Local stand-ins for Entra ID, ARM and an Azure Function App: Gluon lists
# the app's functions through ARM and reads their keys there.
apiVersion: gluon.dev/v1
kind: Secret
metadata: {name: azure-demo}
spec: {azure: {clientSecret: DEMO_AZURE_SECRET}}
---
apiVersion: gluon.dev/v1
kind: Upstream
metadata: {name: azure}
spec:
  azure:
    functionAppName: demo-app
    subscriptionId: AZURE_SUBSCRIPTION
    resourceGroup: AZURE_GROUP
    clientSecret: {tenantId: AZURE_TENANT, clientId: gluon-demo, secretRef: {name: azure-demo}}
    armEndpoint: AZURE_ARM
    authorityHost: AZURE_ARM/
    appHost: AZURE_HOST
---
apiVersion: gluon.dev/v1
kind: VirtualService
metadata: {name: demo}
spec:
  virtualHost:
    domains: ["*"]
    routes:
    - matchers: [{exact: /petstore/findPet}]
      routeAction:
        single:
          upstream: {name: petstore}
          destinationSpec:
            rest:
              functionName: findPetById
              parameters: {headers: {x-pet-id: "{id}"}}
    - matchers: [{exact: /petstore/add, methods: [POST]}]
      routeAction:
        single:
          upstream: {name: petstore}
          destinationSpec:
            rest:
              functionName: addPet
              parameters: {headers: {x-name: "{name}", x-tag: "{tag}"}}
              responseTransformation:
                body: {text: '{"created": {{ body() }}, "by": "gluon"}'}
    - matchers: [{prefix: /azure/greet}]
      routeAction: {single: {upstream: {name: azure}, destinationSpec: {azure: {functionName: greet}}}}
    - matchers: [{prefix: /azure/ping}]
      routeAction: {single: {upstream: {name: azure}, destinationSpec: {azure: {functionName: ping}}}}
    - matchers: [{prefix: /lambda/hello}]
      routeAction:
        single:
          upstream: {name: lambda}
          destinationSpec: {aws: {logicalName: hello, wrapAsApiGateway: true, unwrapAsApiGateway: true}}
    - matchers: [{exact: /lambda/echo}]
      routeAction:
        single:
          upstream: {name: lambda}
          destinationSpec: {aws: {logicalName: "echo:live"}}
    # Envoy swaps a matched prefix literally: /hello/ and /hello are both
    # matched so that /hello/world reaches /world (not //world).
    # Every function of these upstreams as an MCP tool, for AI agents.
    - matchers: [{prefix: /mcp}]
      routeAction: {mcp: {upstreams: [{name: petstore}, {name: lambda}, {name: azure}]}}
    - matchers: [{prefix: /hello/, headers: [{name: x-color, value: green}]}, {prefix: /hello, headers: [{name: x-color, value: green}]}]
      routeAction: {single: {upstream: {name: green}}}
      options: {prefixRewrite: /}
    - matchers: [{prefix: /hello/}, {prefix: /hello}]
      routeAction: {single: {upstream: {name: blue}}}
      options:
        prefixRewrite: /
        headerManipulation:
          requestHeadersToAdd: [{header: {key: x-gluon-demo, value: "true"}}]
          responseHeadersToAdd: [{header: {key: x-served-by, value: gluon}}]
    - matchers: [{prefix: /split}]
      routeAction:
        multi:
          destinations:
          - {weight: 50, destination: {upstream: {name: blue}}}
          - {weight: 50, destination: {upstream: {name: green}}}
    - matchers: [{exact: /old}]
      # Host ports are stripped before routing (as with Envoy's
      # strip_any_host_port), so the redirect names the port itself.
      redirectAction: {pathRedirect: /hello, portRedirect: GATEWAY_PORT, responseCode: FOUND}
    - matchers: [{exact: /greet}]
      routeAction:
        single:
          upstream: {name: greeter}
          destinationSpec: {grpc: {package: helloworld, service: Greeter, function: SayHello}}
    - matchers: [{prefix: /greetings/}]
      routeAction:
        single:
          upstream: {name: greeter}
          destinationSpec: {grpc: {package: helloworld, service: Greeter, function: SayHelloStream, parameters: {path: "/greetings/{name}"}}}
    - matchers: [{exact: /health}]
      directResponseAction: {status: 200, body: "gluon is up\n"}
`

func writeDemoConfig(dir, gw string, s *demoServices) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("demo config: %w", err)
	}
	port := func(addr string) string { _, p, _ := net.SplitHostPort(addr); return p }
	config := strings.NewReplacer("GATEWAY_PORT", port(gw), "BLUE_PORT", port(s.addrs["blue"]),
		"GREEN_PORT", port(s.addrs["green"]), "PETSTORE_PORT", port(s.addrs["petstore"]), "GREETER_PORT", port(s.addrs["greeter"]),
		"LAMBDA_URL", s.lambda.URL, "DEMO_ACCESS_KEY", demoAccessKey, "DEMO_SECRET_KEY", demoSecretKey,
		"DEMO_AZURE_SECRET", demoAzureClientSecret, "AZURE_SUBSCRIPTION", s.azure.Subscription(), "AZURE_GROUP", s.azure.ResourceGroup(),
		"AZURE_TENANT", s.azure.Tenant(), "AZURE_ARM", s.azure.URL(), "AZURE_HOST", s.azure.HostURL()).Replace(demoConfig)
	if err := os.WriteFile(filepath.Join(dir, "demo.yaml"), []byte(config), 0o644); err != nil {
		return fmt.Errorf("demo config: %w", err)
	}
	return nil
}

// waitForGateway polls the gateway until a plain route and a function
// route (whose functions must first be discovered) answer, or the control
// plane fails, or 30 s pass.
func waitForGateway(ctx context.Context, gw string, served <-chan error) error {
	deadline := time.After(30 * time.Second)
	for {
		if answers("http://"+gw+"/health", nil) && answers("http://"+gw+"/petstore/findPet", map[string]string{"x-pet-id": "1"}) &&
			answers("http://"+gw+"/lambda/hello", nil) && answers("http://"+gw+"/azure/greet", nil) && answers("http://"+gw+"/greet", nil) {
			return nil
		}
		select {
		case err := <-served:
			return fmt.Errorf("demo: gluon stopped before it was ready: %w", err)
		case <-deadline:
			return errors.New("demo: the gateway did not answer within 30s")
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func answers(url string, headers map[string]string) bool {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return false
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// printDemo prints where the demo is and the lines to try; more goes
// last, before how to stop.
func printDemo(out io.Writer, gw, admin, config, gluonctlFlags, more string) {
	base := "http://" + gw
	fmt.Fprintf(out, `Gluon demo is running. Config: %s
Admin endpoint: http://%s/statusz
Console: http://%s/console/

Try:
`, config, admin, admin)
	for _, line := range []string{
		"curl -s " + base + "/health",
		"curl -s -H 'x-pet-id: 2' " + base + "/petstore/findPet",
		"curl -s -X POST -H 'x-name: Fido' -H 'x-tag: dog' " + base + "/petstore/add",
		"curl -s " + base + "/lambda/hello/world?lang=en",
		"curl -s -d '{\"ping\": 1}' " + base + "/lambda/echo",
		"curl -s " + base + "/azure/greet?name=gluon",
		"curl -s " + base + "/azure/ping",
		"curl -s -d '{\"name\":\"gluon\"}' " + base + "/greet",
		"curl -s " + base + "/greetings/gluon",
		"curl -s " + base + "/hello/world",
		"curl -s -H 'x-color: green' " + base + "/hello/world",
		"curl -s " + base + "/split",
		"curl -s -i " + base + "/old",
	} {
		fmt.Fprintln(out, "  "+line)
	}
	fmt.Fprintf(out, `
MCP endpoint: %s/mcp
  AI agents connect there (Streamable HTTP): every function above is a tool.
  With Node.js 22: npx @modelcontextprotocol/inspector --cli %s/mcp --transport http --method tools/list
`, base, base)
	fmt.Fprintln(out, "\nAnd look around with gluonctl (go run ./cmd/gluonctl …, or a built gluonctl):")
	for _, cmd := range []string{"get upstreams", "get functions", "get routes", "get tools --url " + base + "/mcp", "check"} {
		fmt.Fprintln(out, "  gluonctl "+cmd+gluonctlFlags)
	}
	fmt.Fprint(out, more)
	fmt.Fprintln(out, "\nPress Ctrl-C to stop.")
}
