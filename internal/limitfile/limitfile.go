// Package limitfile reads the files a user names (a plant file, a state
// file, certificates) with a bound on their size, so that a wrong file
// (a disk image, /dev/zero, /dev/urandom) is refused after max bytes
// instead of filling memory.
package limitfile

import (
	"fmt"
	"io"
	"os"
)

// TooLargeError is a file with more than Max bytes; only Max+1 were read.
type TooLargeError struct {
	Path string
	Max  int64
}

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("%s is larger than %s", e.Path, Size(e.Max))
}

// Read returns the contents of path, as os.ReadFile does (with its errors:
// "open PATH: no such file or directory", "read PATH: is a directory"),
// but reads at most max+1 bytes: a larger file is a *TooLargeError.
func Read(path string, max int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, err // a *fs.PathError from f.Read
	}
	if int64(len(b)) > max {
		return nil, &TooLargeError{Path: path, Max: max}
	}
	return b, nil
}

// Size writes n bytes in the largest binary unit that divides it: "8 MiB",
// "64 KiB", "1000 bytes".
func Size(n int64) string {
	for _, u := range []struct {
		name string
		size int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if n >= u.size && n%u.size == 0 {
			return fmt.Sprintf("%d %s", n/u.size, u.name)
		}
	}
	return fmt.Sprintf("%d bytes", n)
}
