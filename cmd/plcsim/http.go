package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"strings"

	"github.com/rs/zerolog"

	"github.com/plcctl/plcctl/plant"
	"github.com/plcctl/plcctl/simulator"
	"github.com/plcctl/plcctl/simulator/admin"
)

// tokenEnv is read when --http-token is not given, so the token need not
// show in the process list.
const tokenEnv = "PLCSIM_HTTP_TOKEN"

// control is plcsim's HTTP side (--http) and journal (--journal): the admin
// package observes the simulator from before it serves.
type control struct {
	adm    *admin.Admin
	file   *os.File     // --journal, or nil
	ln     net.Listener // --http, or nil
	log    *zerolog.Logger
	cancel context.CancelFunc
	done   chan error
}

// newControl opens the journal file and binds the HTTP address; nothing is
// served yet. It returns nil when neither is asked for. tags are the served
// plant device's tags (nil without --plant), shown by name.
func newControl(httpAddr, token, journal string, tags []*plant.Tag, log *zerolog.Logger) (*control, error) {
	if httpAddr == "" && journal == "" {
		return nil, nil
	}
	if token == "" {
		token = os.Getenv(tokenEnv)
	}
	c := &control{log: log}
	opts := admin.Options{Token: token, Tags: tags, Logger: log}
	if journal != "" {
		f, err := os.OpenFile(journal, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
		if err != nil {
			return nil, fmt.Errorf("--journal: %w", err)
		}
		c.file, opts.Journal = f, f
	}
	var err error
	if c.adm, err = admin.New(opts); err != nil {
		c.closeFile()
		return nil, err
	}
	if httpAddr != "" {
		if !strings.Contains(httpAddr, ":") {
			httpAddr = ":" + httpAddr // a port alone: loopback
		}
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

// observe installs the admin as the simulator's observer.
func (c *control) observe(cfg *simulator.Config) {
	if c != nil {
		cfg.Observer = c.adm
	}
}

// serve starts the HTTP side for srv.
func (c *control) serve(ctx context.Context, srv *simulator.Server) {
	if c == nil || c.ln == nil {
		return
	}
	ctx, c.cancel = context.WithCancel(ctx)
	c.done = make(chan error, 1)
	h := c.adm.Handler(srv)
	go func() { c.done <- c.adm.Serve(ctx, c.ln, h) }()
	c.log.Info().Str("addr", c.ln.Addr().String()).Str("page", "http://"+c.ln.Addr().String()+"/").Msg("plcsim http ready")
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
	c.adm.Close()
	c.closeFile()
}

func (c *control) closeFile() {
	if c.file != nil {
		if err := c.file.Close(); err != nil {
			c.log.Error().Err(err).Msg("--journal: close")
		}
	}
}
