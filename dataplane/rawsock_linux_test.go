package dataplane

import (
	"bytes"
	"crypto/rand"
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"time"
)

// socketPair returns a rawSocket and the plain connection at its other end.
func socketPair(t *testing.T) (*rawSocket, net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	dialed, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	peer, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	raw, ok := newRawSocket(dialed).(*rawSocket)
	if !ok {
		t.Fatal("a TCP connection was not wrapped")
	}
	t.Cleanup(func() { raw.Close(); peer.Close() })
	return raw, peer
}

func TestRawSocketLargeWriteWaitsForTheReader(t *testing.T) {
	raw, peer := socketPair(t)
	data := make([]byte, 16<<20) // far more than the socket buffers hold
	_, _ = rand.Read(data)
	got := make(chan []byte)
	go func() {
		time.Sleep(50 * time.Millisecond) // let the writer fill the buffers and wait
		b, _ := io.ReadAll(peer)
		got <- b
	}()
	if n, err := raw.Write(data); n != len(data) || err != nil {
		t.Fatalf("Write = %d, %v; want %d, nil", n, err, len(data))
	}
	_ = raw.Close()
	if b := <-got; !bytes.Equal(b, data) {
		t.Fatalf("peer read %d bytes, not the %d written", len(b), len(data))
	}
}

func TestRawSocketRead(t *testing.T) {
	raw, peer := socketPair(t)
	go func() {
		time.Sleep(20 * time.Millisecond) // the first Read waits for it
		_, _ = peer.Write([]byte("hello"))
		_ = peer.Close()
	}()
	b, err := io.ReadAll(raw)
	if string(b) != "hello" || err != nil {
		t.Fatalf("ReadAll = %q, %v; want hello and EOF", b, err)
	}
	if n, err := raw.Read(make([]byte, 1)); n != 0 || err != io.EOF {
		t.Fatalf("Read after EOF = %d, %v", n, err)
	}
}

func TestRawSocketDeadlineAndClose(t *testing.T) {
	raw, _ := socketPair(t)
	_ = raw.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
	if _, err := raw.Read(make([]byte, 1)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("Read past the deadline: %v, want ErrDeadlineExceeded", err)
	}
	_ = raw.SetReadDeadline(time.Time{})
	done := make(chan error)
	go func() { _, err := raw.Read(make([]byte, 1)); done <- err }()
	time.Sleep(20 * time.Millisecond)
	_ = raw.Close()
	if err := <-done; !errors.Is(err, net.ErrClosed) {
		t.Fatalf("Read on a closed socket: %v, want ErrClosed", err)
	}
	if _, err := raw.Write([]byte("x")); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("Write on a closed socket: %v, want ErrClosed", err)
	}
}
