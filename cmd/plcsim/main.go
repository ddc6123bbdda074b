// Command plcsim is a strict Modbus TCP PLC simulator: it serves coils,
// discrete inputs, holding and input registers, a FIFO queue, file records and
// device identification, and drops any connection that sends a malformed
// frame, by default with a TCP reset, as a strict PLC does.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/rs/zerolog"
	"github.com/spf13/pflag"

	"github.com/plcctl/plcctl/internal/logtext"
	"github.com/plcctl/plcctl/internal/suggest"
	"github.com/plcctl/plcctl/internal/version"
	"github.com/plcctl/plcctl/plant"
	"github.com/plcctl/plcctl/simulator"
)

// Exit codes.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

func main() {
	zerolog.TimeFieldFormat = time.RFC3339Nano // log lines a frame apart stay apart
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

const usageText = `Usage: plcsim [flags]

plcsim is a strict Modbus TCP PLC simulator. It listens on loopback by default,
serves every public function code usable over TCP (1-6, 15, 16, 20-24, 43/14),
and answers 01 (illegal function) to anything else, including the serial-line-
only codes 7, 8, 11 and 12 (and 17 unless a plant gives a server id). Without
a plant it starts with every table all zero; --unit-ids gives each unit listed
its own memory.

--plant FILE serves a plant file (testdata/plants): its units with their own
memories, tables given as sizes or address ranges (outside them: exception
02), initial values, FIFOs, file records, identification, an FC 17 server id,
what an unknown unit gets (0B or silence), fault rules, and living values
(counter, ramp, sine, random walk, uptime, clock, a tag that follows another
after a delay), recomputed every --scan. A file with several devices is
served whole: each device from its own simulator on its own address: from
the file (a tag may follow one of another device), the other flags applying
to each, log lines naming the device. --device NAME serves one device alone;
--listen needs it. --state FILE keeps FILE.NAME per device (a / in NAME
written %), --http serves each device's control API under /devices/NAME/,
and --journal entries name their device.

--state FILE keeps holding registers and coils (with a plant: the tags marked
retentive) across restarts: restored at start, saved atomically (temporary
file, fsync, rename) every --state-interval when changed and at shutdown, so
even kill -9 never leaves a torn file. A state file of another plant or
layout, or a damaged one, is refused: plcsim exits 1 and says why.

Bad input is handled on purpose, counted and logged with the exact reason:
  framing faults (MBAP length outside 2..254, frame not completed within
  --frame-timeout) drop the connection per --on-malformed (reset by default);
  malformed PDUs (length not what the function code and its counts imply) do
  the same unless --malformed-pdu exception; field values the spec forbids get
  the spec's exception code; a protocol id other than 0 is discarded silently.

--fault RULE injects faults to test clients against (repeatable; the first
rule that selects a request applies). A rule is key=value pairs, e.g.
  --fault action=delay,delay=3s,fc=3,count=1
  --fault action=wrong-tid,fc=3,addr=0-99,every=10,prob=0.5,seed=42
Actions: delay (answer after delay=), drop (execute, no answer), duplicate,
  split (one byte per write, or two pieces cut at at=N, gap= between them),
  wrong-tid, wrong-unit, wrong-fc, short (fewer items than asked, consistent
  byte count), bad-byte-count, junk (junk= bytes of 0xFF before the answer),
  coalesce (the answer goes out with the next one), exception (exception=CODE,
  not executed), answer-close (answer, then FIN), close-fin, close-rst,
  cut-mid-frame (half an answer, then FIN), stop-accepting (for=: accept no
  connection), reboot (for=: drop every connection, refuse new ones, memory
  cleared; the request is not executed).
Conditions: unit, fc, addr (N or N-M, overlapping the request's range), qty
  (N or N-M), nth (the Nth request on each connection), from and until (time
  since start). Selection: after (skip N matches), every (then each Kth), prob
  (0 < p <= 1) with seed (same seed, same faults), count (at most N faults).
--fault-file FILE holds one rule per line (# comments); SIGHUP reloads it, and
a file that does not parse keeps the old rules and logs the line at fault.

--http ADDR serves a control API (read and set tables, replace fault rules,
reboot, snapshot and restore, the journal of client writes), Prometheus
metrics at /metrics and a live page at /; see /api/openapi.json. A port alone
or :PORT listens on loopback only. With --http-token (or $PLCSIM_HTTP_TOKEN),
requests that change the simulator must send "Authorization: Bearer TOKEN".
--journal FILE appends every write a client makes as a JSON line.

Security (README "Security"): --tls-cert, --tls-key and --tls-client-ca serve
Modbus/TCP Security: TLS 1.2 or 1.3, every client must show a certificate
signed by the client CA, and its role (extension 1.3.6.1.4.1.50316.802.1)
decides: operator reads and writes, viewer only reads, any other role or none
gets exception 01. Other rules (a role -> the function codes, unit ids and
address ranges per table it may use) come from the plant file's access:
section or from --access FILE; SIGHUP reloads them (a file that does not load
keeps the rules in force and logs its first problem with file:line). On TCP
and TLS: --allow limits client addresses, --max-conns-per-ip caps connections
per address, --read-only refuses every write with 01. "plcsim certs --out DIR" makes a CA, a server and client
certificates to try it with.

It logs one readiness line, "plcsim ready", naming the real address (use
--listen 127.0.0.1:0 for a free port); with several devices one per device,
every device's port bound before the first. --ready-file FILE says it
whatever the log level: one JSON line with pid, modbus and http addresses,
written atomically once every port listens, removed at exit. SIGINT/SIGTERM stop it gracefully:
it stops accepting, half-closes every connection, drains, closes, exits 0.
SIGHUP reloads --fault-file and the access rules; with neither it is logged
and plcsim goes on serving.

Exit codes: 0 clean shutdown, 1 failure (e.g. cannot listen), 2 usage error.

Flags:
`

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "certs" {
		return runCerts(args[1:], stdout, stderr) // security.go
	}
	fs := pflag.NewFlagSet("plcsim", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var (
		listen       = fs.String("listen", simulator.DefaultListen, "address to listen on: `HOST[:PORT]`, port "+defaultPort+" if omitted, 0 picks a free one; a port alone or :PORT is loopback, 0.0.0.0:PORT every interface")
		maxConns     = fs.Int("max-conns", 64, "at most `N` concurrent connections; when full, a new one closes the connection idle longest")
		onMalformed  = fs.String("on-malformed", "reset", "how to drop a connection after a framing fault, `HOW`: reset (TCP RST) or close (FIN)")
		malformedPDU = fs.String("malformed-pdu", "strict", "malformed PDU `POLICY`: strict (drop like a framing fault) or exception (answer 03, keep the connection)")
		frameTimeout = fs.Duration("frame-timeout", 2*time.Second, "time a started frame has to arrive completely")
		idleTimeout  = fs.Duration("idle-timeout", 0, "close connections idle this long (0 = never)")
		drainTimeout = fs.Duration("drain-timeout", time.Second, "how long a graceful close waits for the peer's FIN")
		writeTimeout = fs.Duration("write-timeout", 5*time.Second, "reset a connection whose peer has not read an answer for this long")
		logLimit     = fs.Int("log-limit", 20, "`N` log lines per second for each kind of connection event; the rest are counted and summarised (-1 = no limit)")
		coils        = fs.Int("coils", simulator.DefaultTableSize, "`N` coils")
		discrete     = fs.Int("discrete-inputs", simulator.DefaultTableSize, "`N` discrete inputs")
		holding      = fs.Int("holding-registers", simulator.DefaultTableSize, "`N` holding registers")
		input        = fs.Int("input-registers", simulator.DefaultTableSize, "`N` input registers")
		faults       = fs.StringArray("fault", nil, "inject a fault `RULE`, repeatable; e.g. action=delay,delay=2s,fc=3,after=10,count=1 (see README)")
		faultFile    = fs.String("fault-file", "", "fault rules from `FILE`, one per line (# comments), after any --fault rules; SIGHUP reloads the file")
		statePath    = fs.String("state", "", "keep holding registers and coils (a plant's retentive tags) in `FILE` across restarts: loaded at start, saved atomically when changed and on shutdown")
		stateEvery   = fs.Duration("state-interval", time.Second, "how often --state saves a changed memory")
		unknownUnit  = fs.String("unknown-unit", "exception", "gateway mode: what a unit id without a memory gets, `ANSWER`: exception (0B) or silent (no answer)")
		maxFileRegs  = fs.Int("max-file-registers", simulator.DefaultMaxFileRegisters, "`N` file-record registers each unit may store beyond its configuration; an FC 21 write needing more gets exception 04")
		plantPath    = fs.String("plant", "", "serve the plant file `FILE`: its units, tables, initial values, living values and fault rules (see testdata/plants)")
		deviceName   = fs.String("device", "", "with --plant: serve only the device `NAME` of the file (default: every device, each on its address:)")
		scan         = fs.Duration("scan", 0, "with --plant: the scan cycle of living values (default the file's scan:, else 100ms)")
		unitIDs      = fs.String("unit-ids", "", "gateway mode: comma-separated unit `IDS` served, each with its own memory (0 and 255 address the first); others get exception 0B. Empty serves every unit id from one memory")
		logLevel     = fs.String("log-level", "info", "log `LEVEL`: trace, debug, info, warn, error")
		logFormat    = fs.String("log-format", "text", "log `FORMAT`: text (one readable line per event) or json (one object per line)")
		trace        = fs.Bool("trace", false, "log every frame received and sent, in hex (same as --log-level trace)")
		help         = fs.BoolP("help", "h", false, "show this help")
		showVersion  = fs.Bool("version", false, "print the version and exit")
		httpAddr     = fs.String("http", "", "serve the control API, /metrics and the live page on `ADDR`; a port alone or :PORT is loopback only (off unless given)")
		httpToken    = fs.String("http-token", "", "bearer `TOKEN` that API requests changing the simulator must send (default $"+tokenEnv+")")
		journal      = fs.String("journal", "", "append every write a client makes to `FILE`, one JSON object per line")
		readyPath    = fs.String("ready-file", "", "once every port listens, write `FILE` (atomically): one JSON line with pid, modbus and http addresses; removed at exit")
	)
	secFlags := addSecurityFlags(fs) // --tls-*, --allow, --read-only, --max-conns-per-ip (security.go)
	if err := fs.Parse(args); err != nil {
		fmt.Fprintf(stderr, "plcsim: %v\nRun 'plcsim --help' for usage.\n", suggest.FlagError(err, fs))
		return exitUsage
	}
	if *help {
		fmt.Fprint(stdout, usageText+fs.FlagUsages())
		return exitOK
	}
	if *showVersion {
		fmt.Fprintln(stdout, version.String("plcsim"))
		return exitOK
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "plcsim: unexpected argument %q\nRun 'plcsim --help' for usage.\n", fs.Arg(0))
		return exitUsage
	}
	if err := checkLimits(fs); err != nil {
		fmt.Fprintf(stderr, "plcsim: %v\n", err)
		return exitUsage
	}
	if *httpAddr != "" {
		if err := checkHTTPAddress(*httpAddr); err != nil {
			fmt.Fprintf(stderr, "plcsim: %v\n", err)
			return exitUsage
		}
	}
	log, err := newLogger(stderr, *logLevel, *logFormat, *trace)
	if err != nil {
		fmt.Fprintf(stderr, "plcsim: %v\n", err)
		return exitUsage
	}
	addr, err := listenAddress(*listen)
	if err != nil {
		fmt.Fprintf(stderr, "plcsim: %v\n", err)
		return exitUsage
	}
	cfg := simulator.Config{Listen: addr, MaxConns: *maxConns, FrameTimeout: *frameTimeout,
		IdleTimeout: *idleTimeout, DrainTimeout: *drainTimeout, WriteTimeout: *writeTimeout, LogLimit: *logLimit, Coils: *coils, DiscreteInputs: *discrete,
		HoldingRegisters: *holding, InputRegisters: *input, Logger: log}
	// One rule for case, as in plcctl: the words flags take are case-insensitive.
	if cfg.OnMalformed, err = simulator.ParseMalformedAction(strings.ToLower(*onMalformed)); err == nil {
		cfg.MalformedPDU, err = simulator.ParsePDUPolicy(strings.ToLower(*malformedPDU))
	}
	if err == nil {
		cfg.UnitIDs, err = parseUnitIDs(*unitIDs)
	}
	if err == nil {
		cfg.UnknownUnit, err = simulator.ParseUnknownUnit(strings.ToLower(*unknownUnit))
	}
	if err == nil && *maxFileRegs < 1 {
		err = fmt.Errorf("--max-file-registers %d: want at least 1", *maxFileRegs)
	}
	cfg.MaxFileRegisters = *maxFileRegs
	for _, f := range *faults {
		if err != nil {
			break
		}
		var r simulator.FaultRule
		if r, err = simulator.ParseFaultRule(f); err == nil {
			cfg.Faults = append(cfg.Faults, r)
		}
	}
	if err == nil {
		err = secFlags.apply(&cfg)
	}
	fixed := cfg.Faults
	var fileRules []simulator.FaultRule
	if err == nil && *faultFile != "" {
		if fileRules, err = loadFaultFile(*faultFile); err == nil {
			cfg.Faults = append(append([]simulator.FaultRule(nil), fixed...), fileRules...)
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "plcsim: %v\n", err)
		return exitUsage
	}
	var ready *readyFile
	if *readyPath != "" {
		if ready, err = openReadyFile(*readyPath); err != nil {
			fmt.Fprintf(stderr, "plcsim: %v\n", err)
			return exitUsage
		}
	}
	var pl *plantRun
	if *plantPath != "" {
		runs, err := loadPlant(fs, *plantPath, *deviceName, *scan, cfg)
		if err != nil {
			fmt.Fprintf(stderr, "plcsim: %v\n", err)
			return exitUsage
		}
		// Rules in order: --fault, the plant's, the --fault-file's (which
		// SIGHUP replaces, keeping the first two).
		fixed = append(append([]simulator.FaultRule(nil), fixed...), runs[0].faults...)
		for _, r := range runs {
			r.cfg.Faults = append(append([]simulator.FaultRule(nil), fixed...), fileRules...)
		}
		if len(runs) > 1 {
			return serveDevices(ctx, runs, multiOptions{sec: secFlags, faultFile: *faultFile, fixed: fixed,
				httpAddr: *httpAddr, httpToken: *httpToken, journal: *journal, statePath: *statePath, stateEvery: *stateEvery, ready: ready}, log, stderr)
		}
		pl, cfg = runs[0], runs[0].cfg
	} else if *deviceName != "" || *scan != 0 {
		fmt.Fprintf(stderr, "plcsim: --device and --scan go with --plant\n")
		return exitUsage
	}
	if err := secFlags.checkAccessFits(servedBy(pl, cfg)); err != nil {
		fmt.Fprintf(stderr, "plcsim: %v\n", err)
		return exitUsage
	}
	if err := secFlags.applyAccess(&cfg, pl, log); err != nil {
		fmt.Fprintf(stderr, "plcsim: %v\n", err)
		return exitUsage
	}
	var tags []*plant.Tag
	if pl != nil {
		tags = pl.dev.Tags
	}
	ctl, err := newControl(*httpAddr, *httpToken, *journal, []ctlDevice{{tags: tags, log: log}}, log)
	if err != nil {
		fmt.Fprintf(stderr, "plcsim: %v\n", err)
		return exitFailure
	}
	ctl.observe(0, &cfg)
	srv, err := simulator.New(cfg)
	if err != nil {
		ctl.stop()
		fmt.Fprintf(stderr, "plcsim: %v\n", err)
		return exitUsage
	}
	if pl != nil {
		if err := pl.preload(srv); err != nil {
			ctl.stop()
			fmt.Fprintf(stderr, "plcsim: %v\n", err)
			return exitUsage
		}
	}
	ctl.serve(ctx, []*simulator.Server{srv}, nil) // one device: cannot fail
	defer ctl.stop()
	defer secFlags.reloader([]*simulator.Server{srv}, servedBy(pl, cfg), *faultFile, fixed, log).watch(ctx)()
	var keeper *stateKeeper
	saverDone := make(chan struct{})
	if *statePath != "" {
		if *stateEvery <= 0 {
			fmt.Fprintf(stderr, "plcsim: --state-interval %v: want a positive duration\n", *stateEvery)
			return exitUsage
		}
		if keeper, err = openState(*statePath, srv, pl.fingerprint(), log); err != nil {
			fmt.Fprintf(stderr, "plcsim: %v\n", err)
			return exitFailure
		}
		go func() { keeper.loop(ctx, *stateEvery); close(saverDone) }()
	}
	if pl != nil {
		if err := animate(ctx, pl.p, []device{{pl.dev, srv}}, pl.scan, log); err != nil {
			fmt.Fprintf(stderr, "plcsim: %v\n", err)
			return exitUsage
		}
	}
	ready.start(ctx, []*simulator.Server{srv}, nil, ctl.addr(), log)
	defer ready.remove()
	if err := srv.ListenAndServe(ctx); err != nil && !errors.Is(err, simulator.ErrServerClosed) {
		log.Error().Err(err).Msg("plcsim failed")
		return exitFailure
	}
	if keeper != nil {
		<-saverDone
		if err := keeper.save(); err != nil {
			log.Error().Err(err).Str("state", *statePath).Msg("cannot save state at shutdown")
			return exitFailure
		}
		log.Info().Str("state", *statePath).Msg("state saved")
	}
	logStopped(log, srv)
	return exitOK
}

