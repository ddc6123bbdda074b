package simulator_test

import (
	"errors"
	"io"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/plcctl/plcctl/internal/testutil"
	"github.com/plcctl/plcctl/modbus"
)

// rawClient is a bare TCP client that writes exactly the bytes it is given.
type rawClient struct {
	t  testing.TB
	nc *net.TCPConn
}

func dialRaw(t testing.TB, addr string) *rawClient {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	c := &rawClient{t: t, nc: nc.(*net.TCPConn)}
	t.Cleanup(func() { c.nc.Close() })
	return c
}

func (c *rawClient) write(b []byte) {
	c.t.Helper()
	if _, err := c.nc.Write(b); err != nil {
		c.t.Fatalf("write % X: %v", b, err)
	}
}

// readADU reads one ADU within d.
func (c *rawClient) readADU(d time.Duration) ([]byte, error) {
	c.nc.SetReadDeadline(time.Now().Add(d))
	_, adu, err := modbus.ReadADU(c.nc, make([]byte, modbus.MaxADULen))
	return append([]byte(nil), adu...), err
}

// roundTrip writes req and returns the response ADU.
func (c *rawClient) roundTrip(req []byte) []byte {
	c.t.Helper()
	c.write(req)
	rsp, err := c.readADU(2 * time.Second)
	if err != nil {
		c.t.Fatalf("response to % X: %v", req, err)
	}
	return rsp
}

// readUntilError reads and discards until the connection fails, returning
// the error (io.EOF for a FIN).
func (c *rawClient) readUntilError(d time.Duration) error {
	c.nc.SetReadDeadline(time.Now().Add(d))
	buf := make([]byte, 512)
	for {
		if _, err := c.nc.Read(buf); err != nil {
			return err
		}
	}
}

// closeGracefully half-closes, drains to the server's FIN, then closes.
func (c *rawClient) closeGracefully() error {
	if err := c.nc.CloseWrite(); err != nil {
		return err
	}
	err := c.readUntilError(2 * time.Second)
	c.nc.Close()
	if errors.Is(err, io.EOF) {
		return nil
	}
	return err
}

func isReset(err error) bool { return errors.Is(err, syscall.ECONNRESET) }

type syncBuffer = testutil.SyncBuffer

// captureLogger logs to both the test log and a buffer the test can search.
func captureLogger(t testing.TB) (*zerolog.Logger, *syncBuffer) {
	buf := &syncBuffer{}
	l := zerolog.New(zerolog.MultiLevelWriter(zerolog.NewTestWriter(t), buf)).Level(zerolog.DebugLevel)
	return &l, buf
}

var waitFor = testutil.WaitFor

func adu(tid uint16, unit uint8, p modbus.PDU) []byte {
	b, err := modbus.AppendADU(nil, tid, unit, p)
	if err != nil {
		panic(err)
	}
	return b
}

func nopLogger() *zerolog.Logger {
	l := zerolog.Nop()
	return &l
}
