package fds

import (
	"errors"
	"fmt"
	"testing"
)

func TestMarksKeepTheMessageAndMatch(t *testing.T) {
	base := errors.New("GET /swagger.json: connection refused")
	notMine, transient := NotMine(base), Transient(fmt.Errorf("probing: %w", base))
	if notMine.Error() != base.Error() || !errors.Is(notMine, ErrNotMine) || !errors.Is(notMine, base) || IsTransient(notMine) {
		t.Errorf("NotMine: %v", notMine)
	}
	if !IsTransient(transient) || errors.Is(transient, ErrNotMine) || !errors.Is(transient, base) {
		t.Errorf("Transient: %v", transient)
	}
	if IsTransient(base) || errors.Is(base, ErrNotMine) {
		t.Error("an unmarked error is neither: it is permanent")
	}
}
