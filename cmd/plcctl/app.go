package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
	"github.com/spf13/pflag"

	"github.com/plcctl/plcctl/internal/logtext"
	"github.com/plcctl/plcctl/internal/version"
	"github.com/plcctl/plcctl/plc"
	"github.com/plcctl/plcctl/transport"
)

// app is one run of plcctl: where output goes, the parsed shared flags, the
// logger and, once dialled, the one connection every request uses.
type app struct {
	stdout, stderr io.Writer
	stdin          io.Reader
	opts           sharedOptions
	log            zerolog.Logger

	client     *plc.Client // nil until connect; kept open by shell and watch
	clientAddr string
	inShell    bool
	addrGiven  bool          // -a or PLCCTL_ADDRESS named the device (else the default)
	plantDev   string        // the plant device whose address: is dialled ("" if none)
	shellOpts  sharedOptions // in the shell: the defaults for every line
	shellPlant string        // in the shell: its --plant, every line's plant file
	connLevel  atomic.Int32  // log level of the shell's connection, set per line
	quietLink  bool          // a one-shot command's transport logs at error (command.linkWarnings)

	warnedInsecure bool // --tls-insecure-skip-verify warning printed (tls.go)
}

// run is plcctl without the process: it parses args, runs one command and
// returns the exit code. All output goes to stdout (data) and stderr
// (logs, progress, errors).
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	// The transport logs from its own goroutines and bench draws progress
	// from another: serialize stderr for writers that are not safe for that.
	a := &app{stdout: &outWriter{w: stdout}, stderr: &lockedWriter{w: stderr}, stdin: os.Stdin, log: zerolog.Nop()}
	defer a.close()
	code := a.dispatch(ctx, args)
	if err := a.stdoutErr(); err != nil && code == exitOK {
		// A command that ignored it (scan's table, help): its data did
		// not arrive, which is no success.
		fmt.Fprintf(a.stderr, "plcctl: the output cannot be written: %v\n", err)
		code = exitFailure
	}
	return code
}

// dispatch runs "[shared flags] COMMAND [flags] ARGS" (a command line, or a
// shell line) and returns its exit code. Flags may come anywhere: the
// command is the first word that names one (skipping the values of shared
// flags), and every other word goes to its flag set.
func (a *app) dispatch(ctx context.Context, args []string) int {
	var scratch sharedOptions
	global := scratch.newFlagSet("plcctl")
	global.SetInterspersed(false)
	showVersion := global.Bool("version", false, "print the version and exit")
	err := global.Parse(args)
	switch {
	case errors.Is(err, pflag.ErrHelp):
		a.writeHelp(a.stdout)
		return exitOK
	case err == nil && *showVersion:
		fmt.Fprintln(a.stdout, version.String("plcctl"))
		return exitOK
	case err == nil && global.NArg() == 0:
		fmt.Fprintln(a.stderr, "plcctl: no command given")
		a.shortUsage(a.stderr)
		return exitUsage
	}
	if len(args) > 0 && args[0] == completeCommand {
		for _, c := range a.complete(args[1:]) {
			fmt.Fprintln(a.stdout, c)
		}
		return exitOK
	}
	i := a.findCommand(global, args)
	if i < 0 {
		switch w := global.Arg(0); {
		case err == nil && (w == "help" || findSpec(w) != nil):
			// After "--": "unknown command "read-coils"; did you mean read-coils?"
			err = fmt.Errorf("the command %s comes after \"--\", which makes every word after it an argument: put the command before \"--\"", quote(w))
		case err == nil:
			err = fmt.Errorf("unknown command %s%s", quote(w), didYouMean(w, commandWords()))
		default:
			err = flagError(err, global)
		}
		fmt.Fprintf(a.stderr, "plcctl: %v\n", err)
		a.shortUsage(a.stderr)
		return exitUsage
	}
	rest := append(append([]string{}, args[:i]...), args[i+1:]...)
	if args[i] == "help" {
		return a.help(helpWords(global, rest))
	}
	return a.exec(ctx, args[i], rest)
}

// findCommand returns the index in args of the command name: the first word
// that is not a flag, nor the value of a shared flag, and names a command
// (or "help"). It returns -1 when no word names one. A word after "--" is
// never a command.
func (a *app) findCommand(global *pflag.FlagSet, args []string) int {
	for i := 0; i < len(args); i++ {
		s := args[i]
		switch {
		case s == "--":
			return -1
		case strings.HasPrefix(s, "-") && len(s) > 1:
			if takesValue(global, s) {
				i++
			}
		case s == "help" || findSpec(s) != nil:
			return i
		}
	}
	return -1
}

