package standin

import (
	"encoding/base64"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

const latest = "$LATEST"

// functionConfiguration is the part of Lambda's FunctionConfiguration the
// stand-in fills in, with the SDK's member names.
type functionConfiguration struct {
	FunctionName  string
	FunctionArn   string
	Runtime       string
	Role          string
	Handler       string
	Version       string
	Timeout       int
	MemorySize    int
	LastModified  string
	State         string
	PackageType   string
	Architectures []string
}

type aliasConfiguration struct {
	Name            string
	AliasArn        string
	FunctionVersion string
	Description     string
}

// lastModified is a fixed time, so that listings are deterministic.
var lastModified = time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC).Format("2006-01-02T15:04:05.000-0700")

func (s *Server) functionARN(name, qualifier string) string {
	arn := "arn:aws:lambda:" + s.region + ":" + s.account + ":function:" + name
	if qualifier != "" {
		arn += ":" + qualifier
	}
	return arn
}

// listFunctions answers ListFunctions: with FunctionVersion=ALL every
// version of every function ($LATEST first, then published versions),
// otherwise only $LATEST; sorted by name, paginated.
func (s *Server) listFunctions(w http.ResponseWriter, r *http.Request) *apiError {
	if e := s.checkAPIThrottle(); e != nil {
		return e
	}
	q := r.URL.Query()
	all := false
	switch v := q.Get("FunctionVersion"); v {
	case "":
	case "ALL":
		all = true
	default:
		return invalidParameter("1 validation error detected: Value '" + v + "' at 'functionVersion' failed to satisfy constraint: Member must satisfy enum value set: [ALL]")
	}
	var configs []functionConfiguration
	s.mu.Lock()
	for _, name := range sortedKeys(s.functions) {
		fn := s.functions[name]
		configs = append(configs, s.configuration(fn, latest))
		if all {
			for _, v := range fn.versions {
				configs = append(configs, s.configuration(fn, v))
			}
		}
	}
	s.mu.Unlock()
	page, next, e := paginate(configs, q.Get("Marker"), q.Get("MaxItems"), s.pageSize)
	if e != nil {
		return e
	}
	writeJSON(w, http.StatusOK, struct {
		Functions  []functionConfiguration
		NextMarker string `json:",omitempty"`
	}{page, next})
	return nil
}

func (s *Server) configuration(fn *function, version string) functionConfiguration {
	qualifier := version
	if version == latest {
		qualifier = "" // Lambda lists $LATEST under the unqualified ARN
	}
	return functionConfiguration{
		FunctionName: fn.Name, FunctionArn: s.functionARN(fn.Name, qualifier), Runtime: fn.Runtime,
		Role:    "arn:aws:iam::" + s.account + ":role/" + fn.Name + "-role",
		Handler: "bootstrap", Version: version, Timeout: int(fn.Timeout / time.Second), MemorySize: 128,
		LastModified: lastModified, State: "Active", PackageType: "Zip", Architectures: []string{"x86_64"},
	}
}

// listAliases answers ListAliases, sorted by alias name, paginated;
// FunctionVersion filters on the version aliases point at.
func (s *Server) listAliases(w http.ResponseWriter, r *http.Request, name string) *apiError {
	if e := s.checkAPIThrottle(); e != nil {
		return e
	}
	q := r.URL.Query()
	var aliases []aliasConfiguration
	s.mu.Lock()
	fn, ok := s.functions[functionNameOf(name)]
	if ok {
		for _, alias := range sortedKeys(fn.Aliases) {
			if v := q.Get("FunctionVersion"); v != "" && v != fn.Aliases[alias] {
				continue
			}
			aliases = append(aliases, aliasConfiguration{Name: alias, AliasArn: s.functionARN(fn.Name, alias),
				FunctionVersion: fn.Aliases[alias], Description: "alias " + alias})
		}
	}
	s.mu.Unlock()
	if !ok {
		return notFound("Function not found: " + s.functionARN(name, ""))
	}
	page, next, e := paginate(aliases, q.Get("Marker"), q.Get("MaxItems"), s.pageSize)
	if e != nil {
		return e
	}
	writeJSON(w, http.StatusOK, struct {
		Aliases    []aliasConfiguration
		NextMarker string `json:",omitempty"`
	}{page, next})
	return nil
}

// functionNameOf accepts a name or an ARN
// (arn:aws:lambda:region:account:function:name), as Lambda does.
func functionNameOf(s string) string {
	if parts := strings.Split(s, ":"); len(parts) >= 7 && parts[0] == "arn" {
		return parts[6]
	}
	return s
}

func (s *Server) checkAPIThrottle() *apiError {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.apiThrottle > 0 {
		return throttled("CallerRateLimitExceeded", s.apiThrottle)
	}
	return nil
}

// paginate returns one page from the marker on: markers are opaque (an
// encoded offset), MaxItems may only shrink the stand-in's page size.
func paginate[T any](items []T, marker, maxItems string, size int) ([]T, string, *apiError) {
	start := 0
	if marker != "" {
		raw, err := base64.RawURLEncoding.DecodeString(marker)
		n, err2 := strconv.Atoi(string(raw))
		if err != nil || err2 != nil || n < 0 || n > len(items) {
			return nil, "", invalidParameter("Invalid marker: " + marker)
		}
		start = n
	}
	if maxItems != "" {
		n, err := strconv.Atoi(maxItems)
		if err != nil || n < 1 || n > 10000 {
			return nil, "", invalidParameter("MaxItems must be between 1 and 10000")
		}
		size = min(size, n)
	}
	end := min(start+size, len(items))
	next := ""
	if end < len(items) {
		next = base64.RawURLEncoding.EncodeToString([]byte(strconv.Itoa(end)))
	}
	return append([]T{}, items[start:end]...), next, nil // [] rather than null when empty
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// sortNumeric sorts version numbers (already checked to be integers).
func sortNumeric(versions []string) {
	sort.Slice(versions, func(i, j int) bool {
		a, _ := strconv.Atoi(versions[i])
		b, _ := strconv.Atoi(versions[j])
		return a < b
	})
}
