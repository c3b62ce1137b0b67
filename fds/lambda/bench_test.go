package lambda

import (
	"context"
	"fmt"
	"testing"

	"github.com/gluon-gateway/gluon/fds/lambda/standin"
)

// BenchmarkDiscover lists 100 functions × (3 versions + 2 aliases) from a
// stand-in with Lambda's page size, signatures verified.
func BenchmarkDiscover(b *testing.B) {
	s := standin.New(standin.Options{PageSize: 50})
	s.AddCredentials(key, secret, "")
	for i := range 100 {
		err := s.AddFunction(standin.Function{Name: fmt.Sprintf("fn-%03d", i), Versions: []string{"1", "2", "3"},
			Aliases: map[string]string{"prod": "3", "beta": "2"}, Handler: standin.Echo})
		if err != nil {
			b.Fatal(err)
		}
	}
	ep, err := s.Start()
	if err != nil {
		b.Fatal(err)
	}
	defer ep.Close()
	d, err := New(Config{Region: s.Region(), Endpoint: ep.URL, AccessKeyID: key, SecretAccessKey: secret})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		fns, err := d.Discover(context.Background())
		if err != nil || len(fns) != 600 {
			b.Fatalf("%d functions, %v", len(fns), err)
		}
	}
}
