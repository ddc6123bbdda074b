// Package reliability holds no code, only tests: the proof, in make test,
// that plcctl's client keeps its promises under every fault plcsim can
// inject.
//
// The matrix (matrix_test.go) runs every fault action against reads and
// writes with one and with eight requests in flight, each caller on its own
// address with its own value, so an answer routed to the wrong caller
// cannot hide: the faulted request fails with the error kind the README's
// fault table promises, the next request succeeds, no caller ever gets a
// value that is not its own, and a write reaches plcsim at most once.
//
// The soak (soak_test.go) runs 32 clients against random faults at a fixed
// seed while plcsim is killed, stopped and restarted, and checks that every
// confirmed write is in plcsim's memory and that goroutines and file
// descriptors come back to their baseline.
package reliability
