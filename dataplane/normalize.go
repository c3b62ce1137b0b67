package dataplane

import (
	"strings"
)

// pathNormalizing is what a listener normalises in request paths.
type pathNormalizing struct {
	dots  bool // resolve dot segments (Envoy's normalize_path)
	merge bool // collapse runs of slashes (merge_slashes)
}

// normalizeTarget resolves the dot segments of a request target's path
// (RFC 3986 5.2.4, with %2e and %2E taken as dots, as Envoy's normalize_path
// does) and collapses runs of slashes, as n says. The query is kept as it
// is. Routes match, and the upstream gets, the normalised path:
// /public/../admin is /admin for an /admin deny route too.
func (n pathNormalizing) normalizeTarget(target string) string {
	if !n.dots && !n.merge {
		return target
	}
	path, query := target, ""
	if i := strings.IndexByte(target, '?'); i >= 0 {
		path, query = target[:i], target[i:]
	}
	if !n.needed(path) {
		return target
	}
	segs := strings.Split(path[1:], "/")
	out := make([]string, 0, len(segs))
	for i, s := range segs {
		last := i == len(segs)-1
		dots := 0
		if n.dots {
			dots = dotSegment(s)
		}
		switch dots {
		case 1:
			if last {
				out = append(out, "")
			}
		case 2:
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
			if last {
				out = append(out, "")
			}
		default:
			if s == "" && n.merge && !last {
				continue
			}
			out = append(out, s)
		}
	}
	return "/" + strings.Join(out, "/") + query
}

// needed is the hot path's check: most paths have no dot segment and no
// repeated slash.
func (n pathNormalizing) needed(path string) bool {
	if path == "" || path[0] != '/' {
		return false // "*" (OPTIONS) or an authority (CONNECT)
	}
	for i := 0; i < len(path); i++ {
		switch path[i] {
		case '.', '%':
			if n.dots && segmentAt(path, i) {
				return true
			}
		case '/':
			if n.merge && i+1 < len(path) && path[i+1] == '/' {
				return true
			}
		}
	}
	return false
}

// segmentAt reports whether the segment holding path[i] is a dot segment.
func segmentAt(path string, i int) bool {
	start := strings.LastIndexByte(path[:i], '/') + 1
	end := strings.IndexByte(path[i:], '/')
	if end < 0 {
		end = len(path)
	} else {
		end += i
	}
	return dotSegment(path[start:end]) > 0
}

// dotSegment returns 1 for ".", 2 for "..", in plain or %2e form, else 0.
func dotSegment(s string) int {
	n := 0
	for len(s) > 0 {
		switch {
		case s[0] == '.':
			s = s[1:]
		case len(s) >= 3 && s[0] == '%' && s[1] == '2' && (s[2] == 'e' || s[2] == 'E'):
			s = s[3:]
		default:
			return 0
		}
		n++
		if n > 2 {
			return 0
		}
	}
	return n
}
