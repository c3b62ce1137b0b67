package e2e

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// TestWebSockets: a WebSocket client library exchanges messages with an
// echo backend through the gateway; a route that turns WebSockets off
// refuses the upgrade (403) and plain requests keep working; an idle
// tunnel is closed after the route's idle timeout.
func TestWebSockets(t *testing.T) {
	echo := func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") == "" {
			w.Write([]byte("plain " + r.URL.Path))
			return
		}
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		c.SetReadLimit(1 << 20)
		ctx := context.Background()
		for {
			typ, msg, err := c.Read(ctx)
			if err != nil {
				return
			}
			if err := c.Write(ctx, typ, append([]byte("echo: "), msg...)); err != nil {
				return
			}
		}
	}
	base := serveOneUpstream(t, echo, "", `apiVersion: gluon.dev/v1
kind: VirtualService
metadata: {name: default}
spec:
  virtualHost:
    routes:
    - matchers: [{prefix: /off}]
      options: {upgrades: [{websocket: {enabled: false}}]}
      routeAction: {single: {upstream: {name: a}}}
    - matchers: [{prefix: /short}]
      options: {idleTimeout: 300ms}
      routeAction: {single: {upstream: {name: a}}}
    - matchers: [{prefix: /}]
      routeAction: {single: {upstream: {name: a}}}
`)
	ws := "ws" + strings.TrimPrefix(base, "http")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	c, _, err := websocket.Dial(ctx, ws+"/chat", nil)
	if err != nil {
		t.Fatalf("dial through the gateway: %v", err)
	}
	defer c.CloseNow()
	c.SetReadLimit(1 << 20)
	for i, msg := range []string{"hello", strings.Repeat("big ", 50000), "bye"} {
		if err := c.Write(ctx, websocket.MessageText, []byte(msg)); err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		_, got, err := c.Read(ctx)
		if err != nil || string(got) != "echo: "+msg {
			t.Fatalf("message %d: got %d bytes (%v)", i, len(got), err)
		}
	}
	if err := c.Close(websocket.StatusNormalClosure, ""); err != nil {
		t.Errorf("closing handshake through the gateway: %v", err)
	}

	if _, resp, err := websocket.Dial(ctx, ws+"/off", nil); err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("upgrade on a route that turns WebSockets off: %v (%v), want 403", resp, err)
	}
	if code, body := get(t, base+"/off/x", nil); code != 200 || body != "plain /off/x" {
		t.Errorf("a plain request on that route: %d %q", code, body)
	}

	short, _, err := websocket.Dial(ctx, ws+"/short", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer short.CloseNow()
	time.Sleep(time.Second)
	if err := short.Write(ctx, websocket.MessageText, []byte("late")); err == nil {
		if _, _, err = short.Read(ctx); err == nil {
			t.Error("a tunnel idle past its route's idle timeout still carried messages")
		}
	}
}
