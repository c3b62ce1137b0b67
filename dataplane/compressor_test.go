package dataplane

import "testing"

func TestAcceptQuality(t *testing.T) {
	for _, c := range []struct {
		header string
		gzip   float64
	}{
		{"gzip", 1}, {"deflate, gzip, br, zstd", 1}, {"GZIP;q=0.5", 0.5}, {"br, gzip;q=0", 0},
		{"*", 1}, {"*;q=0.2, br", 0.2}, {"gzip;q=0.3, *;q=0.9", 0.3}, {"identity", 0}, {"", 0}, {"gzip;q=x", 0}, {"gzip;q=7", 1}, {"gzip;level=1;q=0.4", 0.4},
	} {
		if got := acceptQuality([]string{c.header}, "gzip"); got != c.gzip {
			t.Errorf("Accept-Encoding %q: gzip q=%v, want %v", c.header, got, c.gzip)
		}
	}
}

// FuzzAcceptQuality: any Accept-Encoding a client sends parses without
// panicking into a quality that is never negative.
func FuzzAcceptQuality(f *testing.F) {
	for _, s := range []string{"gzip", "deflate, gzip;q=0.5, br", "*;q=", ";;,,q=1", "gzip;q=NaN", "gzip;q=-1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, header string) {
		if q := acceptQuality([]string{header}, "gzip"); !(q >= 0) {
			t.Fatalf("Accept-Encoding %q: quality %v", header, q)
		}
	})
}
