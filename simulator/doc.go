// Package simulator is plcsim's engine: a strict Modbus TCP server over a
// simulated PLC memory (coils, discrete inputs, holding and input registers,
// FIFO queues, file records, device identification).
//
// Strict means every kind of bad input is handled on purpose, counted in
// Stats and logged with the exact reason:
//   - framing faults (MBAP length outside 2..254, a frame not completed within
//     FrameTimeout) drop the connection, by default with a TCP reset
//     (SO_LINGER 0), as the strict PLC of the ECONNRESET story did;
//   - structurally malformed PDUs (a length that is not exactly what the
//     function code and its count fields imply) are dropped the same way, or
//     answered with exception 03 under PDUException;
//   - forbidden field values get the spec's exception code in the spec's
//     per-function check order (MODBUS-NOTES §2.2), connection kept;
//   - a protocol id other than 0 is discarded silently [IG §4.4.2.2].
//
// Memory: without Config.Units or UnitIDs every unit id shares one Memory;
// with UnitIDs each listed unit has its own, and with Units each unit has
// its own layout (tables as sizes or address ranges: outside them is
// exception 02), FIFOs, file records, identification and FC 17 server id.
// Unit(id) returns a unit's Memory (nil when it is not served, answered
// per UnknownUnit); the Server's own accessors act on the default memory.
// File records are stored sparsely within MaxFileRegisters, so memory stays
// bounded whatever clients write. Snapshot and Restore copy memories as
// plain data; SaveState and LoadState keep the retentive part in a file.
//
// Fault rules (SetFaults, ParseFaultRule) inject delays, drops, duplicates,
// split or coalesced answers, wrong transaction ids, unit ids and function
// codes, short answers, bad byte counts, junk bytes, exceptions, FIN/RST
// closes, a paused accept loop and reboots (Reboot), into the requests they
// match by unit, function, address range, quantity, position on the
// connection, time window and a seeded probability, to prove that clients
// recover. The decision is pure (FaultRule.Matches, faults.go); the
// connection code only carries it out (faultexec.go, faultlisten.go).
//
// Connections (server.go, lifecycle.go): at MaxConns a new connection
// evicts the one unused longest [IG §4.2.1 p.11]; graceful closes drain to
// the peer's FIN within DrainTimeout; every reset is counted by ResetReason
// in Stats.ResetsBy; Shutdown honours its ctx; per-connection log lines are
// rate-limited (Config.LogLimit) and summarised; Connections lists what is
// open. The hostile-input suite is package simulator/hostile.
//
// Observer (Config.Observer, observe.go) is told of every request, client
// write, connection, reset and injected fault from where Stats counts them;
// package simulator/admin builds plcsim's metrics, write journal and HTTP
// control API on it. Unset, it costs a nil check.
//
//	srv, err := simulator.New(simulator.Config{Listen: "127.0.0.1:0"})
//	if err != nil { ... }
//	srv.SetHoldingRegisters(100, 1234)
//	err = srv.ListenAndServe(ctx) // until ctx ends, then a graceful shutdown
//
// Tests use package simtest, which starts one on 127.0.0.1:0.
package simulator
