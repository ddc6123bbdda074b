package transport

// pendingSet holds a link's calls waiting for their answers, by transaction
// id. A call is in it from register until its answer, its giving up or the
// link's failure, all before its request leaves the Conn's in-flight slot,
// so it never holds more than Options.MaxInFlight calls. A short array
// searched in order then does what a map would, without hashing: a
// sequential client looks at one entry.
type pendingSet struct {
	n   int
	tid [MaxInFlightLimit]uint16
	cl  [MaxInFlightLimit]*call
}

func (p *pendingSet) len() int { return p.n }

// get returns the call waiting for tid, or nil.
func (p *pendingSet) get(tid uint16) *call {
	for i := range p.n {
		if p.tid[i] == tid {
			return p.cl[i]
		}
	}
	return nil
}

// add records cl as waiting for tid, which no call waits for.
func (p *pendingSet) add(tid uint16, cl *call) {
	p.tid[p.n], p.cl[p.n] = tid, cl
	p.n++
}

// remove forgets the call waiting for tid and returns it, or nil.
func (p *pendingSet) remove(tid uint16) *call {
	for i := range p.n {
		if p.tid[i] == tid {
			cl := p.cl[i]
			p.n--
			p.tid[i], p.cl[i] = p.tid[p.n], p.cl[p.n]
			p.cl[p.n] = nil
			return cl
		}
	}
	return nil
}

// takeAll empties the set and returns its calls in dst's room.
func (p *pendingSet) takeAll(dst *[MaxInFlightLimit]*call) []*call {
	all := dst[:copy(dst[:], p.cl[:p.n])]
	clear(p.cl[:p.n])
	p.n = 0
	return all
}
