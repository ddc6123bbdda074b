//go:build !unix

package transport

import (
	"errors"
	"syscall"
)

// rawWriteOK: writeInPoll is not used.
const rawWriteOK = false

// rawIOOK: every socket call goes through net.Conn.
const rawIOOK = false

// rawWrite is not implemented here: writeInPoll writes nothing, and the
// request is written through net.Conn.Write, then read as usual.
func rawWrite(uintptr, []byte) (int, error) { return 0, errors.ErrUnsupported }

// rawRead is not used here (peek needs rawWriteOK).
func rawRead(uintptr, []byte) (int, error) { return 0, errors.ErrUnsupported }

func nonBlocking(syscall.RawConn) bool { return false }

func wouldBlock(error) bool { return false }
