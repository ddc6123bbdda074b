package simulator_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plcctl/plcctl/modbus"
	"github.com/plcctl/plcctl/simulator"
	"github.com/plcctl/plcctl/simulator/simtest"
)

func readReq(tid uint16) []byte { return adu(tid, 1, modbus.NewReadHoldingRegisters(0, 1)) }

func TestFaultRules(t *testing.T) {
	cases := []struct {
		name  string
		rule  simulator.FaultRule
		check func(t *testing.T, c *rawClient)
	}{
		{"drop", simulator.FaultRule{Action: simulator.FaultDrop, Count: 1}, func(t *testing.T, c *rawClient) {
			c.write(readReq(1))
			if _, err := c.readADU(100 * time.Millisecond); err == nil {
				t.Fatal("dropped request was answered")
			}
			if got := c.roundTrip(readReq(2)); got[1] != 2 {
				t.Fatalf("next answer % X, want tid 2", got)
			}
		}},
		{"delay", simulator.FaultRule{Action: simulator.FaultDelay, Delay: 150 * time.Millisecond, Count: 1}, func(t *testing.T, c *rawClient) {
			c.write(readReq(1))
			if _, err := c.readADU(50 * time.Millisecond); err == nil {
				t.Fatal("delayed answer came early")
			}
			if got, err := c.readADU(2 * time.Second); err != nil || got[1] != 1 {
				t.Fatalf("late answer % X, %v", got, err)
			}
		}},
		{"duplicate", simulator.FaultRule{Action: simulator.FaultDuplicate, Count: 1}, func(t *testing.T, c *rawClient) {
			a := c.roundTrip(readReq(7))
			b, err := c.readADU(time.Second)
			if err != nil || !bytes.Equal(a, b) {
				t.Fatalf("duplicate % X / % X, %v", a, b, err)
			}
		}},
		{"split", simulator.FaultRule{Action: simulator.FaultSplit}, func(t *testing.T, c *rawClient) {
			if got := c.roundTrip(readReq(3)); !bytes.Equal(got, []byte{0, 3, 0, 0, 0, 5, 1, 3, 2, 0, 0}) {
				t.Fatalf("split answer % X", got)
			}
		}},
		{"wrong tid", simulator.FaultRule{Action: simulator.FaultWrongTID, Count: 1}, func(t *testing.T, c *rawClient) {
			if got := c.roundTrip(readReq(0x00FF)); got[0] != 0x01 || got[1] != 0x00 {
				t.Fatalf("wrong-tid answer % X, want tid 0x0100", got)
			}
		}},
		{"exception", simulator.FaultRule{Action: simulator.FaultException, Exception: modbus.ServerDeviceBusy, Function: modbus.FuncReadHoldingRegisters},
			func(t *testing.T, c *rawClient) {
				if got := c.roundTrip(readReq(4)); !bytes.Equal(got[7:], []byte{0x83, 0x06}) {
					t.Fatalf("answer % X, want exception 06", got)
				}
			}},
		{"after and count", simulator.FaultRule{Action: simulator.FaultException, Exception: modbus.ServerDeviceFailure, After: 1, Count: 1},
			func(t *testing.T, c *rawClient) {
				for i, want := range []byte{0x03, 0x83, 0x03} {
					if got := c.roundTrip(readReq(uint16(i))); got[7] != want {
						t.Fatalf("request %d: fc %02X, want %02X", i, got[7], want)
					}
				}
			}},
		{"close fin", simulator.FaultRule{Action: simulator.FaultCloseFIN}, func(t *testing.T, c *rawClient) {
			c.write(readReq(1))
			if err := c.readUntilError(2 * time.Second); !errors.Is(err, io.EOF) {
				t.Fatalf("read %v, want EOF", err)
			}
		}},
		{"close rst", simulator.FaultRule{Action: simulator.FaultCloseRST}, func(t *testing.T, c *rawClient) {
			c.write(readReq(1))
			if err := c.readUntilError(2 * time.Second); !isReset(err) {
				t.Fatalf("read %v, want ECONNRESET", err)
			}
		}},
		{"cut mid frame", simulator.FaultRule{Action: simulator.FaultCutMidFrame}, func(t *testing.T, c *rawClient) {
			c.write(readReq(1))
			_, err := c.readADU(2 * time.Second)
			var fe *modbus.FrameError
			if !errors.As(err, &fe) || !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Fatalf("read %v, want a frame cut short", err)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := simtest.Start(t, simulator.Config{})
			s.SetFaults(tc.rule)
			tc.check(t, dialRaw(t, s.Addr))
		})
	}
}

