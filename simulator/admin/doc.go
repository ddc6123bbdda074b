// Package admin is plcsim's control plane over HTTP: a JSON API to read and
// set the simulator's tables, replace its fault rules and take or restore its
// state while it serves; a journal of every write a Modbus client made;
// Prometheus metrics; and a live page. It sits on the simulator's public API
// and its Observer seam, and is the only package that imports client_golang.
//
//	a, err := admin.New(admin.Options{Token: token})
//	if err != nil { ... }
//	srv, err := simulator.New(simulator.Config{Observer: a})
//	if err != nil { ... }
//	ln, err := admin.Listen("127.0.0.1:8080")
//	if err != nil { ... }
//	go a.Serve(ctx, ln, a.Handler(srv))
//	err = srv.ListenAndServe(ctx)
//	a.Close() // flushes the journal file
//
// The routes are documented by openapi.json beside this file, served at
// /api/openapi.json; a test checks the document against the handlers.
package admin
