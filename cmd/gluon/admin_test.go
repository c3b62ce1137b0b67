package main

import (
	"strings"
	"testing"
)

func TestRedactJSON(t *testing.T) {
	in := `{"name": "l", "plugin": {"value": {"credentials": {"default/aws": {"accessKeyId": "AKID", "secretAccessKey": "s3cr3t", "sessionToken": "tok"}}}}, "list": [{"clientSecret": "x"}], "azure": {"keys": {"default/app": {"functionKeys": {"hello": "fk"}, "masterKey": "mk"}}}}`
	out, err := redactJSON([]byte(in))
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
