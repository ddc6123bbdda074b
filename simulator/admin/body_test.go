package admin

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/plcctl/plcctl/simulator"
)

// TestBodyTooLargeAnnounced: a request whose Content-Length is over the
// limit is answered 413 without its body being sent; it used to wait for
// the body (until the read timeout, 10 s in plcsim), then refuse it.
func TestBodyTooLargeAnnounced(t *testing.T) {
	r := newRig(t, Options{}, simulator.Config{})
	addr := strings.TrimPrefix(r.web.URL, "http://")
	cases := []struct {
		name, path, ctype string
		length            int64
	}{
		{"table", "/api/v1/units/1/holding-registers?address=0", "application/json", maxBody + 1},
		{"faults as text", "/api/v1/faults", "text/plain", maxBody + 1},
		{"faults as JSON", "/api/v1/faults", "application/json", 1 << 40},
		{"state", "/api/v1/state", "application/json", maxStateBody + 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			nc, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer nc.Close()
			fmt.Fprintf(nc, "PUT %s HTTP/1.1\r\nHost: %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n{", tc.path, addr, tc.ctype, tc.length)
			nc.SetReadDeadline(time.Now().Add(5 * time.Second))
			rsp, err := http.ReadResponse(bufio.NewReader(nc), nil)
			if err != nil {
				t.Fatalf("PUT %s with Content-Length %d and no body: %v, want 413 at once", tc.path, tc.length, err)
			}
			rsp.Body.Close()
			if rsp.StatusCode != http.StatusRequestEntityTooLarge {
				t.Errorf("PUT %s with Content-Length %d = %d, want 413", tc.path, tc.length, rsp.StatusCode)
			}
		})
	}
}