// help implements "plcctl help [COMMAND]".
func (a *app) help(args []string) int {
	if len(args) == 0 || args[0] == "help" {
		a.writeHelp(a.stdout)
		return exitOK
	}
	if args[0] == "-h" || args[0] == "--help" {
		fmt.Fprint(a.stdout, helpHelp)
		return exitOK
	}
	c := a.lookup(args[0])
	if c == nil {
		fmt.Fprintf(a.stderr, "plcctl help: unknown command %s%s\n", quote(args[0]), didYouMean(args[0], commandWords()))
		a.shortUsage(a.stderr)
		return exitUsage
	}
	c.writeHelp(a.stdout)
	return exitOK
}

// helpWords are the words of "help" without the shared flags and their
// values, which say nothing to help but were taken for the command:
// "plcctl -a HOST help read-coils" said unknown command "-a". -h and --help
// stay (help --help).
func helpWords(global *pflag.FlagSet, args []string) []string {
	var words []string
	for i := 0; i < len(args); i++ {
		switch s := args[i]; {
		case s == "-h" || s == "--help" || !strings.HasPrefix(s, "-") || s == "-":
			words = append(words, s)
		case takesValue(global, s):
			i++ // its value
		}
	}
	return words
}

const helpHelp = `Usage: plcctl help [COMMAND]

Print the help of COMMAND (the same as plcctl COMMAND --help), or without COMMAND the
list of commands and the shared flags.
`

// exec parses args with the named command's flag set and runs it, printing
// errors and mapping them to the exit code.
func (a *app) exec(ctx context.Context, name string, args []string) int {
	c := a.lookup(name)
	if c == nil {
		fmt.Fprintf(a.stderr, "plcctl: unknown command %s%s\n", quote(name), didYouMean(name, commandWords()))
		a.shortUsage(a.stderr)
		return exitUsage
	}
	err := a.parse(c, args)
	if errors.Is(err, pflag.ErrHelp) {
		c.writeHelp(a.stdout)
		return exitOK
	}
	if err == nil {
		if c.quickRead {
			processInterrupts.catchLater(interruptGrace)
		} else {
			processInterrupts.catch()
		}
		err = c.run(ctx, c.flags.Args())
	}
	if errors.Is(err, pflag.ErrHelp) { // -h among the words a command parses itself (watch READ-COMMAND ... -h)
		c.writeHelp(a.stdout)
		return exitOK
	}
	return a.report(c, err)
}

// parse parses the command line into c's flags and sets up logging.
func (a *app) parse(c *command, args []string) error {
	a.opts = a.defaults()
	if a.inShell {
		a.opts = a.shellOpts // the shell's own flags are the defaults of each line
	}
	if err := parseFlags(c.flags, args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return err
		}
		return &usageError{msg: flagError(err, c.flags).Error()}
	}
	if !a.inShell {
		a.addrGiven = c.flags.Changed("address")
	}
	if !c.flags.Changed("address") && !a.inShell {
		if env := os.Getenv(addressEnv); env != "" {
			if err := checkAddress(env); err != nil {
				return usagef("%s: %v", addressEnv, err)
			}
			a.opts.address, a.addrGiven = env, true
		}
	}
	if !a.inShell {
		a.opts.tls.fromEnv(c.flags) // PLCCTL_TLS_* (tls.go)
	}
	if err := a.opts.check(); err != nil {
		return err
	}
	if err := a.connFlags(c.flags); err != nil {
		return err
	}
	a.log = a.newLogger()
	a.quietLink = !a.inShell && !c.linkWarnings && !c.flags.Changed("log-level") && !c.flags.Changed("trace")
	return nil
}

// shellFixed are the flags of the shell's one connection: a line may not
// change them.
var shellFixed = []string{"address", "timeout", "retries", "tls-cert", "tls-key", "tls-ca", "tls-insecure-skip-verify"}

// connFlags checks the connection's flags given in fs, the command's flag
// set or one that parses more of its line (watch's READ-COMMAND or TAG...
// and the flags after them): a shell line may not change them, and
// elsewhere an --address there names the device as one before the command
// does (watch TAG... -a HOST went to the plant file's address).
func (a *app) connFlags(fs *pflag.FlagSet) error {
	if !a.inShell {
		a.addrGiven = a.addrGiven || fs.Changed("address")
		return nil
	}
	for _, f := range shellFixed {
		if fs.Changed(f) {
			return usagef("--%s is fixed for the shell's connection; give it to shell itself", f)
		}
	}
	return nil
}

// defaults returns the shared options at their flag defaults.
func (a *app) defaults() sharedOptions { return sharedDefaults() }

