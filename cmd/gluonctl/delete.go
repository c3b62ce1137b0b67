package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"

	"github.com/spf13/cobra"

	"github.com/gluon-gateway/gluon/api"
)

// kinds maps the names commands take to resource kinds.
var kinds = map[string]api.Kind{
	"upstream": api.KindUpstream, "upstreams": api.KindUpstream, "us": api.KindUpstream,
	"virtualservice": api.KindVirtualService, "virtualservices": api.KindVirtualService, "vs": api.KindVirtualService,
	"gateway": api.KindGateway, "gateways": api.KindGateway,
	"secret": api.KindSecret, "secrets": api.KindSecret,
	"routeoption": api.KindRouteOption, "routeoptions": api.KindRouteOption,
}

func kindArg(arg string) (api.Kind, error) {
	k, ok := kinds[arg]
	if !ok {
		return "", fmt.Errorf("%q is not one of upstream, virtualservice, gateway, secret, routeoption", arg)
	}
	return k, nil
}

// located resolves "KIND NAME" arguments to the store and a key.
func (o *options) located(args []string) (store, api.Key, error) {
	kind, err := kindArg(args[0])
	if err != nil {
		return nil, api.Key{}, err
	}
	s, err := o.store()
	if err != nil {
		return nil, api.Key{}, err
	}
	return s, api.Key{Kind: kind, Namespace: o.namespace, Name: args[1]}, nil
}

func deleteCommand(o *options) *cobra.Command {
	return &cobra.Command{
		Use:   "delete KIND NAME",
		Short: "Delete an upstream, virtual service or gateway",
		Args:  cobra.ExactArgs(2),
		RunE: func(_ *cobra.Command, args []string) error {
			s, key, err := o.located(args)
			if err != nil {
				return err
			}
			file, err := s.delete(key)
			if err != nil {
				return err
			}
			fmt.Fprintf(o.out, "%s deleted from %s\n", key, file)
			return nil
		},
	}
}

// editCommand opens $EDITOR on a resource and writes it back if it is
// still valid.
func editCommand(o *options) *cobra.Command {
	return &cobra.Command{
		Use:   "edit KIND NAME",
		Short: "Edit a resource in $EDITOR",
		Args:  cobra.ExactArgs(2),
		RunE: func(_ *cobra.Command, args []string) error {
			s, key, err := o.located(args)
			if err != nil {
				return err
			}
			obj, ok, err := s.get(key)
			if err != nil {
				return err
			}
			if !ok {
				return fmt.Errorf("%s not found", key)
			}
			edited, err := editInEditor(obj)
			if err != nil {
				return err
			}
			d := api.Decode(edited)
			if d.Err != nil {
				return fmt.Errorf("not saved: %w", d.Err)
			}
			if api.KeyOf(d.Object) != key {
				return fmt.Errorf("not saved: the edit renamed %s to %s", key, api.KeyOf(d.Object))
			}
			return o.write(d.Object)
		},
	}
}

func editInEditor(obj api.Object) ([]byte, error) {
	raw, err := marshal(obj)
	if err != nil {
		return nil, err
	}
	f, err := os.CreateTemp("", "gluonctl-edit-*.yaml")
	if err != nil {
		return nil, err
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(raw); err != nil {
		f.Close()
		return nil, err
	}
	f.Close()
	editor := os.Getenv("EDITOR")
	if editor == "" {
		editor = "vi"
	}
	cmd := exec.Command("sh", "-c", editor+` "$1"`, "sh", f.Name())
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("editor %s: %w", editor, err)
	}
	edited, err := os.ReadFile(f.Name())
	if err != nil {
		return nil, err
	}
	if bytes.Equal(edited, raw) {
		return nil, fmt.Errorf("no change")
	}
	return edited, nil
}