// logStopped logs the server's counters at shutdown: resets and faults
// injected with their breakdown by reason and action ("drop=3,wrong-tid=1"),
// the breakdowns left out when there is nothing to break down.
func logStopped(log *zerolog.Logger, srv *simulator.Server) {
	st := srv.Stats()
	var resets []string // "reason=n" for each reason that occurred
	for r, n := range st.ResetsBy {
		if n > 0 {
			resets = append(resets, simulator.ResetReason(r).String()+"="+strconv.FormatUint(n, 10))
		}
	}
	var faults []string // "action=n" for each action applied, in name order
	for a, n := range st.FaultsByAction {
		faults = append(faults, a.String()+"="+strconv.FormatUint(n, 10))
	}
	sort.Strings(faults)
	e := log.Info().Uint64("accepted", st.Accepted).Uint64("evicted", st.Evicted).Uint64("refused", st.Refused).
		Uint64("requests", st.Requests).Uint64("exceptions", st.Exceptions).
		Uint64("framing_faults", st.FramingFaults).Uint64("malformed_pdus", st.MalformedPDUs).
		Uint64("resets", st.Resets)
	if len(resets) > 0 {
		e = e.Str("resets_by", strings.Join(resets, ","))
	}
	e = e.Uint64("faults", st.Faults)
	if len(faults) > 0 {
		e = e.Str("faults_by", strings.Join(faults, ","))
	}
	// Connections --allow or --max-conns-per-ip closed at once are in
	// accepted too; without these a run whose every client was refused
	// read as accepted=2 refused=0.
	sec := srv.SecurityStats()
	for _, c := range []struct {
		key string
		n   uint64
	}{{"not_allowed", sec.NotAllowed}, {"per_ip_refused", sec.PerIPRefused},
		{"tls_handshake_failures", sec.HandshakeFailures}, {"denied", sec.Denied}} {
		if c.n > 0 {
			e = e.Uint64(c.key, c.n)
		}
	}
	e.Uint64("log_suppressed", st.LogSuppressed).Msg("plcsim stopped")
}

