package testutil

import (
	"net"
	"testing"
)

// TestHeldAddr: a held port is served on, freed and served on again, and
// stays reserved in between; a port bound on 0 and closed (how
// cmd/plcsim's tests picked ports for plant files) is not reserved at all.
func TestHeldAddr(t *testing.T) {
	addr := HeldAddr(t)
	for round := 1; round <= 2; round++ {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			t.Fatalf("round %d: listen on the held %s: %v", round, addr, err)
		}
		ln.Close()
		if err := held(addr); err != nil {
			t.Fatalf("round %d: after the listener closed: %v", round, err)
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	freed := ln.Addr().String()
	ln.Close()
	if held(freed) == nil {
		t.Fatalf("%s, bound on port 0 and closed, counts as held", freed)
	}
}
