package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// httpAddrOf returns the address of plcsim's "plcsim http ready" line.
func httpAddrOf(t *testing.T, log string) string {
	t.Helper()
	sc := bufio.NewScanner(strings.NewReader(log))
	for sc.Scan() {
		var rec struct{ Message, Addr string }
		if json.Unmarshal(sc.Bytes(), &rec) == nil && rec.Message == "plcsim http ready" {
			return rec.Addr
		}
	}
	t.Fatalf("no \"plcsim http ready\" line:\n%s", log)
	return ""
}

// TestHTTPAndJournal: --http serves the API on loopback, --http-token
// guards changes, --journal gets every client write as a JSON line.
func TestHTTPAndJournal(t *testing.T) {
	journal := filepath.Join(t.TempDir(), "writes.jsonl")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	errb := newReadyBuf()
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"--listen", "127.0.0.1:0", "--log-format", "json", "--http", "0",
			"--http-token", "t0k", "--journal", journal}, io.Discard, errb)
	}()
	addr := waitReady(t, errb)
	web := httpAddrOf(t, errb.String())
	if host, _, _ := net.SplitHostPort(web); host != "127.0.0.1" {
		t.Errorf("--http 0 listens on %s, want loopback", web)
	}
	get := func(path string) (int, string) {
		rsp, err := http.Get("http://" + web + path)
		if err != nil {
			t.Fatal(err)
		}
		defer rsp.Body.Close()
		b, _ := io.ReadAll(rsp.Body)
		return rsp.StatusCode, string(b)
	}
	if code, body := get("/readyz"); code != 200 || !strings.Contains(body, addr) {
		t.Errorf("GET /readyz = %d %s, want 200 naming %s", code, body, addr)
	}
	put := func(token string) int {
		req, _ := http.NewRequest("PUT", "http://"+web+"/api/v1/units/1/holding-registers?address=3", strings.NewReader(`{"values":[11]}`))
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		rsp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		rsp.Body.Close()
		return rsp.StatusCode
	}
	if code := put(""); code != 401 {
		t.Errorf("PUT without the token = %d, want 401", code)
	}
	if code := put("t0k"); code != 200 {
		t.Errorf("PUT with the token = %d, want 200", code)
	}
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	c.Write([]byte{0, 1, 0, 0, 0, 6, 7, 6, 0, 100, 0, 42}) // unit 7 writes 42 to register 100
	if _, err := io.ReadFull(c, make([]byte, 12)); err != nil {
		t.Fatal(err)
	}
	if _, body := get("/api/v1/units/1/holding-registers?address=3"); !strings.Contains(body, `"values":[11]`) {
		t.Errorf("register 3 = %s, want 11", body)
	}
	if _, body := get("/api/v1/writes?address=100"); !strings.Contains(body, `"unit":7,"fc":6`) || !strings.Contains(body, `"values":[42]`) {
		t.Errorf("journal = %s, want unit 7 FC 6 of 42", body)
	}
	cancel()
	if code := <-done; code != exitOK {
		t.Fatalf("exit %d:\n%s", code, errb.String())
	}
	b, err := os.ReadFile(journal)
	if err != nil {
		t.Fatal(err)
	}
	var e struct {
		Seq     int
		Unit    int
		FC      int
		Address int
		Values  []int
		Remote  string
	}
	if err := json.Unmarshal(b, &e); err != nil || e.Seq != 1 || e.Unit != 7 || e.FC != 6 || e.Address != 100 || len(e.Values) != 1 || e.Values[0] != 42 || e.Remote != c.LocalAddr().String() {
		t.Errorf("journal file %q (%v), want one line: unit 7 FC 6 wrote 42 to 100 from %s", b, err, c.LocalAddr())
	}
}

// TestHTTPFlagErrors: a journal that cannot be opened is a failure (exit
// 1); an --http port that is not a number is a usage error (exit 2) said
// as --listen says it. It was exit 1 with the listener's words, naming a
// value the user did not type ("--http :abc: admin: listen tcp: lookup
// tcp/abc: unknown port").
func TestHTTPFlagErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--http", "127.0.0.1:notaport"}, exitUsage, `plcsim: --http "127.0.0.1:notaport": port "notaport" is not a number 0..65535`},
		{[]string{"--http", "abc"}, exitUsage, `plcsim: --http "abc": port "abc" is not a number 0..65535`},
		{[]string{"--journal", filepath.Join(t.TempDir(), "no", "such", "dir")}, exitFailure, "--journal"},
	} {
		var errb strings.Builder
		code := run(context.Background(), append([]string{"--listen", "127.0.0.1:0"}, tc.args...), io.Discard, &errb)
		if code != tc.code || !strings.Contains(errb.String(), tc.want) {
			t.Errorf("plcsim %v = exit %d, %q; want %d and %q", tc.args, code, errb.String(), tc.code, tc.want)
		}
	}
}

// TestHTTPPlantTags: with --plant, the API serves the device's tags by name.
func TestHTTPPlantTags(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	errb := newReadyBuf()
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"--plant", "../../testdata/plants/pump-station.yaml", "--listen", "127.0.0.1:0",
			"--log-format", "json", "--http", "127.0.0.1:0"}, io.Discard, errb)
	}()
	waitReady(t, errb)
	web := httpAddrOf(t, errb.String())
	get := func(path string) string {
		rsp, err := http.Get("http://" + web + path)
		if err != nil {
			t.Fatal(err)
		}
		defer rsp.Body.Close()
		b, _ := io.ReadAll(rsp.Body)
		return string(b)
	}
	if body := get("/readyz"); !strings.Contains(body, `"status":"ready"`) || strings.Contains(body, `"tags":0`) {
		t.Errorf("readyz = %s, want ready with the plant's tags", body)
	}
	if body := get("/api/v1/tags/setpoint"); !strings.Contains(body, `"value":2.5`) {
		t.Errorf("tag setpoint = %s, want its initial 2.5", body)
	}
	cancel()
	if code := <-done; code != exitOK {
		t.Fatalf("exit %d:\n%s", code, errb.String())
	}
}
