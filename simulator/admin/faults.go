package admin

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/plcctl/plcctl/simulator"
)

// faultEntry is one rule as the API shows it: a rule switched off stays in
// the list but is not given to the server.
type faultEntry struct {
	Rule    simulator.FaultRule
	Enabled bool
}

// faultJSON is a rule on the wire: its --fault text and its switch.
type faultJSON struct {
	Index   int    `json:"index"`
	Rule    string `json:"rule"`
	Enabled bool   `json:"enabled"`
}

// ruleText is the --fault text of r; ParseFaultRule(ruleText(r)) == r.
func ruleText(r simulator.FaultRule) string {
	var b strings.Builder
	b.WriteString("action=" + r.Action.String())
	if r.Function != 0 {
		b.WriteString(",fc=" + strconv.Itoa(int(r.Function)))
	}
	if r.After != 0 {
		b.WriteString(",after=" + strconv.Itoa(r.After))
	}
	if r.Count != 0 {
		b.WriteString(",count=" + strconv.Itoa(r.Count))
	}
	if r.Delay != 0 {
		b.WriteString(",delay=" + r.Delay.String())
	}
	if r.Exception != 0 {
		b.WriteString(",exception=" + strconv.Itoa(int(r.Exception)))
	}
	return b.String()
}

func (a *Admin) faultList() []faultJSON {
	a.faultMu.Lock()
	defer a.faultMu.Unlock()
	out := make([]faultJSON, len(a.faults))
	for i, f := range a.faults {
		out[i] = faultJSON{Index: i, Rule: ruleText(f.Rule), Enabled: f.Enabled}
	}
	return out
}

// setFaults replaces the list and gives the server the rules switched on.
// The server starts every rule's after/count afresh.
func (a *Admin) setFaults(list []faultEntry) {
	a.faultMu.Lock()
	defer a.faultMu.Unlock()
	a.applyLocked(list)
}

func (a *Admin) applyLocked(list []faultEntry) {
	a.faults = list
	a.faultVer++
	var on []simulator.FaultRule
	for _, f := range list {
		if f.Enabled {
			on = append(on, f.Rule)
		}
	}
	a.srv.SetFaults(on...)
}

func (a *Admin) getFaults(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"rules": a.faultList()})
}

type faultsBody struct {
	Rules []struct {
		Rule    string `json:"rule"`
		Enabled *bool  `json:"enabled"` // default true
	} `json:"rules"`
}

// putFaults replaces the rules: a JSON body {"rules":[{"rule":"action=...",
// "enabled":true}]}, or a text/plain body of --fault rules, one a line
// (blank lines and # comments skipped).
func (a *Admin) putFaults(w http.ResponseWriter, r *http.Request) {
	list, err := a.readFaults(w, r)
	if err != nil {
		fail(w, err)
		return
	}
	a.setFaults(list)
	a.log.Info().Str("remote", r.RemoteAddr).Int("rules", len(list)).Msg("admin: fault rules replaced")
	a.getFaults(w, r)
}

func (a *Admin) readFaults(w http.ResponseWriter, r *http.Request) ([]faultEntry, error) {
	list := []faultEntry{}
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct == "text/plain" {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
		if err != nil {
			return nil, err
		}
		sc := bufio.NewScanner(bytes.NewReader(body))
		sc.Buffer(nil, maxBody)
		for n := 1; sc.Scan(); n++ {
			line := strings.TrimSpace(sc.Text())
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			rule, err := simulator.ParseFaultRule(line)
			if err != nil {
				return nil, badField(fmt.Sprintf("line %d", n), "%v", err)
			}
			list = append(list, faultEntry{Rule: rule, Enabled: true})
		}
		return list, nil
	}
	var body faultsBody
	if err := decodeBody(w, r, maxBody, &body); err != nil {
		return nil, err
	}
	if body.Rules == nil {
		return nil, badField("rules", "missing: want a list of rules (an empty list clears them)")
	}
	for i, f := range body.Rules {
		rule, err := simulator.ParseFaultRule(f.Rule)
		if err != nil {
			return nil, badField(fmt.Sprintf("rules[%d].rule", i), "%v", err)
		}
		list = append(list, faultEntry{Rule: rule, Enabled: f.Enabled == nil || *f.Enabled})
	}
	return list, nil
}

func (a *Admin) deleteFaults(w http.ResponseWriter, r *http.Request) {
	a.setFaults(nil)
	a.log.Info().Str("remote", r.RemoteAddr).Msg("admin: fault rules cleared")
	w.WriteHeader(http.StatusNoContent)
}

// putFault switches one rule on or off: {"enabled": false}.
func (a *Admin) putFault(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Enabled *bool `json:"enabled"`
	}
	if err := decodeBody(w, r, maxBody, &body); err != nil {
		fail(w, err)
		return
	}
	if body.Enabled == nil {
		fail(w, badField("enabled", "missing: want true or false"))
		return
	}
	a.faultMu.Lock()
	i, err := strconv.Atoi(r.PathValue("index"))
	if err != nil || i < 0 || i >= len(a.faults) {
		n := len(a.faults)
		a.faultMu.Unlock()
		writeError(w, http.StatusNotFound, "index", fmt.Sprintf("index: %q: there are %d rules (0..%d)", r.PathValue("index"), n, n-1))
		return
	}
	list := append([]faultEntry(nil), a.faults...)
	list[i].Enabled = *body.Enabled
	a.applyLocked(list)
	a.faultMu.Unlock()
	a.log.Info().Str("remote", r.RemoteAddr).Int("index", i).Bool("enabled", *body.Enabled).Msg("admin: fault rule switched")
	a.getFaults(w, r)
}
