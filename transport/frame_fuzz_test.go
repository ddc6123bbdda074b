package transport

import (
	"bytes"
	"errors"
	"io"
	"net"
	"testing"

	"github.com/plcctl/plcctl/internal/golden"
	"github.com/plcctl/plcctl/modbus"
)

// chunkConn hands out a stream in reads of at most n bytes.
type chunkConn struct {
	net.Conn // nil: only Read is used
	r        *bytes.Reader
	n        int
}

func (c *chunkConn) Read(p []byte) (int, error) {
	if len(p) > c.n {
		p = p[:c.n]
	}
	return c.r.Read(p)
}

// FuzzFrameMatchesReadADU: the link's buffered framer cuts a byte stream,
// read in chunks of any size, into exactly the frames modbus.ReadADU finds,
// and fails where ReadADU fails.
func FuzzFrameMatchesReadADU(f *testing.F) {
	frames, err := golden.Load(golden.Path())
	if err != nil {
		f.Fatal(err)
	}
	var all []byte
	for _, fr := range frames {
		if fr.Response != nil {
			f.Add(fr.Response, uint8(7))
			all = append(all, fr.Response...)
		}
	}
	f.Add(all, uint8(1))
	f.Add(all, uint8(255))
	f.Fuzz(func(t *testing.T, stream []byte, chunk uint8) {
		var want [][]byte
		ref := bytes.NewReader(stream)
		var wantErr error
		for {
			_, adu, err := modbus.ReadADU(ref, nil)
			if err != nil {
				wantErr = err
				break
			}
			want = append(want, bytes.Clone(adu))
		}
		rs := readState{buf: make([]byte, readBufLen)}
		nc := &chunkConn{r: bytes.NewReader(stream), n: max(1, int(chunk))}
		var got [][]byte
		var gotErr error
		for gotErr == nil {
			_, adu, err := rs.frame()
			switch {
			case err != nil:
				gotErr = err
			case adu != nil:
				got = append(got, bytes.Clone(adu))
			default:
				if err := rs.fill(nc); err != nil {
					gotErr = rs.cut(err)
					if gotErr == nil {
						gotErr = err
					}
				}
			}
		}
		if len(got) != len(want) {
			t.Fatalf("framer found %d frames, ReadADU %d", len(got), len(want))
		}
		for i := range want {
			if !bytes.Equal(got[i], want[i]) {
				t.Fatalf("frame %d: % X, ReadADU % X", i, got[i], want[i])
			}
		}
		var wfe, gfe *modbus.FrameError
		if errors.As(wantErr, &wfe) != errors.As(gotErr, &gfe) {
			t.Fatalf("framer ended with %v, ReadADU with %v", gotErr, wantErr)
		}
		if wfe == nil && !errors.Is(gotErr, io.EOF) {
			t.Fatalf("framer ended with %v, want EOF like ReadADU (%v)", gotErr, wantErr)
		}
		if wfe != nil && (wfe.Offset != gfe.Offset || wfe.Field != gfe.Field) {
			t.Fatalf("framer error %v, ReadADU error %v", gotErr, wantErr)
		}
	})
}
