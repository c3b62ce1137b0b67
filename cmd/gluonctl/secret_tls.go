package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gluon-gateway/gluon/api"
)

// createTLSSecretCommand stores a certificate and key that an upstream's
// sslConfig.secretRef presents (mTLS), like glooctl create secret tls.
func createTLSSecretCommand(o *options) *cobra.Command {
	var certFile, keyFile, caFile string
	cmd := &cobra.Command{
		Use:   "tls NAME",
		Short: "Create a TLS secret from PEM files: a certificate chain, its private key and optionally root CAs",
		Args:  cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			t := &api.TLSSecret{}
			var err error
			if t.CertChain, err = o.secretValue("certificate chain (PEM)", certFile, true); err != nil {
				return err
			}
			if t.PrivateKey, err = o.secretValue("private key (PEM)", keyFile, true); err != nil {
				return err
			}
			if caFile != "" {
				if t.RootCA, err = o.secretValue("root CAs (PEM)", caFile, true); err != nil {
					return err
				}
			}
			s := &api.Secret{Spec: api.SecretSpec{TLS: t}}
			s.Name, s.Namespace = args[0], o.namespace
			return o.write(s)
		},
	}
	f := cmd.Flags()
	f.StringVar(&certFile, "certchain", "", "a PEM file with the certificate chain")
	f.StringVar(&keyFile, "privatekey", "", "a PEM file with its private key")
	f.StringVar(&caFile, "rootca", "", "a PEM file with the CAs that verify the upstream")
	return cmd
}

// createHeaderSecretCommand stores headers that routes add to requests
// through headerSecretRef (API keys, basic credentials).
func createHeaderSecretCommand(o *options) *cobra.Command {
	var valueFiles []string
	cmd := &cobra.Command{
		Use:   "header NAME",
		Short: "Create a header secret: headers whose values are read from files (or prompts with -i)",
		Args:  cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			h := &api.HeaderSecret{Headers: map[string]string{}}
			for _, kv := range valueFiles {
				name, file, ok := strings.Cut(kv, "=")
				if !ok || name == "" {
					return fmt.Errorf("--header-file: %q: want header=file", kv)
				}
				value, err := o.secretValue("value of "+name, file, true)
				if err != nil {
					return err
				}
				h.Headers[strings.ToLower(name)] = value
			}
			s := &api.Secret{Spec: api.SecretSpec{Header: h}}
			s.Name, s.Namespace = args[0], o.namespace
			return o.write(s)
		},
	}
	cmd.Flags().StringSliceVar(&valueFiles, "header-file", nil, "header=file: a header and a file holding its value (repeatable; an empty file name prompts with -i)")
	return cmd
}
