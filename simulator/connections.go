package simulator

import (
	"cmp"
	"slices"
	"time"
)

// ConnInfo describes one open connection, as Server.Connections reports it.
type ConnInfo struct {
	ID     uint64 // accept order, from 1; the "conn" key of the log lines
	Remote string // the peer's address, host:port
	Opened time.Time
	// Requests counts the complete requests received (protocol id 0).
	Requests uint64
	// Responses counts the answers sent, normal or exception.
	Responses uint64
	// LastActivity is when the last complete frame arrived or the last
	// answer was sent (Opened before either): MaxConns evicts the
	// connection whose LastActivity is oldest.
	LastActivity time.Time
	// Draining is true once the connection is being closed (evicted, idle
	// timeout, shutdown): it answers nothing more and no longer counts
	// against MaxConns.
	Draining bool
	// TLS is true on a Modbus/TCP Security connection. Once its handshake
	// is done, Role is the role in the client certificate ("" = none, and
	// RoleError says why) and Subject the certificate's subject.
	TLS       bool
	Role      string
	RoleError string
	Subject   string
}

// Connections returns the open connections, oldest first. It is a snapshot:
// the connections go on changing while the caller reads it.
func (s *Server) Connections() []ConnInfo {
	s.mu.Lock()
	list := make([]ConnInfo, 0, len(s.conns))
	for c := range s.conns {
		list = append(list, c.info())
	}
	s.mu.Unlock()
	slices.SortFunc(list, func(a, b ConnInfo) int { return cmp.Compare(a.ID, b.ID) })
	return list
}

func (c *conn) info() ConnInfo {
	ci := ConnInfo{ID: c.id, Remote: c.remote, Opened: c.opened, Requests: c.requests.Load(),
		Responses: c.responses.Load(), LastActivity: time.Unix(0, c.lastActive.Load()),
		Draining: !c.inSlot || c.stopping() || c.draining.Load()}
	if sc, ok := c.nc.(*secureConn); ok {
		p := sc.peerOf()
		ci.TLS, ci.Role, ci.Subject = true, p.role, p.subject
		if p.roleErr != nil {
			ci.RoleError = p.roleErr.Error()
		}
	}
	return ci
}

// answered counts n answers sent on c.
func (c *conn) answered(n int) {
	c.s.stats.responses.Add(uint64(n))
	c.responses.Add(uint64(n))
}
