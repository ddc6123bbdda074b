package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"

	"github.com/rs/zerolog"

	"github.com/plcctl/plcctl/plant"
	"github.com/plcctl/plcctl/simulator"
	"github.com/plcctl/plcctl/simulator/admin"
)

// tokenEnv is read when --http-token is not given, so the token need not
// show in the process list.
const tokenEnv = "PLCSIM_HTTP_TOKEN"

// control is plcsim's HTTP side (--http) and journal (--journal): the admin
// package observes each simulator from before it serves, one Admin per
// device.
type control struct {
	adms   []*admin.Admin
	names  []string     // the devices' names, with several
	file   *os.File     // --journal, or nil
	ln     net.Listener // --http, or nil
	log    *zerolog.Logger
	cancel context.CancelFunc
	done   chan error
}

// ctlDevice is what the control side needs of one device served: its name
// (with several), its plant tags (nil without --plant) and its logger.
type ctlDevice struct {
	name string
	tags []*plant.Tag
	log  *zerolog.Logger
}

// newControl opens the journal file and binds the HTTP address; nothing is
// served yet. It returns nil when neither is asked for. devs are the
// devices served (one without a plant): each gets its Admin; with several,
// they share the journal file, each entry naming its device.
// checkHTTPAddress refuses an --http value whose port is not a number, as
// --listen does, before anything is started: the listener's own error
// named the value with a ":" the user did not type and Go's words
// ("--http :abc: admin: listen tcp: lookup tcp/abc: unknown port", exit 1).
func checkHTTPAddress(s string) error {
	addr := s
	if !strings.Contains(addr, ":") {
		addr = ":" + addr // a port alone
	}
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("--http %q: want PORT, :PORT or HOST:PORT", s)
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return fmt.Errorf("--http %q: port %q is not a number 0..65535", s, port)
	}
	return nil
}

func newControl(httpAddr, token, journal string, devs []ctlDevice, log *zerolog.Logger) (*control, error) {
	if httpAddr == "" && journal == "" {
		return nil, nil
	}
	if token == "" {
		token = os.Getenv(tokenEnv)
	}
	c := &control{log: log}
	if journal != "" {
		f, err := os.OpenFile(journal, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
		if err != nil {
			return nil, fmt.Errorf("--journal: %w", err)
		}
		c.file = f
	}
	shared := &sharedFile{w: c.file}
	for _, d := range devs {
		opts := admin.Options{Token: token, Tags: d.tags, Logger: d.log}
		switch {
		case c.file != nil && len(devs) == 1:
			opts.Journal = c.file
		case c.file != nil:
			opts.Journal, opts.Device = &lineWriter{f: shared}, d.name
		}
		adm, err := admin.New(opts)
		if err != nil {
			c.closeFile()
			return nil, err
		}
		c.adms, c.names = append(c.adms, adm), append(c.names, d.name)
	}
	if httpAddr != "" {
		if !strings.Contains(httpAddr, ":") {
			httpAddr = ":" + httpAddr // a port alone: loopback
		}
		var err error
		if c.ln, err = admin.Listen(httpAddr); err != nil {
			c.closeFile()
			return nil, fmt.Errorf("--http %s: %w", httpAddr, err)
		}
		if !admin.IsLoopback(c.ln.Addr()) && token == "" {
			log.Warn().Str("addr", c.ln.Addr().String()).Msg("control API reachable from other machines without --http-token: anyone there can change the simulator")
		}
	}
	return c, nil
}

// observe installs device i's admin as its simulator's observer.
func (c *control) observe(i int, cfg *simulator.Config) {
	if c != nil {
		cfg.Observer = c.adms[i]
	}
}

// serve starts the HTTP side for srvs, device i's server srvs[i]: one
// device at /, several each under /devices/NAME/, listed with their
// listeners' addresses lns (bound, perhaps not served yet).
func (c *control) serve(ctx context.Context, srvs []*simulator.Server, lns []net.Listener) error {
	if c == nil || c.ln == nil {
		return nil
	}
	var h http.Handler
	if len(srvs) == 1 {
		h = c.adms[0].Handler(srvs[0])
	} else {
		devs := make([]admin.Device, len(srvs))
		for i, srv := range srvs {
			devs[i] = admin.Device{Name: c.names[i], Admin: c.adms[i], Server: srv, Addr: lns[i].Addr().String()}
		}
		var err error
		if h, err = admin.DevicesHandler(devs); err != nil {
			return fmt.Errorf("--http: %w", err)
		}
	}
	ctx, c.cancel = context.WithCancel(ctx)
	c.done = make(chan error, 1)
	go func() { c.done <- c.adms[0].Serve(ctx, c.ln, h) }()
	c.log.Info().Str("addr", c.ln.Addr().String()).Str("page", "http://"+c.ln.Addr().String()+"/").Int("devices", len(srvs)).Msg("plcsim http ready")
	return nil
}

// addr is the HTTP side's address, "" without --http.
func (c *control) addr() string {
	if c == nil || c.ln == nil {
		return ""
	}
	return c.ln.Addr().String()
}

// stop ends the HTTP side and flushes the journal.
func (c *control) stop() {
	if c == nil {
		return
	}
	if c.cancel != nil {
		c.cancel()
		if err := <-c.done; err != nil {
			c.log.Warn().Err(err).Msg("http shutdown")
		}
	} else if c.ln != nil {
		c.ln.Close()
	}
	for _, a := range c.adms {
		a.Close()
	}
	c.closeFile()
}

func (c *control) closeFile() {
	if c.file != nil {
		if err := c.file.Close(); err != nil {
			c.log.Error().Err(err).Msg("--journal: close")
		}
	}
}

// sharedFile is a journal file that several devices' admins write to.
type sharedFile struct {
	mu sync.Mutex
	w  io.Writer
}

// lineWriter is one admin's way into a sharedFile: it keeps a partial
// line until its end arrives, then writes whole lines under the file's
// lock, so that two devices' entries never interleave within a line. One
// goroutine writes to it (the admin's journal writer).
type lineWriter struct {
	f   *sharedFile
	buf []byte
}

func (l *lineWriter) Write(p []byte) (int, error) {
	l.buf = append(l.buf, p...)
	i := bytes.LastIndexByte(l.buf, '\n')
	if i < 0 {
		return len(p), nil
	}
	l.f.mu.Lock()
	_, err := l.f.w.Write(l.buf[:i+1])
	l.f.mu.Unlock()
	l.buf = l.buf[:copy(l.buf, l.buf[i+1:])]
	return len(p), err
}
