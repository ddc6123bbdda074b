//go:build !linux

package main

import "testing"

// heldAddr returns 127.0.0.1:0: holding a port for a later bind works as
// heldaddr_linux_test.go says only on Linux (BSD and Windows give
// SO_REUSEADDR other meanings), so elsewhere a test that serves again on a
// recorded port can lose it to another process in between.
func heldAddr(t *testing.T) string { return "127.0.0.1:0" }

// checkHeld does nothing: see heldAddr.
func checkHeld(t *testing.T, addr string) {}
