package admin

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/plcctl/plcctl/modbus"
	"github.com/plcctl/plcctl/simulator"
)

func TestJournal(t *testing.T) {
	dir := t.TempDir()
	f, err := os.Create(filepath.Join(dir, "journal.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := newRig(t, Options{Journal: f, JournalSize: 4}, simulator.Config{})
	c := dialMB(t, r.sim.Addr)
	c.call(1, &modbus.WriteSingleRegister{Address: 100, Value: 42})
	c.call(1, modbus.NewReadHoldingRegisters(100, 1)) // a read: not journaled
	c.call(2, modbus.NewWriteMultipleRegisters(99, []uint16{7, 8, 9}))
	c.call(1, modbus.NewWriteSingleCoil(3, true))
	c.call(1, &modbus.WriteSingleRegister{Address: 60000 % 65536, Value: 1})

	var got struct {
		Writes  []Entry `json:"writes"`
		LastSeq uint64  `json:"last_seq"`
		Gap     bool    `json:"gap"`
	}
	code, body := r.do(t, "GET", "/api/v1/writes?address=100&fc=6", "")
	if code != 200 {
		t.Fatalf("GET writes = %d %s", code, body)
	}
	mustJSON(t, body, &got)
	if len(got.Writes) != 1 || got.Writes[0].Unit != 1 || got.Writes[0].Address != 100 || got.Writes[0].Remote != c.nc.LocalAddr().String() ||
		!reflect.DeepEqual(got.Writes[0].Values, []any{42.0}) || got.Writes[0].Time.IsZero() {
		t.Fatalf("writes to 100 by FC 6 = %s, want one entry of 42 from %s", body, c.nc.LocalAddr())
	}
	// Address 100 was also written by the FC 16 of unit 2 (99..101).
	_, body = r.do(t, "GET", "/api/v1/writes?address=100", "")
	mustJSON(t, body, &got)
	if len(got.Writes) != 2 || got.Writes[1].FC != 16 || got.Writes[1].Unit != 2 {
		t.Errorf("writes covering 100 = %s, want the FC 6 and the FC 16", body)
	}
	_, body = r.do(t, "GET", "/api/v1/writes?fc=5", "")
	mustJSON(t, body, &got)
	if len(got.Writes) != 1 || !reflect.DeepEqual(got.Writes[0].Values, []any{true}) {
		t.Errorf("FC 5 writes = %s, want one of true", body)
	}
	// Five writes, four kept: the first has left the ring.
	for i := 0; i < 2; i++ {
		c.call(1, &modbus.WriteSingleRegister{Address: 1, Value: uint16(i)})
	}
	_, body = r.do(t, "GET", "/api/v1/writes", "")
	mustJSON(t, body, &got)
	if len(got.Writes) != 4 || got.Writes[0].Seq != 3 || got.LastSeq != 6 || !got.Gap {
		t.Errorf("ring of 4 after 6 writes = %s, want seq 3..6 and a gap", body)
	}
	_, body = r.do(t, "GET", "/api/v1/writes?since=4", "")
	mustJSON(t, body, &got)
	if len(got.Writes) != 2 || got.Writes[0].Seq != 5 || got.Gap {
		t.Errorf("since=4 = %s, want seq 5 and 6, no gap", body)
	}
	for _, bad := range []string{"?unit=300", "?fc=x", "?address=-1", "?since=abc", "?limit=1e9"} {
		code, body := r.do(t, "GET", "/api/v1/writes"+bad, "")
		var e apiError
		mustJSON(t, body, &e)
		if code != 400 || e.Field == "" || !strings.Contains(bad, e.Field) {
			t.Errorf("GET writes%s = %d %s, want 400 naming the field", bad, code, body)
		}
	}
	if code, _ := r.do(t, "DELETE", "/api/v1/writes", ""); code != 204 {
		t.Errorf("DELETE writes = %d", code)
	}
	_, body = r.do(t, "GET", "/api/v1/writes", "")
	mustJSON(t, body, &got)
	if len(got.Writes) != 0 || got.Gap {
		t.Errorf("after DELETE = %s, want empty", body)
	}
	c.call(1, &modbus.WriteSingleRegister{Address: 2, Value: 9})
	_, body = r.do(t, "GET", "/api/v1/writes", "")
	mustJSON(t, body, &got)
	if len(got.Writes) != 1 || got.Writes[0].Seq != 7 {
		t.Errorf("after DELETE and a write = %s, want seq 7", body)
	}

	// The file has every entry, one JSON object a line.
	r.a.Close()
	f.Seek(0, 0)
	sc := bufio.NewScanner(f)
	var seqs []uint64
	for sc.Scan() {
		var e Entry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("journal line %q: %v", sc.Text(), err)
		}
		seqs = append(seqs, e.Seq)
	}
	if !reflect.DeepEqual(seqs, []uint64{1, 2, 3, 4, 5, 6, 7}) {
		t.Errorf("journal file seqs = %v, want 1..7", seqs)
	}
}
