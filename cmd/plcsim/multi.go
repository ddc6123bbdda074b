package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/plcctl/plcctl/simulator"
)

// serveDevices serves every device of a plant file at once, each from its
// own simulator on its own address (runs holds at least two): all
// listeners are bound before any serves, so when the first "plcsim ready"
// line is logged every device accepts connections. A device that cannot
// listen stops the start (exit 1, nothing served); one whose server fails
// stops the others. ctx ending shuts every device down gracefully, in
// parallel; then each device's --state file is saved.
func serveDevices(ctx context.Context, runs []*plantRun, o multiOptions, log *zerolog.Logger, stderr io.Writer) int {
	if o.statePath != "" && o.stateEvery <= 0 {
		fmt.Fprintf(stderr, "plcsim: --state-interval %v: want a positive duration\n", o.stateEvery)
		return exitUsage
	}
	devs := make([]device, len(runs))
	srvs := make([]*simulator.Server, len(runs))
	cds := make([]ctlDevice, len(runs))
	for i, r := range runs {
		cds[i] = ctlDevice{name: r.dev.Name, tags: r.dev.Tags, log: r.cfg.Logger}
	}
	ctl, err := newControl(o.httpAddr, o.httpToken, o.journal, cds, log)
	if err != nil {
		fmt.Fprintf(stderr, "plcsim: %v\n", err)
		return exitFailure
	}
	defer ctl.stop()
	if err := o.sec.checkAccessFits(servedUnits{runs: runs}); err != nil { // against every device served, as the plant's own access: is
		fmt.Fprintf(stderr, "plcsim: %v\n", err)
		return exitUsage
	}
	for i, r := range runs {
		ctl.observe(i, &r.cfg)
		if err := o.sec.applyAccess(&r.cfg, r, r.cfg.Logger); err != nil {
			fmt.Fprintf(stderr, "plcsim: device %s: %v\n", r.dev.Name, err)
			return exitUsage
		}
		srv, err := simulator.New(r.cfg)
		if err == nil {
			err = preload(device{r.dev, srv})
		}
		if err != nil {
			fmt.Fprintf(stderr, "plcsim: device %s: %v\n", r.dev.Name, err)
			return exitUsage
		}
		devs[i], srvs[i] = device{r.dev, srv}, srv
	}
	keepers := make([]*stateKeeper, 0, len(runs))
	for i, r := range runs {
		if o.statePath == "" {
			break
		}
		k, err := openState(statePathOf(o.statePath, r.dev.Name), srvs[i], r.fingerprint(), r.cfg.Logger)
		if err != nil {
			fmt.Fprintf(stderr, "plcsim: device %s: %v\n", r.dev.Name, err)
			return exitFailure
		}
		keepers = append(keepers, k)
	}
	lns := make([]net.Listener, 0, len(runs))
	for i, srv := range srvs {
		ln, err := srv.Listen()
		if err != nil {
			for _, l := range lns {
				l.Close()
			}
			fmt.Fprintf(stderr, "plcsim: device %s: %v; no device is served\n", runs[i].dev.Name, err)
			return exitFailure
		}
		lns = append(lns, ln)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer o.sec.reloader(srvs, servedUnits{runs: runs}, o.faultFile, o.fixed, log).watch(ctx)()
	var savers sync.WaitGroup
	for _, k := range keepers {
		savers.Add(1)
		go func() { defer savers.Done(); k.loop(ctx, o.stateEvery) }()
	}
	p := runs[0].p
	if err := animate(ctx, p, devs, runs[0].scan, log); err != nil {
		for _, l := range lns {
			l.Close()
		}
		fmt.Fprintf(stderr, "plcsim: %v\n", err)
		return exitUsage
	}
	if err := ctl.serve(ctx, srvs, lns); err != nil {
		for _, l := range lns {
			l.Close()
		}
		fmt.Fprintf(stderr, "plcsim: %v\n", err)
		return exitUsage
	}
	names := make([]string, len(runs))
	for i, r := range runs {
		names[i] = r.dev.Name
	}
	o.ready.start(ctx, srvs, names, ctl.addr(), log)
	defer o.ready.remove()
	errs := make([]error, len(srvs))
	var wg sync.WaitGroup
	for i, srv := range srvs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = serveUntil(ctx, srv, lns[i], runs[i].cfg.DrainTimeout)
			cancel() // one device failing stops the others
		}()
	}
	wg.Wait()
	savers.Wait()
	code := exitOK
	for _, k := range keepers {
		if err := k.save(); err != nil {
			k.log.Error().Err(err).Str("state", k.path).Msg("cannot save state at shutdown")
			code = exitFailure
			continue
		}
		k.log.Info().Str("state", k.path).Msg("state saved")
	}
	failed := false
	for i, err := range errs {
		if err != nil {
			runs[i].cfg.Logger.Error().Err(err).Msg("plcsim failed")
			failed = true
		}
		logStopped(runs[i].cfg.Logger, srvs[i])
	}
	if failed {
		fmt.Fprintf(stderr, "plcsim: a device failed, so every device of %s was stopped\n", p.File)
		return exitFailure
	}
	return code
}

// multiOptions are the command line's settings serveDevices needs beyond
// each device's configuration.
type multiOptions struct {
	sec                 *securityFlags
	faultFile           string
	fixed               []simulator.FaultRule // the rules a --fault-file reload keeps
	httpAddr, httpToken string
	journal             string // --journal: one file, each entry naming its device
	statePath           string // --state: one file per device, statePathOf
	stateEvery          time.Duration
	ready               *readyFile // --ready-file, or nil
}

// statePathOf is device name's state file with --state path and several
// devices: path.NAME, a / in the name written % (which a name cannot
// have), so that every device has its own file next to path.
func statePathOf(path, name string) string {
	return path + "." + strings.ReplaceAll(name, "/", "%")
}

// serveUntil serves srv on ln until ctx ends, then shuts it down
// gracefully (bounded by the drain timeout), as ListenAndServe does; nil
// is a clean stop.
func serveUntil(ctx context.Context, srv *simulator.Server, ln net.Listener, drain time.Duration) error {
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	var failed error
	select {
	case failed = <-errc: // not ErrServerClosed: nothing closed it yet
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 2*drain+time.Second)
	defer cancel()
	err := srv.Shutdown(sctx) // the connections it still has close gracefully
	if failed != nil {
		return failed
	}
	if e := <-errc; !errors.Is(e, simulator.ErrServerClosed) && err == nil {
		err = e
	}
	return err
}