func parseUnitIDs(s string) ([]uint8, error) {
	if s == "" {
		return nil, nil
	}
	var ids []uint8
	for _, f := range strings.Split(s, ",") {
		v, err := strconv.ParseUint(strings.TrimSpace(f), 0, 8)
		if err != nil {
			return nil, fmt.Errorf("--unit-ids: %q is not a unit id 0..255", f)
		}
		ids = append(ids, uint8(v))
	}
	return ids, nil
}

// defaultPort is the port of simulator.DefaultListen, used when --listen
// names only a host.
var defaultPort = func() string {
	_, port, _ := net.SplitHostPort(simulator.DefaultListen)
	return port
}()

// listenAddress adds the default port to a --listen address that has none
// ("127.0.0.1", "::1", "[::1]", "localhost") and refuses one that cannot be
// a listening address. A port alone or ":PORT" is loopback, as for --http:
// Go would take an empty host for every interface, and a simulator that
// anyone on the network can write to should take 0.0.0.0 spelled out.
func listenAddress(s string) (string, error) {
	if s == "" {
		return "", fmt.Errorf("--listen: empty address; want HOST[:PORT], e.g. %s", simulator.DefaultListen)
	}
	if (s[0] == ':' && strings.Count(s, ":") == 1) || strings.Trim(s, "0123456789") == "" {
		s = "127.0.0.1:" + strings.TrimPrefix(s, ":")
	}
	if strings.Count(s, "[") != strings.Count(s, "]") {
		return "", fmt.Errorf("--listen %q: unbalanced brackets; want HOST[:PORT] or [IPv6]:PORT", s)
	}
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		host, port = s, defaultPort
		if strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") {
			host = s[1 : len(s)-1]
		}
		if strings.ContainsAny(host, "[]") {
			// "[0]0" is balanced, but was taken as host "0]0", which
			// then failed to resolve when plcsim listened.
			return "", fmt.Errorf("--listen %q: brackets go around a whole IPv6 address only; want HOST[:PORT] or [IPv6]:PORT", s)
		}
	}
	if n, err := strconv.ParseUint(port, 10, 16); err != nil || (n == 0 && port != "0") {
		return "", fmt.Errorf("--listen %q: port %q is not a number 0..65535", s, port)
	}
	return net.JoinHostPort(host, port), nil
}

func newLogger(w io.Writer, level, format string, trace bool) (*zerolog.Logger, error) {
	level, format = strings.ToLower(level), strings.ToLower(format)
	lvl, err := zerolog.ParseLevel(level)
	if err != nil || level == "" {
		return nil, fmt.Errorf("--log-level %q: want trace, debug, info, warn or error", level)
	}
	if trace {
		lvl = zerolog.TraceLevel
	}
	switch format {
	case "text", "console": // console: the name before text
		f, ok := w.(*os.File)
		w = logtext.Writer(w, ok && isTerminal(f))
	case "json":
	default:
		return nil, fmt.Errorf("--log-format %q: want text or json", format)
	}
	l := zerolog.New(w).Level(lvl).With().Timestamp().Logger()
	return &l, nil
}

func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
