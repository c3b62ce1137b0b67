package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/webhook"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/gluon-gateway/gluon/api"
	"github.com/gluon-gateway/gluon/controlplane"
)

// webhookOptions say where the admission webhook listens and how the API
// server reaches it: by URL (Gluon outside the cluster) or through a
// Service (inside).
type webhookOptions struct {
	addr          string
	url           string
	service       string // namespace/name, port 443
	configName    string
	failurePolicy string
}

const webhookPath = "/validate"

// setupWebhook makes (or reads) the shared certificate, registers the
// ValidatingWebhookConfiguration, and returns the webhook server to run.
func setupWebhook(ctx context.Context, mgr manager.Manager, o kubeOptions, p *controlplane.Pipeline, log *slog.Logger) (manager.Runnable, error) {
	w := o.webhook
	host, portStr, err := net.SplitHostPort(w.addr)
	if err != nil {
		return nil, fmt.Errorf("--webhook-addr: %w", err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil {
		return nil, fmt.Errorf("--webhook-addr port: %w", err)
	}
	clientConfig, certHosts, err := webhookClientConfig(w)
	if err != nil {
		return nil, err
	}
	direct, err := client.New(mgr.GetConfig(), client.Options{Scheme: mgr.GetScheme()})
	if err != nil {
		return nil, fmt.Errorf("kubernetes client: %w", err)
	}
	cert, err := sharedWebhookCert(ctx, direct, o.namespace, w.configName+"-webhook-cert", certHosts)
	if err != nil {
		return nil, err
	}
	certDir, err := writeCertDir(ctx, cert)
	if err != nil {
		return nil, err
	}
	clientConfig.CABundle = cert.certPEM
	if err := applyWebhookConfig(ctx, direct, w, clientConfig); err != nil {
		return nil, err
	}
	srv := webhook.NewServer(webhook.Options{Host: host, Port: port, CertDir: certDir})
	srv.Register(webhookPath, &admission.Webhook{Handler: admitter{p: p}})
	log.Info("admission webhook", "addr", w.addr, "configuration", w.configName)
	return srv, nil
}

func webhookClientConfig(w webhookOptions) (admissionregistrationv1.WebhookClientConfig, []string, error) {
	switch {
	case w.url != "":
		u, err := url.Parse(w.url)
		if err != nil || u.Scheme != "https" {
			return admissionregistrationv1.WebhookClientConfig{}, nil, fmt.Errorf("--webhook-url %q: want an https URL", w.url)
		}
		full := strings.TrimSuffix(w.url, "/") + webhookPath
		return admissionregistrationv1.WebhookClientConfig{URL: &full}, []string{u.Hostname()}, nil
	case w.service != "":
		ns, name, ok := strings.Cut(w.service, "/")
		if !ok {
			return admissionregistrationv1.WebhookClientConfig{}, nil, fmt.Errorf("--webhook-service %q: want namespace/name", w.service)
		}
		path := webhookPath
		return admissionregistrationv1.WebhookClientConfig{Service: &admissionregistrationv1.ServiceReference{Namespace: ns, Name: name, Path: &path}},
			[]string{name + "." + ns + ".svc", name + "." + ns + ".svc.cluster.local"}, nil
	}
	return admissionregistrationv1.WebhookClientConfig{}, nil, fmt.Errorf("--webhook-addr needs --webhook-url or --webhook-service")
}

// writeCertDir puts the certificate where the webhook server reads it,
// and removes it when ctx ends.
func writeCertDir(ctx context.Context, cert webhookCert) (string, error) {
	dir, err := os.MkdirTemp("", "gluon-webhook-")
	if err != nil {
		return "", fmt.Errorf("webhook cert dir: %w", err)
	}
	go func() { <-ctx.Done(); os.RemoveAll(dir) }()
	for name, data := range map[string][]byte{corev1.TLSCertKey: cert.certPEM, corev1.TLSPrivateKeyKey: cert.keyPEM} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			return "", fmt.Errorf("writing webhook cert: %w", err)
		}
	}
	return dir, nil
}

// applyWebhookConfig creates or updates the configuration that sends
// creates and updates of Gluon's resources to the webhook.
func applyWebhookConfig(ctx context.Context, c client.Client, w webhookOptions, cc admissionregistrationv1.WebhookClientConfig) error {
	policy := admissionregistrationv1.FailurePolicyType(w.failurePolicy)
	if policy != admissionregistrationv1.Fail && policy != admissionregistrationv1.Ignore {
		return fmt.Errorf("--webhook-failure-policy: want Fail or Ignore, got %q", w.failurePolicy)
	}
	none := admissionregistrationv1.SideEffectClassNone
	timeout := int32(10)
	want := admissionregistrationv1.ValidatingWebhookConfiguration{Webhooks: []admissionregistrationv1.ValidatingWebhook{{
		Name:                    "validate.gluon.dev",
		ClientConfig:            cc,
		FailurePolicy:           &policy,
		SideEffects:             &none,
		TimeoutSeconds:          &timeout,
		AdmissionReviewVersions: []string{"v1"},
		Rules: []admissionregistrationv1.RuleWithOperations{{
			Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create, admissionregistrationv1.Update},
			Rule: admissionregistrationv1.Rule{APIGroups: []string{api.Group}, APIVersions: []string{api.Version},
				Resources: []string{"upstreams", "virtualservices", "gateways", "settings", "routeoptions"}},
		}},
	}}}
	want.Name = w.configName
	var cur admissionregistrationv1.ValidatingWebhookConfiguration
	err := c.Get(ctx, client.ObjectKey{Name: w.configName}, &cur)
	if apierrors.IsNotFound(err) {
		if err := c.Create(ctx, &want); err != nil {
			return fmt.Errorf("creating webhook configuration: %w", err)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading webhook configuration: %w", err)
	}
	cur.Webhooks = want.Webhooks
	if err := c.Update(ctx, &cur); err != nil {
		return fmt.Errorf("updating webhook configuration: %w", err)
	}
	return nil
}
