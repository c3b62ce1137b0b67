package main

import (
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gluon-gateway/gluon/api"
)

func createCommand(o *options) *cobra.Command {
	cmd := &cobra.Command{Use: "create", Short: "Create a resource"}
	cmd.AddCommand(createUpstreamCommand(o), createVirtualServiceCommand(o), createSecretCommand(o), createCertsCommand(o))
	return cmd
}

func createUpstreamCommand(o *options) *cobra.Command {
	cmd := &cobra.Command{Use: "upstream", Short: "Create an upstream"}
	var hosts, swaggerURL string
	var useTLS bool
	var ssl sslFlags
	static := &cobra.Command{
		Use:   "static NAME",
		Short: "Create a static upstream from host:port addresses",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			name := first(args)
			if err := o.prompt("name", &name); err != nil {
				return err
			}
			if err := o.prompt("hosts (host:port, comma separated)", &hosts); err != nil {
				return err
			}
			u, err := staticUpstream(name, o.namespace, hosts, useTLS, swaggerURL)
			if err != nil {
				return err
			}
			ssl.apply(u)
			return o.write(u)
		},
	}
	static.Flags().StringVar(&hosts, "static-hosts", "", "host:port addresses, comma separated")
	static.Flags().BoolVar(&useTLS, "use-tls", false, "connect to the hosts with TLS")
	static.Flags().StringVar(&swaggerURL, "swagger-url", "", "where the upstream's OpenAPI document is (default: probe the hosts)")
	ssl.add(static)
	cmd.AddCommand(static, createAWSUpstreamCommand(o), createAzureUpstreamCommand(o), createKubeUpstreamCommand(o))
	return cmd
}

// createKubeUpstreamCommand makes an upstream of one port of a Kubernetes
// Service, as upstream discovery would, under a name of the user's.
func createKubeUpstreamCommand(o *options) *cobra.Command {
	var k api.KubeUpstream
	var port uint32
	var swaggerURL string
	var ssl sslFlags
	cmd := &cobra.Command{
		Use:   "kube NAME",
		Short: "Create an upstream of a Kubernetes Service port (its endpoints come from EndpointSlices)",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			name := first(args)
			for _, p := range []struct {
				label string
				value *string
			}{{"name", &name}, {"service name", &k.ServiceName}} {
				if err := o.prompt(p.label, p.value); err != nil {
					return err
				}
			}
			u := &api.Upstream{Spec: api.UpstreamSpec{Kube: &k}}
			u.Name, u.Namespace = name, o.namespace
			if k.ServiceNamespace == "" {
				k.ServiceNamespace = o.namespace
			}
			k.ServicePort = port
			if swaggerURL != "" {
				k.ServiceSpec = &api.ServiceSpec{Rest: &api.RestServiceSpec{SwaggerInfo: &api.SwaggerInfo{URL: swaggerURL}}}
			}
			ssl.apply(u)
			return o.write(u)
		},
	}
	f := cmd.Flags()
	f.StringVar(&k.ServiceName, "kube-service", "", "the Service")
	f.StringVar(&k.ServiceNamespace, "kube-service-namespace", "", "its namespace (default: the upstream's)")
	f.Uint32Var(&port, "kube-service-port", 80, "the Service port")
	f.StringVar(&swaggerURL, "swagger-url", "", "where the service's OpenAPI document is (default: probe its endpoints)")
	ssl.add(cmd)
	return cmd
}

func staticUpstream(name, ns, hosts string, useTLS bool, swaggerURL string) (*api.Upstream, error) {
	u := &api.Upstream{Spec: api.UpstreamSpec{Static: &api.StaticUpstream{}}}
	u.Name, u.Namespace = name, ns
	for _, h := range strings.Split(hosts, ",") {
		h = strings.TrimSpace(h)
		if h == "" {
			continue
		}
		host, port, err := net.SplitHostPort(h)
		if err != nil {
			return nil, fmt.Errorf("--static-hosts: %q: want host:port", h)
		}
		p, err := strconv.ParseUint(port, 10, 32)
		if err != nil {
			return nil, fmt.Errorf("--static-hosts: %q: bad port", h)
		}
		u.Spec.Static.Hosts = append(u.Spec.Static.Hosts, api.Host{Addr: host, Port: uint32(p)})
	}
	if useTLS {
		u.Spec.Static.UseTLS = &useTLS
	}
	if swaggerURL != "" {
		u.Spec.Static.ServiceSpec = &api.ServiceSpec{Rest: &api.RestServiceSpec{SwaggerInfo: &api.SwaggerInfo{URL: swaggerURL}}}
	}
	return u, nil
}

