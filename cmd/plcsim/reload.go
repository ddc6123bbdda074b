package main

import (
	"context"
	"fmt"
	"os"

	"github.com/rs/zerolog"

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

// reloadFaults replaces the file's rules (after the --fault rules, which
// stay) of every server in srvs (the devices served) each time a signal
// arrives on hup, until ctx ends. A file that does
// not load keeps the rules in force and logs why, with the line number.
func reloadFaults(ctx context.Context, hup <-chan os.Signal, srvs []*simulator.Server, path string,
	fixed []simulator.FaultRule, log *zerolog.Logger) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
		}
		rules, err := loadFaultFile(path)
		if err != nil {
			log.Error().Err(err).Int("rules", len(srvs[0].Faults())).Msg("fault rules not reloaded; the old rules stay")
			continue
		}
		all := append(append([]simulator.FaultRule(nil), fixed...), rules...)
		for _, srv := range srvs {
			srv.SetFaults(all...) // each server its own counters
		}
		e := log.Info().Str("file", path).Int("rules", len(all))
		for i, r := range all {
			e = e.Str(fmt.Sprintf("rule_%d", i+1), r.String())
		}
		e.Msg("fault rules reloaded")
	}
}
