package demofile

import (
	"os"
	"testing"
)

// TestWriteReadRemove: a record of a running process is found, a removed
// one or one of a process that is gone is not.
func TestWriteReadRemove(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	remove, err := Write(Info{PID: os.Getpid(), AdminAddr: "127.0.0.1:1234", ConfigDir: "/tmp/x"})
	if err != nil {
		t.Fatal(err)
	}
	if info, ok := Read(); !ok || info.AdminAddr != "127.0.0.1:1234" || info.ConfigDir != "/tmp/x" {
		t.Fatalf("read %+v %v", info, ok)
	}
	remove()
	if _, ok := Read(); ok {
		t.Fatal("a removed record was read")
	}
	if _, err := Write(Info{PID: 1 << 30, AdminAddr: "127.0.0.1:1"}); err != nil {
		t.Fatal(err)
	}
	if _, ok := Read(); ok {
		t.Fatal("the record of a process that is gone was read")
	}
}
