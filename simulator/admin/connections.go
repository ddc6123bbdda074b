package admin

import (
	"net/http"
	"time"
)

// connJSON is one open Modbus connection on the wire.
type connJSON struct {
	ID           uint64    `json:"id"`
	Remote       string    `json:"remote"`
	Opened       time.Time `json:"opened"`
	AgeSeconds   float64   `json:"age_seconds,omitempty"` // not in the event stream, where it would change every tick
	Requests     uint64    `json:"requests"`
	Responses    uint64    `json:"responses"`
	LastActivity time.Time `json:"last_activity"`
	Draining     bool      `json:"draining"`
	// Modbus/TCP Security: the client certificate's role and subject.
	TLS       bool   `json:"tls,omitempty"`
	Role      string `json:"role,omitempty"`
	RoleError string `json:"role_error,omitempty"`
	Subject   string `json:"subject,omitempty"`
}

// connList returns the open connections, oldest first, with their age
// when withAge.
func (a *Admin) connList(withAge bool) []connJSON {
	now := time.Now()
	cs := a.srv.Connections()
	out := make([]connJSON, len(cs))
	for i, c := range cs {
		out[i] = connJSON{ID: c.ID, Remote: c.Remote, Opened: c.Opened, Requests: c.Requests, Responses: c.Responses,
			LastActivity: c.LastActivity, Draining: c.Draining, TLS: c.TLS, Role: c.Role, RoleError: c.RoleError, Subject: c.Subject}
		if withAge {
			out[i].AgeSeconds = now.Sub(c.Opened).Round(time.Millisecond).Seconds()
		}
	}
	return out
}

func (a *Admin) getConnections(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"connections": a.connList(true)})
}
