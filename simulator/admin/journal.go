package admin

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/plcctl/plcctl/simulator"
)

// Entry is one client write in the journal.
type Entry struct {
	Seq      uint64    `json:"seq"`              // 1, 2, 3... in arrival order, never reused
	Device   string    `json:"device,omitempty"` // Options.Device: which device of several
	Time     time.Time `json:"time"`
	Remote   string    `json:"remote"` // the client's address
	Unit     uint8     `json:"unit"`
	FC       uint8     `json:"fc"`
	Function string    `json:"function"`
	Address  uint16    `json:"address"`
	File     uint16    `json:"file,omitempty"` // FC 21 only
	Values   any       `json:"values"`         // true/false for coils, 0..65535 for registers
}

// journalFileQueue bounds the entries waiting for the journal file: the
// connection goroutine never waits for the disk.
const journalFileQueue = 4096

// journal is a ring of the last entries, optionally copied to a file.
type journal struct {
	log *zerolog.Logger

	mu      sync.Mutex
	ring    []Entry
	next    int    // ring slot of the next entry
	seq     uint64 // last seq given
	cleared uint64 // entries up to this seq were cleared
	closed  bool

	file     chan Entry // nil without a file
	fileDone chan struct{}
	lost     uint64 // entries the file missed: queue full
}

func newJournal(size int, w io.Writer, log *zerolog.Logger) *journal {
	j := &journal{log: log, ring: make([]Entry, 0, size)}
	if w != nil {
		j.file = make(chan Entry, journalFileQueue)
		j.fileDone = make(chan struct{})
		go j.writeFile(w)
	}
	return j
}

// add records one write. It never blocks.
func (j *journal) add(e Entry) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.closed {
		return
	}
	j.seq++
	e.Seq = j.seq
	if len(j.ring) < cap(j.ring) {
		j.ring = append(j.ring, e)
	} else {
		j.ring[j.next] = e
		j.next = (j.next + 1) % len(j.ring)
	}
	if j.file != nil {
		select {
		case j.file <- e:
		default:
			j.lost++
			if j.lost == 1 || j.lost%1000 == 0 {
				j.log.Warn().Uint64("lost", j.lost).Msg("journal file cannot keep up; entries missing from it")
			}
		}
	}
}

// since returns the entries after seq that match keep, oldest first, at
// most limit, and whether older entries after seq have left the ring.
func (j *journal) since(seq uint64, limit int, keep func(*Entry) bool) (out []Entry, gap bool) {
	j.mu.Lock()
	defer j.mu.Unlock()
	n := len(j.ring)
	out = []Entry{}
	if n > 0 && j.ring[j.next%n].Seq > max(seq, j.cleared)+1 {
		gap = true // entries after seq were pushed out of the ring
	}
	for i := 0; i < n && len(out) < limit; i++ {
		if e := &j.ring[(j.next+i)%n]; e.Seq > seq && keep(e) {
			out = append(out, *e)
		}
	}
	return out, gap
}

func (j *journal) total() uint64 {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.seq
}

// clear forgets the entries so far; sequence numbers go on.
func (j *journal) clear() {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.cleared = j.seq
	j.ring, j.next = j.ring[:0], 0
}

func (j *journal) writeFile(w io.Writer) {
	defer close(j.fileDone)
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	for e := range j.file {
		if err := enc.Encode(e); err != nil {
			j.log.Error().Err(err).Msg("journal file write failed; no more entries go to it")
			for range j.file {
			}
			return
		}
		if len(j.file) == 0 {
			if err := bw.Flush(); err != nil {
				j.log.Error().Err(err).Msg("journal file write failed; no more entries go to it")
				for range j.file {
				}
				return
			}
		}
	}
	bw.Flush()
}

func (j *journal) close() error {
	j.mu.Lock()
	already := j.closed
	j.closed = true
	j.mu.Unlock()
	if j.file != nil && !already {
		close(j.file)
		<-j.fileDone
	}
	return nil
}

// Write journals a client write (simulator.Observer).
func (a *Admin) Write(ev simulator.WriteEvent) {
	e := Entry{Device: a.opts.Device, Time: ev.Time, Remote: ev.Remote, Unit: ev.UnitID, FC: uint8(ev.Function),
		Function: ev.Function.String(), Address: ev.Address, File: ev.File}
	if ev.Coils != nil {
		e.Values = ev.Coils
	} else {
		e.Values = ev.Registers
	}
	a.journal.add(e)
}

// getWrites answers the journal, filtered by unit, fc and address (an
// entry matches an address it wrote, first item or not), after seq "since".
func (a *Admin) getWrites(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var since uint64
	limit := 1000
	var unit, fc, addr = -1, -1, -1
	var err error
	for _, p := range []struct {
		name string
		max  uint64
		dst  *int
	}{{"unit", 255, &unit}, {"fc", 255, &fc}, {"address", 65535, &addr}, {"limit", 100000, &limit}} {
		if s := q.Get(p.name); s != "" && err == nil {
			var n uint64
			n, err = parseUint(p.name, s, p.max)
			*p.dst = int(n)
		}
	}
	if s := q.Get("since"); s != "" && err == nil {
		since, err = strconv.ParseUint(s, 10, 64)
		if err != nil {
			err = badField("since", "%q: want the seq of the last entry you have", s)
		}
	}
	if err != nil {
		fail(w, err)
		return
	}
	entries, gap := a.journal.since(since, limit, func(e *Entry) bool {
		return (unit < 0 || int(e.Unit) == unit) && (fc < 0 || int(e.FC) == fc) &&
			(addr < 0 || addr >= int(e.Address) && addr < int(e.Address)+entryLen(e))
	})
	writeJSON(w, http.StatusOK, map[string]any{"writes": entries, "last_seq": a.journal.total(), "gap": gap})
}

func entryLen(e *Entry) int {
	switch v := e.Values.(type) {
	case []bool:
		return len(v)
	case []uint16:
		if e.FC == 22 {
			return 1 // the two masks of one register
		}
		return len(v)
	}
	return 0
}

func (a *Admin) deleteWrites(w http.ResponseWriter, r *http.Request) {
	a.journal.clear()
	w.WriteHeader(http.StatusNoContent)
}
