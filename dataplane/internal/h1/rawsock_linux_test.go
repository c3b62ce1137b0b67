package h1

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
	raw, ok := NewRawSocket(dialed).(*rawSocket)
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

func TestRawSocketWriteAwaitingRead(t *testing.T) {
	raw, peer := socketPair(t)
	const answerAfter = 30 * time.Millisecond
	go func() {
		b := make([]byte, 4)
		if _, err := io.ReadFull(peer, b); err == nil {
			time.Sleep(answerAfter)
			_, _ = peer.Write([]byte("pong"))
		}
	}()
	start := time.Now()
	if n, err := raw.WriteAwaitingRead([]byte("ping")); n != 4 || err != nil {
		t.Fatalf("WriteAwaitingRead = %d, %v; want 4, nil", n, err)
	}
	if waited := time.Since(start); waited < answerAfter*2/3 {
		t.Fatalf("returned after %v, before the answer was sent (%v)", waited, answerAfter)
	}
	b := make([]byte, 8)
	if n, err := raw.Read(b); string(b[:n]) != "pong" || err != nil {
		t.Fatalf("Read after the wait = %q, %v; want pong", b[:n], err)
	}
}

// A wait that cannot start, or runs out, still leaves the message written.
func TestRawSocketWriteAwaitingReadDeadline(t *testing.T) {
	raw, peer := socketPair(t)
	_ = raw.SetReadDeadline(time.Now().Add(-time.Second))
	if n, err := raw.WriteAwaitingRead([]byte("one")); n != 3 || err != nil {
		t.Fatalf("with a passed deadline: %d, %v; want 3, nil", n, err)
	}
	_ = raw.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
	if n, err := raw.WriteAwaitingRead([]byte("two")); n != 3 || err != nil {
		t.Fatalf("with a deadline that runs out: %d, %v; want 3, nil", n, err)
	}
	b := make([]byte, 6)
	_ = peer.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.ReadFull(peer, b); string(b) != "onetwo" || err != nil {
		t.Fatalf("peer read %q, %v; want onetwo", b, err)
	}
}

// A message larger than the socket buffers is written whole, the rest of it
// as an ordinary write.
func TestRawSocketWriteAwaitingReadLarge(t *testing.T) {
	raw, peer := socketPair(t)
	data := make([]byte, 16<<20)
	_, _ = rand.Read(data)
	got := make(chan []byte)
	go func() {
		b := make([]byte, len(data))
		_, _ = io.ReadFull(peer, b)
		_, _ = peer.Write([]byte("ok"))
		got <- b
	}()
	if n, err := raw.WriteAwaitingRead(data); n != len(data) || err != nil {
		t.Fatalf("WriteAwaitingRead = %d, %v; want %d, nil", n, err, len(data))
	}
	if b := <-got; !bytes.Equal(b, data) {
		t.Fatal("peer read other bytes than written")
	}
}
