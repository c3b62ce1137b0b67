package main

import (
	"strings"
	"testing"
)

func TestRedactJSON(t *testing.T) {
	in := `{"name": "l", "plugin": {"value": {"credentials": {"default/aws": {"accessKeyId": "AKID", "secretAccessKey": "s3cr3t", "sessionToken": "tok"}}}}, "list": [{"clientSecret": "x"}], "azure": {"keys": {"default/app": {"functionKeys": {"hello": "fk"}, "masterKey": "mk"}}}}`
	out, err := redactJSON([]byte(in), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"AKID", "s3cr3t", "tok", `"x"`, `"fk"`, `"mk"`} {
		if strings.Contains(string(out), secret) {
			t.Fatalf("%s leaked: %s", secret, out)
		}
	}
	if !strings.Contains(string(out), `"name":"l"`) || strings.Count(string(out), "[redacted]") != 6 {
		t.Fatalf("%s", out)
	}
}

func TestRedactJSONBySecretValue(t *testing.T) {
	in := `{"requestHeadersToAdd": [{"header": {"key": "x-api-key", "value": "k3y-value"}}, {"header": {"key": "authorization", "value": "Basic k3y-value"}}, {"header": {"key": "x-short", "value": "ab"}}], "other": "ab-not-a-secret"}`
	out, err := redactJSON([]byte(in), secretSet{"k3y-value": true, "ab": true})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(out), "k3y-value") || strings.Count(string(out), "[redacted]") != 3 {
		t.Fatalf("%s", out)
	}
	if !strings.Contains(string(out), "ab-not-a-secret") {
		t.Fatalf("a short secret was redacted inside a longer value: %s", out)
	}
}