func createVirtualServiceCommand(o *options) *cobra.Command {
	var domains []string
	var display string
	cmd := &cobra.Command{
		Use:     "virtualservice NAME",
		Aliases: []string{"vs"},
		Short:   "Create a virtual service (routes are added with add route)",
		Args:    cobra.MaximumNArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			name := first(args)
			if err := o.prompt("name", &name); err != nil {
				return err
			}
			return o.write(newVirtualService(name, o.namespace, display, domains))
		},
	}
	cmd.Flags().StringSliceVar(&domains, "domains", []string{"*"}, "domains the virtual service serves")
	cmd.Flags().StringVar(&display, "display-name", "", "a name to show")
	return cmd
}

func newVirtualService(name, ns, display string, domains []string) *api.VirtualService {
	vs := &api.VirtualService{Spec: api.VirtualServiceSpec{DisplayName: display, VirtualHost: api.VirtualHost{Domains: domains}}}
	vs.Name, vs.Namespace = name, ns
	return vs
}

func first(args []string) string {
	if len(args) == 0 {
		return ""
	}
	return args[0]
}

func createAWSUpstreamCommand(o *options) *cobra.Command {
	var region, secretName, secretNamespace, endpoint string
	cmd := &cobra.Command{
		Use:   "aws NAME",
		Short: "Create an AWS upstream: a region whose Lambda functions are discovered",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			name := first(args)
			for label, v := range map[string]*string{"name": &name, "region": &region} {
				if err := o.prompt(label, v); err != nil {
					return err
				}
			}
			u := &api.Upstream{Spec: api.UpstreamSpec{AWS: &api.AWSUpstream{Region: region, Endpoint: endpoint}}}
			u.Name, u.Namespace = name, o.namespace
			if secretName != "" {
				u.Spec.AWS.SecretRef = &api.ResourceRef{Name: secretName, Namespace: secretNamespace}
			}
			return o.write(u)
		},
	}
	cmd.Flags().StringVar(&region, "aws-region", "", "the AWS region")
	cmd.Flags().StringVar(&secretName, "aws-secret-name", "", "the secret with the access key (default: the environment's credentials)")
	cmd.Flags().StringVar(&secretNamespace, "aws-secret-namespace", "", "the secret's namespace (default: the upstream's)")
	cmd.Flags().StringVar(&endpoint, "aws-endpoint", "", "a Lambda-compatible endpoint instead of AWS's")
	return cmd
}

func createAzureUpstreamCommand(o *options) *cobra.Command {
	var a api.AzureUpstream
	var secretName, tenant, client, spSecret string
	cmd := &cobra.Command{
		Use:   "azure NAME",
		Short: "Create an Azure upstream: a Function App whose functions are discovered through ARM",
		Args:  cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			u := &api.Upstream{Spec: api.UpstreamSpec{Azure: &a}}
			u.Name, u.Namespace = args[0], o.namespace
			if secretName != "" {
				a.SecretRef = &api.ResourceRef{Name: secretName}
			}
			if spSecret != "" {
				a.ClientSecret = &api.AzureClientSecret{TenantID: tenant, ClientID: client, SecretRef: api.ResourceRef{Name: spSecret}}
			}
			return o.write(u)
		},
	}
	f := cmd.Flags()
	f.StringVar(&a.FunctionAppName, "azure-app-name", "", "the Function App")
	f.StringVar(&a.SubscriptionID, "azure-subscription", "", "its subscription id")
	f.StringVar(&a.ResourceGroup, "azure-resource-group", "", "its resource group")
	f.StringVar(&secretName, "azure-secret-name", "", "a secret with the app's keys (default: the keys discovery reads)")
	f.StringVar(&tenant, "azure-tenant", "", "the service principal's tenant")
	f.StringVar(&client, "azure-client-id", "", "the service principal's client id")
	f.StringVar(&spSecret, "azure-client-secret-name", "", "a secret with the service principal's clientSecret")
	f.BoolVar(&a.AppAuthentication, "azure-app-authentication", false, "send Entra ID tokens (App Service authentication)")
	return cmd
}

// sslFlags are glooctl's TLS options of an upstream: SNI, and a tls secret
// whose certificate is presented to the upstream.
type sslFlags struct{ sni, secretName, secretNamespace string }

func (s *sslFlags) add(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&s.sni, "ssl-sni", "", "TLS to the upstream, with this SNI")
	f.StringVar(&s.secretName, "ssl-secret-name", "", "TLS to the upstream, presenting the certificate of this tls secret")
	f.StringVar(&s.secretNamespace, "ssl-secret-namespace", "", "the secret's namespace (default: the upstream's)")
}

func (s *sslFlags) apply(u *api.Upstream) {
	if s.sni == "" && s.secretName == "" {
		return
	}
	u.Spec.SSLConfig = &api.UpstreamSSLConfig{Sni: s.sni}
	if s.secretName != "" {
		u.Spec.SSLConfig.SecretRef = &api.ResourceRef{Name: s.secretName, Namespace: s.secretNamespace}
	}
}