// TestShutdownGraceful: Shutdown half-closes every connection, so clients
// see EOF (never a reset), and returns once they are gone.
func TestShutdownGraceful(t *testing.T) {
	s := simtest.Start(t, simulator.Config{})
	var clients []*rawClient
	for i := 0; i < 5; i++ {
		c := dialRaw(t, s.Addr)
		c.roundTrip(readReq(uint16(i)))
		clients = append(clients, c)
	}
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		done <- s.Shutdown(ctx)
	}()
	for i, c := range clients {
		if err := c.readUntilError(2 * time.Second); !errors.Is(err, io.EOF) {
			t.Fatalf("client %d: %v, want EOF", i, err)
		}
		c.nc.Close()
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Shutdown did not return")
	}
	if st := s.Stats(); st.Resets != 0 || st.Conns != 0 {
		t.Fatalf("stats after shutdown = %+v", st)
	}
}

// TestConcurrentClients: many connections writing and reading their own
// registers at once (run with -race).
func TestConcurrentClients(t *testing.T) {
	s := simtest.Start(t, simulator.Config{Logger: nopLogger()})
	const clients, rounds = 16, 200
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for k := 0; k < clients; k++ {
		wg.Add(1)
		go func(k int) {
			defer wg.Done()
			c := dialRaw(t, s.Addr)
			buf := make([]byte, modbus.MaxADULen)
			for i := 0; i < rounds; i++ {
				w := adu(uint16(i), 1, &modbus.WriteSingleRegister{Address: uint16(k), Value: uint16(i)})
				r := adu(uint16(i), 1, modbus.NewReadHoldingRegisters(uint16(k), 1))
				c.nc.SetDeadline(time.Now().Add(5 * time.Second))
				c.nc.Write(append(w, r...)) // pipelined, coalesced in one segment
				for _, want := range [][]byte{w, {byte(i >> 8), byte(i), 0, 0, 0, 5, 1, 3, 2, byte(i >> 8), byte(i)}} {
					_, got, err := modbus.ReadADU(c.nc, buf)
					if err != nil || !bytes.Equal(got, want) {
						errs <- fmt.Errorf("client %d round %d: mismatch", k, i)
						return
					}
				}
			}
		}(k)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

func TestIdleTimeout(t *testing.T) {
	// Long enough that a loaded machine's delay between the dial and the
	// first request does not pass it (50 ms did, once).
	s := simtest.Start(t, simulator.Config{IdleTimeout: 400 * time.Millisecond})
	c := dialRaw(t, s.Addr)
	c.roundTrip(readReq(1))
	if err := c.readUntilError(2 * time.Second); !errors.Is(err, io.EOF) {
		t.Fatalf("idle connection: %v, want EOF", err)
	}
}

func TestSemanticExceptions(t *testing.T) {
	s := simtest.Start(t, simulator.Config{HoldingRegisters: 100, UnitIDs: []uint8{1, 2}})
	s.SetFIFO(5, make([]uint16, 32)...)
	c := dialRaw(t, s.Addr)
	cases := []struct {
		name string
		unit uint8
		req  modbus.PDU
		want []byte // response PDU
	}{
		{"fifo over 31", 1, &modbus.ReadFIFOQueue{Address: 5}, []byte{0x98, 0x03}},
		{"fifo bad pointer", 1, &modbus.ReadFIFOQueue{Address: 100}, []byte{0x98, 0x02}},
		{"fifo empty", 1, &modbus.ReadFIFOQueue{Address: 6}, []byte{0x18, 0, 2, 0, 0}},
		{"file 0", 1, &modbus.ReadFileRecord{SubRequests: []modbus.FileSubRequest{{RefType: 6, File: 0, Record: 0, Length: 1}}}, []byte{0x94, 0x02}},
		{"rw write past end", 1, modbus.NewReadWriteRegisters(0, 1, 99, []uint16{1, 2}), []byte{0x97, 0x02}},
		{"unit 2 served", 2, modbus.NewReadHoldingRegisters(0, 1), []byte{0x03, 2, 0, 0}},
		{"unit 0 served", 0, modbus.NewReadHoldingRegisters(0, 1), []byte{0x03, 2, 0, 0}},
		{"unit 9 gateway", 9, modbus.NewReadHoldingRegisters(0, 1), []byte{0x83, 0x0B}},
		{"fc 0", 1, &modbus.Raw{FC: 0}, []byte{0x80, 0x01}},
		{"fc 0x41", 1, &modbus.Raw{FC: 0x41, Data: []byte{1, 2}}, []byte{0xC1, 0x01}},
		{"canopen mei", 1, &modbus.Raw{FC: 0x2B, Data: []byte{0x0D, 0}}, []byte{0xAB, 0x01}},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := c.roundTrip(adu(uint16(i), tc.unit, tc.req))
			if !bytes.Equal(got[7:], tc.want) {
				t.Fatalf("answer % X, want % X", got[7:], tc.want)
			}
		})
	}
}

