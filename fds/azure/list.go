package azure

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/appservice/armappservice/v6"

	"github.com/gluon-gateway/gluon/functions"
)

// binding is the part of a function.json binding discovery reads.
type binding struct {
	Type      string   `json:"type"`
	AuthLevel string   `json:"authLevel"`
	Route     string   `json:"route"`
	Methods   []string `json:"methods"`
}

// listFunctions reads every page. Pages are bounded as items are: a server
// handing out empty pages with fresh nextLinks is stopped too.
func (d *Discoverer) listFunctions(ctx context.Context) ([]functions.Function, error) {
	var out []functions.Function
	listed := 0
	pager := d.client.NewListFunctionsPager(d.cfg.ResourceGroup, d.cfg.AppName, nil)
	for pages := 0; pager.More(); pages++ {
		if pages > d.cfg.MaxFunctions {
			return nil, fmt.Errorf("listing functions of Azure app %s: %w: more than %d pages", d.cfg.AppName, ErrTooManyFunctions, d.cfg.MaxFunctions)
		}
		page, err := pager.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("listing functions of Azure app %s: %w", d.cfg.AppName, err)
		}
		if listed += len(page.Value); listed > d.cfg.MaxFunctions {
			return nil, fmt.Errorf("listing functions of Azure app %s: %w: more than %d", d.cfg.AppName, ErrTooManyFunctions, d.cfg.MaxFunctions)
		}
		for _, env := range page.Value {
			if f, ok := httpFunction(env); ok {
				out = append(out, f)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// httpFunction turns an enabled function with an httpTrigger binding into
// a Function; others (timers, queues, disabled) are not reachable over HTTP.
func httpFunction(env *armappservice.FunctionEnvelope) (functions.Function, bool) {
	if env == nil || env.Name == nil || env.Properties == nil {
		return functions.Function{}, false
	}
	if env.Properties.IsDisabled != nil && *env.Properties.IsDisabled {
		return functions.Function{}, false
	}
	// ARM names a function "<app>/<function>".
	name := *env.Name
	if i := strings.LastIndex(name, "/"); i >= 0 {
		name = name[i+1:]
	}
	// Config is function.json as free-form JSON: re-encode it to read it.
	raw, err := json.Marshal(env.Properties.Config)
	if err != nil || name == "" {
		return functions.Function{}, false
	}
	var cfg struct {
		Bindings []binding `json:"bindings"`
	}
	if json.Unmarshal(raw, &cfg) != nil {
		return functions.Function{}, false
	}
	for _, b := range cfg.Bindings {
		if !strings.EqualFold(b.Type, "httpTrigger") {
			continue
		}
		az := &functions.AzureFunction{FunctionName: name, Route: strings.Trim(b.Route, "/"), AuthLevel: strings.ToLower(b.AuthLevel)}
		if az.Route == "" {
			az.Route = name
		}
		if az.AuthLevel == "" {
			az.AuthLevel = "function" // the Functions host's default
		}
		for _, m := range b.Methods {
			az.Methods = append(az.Methods, strings.ToUpper(m))
		}
		return functions.Function{Name: name, Kind: functions.KindAzure, Azure: az}, true
	}
	return functions.Function{}, false
}

// readKeys reads the host keys, then each function's default key.
func (d *Discoverer) readKeys(ctx context.Context, fns []functions.Function) (*functions.AzureKeys, error) {
	hk, err := d.client.ListHostKeys(ctx, d.cfg.ResourceGroup, d.cfg.AppName, nil)
	if err != nil {
		return nil, fmt.Errorf("listing host keys of Azure app %s: %w", d.cfg.AppName, err)
	}
	keys := &functions.AzureKeys{Function: make(map[string]string, len(fns)), Master: deref(hk.MasterKey)}
	if k, ok := hk.FunctionKeys["default"]; ok {
		keys.Host = deref(k)
	}
	for _, f := range fns {
		fk, err := d.client.ListFunctionKeys(ctx, d.cfg.ResourceGroup, d.cfg.AppName, f.Azure.FunctionName, nil)
		if err != nil {
			return nil, fmt.Errorf("listing keys of Azure function %s/%s: %w", d.cfg.AppName, f.Name, err)
		}
		if k := deref(fk.Properties["default"]); k != "" {
			keys.Function[f.Name] = k
		}
	}
	return keys, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
