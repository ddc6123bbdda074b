package admin

import (
	"net/http"
	"strconv"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/plcctl/plcctl/simulator"
)

// decimal[n] is n in decimal: label values without an allocation per request.
var decimal [256]string

func init() {
	for i := range decimal {
		decimal[i] = strconv.Itoa(i)
	}
}

// metrics are plcsim's Prometheus series, in a registry of their own.
type metrics struct {
	reg         *prometheus.Registry
	requests    *prometheus.CounterVec   // unit, fc
	exceptions  *prometheus.CounterVec   // unit, fc, code
	duration    *prometheus.HistogramVec // fc
	conns       prometheus.Gauge
	connsTotal  *prometheus.CounterVec // result
	resets      *prometheus.CounterVec // reason
	faults      *prometheus.CounterVec // action
	malformedRq prometheus.Counter
	framing     prometheus.CounterFunc // from srv's Stats at each scrape
	foreign     prometheus.CounterFunc

	// srv is the server Handler serves (nil before: its series read 0).
	// The events the Observer does not see, framing faults and frames of
	// another protocol, are read from its Stats, so they agree with
	// /api/v1/counters and the "plcsim stopped" line exactly.
	srv atomic.Pointer[simulator.Server]
}

func newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "plcsim_requests_total",
			Help: "Modbus requests received (protocol id 0), by unit id and decimal function code."}, []string{"unit", "fc"}),
		exceptions: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "plcsim_exceptions_total",
			Help: "Exception responses, by unit id, the request's decimal function code and the decimal exception code."},
			[]string{"unit", "fc", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "plcsim_request_duration_seconds",
			Help:    "Time from a complete request to its answer ready to send, by decimal function code.",
			Buckets: prometheus.ExponentialBuckets(20e-6, 4, 9)}, []string{"fc"}),
		conns: prometheus.NewGauge(prometheus.GaugeOpts{Name: "plcsim_connections",
			Help: "Modbus connections open now."}),
		connsTotal: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "plcsim_connections_total",
			Help: "Modbus connections by result: accepted, refused (max conns reached), evicted."}, []string{"result"}),
		resets: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "plcsim_resets_total",
			Help: "Connections the simulator dropped with a TCP reset, by reason."}, []string{"reason"}),
		faults: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "plcsim_faults_injected_total",
			Help: "Fault rules applied to transactions, by action."}, []string{"action"}),
		malformedRq: prometheus.NewCounter(prometheus.CounterOpts{Name: "plcsim_malformed_pdus_total",
			Help: "Requests whose PDU length was not what the function code implies: dropped without an answer, or answered 03 under --malformed-pdu exception."}),
	}
	m.framing = m.fromStats("plcsim_framing_faults_total",
		"Framing faults: an MBAP length outside 2..254, a frame not completed within the frame timeout, or the peer closing mid-frame; the connection was dropped.",
		func(st simulator.Stats) uint64 { return st.FramingFaults })
	m.foreign = m.fromStats("plcsim_foreign_protocol_frames_total",
		"Frames with a protocol id other than 0 (not Modbus), discarded without an answer; the connection stays.",
		func(st simulator.Stats) uint64 { return st.ForeignProtocol })
	m.reg.MustRegister(m.collectors()...)
	// Series that exist from the start, so a rate() has its zero.
	for _, r := range []simulator.ConnResult{simulator.ConnAccepted, simulator.ConnRefused, simulator.ConnEvicted} {
		m.connsTotal.WithLabelValues(string(r))
	}
	for r := range simulator.ResetReason(simulator.NumResetReasons) {
		m.resets.WithLabelValues(r.String())
	}
	return m
}

func (m *metrics) collectors() []prometheus.Collector {
	return []prometheus.Collector{m.requests, m.exceptions, m.duration, m.conns, m.connsTotal, m.resets, m.faults, m.malformedRq,
		m.framing, m.foreign}
}

// fromStats is a counter read from the server's Stats at each scrape.
func (m *metrics) fromStats(name, help string, f func(simulator.Stats) uint64) prometheus.CounterFunc {
	return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, func() float64 {
		if srv := m.srv.Load(); srv != nil {
			return float64(f(srv.Stats()))
		}
		return 0
	})
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
}

// Request counts one request (simulator.Observer).
func (a *Admin) Request(ev simulator.RequestEvent) {
	m := a.metrics
	u, fc := decimal[ev.UnitID], decimal[uint8(ev.Function)]
	m.requests.WithLabelValues(u, fc).Inc()
	if ev.Malformed {
		m.malformedRq.Inc()
		if ev.Exception == 0 { // dropped; under --malformed-pdu exception answered 03
			return
		}
	}
	if ev.Silent { // no answer on purpose: nothing to time, no exception
		return
	}
	if ev.Exception != 0 {
		m.exceptions.WithLabelValues(u, fc, decimal[uint8(ev.Exception)]).Inc()
	}
	m.duration.WithLabelValues(fc).Observe(ev.Duration.Seconds())
}

// Connection counts connections (simulator.Observer).
func (a *Admin) Connection(ev simulator.ConnEvent) {
	m := a.metrics
	switch ev.Result {
	case simulator.ConnAccepted:
		m.conns.Inc()
	case simulator.ConnClosed:
		m.conns.Dec()
		return
	}
	m.connsTotal.WithLabelValues(string(ev.Result)).Inc()
}

// Reset counts a reset by reason (simulator.Observer).
func (a *Admin) Reset(ev simulator.ResetEvent) { a.metrics.resets.WithLabelValues(ev.Reason).Inc() }

// Fault counts an injected fault by action (simulator.Observer).
func (a *Admin) Fault(ev simulator.FaultEvent) {
	a.metrics.faults.WithLabelValues(ev.Action.String()).Inc()
}

var _ simulator.Observer = (*Admin)(nil)
