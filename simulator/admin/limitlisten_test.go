package admin

import (
	"context"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/plcctl/plcctl/simulator"
)

// TestConnLimit: idle HTTP connections up to the limit hold their slots;
// the next client is not served until one of them closes, then is. (The
// limit keeps idle or slow HTTP clients from using up the descriptors the
// Modbus side needs: 19980 idle ones were all accepted before.)
func TestConnLimit(t *testing.T) {
	a, _ := New(Options{})
	a.conns = 2
	srv, _ := simulator.New(simulator.Config{Listen: "127.0.0.1:0"})
	addr := serveAdmin(t, a, srv)

	var idle []net.Conn
	for i := 0; i < 2; i++ {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		idle = append(idle, c)
	}
	// Both idle ones accepted: a request on the first is answered.
	if _, err := io.WriteString(idle[0], "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	idle[0].SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, err := idle[0].Read(make([]byte, 512)); err != nil || n == 0 {
		t.Fatalf("a request on a connection within the limit: %d bytes, %v", n, err)
	}

	got := make(chan error, 1)
	go func() {
		rctx, rcancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer rcancel()
		req, _ := http.NewRequestWithContext(rctx, "GET", "http://"+addr+"/healthz", nil)
		rsp, err := (&http.Client{Transport: &http.Transport{DisableKeepAlives: true}}).Do(req)
		if err == nil {
			rsp.Body.Close()
		}
		got <- err
	}()
	select {
	case err := <-got:
		t.Fatalf("third connection served while two held the limit of 2 (err %v)", err)
	case <-time.After(300 * time.Millisecond): // not served: waits for a slot
	}
	idle[1].Close()
	if err := <-got; err != nil {
		t.Fatalf("third connection after one closed: %v", err)
	}
}
