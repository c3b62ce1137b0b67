package ratelimit

import (
	"log/slog"
	"strings"
	"testing"

	rlspb "github.com/envoyproxy/go-control-plane/envoy/service/ratelimit/v3"
	"sigs.k8s.io/yaml"
)

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
		want []string // substrings of the error; none means valid
	}{
		{name: "valid", cfg: Config{Domain: "d", Descriptors: []Descriptor{
			{Key: "k", Value: "v", RateLimit: perMinute(1)},
			{Key: "k", RateLimit: &Limit{Unit: "HOUR", RequestsPerUnit: 1}},
			{Key: "k", Value: "a*", RateLimit: &Limit{Unlimited: true}},
			{Key: "k2", Descriptors: []Descriptor{{Key: "x", RateLimit: &Limit{Unit: "day", RequestsPerUnit: 9}}}},
		}}},
		{name: "empty domain", cfg: Config{}, want: []string{"domain is required"}},
		{name: "duplicate at one level", cfg: Config{Domain: "d", Descriptors: []Descriptor{
			{Key: "k", Value: "v"}, {Key: "k", Value: "v"},
		}}, want: []string{`descriptors[1] (k=v): key "k" value "v" is already defined at this level`}},
		{name: "same key value at different levels is fine", cfg: Config{Domain: "d", Descriptors: []Descriptor{
			{Key: "k", Value: "v", Descriptors: []Descriptor{{Key: "k", Value: "v", RateLimit: perMinute(1)}}},
		}}},
		{name: "nested errors all reported", cfg: Config{Domain: "d", Descriptors: []Descriptor{
			{Key: "a", Descriptors: []Descriptor{
				{Key: "b", RateLimit: &Limit{Unit: "fortnight", RequestsPerUnit: 1}},
				{Key: "c", RateLimit: &Limit{Unit: "second"}},
				{Key: ""},
			}},
		}}, want: []string{
			`domain "d": descriptors[0] (a=): descriptors[0] (b=): unknown unit "fortnight"`,
			"descriptors[1] (c=): requests_per_unit must be at least 1",
			"descriptors[2] (=): key is required",
		}},
		{name: "unlimited with unit", cfg: Config{Domain: "d", Descriptors: []Descriptor{
			{Key: "k", RateLimit: &Limit{Unlimited: true, Unit: "second"}},
		}}, want: []string{"unlimited rate_limit takes no unit"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.Validate()
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate: no error, want %q", tc.want)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\ndoes not contain %q", err, w)
				}
			}
		})
	}
}

func TestSetConfigsRejectsAllOrNothing(t *testing.T) {
	s := New(Options{Logger: slog.New(slog.DiscardHandler)})
	good := Config{Domain: "a", Descriptors: []Descriptor{{Key: "k", RateLimit: perMinute(1)}}}
	if err := s.SetConfigs([]Config{good}); err != nil {
		t.Fatal(err)
	}
	err := s.SetConfigs([]Config{
		{Domain: "b"},
		{Domain: "b"},
		{Domain: "c", Descriptors: []Descriptor{{Key: "k", RateLimit: &Limit{Unit: "x", RequestsPerUnit: 1}}}},
	})
	if err == nil || !strings.Contains(err.Error(), `domain "b" is defined twice`) || !strings.Contains(err.Error(), `unknown unit "x"`) {
		t.Fatalf("SetConfigs error = %v", err)
	}
	// The old config is still in force.
	clock := newClock()
	s.clock = clock.Now
	call(t, s, request("a", desc("k", "v")))
	if got := call(t, s, request("a", desc("k", "v"))).OverallCode; got != rlspb.RateLimitResponse_OVER_LIMIT {
		t.Fatalf("after rejected reload: %v, want the old limit (OVER_LIMIT)", got)
	}
}

// TestReferenceYAML decodes a config written for envoyproxy/ratelimit (its
// README's examples) with the project's YAML library.
func TestReferenceYAML(t *testing.T) {
	const doc = `
domain: mongo_cps
descriptors:
  - key: database
    value: users
    rate_limit:
      unit: second
      requests_per_unit: 500
  - key: database
    value: default
    rate_limit:
      unit: second
      requests_per_unit: 500
  - key: remote_address
    shadow_mode: true
    rate_limit:
      unit: MINUTE
      requests_per_unit: 10
  - key: key
    value: bypass
    rate_limit:
      unlimited: true
  - key: source_cluster
    value: proxy
    descriptors:
      - key: destination_cluster
        value: bar
        rate_limit:
          unit: second
          requests_per_unit: 10
`
	var c Config
	if err := yaml.UnmarshalStrict([]byte(doc), &c); err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	root, _ := compileDomain(c)
	for _, tc := range []struct {
		kv     []string
		rpu    uint32
		shadow bool
	}{
		{[]string{"database", "users"}, 500, false},
		{[]string{"remote_address", "10.0.0.1"}, 10, true},
		{[]string{"source_cluster", "proxy", "destination_cluster", "bar"}, 10, false},
	} {
		l := root.lookup(desc(tc.kv...).Entries)
		if l == nil || l.proto.RequestsPerUnit != tc.rpu || l.shadow != tc.shadow {
			t.Errorf("%v: limit %+v, want %d/shadow=%v", tc.kv, l, tc.rpu, tc.shadow)
		}
	}
	if l := root.lookup(desc("key", "bypass").Entries); l == nil || !l.unlimited {
		t.Errorf("bypass: %+v, want unlimited", l)
	}
}
