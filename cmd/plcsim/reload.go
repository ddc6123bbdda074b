package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/rs/zerolog"

	"github.com/plcctl/plcctl/access"
	"github.com/plcctl/plcctl/plant"
	"github.com/plcctl/plcctl/simulator"
)

// loadFaultFile reads a --fault-file: one rule per line, # comments.
func loadFaultFile(path string) ([]simulator.FaultRule, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("--fault-file: %w", err)
	}
	defer f.Close()
	rules, err := simulator.ParseFaultRules(f)
	if err != nil {
		return nil, fmt.Errorf("--fault-file %s: %w", path, err)
	}
	return rules, nil
}

// reloader is what SIGHUP reloads on every server in srvs (the devices
// served): the --fault-file's rules (after the fixed ones: --fault and the
// plant's, which stay) and the --access file's role rules (--read-only
// still added). A file that does not load keeps what is in force and
// logs why, with its line.
type reloader struct {
	srvs       []*simulator.Server
	faultFile  string
	fixed      []simulator.FaultRule
	accessFile string
	readOnly   bool
	log        *zerolog.Logger
}

// active reports whether there is a file to reload.
func (r *reloader) active() bool { return r.faultFile != "" || r.accessFile != "" }

// loop reloads each time a signal arrives on hup, until ctx ends.
func (r *reloader) loop(ctx context.Context, hup <-chan os.Signal) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
		}
		if r.faultFile != "" {
			r.reloadFaults()
		}
		if r.accessFile != "" {
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
// as a whole: the file is parsed and validated before any server gets it,
// and each server swaps its policy in one step (Server.SetPolicy).
func (r *reloader) reloadAccess() {
	pol, err := loadAccessPolicy(r.accessFile, r.readOnly)
	if err == nil {
		for _, srv := range r.srvs {
			if err = srv.SetPolicy(pol); err != nil {
				break // validated: cannot happen, but never leave it unsaid
			}
		}
	}
	if err != nil {
		r.log.Error().Str("access", r.accessFile).Msg("access rules not reloaded, the old rules stay: " + firstProblem(err))
		return
	}
	r.log.Info().Str("access", r.accessFile).Int("rules", len(pol.Rules)).Bool("read_only", pol.ReadOnly).Msg("access rules reloaded")
}

// loadAccessPolicy reads an --access file as the policy to serve, with
// --read-only (readOnly) added to the file's read_only.
func loadAccessPolicy(path string, readOnly bool) (access.Policy, error) {
	rules, err := plant.LoadAccess(path)
	if err != nil {
		return access.Policy{}, err
	}
	return policyFrom(rules, path, readOnly)
}

// policyFrom is the policy rules give, with --read-only (readOnly) added to
// their read_only, validated; from names where the rules came from.
func policyFrom(rules *plant.AccessRules, from string, readOnly bool) (access.Policy, error) {
	pol := rules.Policy()
	pol.ReadOnly = pol.ReadOnly || readOnly
	if err := pol.Validate(); err != nil {
		return access.Policy{}, fmt.Errorf("%s: %w", from, err)
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