// report prints err and returns its exit code.
func (a *app) report(c *command, err error) int {
	code := exitCode(err)
	var (
		st exitStatus
		oe *opError
	)
	switch {
	case err == nil, errors.As(err, &st): // nothing to say, or already said
	case code == exitUsage:
		msg := err.Error()
		var ue *usageError
		if errors.As(err, &oe) && errors.As(oe.err, &ue) {
			// A usage error found while connecting (the --tls-* files):
			// its own words, not "COMMAND ITEMS: " before them, which
			// named the command twice.
			msg = ue.msg
		}
		fmt.Fprintf(a.stderr, "plcctl %s: %s\n", c.name, msg)
		c.shortUsage(a.stderr)
	case errors.As(err, &oe):
		// One sentence for a person; the Go error chain, every layer's
		// words, at --log-level debug.
		a.log.Debug().Str("chain", oe.err.Error()).Str("type", fmt.Sprintf("%T", oe.err)).Msg("error chain")
		fmt.Fprintf(a.stderr, "plcctl: %s\n", a.describe(oe))
		if oe.write && a.opts.output == "json" {
			a.writeFailureJSON(c, oe)
		}
	default:
		fmt.Fprintf(a.stderr, "plcctl: %v\n", err)
	}
	return code
}

// writeFailureJSON prints a failed write as one JSON object on stdout, for
// a program reading -o json: which items it was to change (table, address
// and count, the tag, or the file record), sent says whether the request
// reached the wire; outcome_unknown, that it was sent and no answer came,
// so the device may have applied it; written, for --split, how many items
// the parts before the one that failed wrote.
func (a *app) writeFailureJSON(c *command, oe *opError) {
	var top *transport.OpError
	why, _ := explain(oe, hintContext{})
	rec := struct {
		Function string `json:"function"`
		Unit     uint8  `json:"unit"`
		*writeTarget
		Error          string `json:"error"`
		Sent           bool   `json:"sent"`
		OutcomeUnknown bool   `json:"outcome_unknown"`
		Written        *int   `json:"written,omitempty"`
	}{Function: c.name, Unit: a.opts.unit, writeTarget: oe.target, Error: why,
		Sent: !oe.dial && errors.As(oe.err, &top) && top.Sent, OutcomeUnknown: errors.Is(oe.err, transport.ErrOutcomeUnknown)}
	if n, ok := oe.writtenBefore(); ok {
		rec.Written = &n
	}
	if err := writeJSON(a.stdout, rec); err != nil {
		a.log.Error().Err(err).Msg("write")
	}
}

// newLogger builds the stderr logger from --log-level, --log-format and
// --trace (trace is the level at which transport logs every frame).
func (a *app) newLogger() zerolog.Logger {
	a.connLevel.Store(int32(a.logLevel()))
	return zerolog.New(a.logWriter()).Level(a.logLevel()).With().Timestamp().Logger()
}

// logLevel is the level --log-level and --trace ask for.
func (a *app) logLevel() zerolog.Level {
	if a.opts.trace {
		return zerolog.TraceLevel
	}
	level, err := zerolog.ParseLevel(strings.ToLower(a.opts.logLevel))
	if err != nil { // check has refused it already
		return zerolog.WarnLevel
	}
	return level
}

// logWriter is stderr: readable text lines unless --log-format json, in
// colour only on a terminal.
func (a *app) logWriter() io.Writer {
	if a.opts.logFormat == "json" {
		return a.stderr
	}
	return logtext.Writer(a.stderr, isTerminal(a.stderr))
}

// connLogger is the logger of the shell's connection, which outlives the
// line that opened it: its level follows each line's --log-level and
// --trace (a.connLevel) instead of being fixed when it was dialled.
func (a *app) connLogger() zerolog.Logger {
	return zerolog.New(levelSwitch{w: a.logWriter(), level: &a.connLevel}).Level(zerolog.TraceLevel).
		With().Timestamp().Logger()
}

// levelSwitch drops events below a level that can change while in use.
type levelSwitch struct {
	w     io.Writer
	level *atomic.Int32
}

func (s levelSwitch) Write(p []byte) (int, error) { return s.w.Write(p) }

func (s levelSwitch) WriteLevel(l zerolog.Level, p []byte) (int, error) {
	if l < zerolog.Level(s.level.Load()) {
		return len(p), nil
	}
	return s.w.Write(p)
}

// connect returns the client for the current unit, dialling once per run
// (the shell and watch keep using it).
func (a *app) connect(ctx context.Context) (*plc.Client, error) {
	if a.client != nil {
		return a.client.WithUnit(a.opts.unit), nil
	}
	log := a.log
	if a.inShell {
		log = a.connLogger()
	}
	c, err := a.dial(ctx, 1, log)
	if err != nil {
		return nil, err
	}
	a.client, a.clientAddr = c, a.deviceAddress()
	return c.WithUnit(a.opts.unit), nil // Options.UnitID 0 would mean the default, 1
}

