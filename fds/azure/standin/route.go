package standin

import "strings"

// matchRoute matches a request path (after /api/) against an HTTP
// trigger's route template: literal segments match case-insensitively,
// {name} one segment, {name?} one segment or none (last only), {*name} the
// rest; a ":constraint" in a parameter is ignored. It returns the
// parameters.
func matchRoute(template, path string) (map[string]string, bool) {
	tsegs := splitPath(template)
	psegs := splitPath(path)
	params := map[string]string{}
	for i, t := range tsegs {
		name, isParam := paramName(t)
		switch {
		case isParam && strings.HasPrefix(name, "*"):
			params[strings.TrimPrefix(name, "*")] = strings.Join(psegs[min(i, len(psegs)):], "/")
			return params, true
		case i >= len(psegs):
			if isParam && strings.HasSuffix(name, "?") && i == len(tsegs)-1 {
				return params, true
			}
			return nil, false
		case isParam:
			params[strings.TrimSuffix(name, "?")] = psegs[i]
		case !strings.EqualFold(t, psegs[i]):
			return nil, false
		}
	}
	return params, len(psegs) == len(tsegs)
}

func splitPath(p string) []string {
	p = strings.Trim(p, "/")
	if p == "" {
		return nil
	}
	return strings.Split(p, "/")
}

// paramName returns "id", "id?" or "*rest" for {id}, {id:int?}, {*rest}.
func paramName(seg string) (string, bool) {
	if len(seg) < 3 || seg[0] != '{' || seg[len(seg)-1] != '}' {
		return "", false
	}
	inner := seg[1 : len(seg)-1]
	optional := strings.HasSuffix(inner, "?")
	inner = strings.TrimSuffix(inner, "?")
	if name, _, ok := strings.Cut(inner, ":"); ok {
		inner = name
	}
	if optional {
		inner += "?"
	}
	return inner, true
}
