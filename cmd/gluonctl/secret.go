package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/gluon-gateway/gluon/api"
)

func createSecretCommand(o *options) *cobra.Command {
	cmd := &cobra.Command{Use: "secret", Short: "Create a secret (values are read from files or prompts, never echoed)"}
	var accessKey, secretKeyFile, tokenFile string
	aws := &cobra.Command{
		Use:   "aws NAME",
		Short: "Create an AWS access key secret",
		Args:  cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			if err := o.prompt("access key", &accessKey); err != nil {
				return err
			}
			secretKey, err := o.secretValue("secret key", secretKeyFile, true)
			if err != nil {
				return err
			}
			token, err := o.secretValue("session token (empty for none)", tokenFile, false)
			if err != nil {
				return err
			}
			s := &api.Secret{Spec: api.SecretSpec{AWS: &api.AWSSecret{AccessKey: accessKey, SecretKey: secretKey, SessionToken: token}}}
			s.Name, s.Namespace = args[0], o.namespace
			return o.write(s)
		},
	}
	aws.Flags().StringVar(&accessKey, "access-key", "", "the access key id")
	aws.Flags().StringVar(&secretKeyFile, "secret-key-file", "", "a file holding the secret access key (default: prompt without echo)")
	aws.Flags().StringVar(&tokenFile, "session-token-file", "", "a file holding a session token")
	cmd.AddCommand(aws, createAzureSecretCommand(o), createTLSSecretCommand(o), createHeaderSecretCommand(o))
	return cmd
}

func createAzureSecretCommand(o *options) *cobra.Command {
	var clientSecretFile, hostKeyFile, masterKeyFile string
	var apiKeyFiles []string
	cmd := &cobra.Command{
		Use:   "azure NAME",
		Short: "Create an Azure secret: a service principal's client secret and/or an app's keys, read from files",
		Args:  cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			az := &api.AzureSecret{}
			var err error
			for _, v := range []struct {
				dst  *string
				file string
			}{{&az.ClientSecret, clientSecretFile}, {&az.HostKey, hostKeyFile}, {&az.MasterKey, masterKeyFile}} {
				if *v.dst, err = o.secretValue("value", v.file, false); err != nil {
					return err
				}
			}
			for _, kv := range apiKeyFiles {
				fn, file, ok := strings.Cut(kv, "=")
				if !ok {
					return fmt.Errorf("--api-key-file: %q: want function=file", kv)
				}
				key, err := o.secretValue("key of "+fn, file, true)
				if err != nil {
					return err
				}
				if az.APIKeys == nil {
					az.APIKeys = map[string]string{}
				}
				az.APIKeys[fn] = key
			}
			s := &api.Secret{Spec: api.SecretSpec{Azure: az}}
			s.Name, s.Namespace = args[0], o.namespace
			return o.write(s)
		},
	}
	f := cmd.Flags()
	f.StringVar(&clientSecretFile, "client-secret-file", "", "a file holding a service principal's client secret")
	f.StringVar(&hostKeyFile, "host-key-file", "", "a file holding the app's host key")
	f.StringVar(&masterKeyFile, "master-key-file", "", "a file holding the app's master key")
	f.StringSliceVar(&apiKeyFiles, "api-key-file", nil, "function=file: a file holding a function's key (repeatable)")
	return cmd
}

// secretValue reads a secret from a file, or from the terminal without
// echo (from standard input when it is not a terminal); it never prints it.
func (o *options) secretValue(label, file string, required bool) (string, error) {
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("%s: %w", label, err)
		}
		return strings.TrimSpace(string(b)), nil
	}
	if !o.interactive && required {
		return "", fmt.Errorf("%s: give a file (see --help) or use -i to be prompted", label)
	}
	if !o.interactive {
		return "", nil
	}
	fmt.Fprintf(o.errOut, "%s: ", label)
	defer fmt.Fprintln(o.errOut)
	if f, ok := o.in.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		b, err := term.ReadPassword(int(f.Fd()))
		return strings.TrimSpace(string(b)), err
	}
	if o.prompts == nil {
		o.prompts = newPrompts(o.in)
	}
	line, err := o.prompts.ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("%s: %w", label, err)
	}
	value := strings.TrimSpace(line)
	if value == "" && required {
		return "", fmt.Errorf("%s is required", label)
	}
	return value, nil
}
