package e2e

import (
	"bufio"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestDemo runs `gluon demo` as a newcomer would and runs, with the real
// curl, every curl line it prints.
func TestDemo(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		t.Fatal("curl is needed to run the demo's printed lines: install it (apt-get install curl)")
	}
	cmd := exec.Command(gluonBin, "demo", "--port", "0")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Signal(syscall.SIGINT); _ = cmd.Wait() }()
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	var curls []string
	timeout := time.After(60 * time.Second)
	for done := false; !done; {
		select {
		case line, ok := <-lines:
			if !ok {
				t.Fatalf("demo exited early; printed curl lines: %v", curls)
			}
			if l := strings.TrimSpace(line); strings.HasPrefix(l, "curl ") {
				curls = append(curls, l)
			}
			done = strings.Contains(line, "Ctrl-C")
		case <-timeout:
			t.Fatal("demo did not print its curl lines within 60s")
		}
	}
	// Ordered: the first key a line contains decides what it must print.
	want := []struct{ key, expect string }{
		{"/health", "gluon is up"},
		{"/petstore/findPet", `"name":"Tom"`},
		{"/petstore/add", `{"created": {"id":3,"name":"Fido","tag":"dog"}, "by": "gluon"}`},
		{"/lambda/hello", `"path":"/lambda/hello/world"`},
		{"/lambda/echo", `{"ping": 1}`},
		{"/azure/greet", "hello, gluon"},
		{"/azure/ping", "pong"},
		{"x-color", `"path":"/world","service":"green"`},
		{"/hello/world", `"path":"/world","service":"blue"`},
		{"/split", `"service":`},
		{"/old", "Location: http://127.0.0.1:"},
	}
	if len(curls) < len(want) {
		t.Fatalf("demo printed %d curl lines, want at least %d: %v", len(curls), len(want), curls)
	}
	for _, line := range curls {
		got, err := exec.Command("bash", "-c", line).CombinedOutput()
		if err != nil {
			t.Errorf("%s: %v\n%s", line, err, got)
			continue
		}
		for _, w := range want {
			if strings.Contains(line, w.key) {
				if !strings.Contains(string(got), w.expect) {
					t.Errorf("%s: output lacks %q:\n%s", line, w.expect, got)
				}
				break
			}
		}
	}
}
