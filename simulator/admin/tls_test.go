package admin

import (
	"crypto/tls"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/plcctl/plcctl/internal/certgen"
	"github.com/plcctl/plcctl/simulator"
)

// TestConnectionsTLS: /api/v1/connections names each TLS client's role
// and certificate subject, and every key it sends is in the OpenAPI
// document's Connection schema.
func TestConnectionsTLS(t *testing.T) {
	p, err := certgen.TestPKI()
	if err != nil {
		t.Fatal(err)
	}
	r := newRig(t, Options{}, simulator.Config{Security: simulator.Security{TLS: p.ServerTLS("valid")}})
	for _, client := range []string{"operator", "none"} {
		c, err := tls.Dial("tcp", r.sim.Addr, p.ClientTLS(client))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(5 * time.Second))
		// FC 3, one register: the answer (or exception 01 for no role)
		// comes after the server has read the certificate.
		if _, err := c.Write([]byte{0, 1, 0, 0, 0, 6, 1, 3, 0, 0, 0, 1}); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(c, make([]byte, 9)); err != nil {
			t.Fatalf("%s: %v", client, err)
		}
	}
	_, body := r.do(t, "GET", "/api/v1/connections", "")
	var got struct{ Connections []map[string]any }
	mustJSON(t, body, &got)
	if len(got.Connections) != 2 {
		t.Fatalf("connections = %s, want two", body)
	}
	for i, client := range []string{"operator", "none"} {
		c := got.Connections[i]
		wantRole := map[string]any{"operator": "operator"}[client]
		if c["tls"] != true || c["role"] != wantRole || c["subject"] != "CN=client "+client+",O=plcsim test PKI" ||
			(wantRole == nil) != strings.Contains(str(c["role_error"]), "no role extension") {
			t.Errorf("connection %d = %v, want TLS, role %v, subject of client %s", i, c, wantRole, client)
		}
	}
	var doc struct {
		Components struct {
			Schemas map[string]struct {
				Properties map[string]json.RawMessage `json:"properties"`
			} `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(openapiJSON, &doc); err != nil {
		t.Fatal(err)
	}
	props := doc.Components.Schemas["Connection"].Properties
	for _, c := range got.Connections {
		for k := range c {
			if _, ok := props[k]; !ok {
				t.Errorf("the API sends connection key %q, which openapi.json's Connection schema does not name", k)
			}
		}
	}
}

func str(v any) string { s, _ := v.(string); return s }
