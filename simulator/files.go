package simulator

import "github.com/plcctl/plcctl/modbus"

// DefaultMaxFileRegisters bounds the file-record registers one unit stores
// (beyond those its configuration gives): 65536 registers, 128 KiB of data.
const DefaultMaxFileRegisters = 1 << 16

// fileChunk is the number of records stored together. Files are stored
// sparsely, a chunk at a time, so memory grows with what is written (and
// only with non-zero data), never by a whole file per file number.
const fileChunk = 64

// fileStore holds file records (FC 20/21) sparsely, within a bound.
type fileStore struct {
	chunks   map[uint32]*[fileChunk]uint16 // key: file<<16 | record/fileChunk
	limit    int                           // chunks clients may add
	reserved int                           // chunks set by configuration, tools or a restore
}

func newFileStore(maxRegisters int) *fileStore {
	return &fileStore{chunks: make(map[uint32]*[fileChunk]uint16), limit: (maxRegisters + fileChunk - 1) / fileChunk}
}

// room reports whether need more chunks fit the bound.
func (f *fileStore) room(need int) bool { return len(f.chunks)+need <= f.limit+f.reserved }

// bound is the number of registers the store may hold.
func (f *fileStore) bound() int { return (f.limit + f.reserved) * fileChunk }

// reset removes every record.
func (f *fileStore) reset() {
	clear(f.chunks)
	f.reserved = 0
}

func chunkKey(file uint16, rec int) uint32 { return uint32(file)<<16 | uint32(rec/fileChunk) }

// read copies records from rec of file into dst (zeros where never written).
func (f *fileStore) read(file, rec uint16, dst []uint16) {
	for i := 0; i < len(dst); {
		r := int(rec) + i
		off := r % fileChunk
		n := min(fileChunk-off, len(dst)-i)
		if c, ok := f.chunks[chunkKey(file, r)]; ok {
			copy(dst[i:i+n], c[off:off+n])
		} else {
			clear(dst[i : i+n])
		}
		i += n
	}
}

// newChunks counts the chunks a write of v at rec of file would allocate:
// those not stored yet that would receive a non-zero value. seen collects
// them across the groups of one request.
func (f *fileStore) newChunks(file, rec uint16, v []uint16, seen map[uint32]bool) int {
	n := 0
	for i, x := range v {
		k := chunkKey(file, int(rec)+i)
		if _, ok := f.chunks[k]; ok || x == 0 || seen[k] {
			continue
		}
		seen[k] = true
		n++
	}
	return n
}

// write stores v at rec of file. The caller checked room with newChunks.
func (f *fileStore) write(file, rec uint16, v []uint16) {
	for i, x := range v {
		r := int(rec) + i
		k := chunkKey(file, r)
		c, ok := f.chunks[k]
		if !ok {
			if x == 0 {
				continue
			}
			c = new([fileChunk]uint16)
			f.chunks[k] = c
		}
		c[r%fileChunk] = x
	}
}

// set stores v at rec of file as configuration or a tool does: it may grow
// the bound so that configured data never counts against the network's.
func (f *fileStore) set(file, rec uint16, v []uint16) {
	if int(rec) > modbus.MaxFileRecord {
		return
	}
	v = v[:min(len(v), modbus.MaxFileRecord+1-int(rec))]
	before := len(f.chunks)
	f.write(file, rec, v)
	f.reserved += len(f.chunks) - before
}

// registers returns the number of registers stored.
func (f *fileStore) registers() int { return len(f.chunks) * fileChunk }
