//go:build !linux

package transport

import (
	"net"
	"time"
)

// setUserTimeout does nothing here: TCP_USER_TIMEOUT is Linux's. Elsewhere
// a dead link with requests in flight is found by Options.DeadAfterTimeouts.
func setUserTimeout(*net.TCPConn, time.Duration) error { return nil }
