package admin

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

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

func (a *Admin) faultList() []faultJSON {
	a.faultMu.Lock()
	defer a.faultMu.Unlock()
	a.syncLocked()
	out := make([]faultJSON, len(a.faults))
	for i, f := range a.faults {
		out[i] = faultJSON{Index: i, Rule: f.Rule.String(), Enabled: f.Enabled}
	}
	return out
}

// syncLocked adopts the server's rules when they were replaced behind the
// API's back (plcsim's SIGHUP reload of --fault-file): the list is then the
// server's, every rule on.
func (a *Admin) syncLocked() {
	cur := a.srv.Faults()
	i := 0
	same := true
	for _, f := range a.faults {
		if !f.Enabled {
			continue
		}
		if i >= len(cur) || cur[i] != f.Rule {
			same = false
			break
		}
		i++
	}
	if same && i == len(cur) {
		return
	}
	a.faults = a.faults[:0:0]
	for _, r := range cur {
		a.faults = append(a.faults, faultEntry{Rule: r, Enabled: true})
	}
	a.faultVer++
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
		body, err := readBody(w, r, maxBody)
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
		var se *json.SyntaxError
		if errors.As(err, &se) {
			// curl -d sends application/x-www-form-urlencoded: rule lines
			// sent so were refused as bad JSON with no word on why.
			return nil, fmt.Errorf("%w (rules one a line, as --fault-file has them, go with Content-Type: text/plain, not %q)", err, r.Header.Get("Content-Type"))
		}
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

// postReboot power-cycles the simulator: {"for": "2s"} (Server.Reboot).
func (a *Admin) postReboot(w http.ResponseWriter, r *http.Request) {
	var body struct {
		For string `json:"for"`
	}
	if err := decodeBody(w, r, maxBody, &body); err != nil {
		fail(w, err)
		return
	}
	d, err := time.ParseDuration(body.For)
	if err != nil || d <= 0 || d > time.Hour {
		fail(w, badField("for", "%q: want how long the device is down, a duration such as 2s (at most 1h)", body.For))
		return
	}
	a.log.Warn().Str("remote", r.RemoteAddr).Dur("for", d).Msg("admin: reboot")
	a.srv.Reboot(d)
	writeJSON(w, http.StatusAccepted, map[string]string{"status": "rebooting", "for": d.String()})
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
	a.syncLocked()
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
