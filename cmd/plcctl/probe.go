package main

import (
	"context"
	"errors"
	"math/bits"

	"github.com/plcctl/plcctl/modbus"
	"github.com/plcctl/plcctl/plant"
	"github.com/plcctl/plcctl/plc"
)

// defaultProbeStep is --probe-step's default: every 100th address is
// sampled, so any run of 100 or more addresses, and any run that starts at
// a multiple of 100 (as vendor register maps tend to), is found.
const defaultProbeStep = 100

// prober finds the runs of addresses a table serves using only reads: a
// read of addr..addr+n-1 is answered when every address exists and with
// exception 02 when one does not [AP §7 code 02].
type prober struct {
	step   int // distance between sampled addresses
	maxQty int // items per request (125 registers, 2000 bits)
	// served sends one read of n items from addr: true when answered,
	// false on exception 02, an error for anything else.
	served func(addr uint16, n int) (bool, error)
	sent   int // requests sent so far
}

// all reports whether every address lo..hi is served, in reads of at most
// maxQty items, stopping at the first 02.
func (p *prober) all(lo, hi int) (bool, error) {
	for at := lo; at <= hi; {
		n := min(hi-at+1, p.maxQty)
		p.sent++
		ok, err := p.served(uint16(at), n)
		if err != nil || !ok {
			return false, err
		}
		at += n
	}
	return true, nil
}

// leftEdge returns the first address x in (lo, hi] with x..hi served,
// given that hi is served and lo..hi is not (lo -1: nothing below).
func (p *prober) leftEdge(lo, hi int) (int, error) {
	for hi-lo > 1 {
		mid := lo + (hi-lo)/2
		ok, err := p.all(mid, hi)
		if err != nil {
			return 0, err
		}
		if ok {
			hi = mid
		} else {
			lo = mid
		}
	}
	return hi, nil
}

// rightEdge returns the last address y in [lo, hi) with lo..y served,
// given that lo is served and lo..hi is not.
func (p *prober) rightEdge(lo, hi int) (int, error) {
	from := lo
	for hi-lo > 1 {
		mid := lo + (hi-lo)/2
		ok, err := p.all(from, mid)
		if err != nil {
			return 0, err
		}
		if ok {
			lo = mid
		} else {
			hi = mid
		}
	}
	return lo, nil
}

// probeSamples returns the sampled addresses: 0, step, 2·step, ... and 65535.
func probeSamples(step int) []int {
	var s []int
	for a := 0; a <= 0xFFFF; a += step {
		s = append(s, a)
	}
	if s[len(s)-1] != 0xFFFF {
		s = append(s, 0xFFFF)
	}
	return s
}

// probeBound is the most requests ranges sends for step and maxQty: one
// per sample, and between two neighbouring samples at most one read
// joining them plus two binary searches of ceil(log2 step) reads, each of
// ceil((step+1)/maxQty) requests.
func probeBound(step, maxQty int) int {
	n := len(probeSamples(step))
	chunks := (step + maxQty) / maxQty
	return n + (n-1)*(1+2*bits.Len(uint(step-1)))*chunks
}

// ranges returns the runs of served addresses that hold a sampled address,
// in order, each exact: one read per sample, then for two neighbouring
// samples that answer a read of everything between them (one run, or two
// with a hole between), and binary searches for the edges of each run.
// A run shorter than step that holds no sample is not found.
func (p *prober) ranges() ([]plant.Range, error) {
	var out []plant.Range
	open := false // a run holds the previous sample; its end is not yet known
	var cur plant.Range
	prev := -1
	for _, s := range probeSamples(p.step) {
		hit, err := p.all(s, s)
		if err != nil {
			return nil, err
		}
		switch {
		case hit && open:
			joined, err := p.all(prev, s)
			if err != nil {
				return nil, err
			}
			if joined {
				break
			}
			end, err := p.rightEdge(prev, s)
			if err != nil {
				return nil, err
			}
			cur.End = uint16(end)
			out = append(out, cur)
			fallthrough
		case hit:
			start, err := p.leftEdge(prev, s)
			if err != nil {
				return nil, err
			}
			cur, open = plant.Range{Start: uint16(start)}, true
		case open:
			end, err := p.rightEdge(prev, s)
			if err != nil {
				return nil, err
			}
			cur.End = uint16(end)
			out, open = append(out, cur), false
		}
		prev = s
	}
	if open {
		cur.End = 0xFFFF
		out = append(out, cur)
	}
	return out, nil
}

// probeTable finds the runs of addresses table k of c serves (see
// prober), returning them and the requests sent.
func probeTable(ctx context.Context, c *plc.Client, k plant.TableKind, step int) ([]plant.Range, int, error) {
	p := &prober{step: step, maxQty: maxQty(k), served: func(addr uint16, n int) (bool, error) {
		_, _, err := readSpan(ctx, c, k, addr, uint16(n))
		if errors.Is(err, modbus.IllegalDataAddress) {
			return false, nil
		}
		return err == nil, err
	}}
	r, err := p.ranges()
	return r, p.sent, err
}

// maxQty is the most items one read of table k carries [AP §6.1-6.4].
func maxQty(k plant.TableKind) int {
	if k.IsBits() {
		return modbus.MaxReadBits
	}
	return modbus.MaxReadRegisters
}
