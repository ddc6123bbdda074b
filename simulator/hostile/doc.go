// Package hostile is plcsim's hostile-input suite, tests only: each attack
// (10,000 idle connections, slowloris beyond max conns, random bytes on many
// connections, a pipelined flood never read back) runs against a real plcsim
// process while a fresh client must be answered within 1 s; the process's
// descriptors, memory and log are measured (issue 8, README "Under attack").
//
// PLCSIM_BIN=path runs the suite against that binary instead of one built
// from this tree (to measure another version).
package hostile
