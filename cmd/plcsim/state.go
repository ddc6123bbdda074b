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
	"time"

	"github.com/rs/zerolog"

	"github.com/plcctl/plcctl/simulator"
)

// stateKeeper keeps the retentive memory in a state file (--state): loaded
// at start, saved atomically at an interval when it changed, and on
// shutdown.
type stateKeeper struct {
	path, fingerprint string
	srv               *simulator.Server
	log               *zerolog.Logger
	last              []byte        // the retentive contents last saved, as JSON
	pause             time.Duration // PLCSIM_TEST_SAVE_PAUSE: between write and rename, for crash tests
}

// openState marks what is retentive (every memory's coils and holding
// registers, unless the plant marked tags already), then restores the
// state file if there is one. A file of another plant or a corrupt one is
// an error: plcsim does not start rather than lose or mix up state.
func openState(path string, srv *simulator.Server, extra string, log *zerolog.Logger) (*stateKeeper, error) {
	for _, m := range srv.Memories() {
		if m.Retentive() == nil {
			c, _, h, _ := m.Layout()
			m.SetRetentive(&simulator.Selection{Coils: c, HoldingRegisters: h})
		}
	}
	k := &stateKeeper{path: path, fingerprint: srv.Fingerprint(extra), srv: srv, log: log}
	k.pause, _ = time.ParseDuration(os.Getenv("PLCSIM_TEST_SAVE_PAUSE"))
	if err := checkStatePath(path); err != nil {
		return nil, err
	}
	simulator.RemoveStaleStateTemps(path)
	snap, ok, err := simulator.LoadState(path, k.fingerprint)
	if err != nil {
		return nil, fmt.Errorf("--state: %s", strings.TrimPrefix(err.Error(), "simulator: "))
	}
	if !ok {
		log.Info().Str("state", path).Msg("no state file yet: starting with the configured memory")
		return k, nil
	}
	if err := srv.RestoreRetentive(snap); err != nil {
		return nil, fmt.Errorf("--state %s: %w", path, err)
	}
	k.last, _ = json.Marshal(snap)
	log.Info().Str("state", path).Int("memories", len(snap.Units)).Msg("retentive memory restored from the state file")
	return k, nil
}

// checkStatePath refuses a state file that could never be saved: a
// directory, or a file in a directory that does not exist or cannot be
// written. Found only at the first save, such a file lost the memory: plcsim
// served for hours and logged "cannot save state" at shutdown.
func checkStatePath(path string) error {
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return fmt.Errorf("--state %s: it is a directory; give the state file's name (e.g. %s)", path, filepath.Join(path, "plcsim.state"))
	}
	dir := filepath.Dir(path)
	// A save writes a temporary file next to path, then renames it: try the
	// first half (the name is one RemoveStaleStateTemps removes).
	if why := cannotCreateIn(dir, path); why != "" {
		return fmt.Errorf("--state %s: cannot save it: %s", path, why)
	}
	return nil
}

// cannotCreateIn tries to create a temporary file beside path in dir, as
// an atomic write does, and says why it cannot ("" when it can).
func cannotCreateIn(dir, path string) string {
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	switch {
	case err == nil:
		tmp.Close()
		os.Remove(tmp.Name())
		return ""
	case errors.Is(err, fs.ErrNotExist):
		return "directory " + dir + " does not exist"
	case errors.Is(err, fs.ErrPermission):
		return "directory " + dir + " is not writable"
	}
	return strings.TrimPrefix(err.Error(), "open ")
}

// save writes the state file when the retentive memory changed since the
// last save.
func (k *stateKeeper) save() error {
	snap := k.srv.RetentiveSnapshot()
	b, err := json.Marshal(snap)
	if err != nil {
		return err
	}
	if k.last != nil && string(b) == string(k.last) {
		return nil
	}
	commit, err := simulator.PrepareState(k.path, k.fingerprint, snap)
	if err != nil {
		return err
	}
	if k.pause > 0 {
		time.Sleep(k.pause) // tests: a save caught between write and rename
	}
	if err := commit(); err != nil {
		return err
	}
	k.last = b
	if e := k.log.Debug(); e.Enabled() {
		e.Str("state", k.path).Int("bytes", len(b)).Msg("state saved")
	}
	return nil
}

// loop saves every interval until ctx ends.
func (k *stateKeeper) loop(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := k.save(); err != nil {
				k.log.Error().Err(err).Str("state", k.path).Msg("cannot save state; will retry")
			}
		}
	}
}
