// Package bench compares plcctl's client with goburrow/modbus v0.1.0 and
// libmodbus in the same run, against one plcsim started as a separate
// process on 127.0.0.1, so that the results are ratios between clients
// rather than absolute numbers from a noisy machine:
//
//	bash bench/compare.sh   # 10 interleaved rounds on CPU 0, then benchstat
//
// Each benchmark has one sub-benchmark per client (client=plcctl,
// client=goburrow, client=libmodbus, and for the parallel one
// client=plcctl-pipelined) doing the same Modbus work on one persistent
// connection: reading 10 and 125 holding registers (FC 3), writing 10
// (FC 16), and many goroutines reading through one shared client. Each
// reports req/s besides ns/op and, for the Go clients, allocs/op, so that
// `benchstat -col /client` puts the clients side by side.
//
// The libmodbus client is a small C program, testdata/libmodbus_bench.c
// (under testdata because the go tool refuses .c files in a package that
// does not use cgo), built with gcc and pkg-config when first needed;
// without libmodbus-dev its sub-benchmarks are skipped.
//
// The package holds no library code: everything is in its _test.go files.
// TestPeersAgree only checks that every client reads and writes the right
// values; nothing here asserts anything about time. README.md explains the
// method (why a separate plcsim, why rounds instead of -count, why pinning)
// and holds measured results.
package bench
