// Command jwtgen makes an ES256 key pair and a token signed with it, for
// bench/proxy.sh: it writes the public key (PEM) to -pub and prints the
// token, valid for a day, with the issuer and audience given.
package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"flag"
	"fmt"
	"os"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

func main() {
	pubFile := flag.String("pub", "", "file to write the public key to (required)")
	iss := flag.String("iss", "https://bench.local", "issuer")
	aud := flag.String("aud", "bench", "audience")
	flag.Parse()
	if err := run(*pubFile, *iss, *aud); err != nil {
		fmt.Fprintln(os.Stderr, "jwtgen:", err)
		os.Exit(1)
	}
}

func run(pubFile, iss, aud string) error {
	if pubFile == "" {
		return fmt.Errorf("-pub is required")
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return err
	}
	if err := os.WriteFile(pubFile, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), 0o644); err != nil {
		return err
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key}, nil)
	if err != nil {
		return err
	}
	payload, err := json.Marshal(map[string]any{"iss": iss, "aud": aud, "sub": "bench", "exp": time.Now().Add(24 * time.Hour).Unix()})
	if err != nil {
		return err
	}
	obj, err := signer.Sign(payload)
	if err != nil {
		return err
	}
	tok, err := obj.CompactSerialize()
	if err != nil {
		return err
	}
	fmt.Println(tok)
	return nil
}
