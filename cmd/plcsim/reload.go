package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"slices"
	"syscall"

	"github.com/rs/zerolog"

	"github.com/plcctl/plcctl/access"
	"github.com/plcctl/plcctl/internal/limitfile"
	"github.com/plcctl/plcctl/plant"
	"github.com/plcctl/plcctl/simulator"
)

// maxFaultFile bounds a --fault-file: rules are lines of tens of bytes,
// and every rule read is kept, so a wrong file (a log, /dev/urandom) would
// fill memory.
const maxFaultFile = 1 << 20

// loadFaultFile reads a --fault-file: one rule per line, # comments.
func loadFaultFile(path string) ([]simulator.FaultRule, error) {
	b, err := limitfile.Read(path, maxFaultFile)
	if errors.As(err, new(*limitfile.TooLargeError)) {
		return nil, fmt.Errorf("--fault-file: %w, more than a fault file may have", err)
	}
	if err != nil {
		return nil, fmt.Errorf("--fault-file: %w", err)
	}
	rules, err := simulator.ParseFaultRules(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("--fault-file %s: %w", path, err)
	}
	return rules, nil
}

// reloader is what SIGHUP reloads on every server in srvs (the devices
// served): the --fault-file's rules (after the fixed ones: --fault and the
// plant's, which stay) and the role rules (--read-only still added): the
// --access file's, else the plant file's access: sections, each server
// those of its device (devices[i] names srvs[i]'s). A file that does not
// load keeps what is in force and logs why, with its line.
type reloader struct {
	srvs       []*simulator.Server
	faultFile  string
	fixed      []simulator.FaultRule
	accessFile string
	served     servedUnits // the units served, that --access must fit
	plantFile  string
	devices    []string
	readOnly   bool
	log        *zerolog.Logger
}

// active reports whether there is a file to reload.
func (r *reloader) active() bool {
	return r.faultFile != "" || r.accessFile != "" || r.plantFile != ""
}

// watch handles SIGHUP from now until ctx ends (stop ends it sooner): each
// one reloads what there is to reload, and with nothing to reload it is
// logged and the server goes on. Go's default for SIGHUP ends the process
// (status 129, no "plcsim stopped" line, the state file not saved since
// its last interval): a "kill -HUP" meant to reload, sent to a plcsim
// started without --fault-file, --access or a plant file, killed it.
func (r *reloader) watch(ctx context.Context) (stop func()) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	go r.loop(ctx, hup)
	return func() { signal.Stop(hup) }
}

// loop reloads each time a signal arrives on hup, until ctx ends.
func (r *reloader) loop(ctx context.Context, hup <-chan os.Signal) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
		}
		if !r.active() {
			r.log.Warn().Msg("SIGHUP: nothing to reload (no --fault-file, --access or plant file); still serving")
			continue
		}
		if r.faultFile != "" {
			r.reloadFaults()
		}
		if r.accessFile != "" || r.plantFile != "" {
			r.reloadAccess()
		}
	}
}

func (r *reloader) reloadFaults() {
	rules, err := loadFaultFile(r.faultFile)
	if err != nil {
		r.log.Error().Err(err).Int("rules", len(r.srvs[0].Faults())).Msg("fault rules not reloaded; the old rules stay")
		return
	}
	all := append(append([]simulator.FaultRule(nil), r.fixed...), rules...)
	for _, srv := range r.srvs {
		srv.SetFaults(all...) // each server its own counters
	}
	e := r.log.Info().Str("file", r.faultFile).Int("rules", len(all))
	for i, rule := range all {
		e = e.Str(fmt.Sprintf("rule_%d", i+1), rule.String())
	}
	e.Msg("fault rules reloaded")
}

// reloadAccess replaces every server's policy with the --access file's,
// or with its device's from the plant file, as a whole: the file is parsed
// and every policy validated before any server gets one, and each server
// swaps its policy in one step (Server.SetPolicy), so a request is judged
// by the old rules or the new, never a mix.
func (r *reloader) reloadAccess() {
	file := r.accessFile
	var pols []access.Policy
	var err error
	if file != "" {
		var pol access.Policy
		if pol, err = loadAccessPolicy(file, r.served, r.readOnly); err == nil {
			pols = slices.Repeat([]access.Policy{pol}, len(r.srvs))
		}
	} else {
		file = r.plantFile
		pols, err = plantPolicies(file, r.devices, r.readOnly)
	}
	for i := 0; err == nil && i < len(r.srvs); i++ {
		err = r.srvs[i].SetPolicy(pols[i]) // validated: cannot fail, but never leave it unsaid
	}
	if err != nil {
		r.log.Error().Str("access", file).Msg("access rules not reloaded, the old rules stay: " + firstProblem(err))
		return
	}
	if r.accessFile != "" && len(pols) > 0 { // one file, the same rules for every device
		r.log.Info().Str("access", file).Int("rules", len(pols[0].Rules)).Bool("read_only", pols[0].ReadOnly).Msg("access rules reloaded")
		return
	}
	for i, pol := range pols {
		r.log.Info().Str("access", file).Str("device", r.devices[i]).
			Int("rules", len(pol.Rules)).Bool("read_only", pol.ReadOnly).Msg("access rules reloaded")
	}
}

// plantPolicies reads the plant file again for the policy of each device
// named: its own access: section, else the plant's, else none (the
// default rules), with --read-only (readOnly) added. Nothing else of the
// file is taken, but the whole file must load.
func plantPolicies(path string, devices []string, readOnly bool) ([]access.Policy, error) {
	p, err := plant.Load(path)
	if err != nil {
		return nil, err
	}
	pols := make([]access.Policy, len(devices))
	for i, name := range devices {
		d := p.Device(name)
		if d == nil {
			return nil, fmt.Errorf("%s: device %s is served but no longer in the file (it has %s): its rules cannot be found", path, name, deviceNames(p))
		}
		rules := p.AccessFor(d)
		if rules == nil {
			pols[i] = access.Policy{ReadOnly: readOnly}
			continue
		}
		if pols[i], err = policyFrom(rules, readOnly); err != nil {
			return nil, err
		}
	}
	return pols, nil
}

// loadAccessPolicy reads an --access file as the policy to serve, with
// --read-only (readOnly) added to the file's read_only; its grants must
// fit what is served (s), as checkAccessFits says.
func loadAccessPolicy(path string, s servedUnits, readOnly bool) (access.Policy, error) {
	rules, err := plant.LoadAccess(path)
	if err != nil {
		return access.Policy{}, err
	}
	if err := accessFits(rules, s); err != nil {
		return access.Policy{}, err
	}
	return policyFrom(rules, readOnly)
}

// policyFrom is the policy rules give, with --read-only (readOnly) added to
// their read_only, validated.
func policyFrom(rules *plant.AccessRules, readOnly bool) (access.Policy, error) {
	pol := rules.Policy()
	pol.ReadOnly = pol.ReadOnly || readOnly
	if err := pol.Validate(); err != nil {
		// Each line names its rule's file:line (Rule.Source); a prefix
		// would be on the first line only.
		return access.Policy{}, err
	}
	return pol, nil
}

// firstProblem is err on one line: a file's first problem (with its
// file:line:col) and how many more there are.
func firstProblem(err error) string {
	var es plant.Errors
	if errors.As(err, &es) && len(es) > 0 {
		s := es[0].Error()
		if len(es) > 1 {
			s += fmt.Sprintf(" (and %d more problems)", len(es)-1)
		}
		return s
	}
	return err.Error()
}
