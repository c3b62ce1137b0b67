package gateway

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/gluon-gateway/gluon/api"
	"github.com/gluon-gateway/gluon/functions"
	"github.com/gluon-gateway/gluon/transform/spec"
)

// restRequest builds the request template that calls a REST function: the
// function's method and path, with the parameters the route supplies
// (through patterns over its headers and path) placed in the path, the
// query, headers, or a JSON body.
func (t *translation) restRequest(ref api.ResourceRef, d *api.RestDestinationSpec) (*spec.Template, []string, error) {
	fn, err := t.findFunction(ref, d.FunctionName)
	if err != nil {
		return nil, nil, err
	}
	extractors := parameterExtractors(d.Parameters)
	tpl := &spec.Template{
		Extractors: extractors,
		Headers:    map[string]string{":method": fn.REST.Method},
	}
	var warnings []string
	path, query := fn.REST.Path, []string{}
	bodyParams := 0
	for _, p := range fn.REST.Parameters {
		x, supplied := extractors[p.Name]
		if !supplied {
			if p.Required && p.In != functions.InBody {
				warnings = append(warnings, fmt.Sprintf("function %s: required %s parameter %q is not supplied by the route's parameters", fn.Name, p.In, p.Name))
			}
			continue
		}
		lookup := `{{ extraction("` + p.Name + `") }}`
		switch p.In {
		case functions.InPath:
			path = strings.ReplaceAll(path, "{"+p.Name+"}", lookup)
		case functions.InQuery:
			query = append(query, p.Name+"="+lookup)
		case functions.InHeader:
			tpl.Headers[strings.ToLower(p.Name)] = lookup
		case functions.InBody:
			x.JSONType = p.Type
			bodyParams++
		}
		x.NoMerge = p.In != functions.InBody
		extractors[p.Name] = x
	}
	for name, x := range extractors {
		if _, ok := fn.REST.Parameter(name); !ok {
			warnings = append(warnings, fmt.Sprintf("function %s has no parameter %q", fn.Name, name))
			x.NoMerge = true
			extractors[name] = x
		}
	}
	// Path parameters the route does not supply stay empty, as in Gloo.
	path = unsuppliedParam.ReplaceAllString(path, "")
	if len(query) > 0 {
		path += "?" + strings.Join(query, "&")
	}
	tpl.Headers[":path"] = path
	if bodyParams > 0 {
		tpl.MergeExtractorsToBody = true
		tpl.Headers["content-type"] = "application/json"
	}
	sort.Strings(warnings)
	return tpl, warnings, nil
}

var unsuppliedParam = regexp.MustCompile(`\{[^{}"]*\}`)

// discovered finds function name among those discovered on upstream ref;
// one that is not of the kind asked for (of nil: any) is not found. label
// ("Lambda ", "Azure " or "") names the kind in the messages.
func (t *translation) discovered(ref api.ResourceRef, name, label string, of func(*functions.Function) bool) (*functions.Function, error) {
	d, ok := t.functions[functions.UpstreamRef{Namespace: ref.Namespace, Name: ref.Name}]
	switch {
	case !ok:
		return nil, api.Errorf(api.FunctionNotFound, "", "function %q: no %sfunctions have been discovered on upstream %s (yet)", name, label, ref)
	case len(d.Functions) == 0 && d.Error != "":
		return nil, api.Errorf(api.DiscoveryFailed, "", "function %q: discovery failed on upstream %s: %s", name, ref, d.Error)
	}
	fn, ok := d.Find(name)
	if !ok || of != nil && !of(fn) {
		return nil, api.Errorf(api.FunctionNotFound, "", "%sfunction %q not found on upstream %s (it has: %s)", label, name, ref, strings.Join(d.Names(), ", "))
	}
	return fn, nil
}

func (t *translation) findFunction(ref api.ResourceRef, name string) (*functions.Function, error) {
	fn, err := t.discovered(ref, name, "", nil)
	if err != nil {
		return nil, err
	}
	if fn.REST == nil {
		return nil, api.Errorf(api.InvalidDestination, "", "function %q on upstream %s is a %s function, not REST", name, ref, fn.Kind)
	}
	return fn, nil
}

// parameterExtractors makes one extractor per {name} in the route's
// parameter patterns: "Bearer {token}" over a header, "/pets/{id}" over
// the path. The first pattern naming a parameter wins (path first, then
// headers by name).
func parameterExtractors(p *api.Parameters) map[string]spec.Extractor {
	out := map[string]spec.Extractor{}
	if p == nil {
		return out
	}
	add := func(header, pattern string) {
		re, names := patternRegex(pattern, header == ":path")
		for i, n := range names {
			if _, taken := out[n]; !taken {
				out[n] = spec.Extractor{Header: header, Regex: re, Subgroup: i + 1}
			}
		}
	}
	if p.Path != "" {
		add(":path", p.Path)
	}
	headers := make([]string, 0, len(p.Headers))
	for h := range p.Headers {
		headers = append(headers, h)
	}
	sort.Strings(headers)
	for _, h := range headers {
		add(strings.ToLower(h), p.Headers[h])
	}
	return out
}

// patternRegex turns a pattern into an anchored regex with one group per
// parameter; over a path, parameters stop at / and a query may follow.
func patternRegex(pattern string, isPath bool) (string, []string) {
	group := `(.*)`
	if isPath {
		group = `([^/?]*)`
	}
	var re strings.Builder
	var names []string
	re.WriteString("^")
	last := 0
	for _, m := range patternVar.FindAllStringSubmatchIndex(pattern, -1) {
		re.WriteString(regexp.QuoteMeta(pattern[last:m[0]]))
		re.WriteString(group)
		names = append(names, pattern[m[2]:m[3]])
		last = m[1]
	}
	re.WriteString(regexp.QuoteMeta(pattern[last:]))
	if isPath {
		re.WriteString(`(?:\?.*)?`)
	}
	re.WriteString("$")
	return re.String(), names
}

var patternVar = regexp.MustCompile(`\{([^{}]*)\}`)