// dial opens a new connection with up to inFlight requests outstanding.
func (a *app) dial(ctx context.Context, inFlight int, log zerolog.Logger) (*plc.Client, error) {
	return a.dialWith(ctx, inFlight, log, nil)
}

// dialWith is dial with a command's own changes to the options.
func (a *app) dialWith(ctx context.Context, inFlight int, log zerolog.Logger, set func(*plc.Options)) (*plc.Client, error) {
	opts := plc.Options{UnitID: a.opts.unit}
	opts.Timeout = a.opts.timeout
	opts.DialTimeout = a.opts.timeout
	opts.Retries = a.opts.retries
	opts.MaxInFlight = inFlight
	if a.quietLink && log.GetLevel() < zerolog.ErrorLevel {
		// The command's error sentence says why the link went down; the
		// warning before it said the same thing in other words.
		log = log.Level(zerolog.ErrorLevel)
	}
	opts.Logger = &log
	var err error
	if opts.TLS, err = a.tlsConfig(); err != nil {
		return nil, err
	}
	if set != nil {
		set(&opts)
	}
	return plc.Dial(ctx, a.deviceAddress(), opts)
}

// close closes the connection, if one was made.
func (a *app) close() {
	if a.client == nil {
		return
	}
	if err := a.client.Close(); err != nil {
		a.log.Debug().Err(err).Msg("close")
	}
	a.client = nil
}

// checkAddress refuses an --address that cannot name one device: empty, an
// empty host or port, a port that is not a number 1..65535, unbalanced
// brackets, or colons that are neither HOST:PORT nor an IPv6 literal. Such
// an address would otherwise be dialled as something else (":502" is this
// machine, "host:" port 0) or fail as a connection error, not a usage error.
func checkAddress(s string) error {
	bad := func(why string) error {
		return usagef("--address %q: %s; want HOST, HOST:PORT, an IPv6 address or [IPv6]:PORT", s, why)
	}
	if s == "" {
		return bad("empty")
	}
	if strings.ContainsAny(s, " \t/") {
		return bad("not a host name or IP address")
	}
	if strings.Count(s, "[") != strings.Count(s, "]") || strings.Count(s, "[") > 1 ||
		strings.Contains(s, "[") && !strings.HasPrefix(s, "[") {
		return bad("unbalanced brackets")
	}
	host, port, err := net.SplitHostPort(normalizeAddress(s))
	if err != nil {
		return bad("cannot split host and port")
	}
	if host == "" {
		return bad("no host")
	}
	if strings.Contains(host, ":") {
		if _, err := netip.ParseAddr(host); err != nil {
			return bad("not an IPv6 address")
		}
	}
	if n, err := strconv.ParseUint(port, 10, 16); err != nil || n == 0 {
		return bad(fmt.Sprintf("port %q is not a number 1..65535", port))
	}
	return nil
}

// normalizeAddress adds the default port 502 when HOST has none.
func normalizeAddress(s string) string {
	if _, _, err := net.SplitHostPort(s); err == nil {
		return s
	}
	if strings.Count(s, ":") > 1 && !strings.HasPrefix(s, "[") { // bare IPv6
		return net.JoinHostPort(s, "502")
	}
	return net.JoinHostPort(strings.Trim(s, "[]"), "502")
}

// lockedWriter serializes writes to w.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// outWriter is stdout. It keeps the first write error and fails every
// write after it, so that the commands that print round after round
// (watch, ping) can stop at it: they went on polling, printed nothing and
// exited 0 with stdout on a full disk or a closed pipe.
type outWriter struct {
	mu  sync.Mutex
	w   io.Writer
	err error
}

func (o *outWriter) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.err != nil {
		return 0, o.err
	}
	n, err := o.w.Write(p)
	o.err = err
	return n, err
}

// stdoutErr returns the first error writing stdout, if any.
func (a *app) stdoutErr() error {
	o, ok := a.stdout.(*outWriter)
	if !ok {
		return nil
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.err
}

// isTerminal reports whether w is a terminal (term_*.go say what counts
// as one on each platform).
func isTerminal(w any) bool {
	f := termFile(w)
	return f != nil && fileIsTerminal(f)
}

// termColumns returns the width of the terminal w in columns, or 0 when w
// is not a terminal or its size is unknown.
func termColumns(w any) int {
	cols, _ := termSize(w)
	return cols
}

// termSize returns the columns and rows of the terminal w, or 0, 0.
func termSize(w any) (cols, rows int) {
	if f := termFile(w); f != nil {
		return fileTermSize(f)
	}
	return 0, 0
}

// termFile is the *os.File behind w, or nil.
func termFile(w any) *os.File {
	switch l := w.(type) {
	case *lockedWriter:
		w = l.w
	case *outWriter:
		w = l.w
	}
	f, _ := w.(*os.File)
	return f
}

// now is the clock, replaceable in tests.
var now = time.Now
