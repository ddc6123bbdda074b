package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/rs/zerolog"

	"github.com/plcctl/plcctl/simulator"
)

// readyFile is --ready-file: once every device listens (and the HTTP side
// serves), plcsim writes its addresses there as one JSON line, atomically
// (a temporary file renamed), so that a script waiting for the file never
// reads half of it; the file is removed when plcsim exits. It does not
// depend on the log level or format: at --log-level warn there is no
// "plcsim ready" line, and with port 0 nothing else told the port.
type readyFile struct {
	path   string
	cancel context.CancelFunc // ends publish's wait (remove)
	done   chan struct{}      // closed when publish has written the file or given up
}

// readyInfo is the file's content. Modbus is the address with one device,
// a map device name -> address with several, as GET /readyz says.
type readyInfo struct {
	PID    int    `json:"pid"`
	Modbus any    `json:"modbus"`
	HTTP   string `json:"http,omitempty"` // --http's address
}

// openReadyFile removes a file left at path by an earlier run (a script
// must not take it for this one's) and checks that the file can be
// written there, before anything is served.
func openReadyFile(path string) (*readyFile, error) {
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return nil, fmt.Errorf("--ready-file %s: it is a directory; give the file's name (e.g. %s)", path, filepath.Join(path, "plcsim.ready"))
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("--ready-file %s: cannot remove the file of an earlier run: %s", path, strings.TrimPrefix(err.Error(), "remove "+path+": "))
	}
	if why := cannotCreateIn(filepath.Dir(path), path); why != "" {
		return nil, fmt.Errorf("--ready-file %s: cannot write it: %s", path, why)
	}
	return &readyFile{path: path, done: make(chan struct{})}, nil
}

// start publishes the file in the background once every server in srvs is
// ready (names[i] names srvs[i] with several devices); remove ends it.
// Nil (no --ready-file) does nothing.
func (f *readyFile) start(ctx context.Context, srvs []*simulator.Server, names []string, httpAddr string, log *zerolog.Logger) {
	if f == nil {
		return
	}
	ctx, f.cancel = context.WithCancel(ctx)
	go f.publish(ctx, srvs, names, httpAddr, log)
}

// publish waits until every server in srvs is ready, then writes the
// file; a failed write is logged and plcsim goes on serving. ctx ending
// first writes nothing.
func (f *readyFile) publish(ctx context.Context, srvs []*simulator.Server, names []string, httpAddr string, log *zerolog.Logger) {
	defer close(f.done)
	for _, srv := range srvs {
		select {
		case <-srv.Ready():
		case <-ctx.Done():
			return
		}
	}
	info := readyInfo{PID: os.Getpid(), HTTP: httpAddr, Modbus: srvs[0].Addr().String()}
	if len(srvs) > 1 {
		m := make(map[string]string, len(srvs))
		for i, srv := range srvs {
			m[names[i]] = srv.Addr().String()
		}
		info.Modbus = m
	}
	if err := f.write(info); err != nil {
		log.Error().Err(err).Str("ready_file", f.path).Msg("cannot write --ready-file")
	}
}

func (f *readyFile) write(info readyInfo) error {
	b, err := json.Marshal(info)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(f.path), "."+filepath.Base(f.path)+".tmp-*")
	if err != nil {
		return err
	}
	_, err = tmp.Write(append(b, '\n'))
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), f.path)
	}
	if err != nil {
		os.Remove(tmp.Name())
	}
	return err
}

// remove deletes the file at exit, once publish is done with it.
func (f *readyFile) remove() {
	if f == nil || f.cancel == nil {
		return
	}
	f.cancel()
	<-f.done
	os.Remove(f.path)
}