// TestDeviceIDPaging: objects that do not fit one response are paged with
// more-follows / next-object-id, never split, and the client's loop gets all.
func TestDeviceIDPaging(t *testing.T) {
	objs := map[uint8]string{0: "vendor", 1: "code", 2: "1.0"}
	for id := uint8(0x80); id < 0x84; id++ {
		objs[id] = strings.Repeat(string('a'+rune(id-0x80)), 100)
	}
	s := simtest.Start(t, simulator.Config{Identity: simulator.Identity{Objects: objs}})
	c := dialRaw(t, s.Addr)
	got := map[uint8]string{}
	next := uint8(0)
	for page := 0; page < 10; page++ {
		req := &modbus.ReadDeviceID{Code: modbus.DeviceIDExtended, ObjectID: next}
		raw := c.roundTrip(adu(uint16(page), 1, req))
		p, err := modbus.DecodeResponse(req, raw[7:])
		if err != nil {
			t.Fatal(err)
		}
		rsp := p.(*modbus.DeviceIDResponse)
		if rsp.Conformity != 0x83 {
			t.Fatalf("conformity %02X, want 83", rsp.Conformity)
		}
		for _, o := range rsp.Objects {
			got[o.ID] = string(o.Value)
		}
		if !rsp.MoreFollows {
			break
		}
		next = rsp.NextObjectID
	}
	if len(got) != len(objs) {
		t.Fatalf("got %d objects, want %d", len(got), len(objs))
	}
	for k, v := range objs {
		if got[k] != v {
			t.Fatalf("object %02X = %q, want %q", k, got[k], v)
		}
	}
}

// TestRestartKeepsData: simtest.Restart serves the same data on the same port.
func TestRestartKeepsData(t *testing.T) {
	s := simtest.Start(t, simulator.Config{})
	s.SetHoldingRegisters(10, 42)
	addr := s.Addr
	s.Restart(t)
	if s.Addr != addr {
		t.Fatalf("restart moved from %s to %s", addr, s.Addr)
	}
	c := dialRaw(t, s.Addr)
	if got := c.roundTrip(adu(1, 1, modbus.NewReadHoldingRegisters(10, 1))); got[10] != 42 {
		t.Fatalf("after restart: % X", got)
	}
}

// TestReady: Ready is closed once Serve has its listener, not before, and
// Addr is then the address served.
func TestReady(t *testing.T) {
	srv, err := simulator.New(simulator.Config{Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-srv.Ready():
		t.Fatal("Ready closed before Serve")
	default:
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.ListenAndServe(ctx) }()
	select {
	case <-srv.Ready():
	case err := <-done:
		t.Fatalf("ListenAndServe: %v", err)
	case <-time.After(5 * time.Second):
		t.Fatal("Ready not closed after ListenAndServe")
	}
	if srv.Addr() == nil {
		t.Error("Addr nil once Ready")
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("ListenAndServe after cancel: %v", err)
	}
}
