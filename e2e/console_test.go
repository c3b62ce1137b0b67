package e2e

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/gluon-gateway/gluon/fds/openapi/petstore"
)

const consoleConfig = `apiVersion: gluon.dev/v1
kind: Gateway
metadata: {name: http}
spec: {bindAddress: 127.0.0.1, bindPort: GW_PORT}
---
apiVersion: gluon.dev/v1
kind: Upstream
metadata: {name: petstore}
spec: {static: {hosts: [{addr: 127.0.0.1, port: PET_PORT}]}}
---
apiVersion: gluon.dev/v1
kind: VirtualService
metadata: {name: shop}
spec:
  virtualHost:
    domains: [shop.test]
    routes:
    - matchers: [{prefix: /pets/}]
      routeAction: {single: {upstream: {name: petstore}, destinationSpec: {rest: {functionName: findPetById, parameters: {path: "/pets/{id}"}}}}}
`

// chromium is the browser the console e2e drives; scripts/test installs
// Debian's.
func chromium(t *testing.T) string {
	t.Helper()
	for _, p := range []string{os.Getenv("GLUON_CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser"} {
		if p != "" {
			if _, err := os.Stat(p); err == nil {
				return p
			}
		}
	}
	t.Fatal("Chromium is needed for the console e2e: install the Debian package chromium")
	return ""
}

// TestConsole: a real headless Chromium loads the console from a running
// gluon serve: the upstream with its discovered functions, the virtual
// service with its route; a click shows the functions; "try it" sends a
// request through the gateway, which then counts on the route's traffic; a config edit appears without a reload,
// and a rejected resource shows its reason in red. The page asks nothing
// of any other origin. A screenshot goes to the test's artifacts.
func TestConsole(t *testing.T) {
	pets := startBackend(t, "petstore", petstore.Handler(petstore.OpenAPI31).ServeHTTP)
	gw := freeAddr(t)
	dir := t.TempDir()
	writeFile(t, dir, "gluon.yaml", strings.NewReplacer("GW_PORT", portOf(gw), "PET_PORT", pets.port()).Replace(consoleConfig))
	cp := startServe(t, dir, t.TempDir(), "embedded")
	origin := "http://" + cp.admin
	waitFor(t, 20*time.Second, "the route served", func() bool {
		code, _ := get(t, "http://"+gw+"/pets/1", map[string]string{"Host": "shop.test"})
		return code == 200
	})

	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chromium(t)), chromedp.NoSandbox,
		chromedp.Flag("disable-gpu", true), chromedp.UserDataDir(t.TempDir()))
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(alloc)
	defer cancel()
	ctx, cancelTimeout := context.WithTimeout(ctx, 90*time.Second)
	defer cancelTimeout()

	var mu sync.Mutex
	var requested []string
	if err := chromedp.Listen(ctx, func(ev any) {
		if e, ok := ev.(*network.EventRequestWillBeSent); ok {
			mu.Lock()
			requested = append(requested, e.Request.URL)
			mu.Unlock()
		}
	}); err != nil {
		t.Fatal(err)
	}

	err := chromedp.Do(ctx,
		chromedp.Navigate(origin+"/console/"),
		chromedp.WaitVisible(`tr[data-key="default/petstore"]`),
		chromedp.Click(`a.upstream-link[data-key="default/petstore"]`),
		chromedp.WaitVisible(`tr[data-key="default/petstore"] li.function`),
	)
	if err != nil {
		t.Fatalf("console: %v", err)
	}
	functions := text(ctx, t, `tr[data-key="default/petstore"] ul.functions`)
	routes := text(ctx, t, `tr[data-key="default/shop"]`)
	if !strings.Contains(functions, "findPetById") || !strings.Contains(routes, "prefix /pets/") || !strings.Contains(routes, "→ petstore findPetById") {
		t.Errorf("functions %q, routes %q", functions, routes)
	}
	err = chromedp.Do(ctx,
		chromedp.SetValue(`#try-path`, "/pets/1"),
		chromedp.SetValue(`#try-host`, "shop.test"),
		chromedp.Click(`#try-form button`),
	)
	if err == nil {
		_, err = chromedp.Run(ctx, chromedp.Poll[bool](`document.getElementById("try-result").textContent.startsWith("200")`))
	}
	if err != nil {
		t.Fatalf("try it: %v (%q)", err, text(ctx, t, `#try-result`))
	}
	// The requests counted on the route show, with their rates.
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`[...document.querySelectorAll('tr[data-key="default/shop"] td.traffic')].some(td => /^[1-9]\d* req/.test(td.textContent))`)); err != nil {
		t.Errorf("the route's requests: %v (%q)", err, text(ctx, t, `tr[data-key="default/shop"]`))
	}

	// An edit: a virtual service that is rejected shows, with its reason in
	// red, without a reload.
	writeFile(t, dir, "more.yaml", `apiVersion: gluon.dev/v1
kind: VirtualService
metadata: {name: broken}
spec:
  virtualHost:
    domains: [broken.test]
    routes:
    - matchers: [{regex: "["}]
      routeAction: {single: {upstream: {name: petstore}}}
`)
	rejected := `tr[data-key="default/broken"] td.state-Rejected`
	if err := chromedp.Do(ctx, chromedp.WaitVisible(rejected)); err != nil {
		t.Fatalf("the edit does not show: %v", err)
	}
	color, err := chromedp.Run(ctx, chromedp.Evaluate[string](`getComputedStyle(document.querySelector('`+rejected+`')).color`))
	if reason := text(ctx, t, rejected); err != nil || !strings.Contains(reason, "does not compile") || color != "rgb(204, 0, 0)" {
		t.Errorf("the rejected virtual service: %q in %s (%v)", reason, color, err)
	}
	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(90))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(t.ArtifactDir(), "console.jpg"), shot, 0o644); err != nil {
		t.Error(err)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, u := range requested {
		if !strings.HasPrefix(u, origin+"/") {
			t.Errorf("the page asked another origin: %s", u)
		}
	}
	if len(requested) < 4 {
		t.Errorf("requests seen: %q", requested)
	}
}

// text is the text of the element sel names.
func text(ctx context.Context, t *testing.T, sel string) string {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Text(sel))
	if err != nil {
		t.Fatalf("text of %s: %v", sel, err)
	}
	return v
}
