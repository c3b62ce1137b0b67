package standin

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// armError writes ARM's error shape, which azcore.ResponseError parses
// into its ErrorCode.
func armError(w http.ResponseWriter, status int, code, message string) {
	writeJSON(w, status, map[string]any{"error": map[string]string{"code": code, "message": message}})
}

// serveARM serves, under /subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Web/sites/{app}:
//
//	GET  /functions                      (paginated with nextLink)
//	POST /host/default/listkeys
//	POST /functions/{fn}/listkeys
//
// after checking the bearer token, as ARM does, before anything else.
func (s *Server) serveARM(w http.ResponseWriter, r *http.Request) {
	if !s.checkToken(r, ARMAudience) {
		w.Header().Set("WWW-Authenticate", `Bearer authorization_uri="`+s.tls.URL+"/"+s.tenant+`", error="invalid_token", error_description="The access token is invalid."`)
		armError(w, http.StatusUnauthorized, "InvalidAuthenticationToken", "The access token is invalid.")
		return
	}
	if r.URL.Query().Get("api-version") == "" {
		armError(w, http.StatusBadRequest, "MissingApiVersionParameter", "The api-version query parameter (?api-version=) is required for all requests.")
		return
	}
	seg := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	// subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Web/sites/{app}/...
	if len(seg) < 9 || !strings.EqualFold(seg[2], "resourceGroups") || !strings.EqualFold(seg[4], "providers") ||
		!strings.EqualFold(seg[5], "Microsoft.Web") || !strings.EqualFold(seg[6], "sites") {
		armError(w, http.StatusNotFound, "NotFound", "No route for "+r.Method+" "+r.URL.Path)
		return
	}
	s.mu.Lock()
	forbidARM, forbidKeys := s.forbidARM, s.forbidKeys
	a := s.apps[strings.ToLower(seg[7])]
	s.mu.Unlock()
	op := strings.ToLower(strings.Join(seg[8:], "/"))
	isKeys := strings.HasSuffix(op, "/listkeys")
	if forbidARM || (forbidKeys && isKeys) {
		armError(w, http.StatusForbidden, "AuthorizationFailed", fmt.Sprintf(
			"The client does not have authorization to perform action over scope '%s' or the scope is invalid.", r.URL.Path))
		return
	}
	switch {
	case !strings.EqualFold(seg[1], s.subscription):
		armError(w, http.StatusNotFound, "SubscriptionNotFound", "The subscription '"+seg[1]+"' could not be found.")
	case !strings.EqualFold(seg[3], s.resourceGroup):
		armError(w, http.StatusNotFound, "ResourceGroupNotFound", "Resource group '"+seg[3]+"' could not be found.")
	case a == nil:
		armError(w, http.StatusNotFound, "ResourceNotFound", "The Resource 'Microsoft.Web/sites/"+seg[7]+"' under resource group '"+seg[3]+"' was not found.")
	case op == "functions" && r.Method == http.MethodGet:
		s.listFunctions(w, r, a)
	case op == "host/default/listkeys" && r.Method == http.MethodPost:
		s.mu.Lock()
		k := a.keys
		s.mu.Unlock()
		writeJSON(w, http.StatusOK, map[string]any{
			"masterKey": k.Master, "functionKeys": map[string]string{"default": k.Host}, "systemKeys": map[string]string{}})
	case len(seg) == 11 && strings.EqualFold(seg[8], "functions") && strings.EqualFold(seg[10], "listkeys") && r.Method == http.MethodPost:
		s.listFunctionKeys(w, a, seg[9])
	default:
		armError(w, http.StatusNotFound, "NotFound", "No route for "+r.Method+" "+r.URL.Path)
	}
}

// listFunctions pages with $skiptoken in a nextLink, as App Service does.
func (s *Server) listFunctions(w http.ResponseWriter, r *http.Request, a *app) {
	start := 0
	if tok := r.URL.Query().Get("$skiptoken"); tok != "" {
		n, err := strconv.Atoi(tok)
		if err != nil || n < 0 || n > len(a.Functions) {
			armError(w, http.StatusBadRequest, "InvalidSkipToken", "The $skiptoken is not valid.")
			return
		}
		start = n
	}
	end := min(start+s.pageSize, len(a.Functions))
	base := fmt.Sprintf("/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Web/sites/%s", s.subscription, s.resourceGroup, a.Name)
	items := []any{}
	for _, f := range a.Functions[start:end] {
		items = append(items, envelope(base, a.Name, f))
	}
	page := map[string]any{"value": items}
	if end < len(a.Functions) {
		page["nextLink"] = fmt.Sprintf("%s%s/functions?api-version=%s&$skiptoken=%d", s.tls.URL, base, r.URL.Query().Get("api-version"), end)
	}
	writeJSON(w, http.StatusOK, page)
}

// envelope is a FunctionEnvelope with function.json's bindings as its config.
func envelope(base, appName string, f Function) map[string]any {
	trigger := map[string]any{"type": f.Trigger, "direction": "in", "name": "req"}
	if f.Trigger == "httpTrigger" {
		trigger["authLevel"] = f.AuthLevel
		trigger["route"] = f.Route
		if len(f.Methods) > 0 {
			trigger["methods"] = slices.Clone(f.Methods)
		}
	}
	return map[string]any{
		"id": base + "/functions/" + f.Name, "name": appName + "/" + f.Name, "type": "Microsoft.Web/sites/functions",
		"properties": map[string]any{
			"name":                f.Name,
			"function_app_id":     base,
			"invoke_url_template": "https://" + strings.ToLower(appName) + ".azurewebsites.net/api/" + f.Route,
			"language":            "custom",
			"isDisabled":          f.Disabled,
			"config": map[string]any{"bindings": []any{trigger,
				map[string]any{"type": "http", "direction": "out", "name": "$return"}}},
		},
	}
}

// listFunctionKeys answers ListFunctionKeys' StringDictionary.
func (s *Server) listFunctionKeys(w http.ResponseWriter, a *app, fn string) {
	s.mu.Lock()
	key, ok := "", false
	for name, k := range a.keys.Function {
		if strings.EqualFold(name, fn) {
			key, ok = k, true
		}
	}
	s.mu.Unlock()
	if !ok {
		armError(w, http.StatusNotFound, "NotFound", "Function '"+fn+"' not found.")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"properties": map[string]string{"default": key}})
}
