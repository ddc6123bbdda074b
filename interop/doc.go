// Package interop holds the interoperability suite: tests that run plcsim and
// plcctl against independent Modbus implementations (mbpoll, a libmodbus C
// client, pymodbus, goburrow/modbus) and check the bytes on the wire with
// Wireshark's dissector (tshark).
//
// Each peer test starts its own server on 127.0.0.1 with a free port and
// stops it, even on failure. On a developer machine a missing peer skips its
// test with a message naming the Debian package to install; with CI=true a
// missing peer fails, so CI cannot pass without running the suite.
// `make interop` runs it verbosely; `make test` includes it.
package interop
