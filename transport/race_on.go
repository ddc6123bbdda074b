//go:build race

package transport

import (
	"runtime"
	"unsafe"
)

// The race detector does not see what the kernel reads from or writes to
// a buffer in a raw system call (rawsys_linux.go). These tell it, as the
// syscall package does for its Read and Write: the buffer is accessed, and
// a write system call happens before any later read system call (rawIOSync
// plays syscall's ioSync).

var rawIOSync int64

func raceReadRange(b []byte) {
	if len(b) > 0 {
		runtime.RaceReadRange(unsafe.Pointer(&b[0]), len(b))
	}
}

func raceWriteRange(b []byte) {
	if len(b) > 0 {
		runtime.RaceWriteRange(unsafe.Pointer(&b[0]), len(b))
	}
}

func raceAcquire()      { runtime.RaceAcquire(unsafe.Pointer(&rawIOSync)) }
func raceReleaseMerge() { runtime.RaceReleaseMerge(unsafe.Pointer(&rawIOSync)) }
