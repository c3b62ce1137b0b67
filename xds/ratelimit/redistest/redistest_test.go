package redistest

import (
	"strings"
	"testing"
)

func TestStopRestart(t *testing.T) {
	s := Start(t)
	if err := ping(s.Addr); err != nil {
		t.Fatalf("after Start: %v", err)
	}
	if !strings.Contains(s.Log(), "Ready to accept connections") {
		t.Errorf("log does not show a ready server:\n%s", s.Log())
	}
	s.Stop()
	s.Stop() // idempotent
	if err := ping(s.Addr); err == nil {
		t.Fatal("PING answered after Stop")
	}
	s.Restart()
	if err := ping(s.Addr); err != nil {
		t.Fatalf("after Restart: %v", err)
	}
}
