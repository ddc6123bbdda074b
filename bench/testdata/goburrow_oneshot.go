// Command goburrow_oneshot is goburrow/modbus's one-shot read, a Go peer of
// `plcctl -a ADDR read-holding-registers 0 10` in bench/run.sh's one-shot
// table (issue 10): connect to ADDR (127.0.0.1:PORT), read 10 holding
// registers from 0 with FC 3, print them as plcctl's text output does, close
// (goburrow's Close is a plain close(2), no half-close or drain). Timeout
// 1 s. run.sh builds it with make build's flags from the module root, so
// goburrow is the version go.mod pins.
//
//	go run bench/testdata/goburrow_oneshot.go 127.0.0.1:PORT
package main

import (
	"encoding/binary"
	"fmt"
	"os"
	"time"

	"github.com/goburrow/modbus"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: goburrow_oneshot 127.0.0.1:PORT")
		os.Exit(2)
	}
	h := modbus.NewTCPClientHandler(os.Args[1])
	h.Timeout = time.Second
	if err := h.Connect(); err != nil {
		fmt.Fprintln(os.Stderr, "goburrow_oneshot:", err)
		os.Exit(1)
	}
	b, err := modbus.NewClient(h).ReadHoldingRegisters(0, 10)
	h.Close()
	if err == nil && len(b) != 20 {
		err = fmt.Errorf("%d bytes of registers, want 20", len(b))
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "goburrow_oneshot:", err)
		os.Exit(1)
	}
	out := make([]byte, 0, 128)
	for i := 0; i < 10; i++ {
		out = fmt.Appendf(out, "%d  %d\n", i, binary.BigEndian.Uint16(b[2*i:]))
	}
	os.Stdout.Write(out)
}
