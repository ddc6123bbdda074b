package main

import (
	"math"
	"slices"
	"time"
)

// latencies summarises round-trip times.
type latencies []time.Duration

// percentile returns the nearest-rank p-th percentile (0 < p <= 100) of
// sorted durations.
func (l latencies) percentile(p float64) time.Duration {
	if len(l) == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(len(l))))
	return l[min(max(rank, 1), len(l))-1]
}

// summary returns min, avg, max, p50, p90 and p99; it sorts l.
func (l latencies) summary() latencySummary {
	if len(l) == 0 {
		return latencySummary{}
	}
	slices.Sort(l)
	var sum time.Duration
	for _, d := range l {
		sum += d
	}
	return latencySummary{Min: ms(l[0]), Avg: ms(sum / time.Duration(len(l))), Max: ms(l[len(l)-1]),
		P50: ms(l.percentile(50)), P90: ms(l.percentile(90)), P99: ms(l.percentile(99))}
}

// latencySummary is in milliseconds, for JSON.
type latencySummary struct {
	Min, Avg, Max, P50, P90, P99 float64
}

// ms converts d to milliseconds rounded to microseconds.
func ms(d time.Duration) float64 { return math.Round(float64(d)/1e3) / 1e3 }
