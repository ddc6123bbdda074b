package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"
	"github.com/spf13/pflag"
)

// command is one subcommand: its own flag set (shared flags included) and a
// run function that gets the positional arguments.
type command struct {
	name    string
	aliases []string
	args    string   // positional synopsis, e.g. "ADDR [COUNT]"
	summary string   // one line, no final period
	long    string   // what it does, printed by --help
	example []string // command lines, without "plcctl "
	notes   []string // shared explanations printed after the flags (types, addresses)
	flags   *pflag.FlagSet
	run     func(ctx context.Context, args []string) error

	// prepareRead is set on the read commands, so watch can repeat them.
	prepareRead func(args []string) (*readOp, error)

	// quickRead marks a one-shot command that writes nothing: Ctrl-C is
	// caught only once it has run for interruptGrace (interrupt.go).
	quickRead bool

	// linkWarnings marks a command that runs on while the link drops and
	// comes back (watch, ping, scan, bench, shell): the transport's "link
	// down" and "dial failed" warnings are its only news of that. A
	// one-shot command ends with one sentence that says the same, so its
	// transport logs at error unless --log-level or --trace was given.
	linkWarnings bool
}

// sharedOptions are the flags every command accepts, before or after its
// name. Their defaults are fixed (so --help is stable); PLCCTL_ADDRESS is
// applied after parsing when --address was not given.
type sharedOptions struct {
	address   string
	unit      uint8
	timeout   time.Duration
	retries   int
	output    string
	oneBased  bool
	trace     bool
	logLevel  string
	logFormat string
	tls       tlsOptions // tls.go
}

// defaultAddress is the device when neither -a nor PLCCTL_ADDRESS is given
// (a variable only so that a test can point it at a closed port).
var defaultAddress = "127.0.0.1:502"

const addressEnv = "PLCCTL_ADDRESS"

// sharedDefaults returns the shared options at their defaults: the flag
// definitions below take their defaults from it, and parse resets a
// command's options to it without building a flag set for the purpose.
func sharedDefaults() sharedOptions {
	return sharedOptions{address: defaultAddress, unit: 1, timeout: time.Second, retries: 1,
		output: "text", logLevel: "warn", logFormat: "text"}
}

// addSharedFlags adds the shared flags to fs, bound to o, with the defaults
// of sharedDefaults.
func (o *sharedOptions) addSharedFlags(fs *pflag.FlagSet) {
	d := sharedDefaults()
	fs.StringVarP(&o.address, "address", "a", d.address, "device `HOST[:PORT]`, port 502 if omitted (802 with TLS; env "+addressEnv+")")
	o.unit = d.unit
	fs.VarP(numFlag[uint8]{&o.unit, 255}, "unit", "u", "unit identifier `ID`, 0..255")
	o.timeout = d.timeout
	fs.VarP(durFlag{&o.timeout}, "timeout", "t", "wait at most `D` to connect and for each answer")
	o.retries = d.retries
	fs.Var(numFlag[int]{&o.retries, maxFlagInt}, "retries", "resend a read `N` times after the link dropped (reads only; once more if an answer was refused as out of order)")
	fs.StringVarP(&o.output, "output", "o", d.output, "`FORMAT` of stdout: text, json (one object per line) or csv")
	fs.BoolVar(&o.oneBased, "one-based", d.oneBased, "ADDR is a 1-based register number (1 = protocol address 0)")
	fs.BoolVar(&o.trace, "trace", d.trace, "print every frame sent and received, in hex, on stderr")
	fs.StringVar(&o.logLevel, "log-level", d.logLevel, "stderr log `LEVEL`: trace, debug, info, warn, error")
	fs.StringVar(&o.logFormat, "log-format", d.logFormat, "stderr log `FORMAT`: text (one readable line per event) or json (one object per line)")
	o.tls.addFlags(fs, d.tls) // --tls-* (tls.go)
}

// sharedFlagNames are the names of the shared flags, for help (splitFlags).
// Help looks them up here rather than in an annotation on each flag: the
// annotations cost every flag set 28 allocations, and every run builds one
// or two flag sets (issue 10).
var sharedFlagNames = sync.OnceValue(func() map[string]bool {
	var o sharedOptions
	fs := pflag.NewFlagSet("shared", pflag.ContinueOnError)
	o.addSharedFlags(fs)
	names := map[string]bool{}
	fs.VisitAll(func(f *pflag.Flag) { names[f.Name] = true })
	return names
})

// numFlag is an integer flag read like ADDR: decimal, or hexadecimal with
// 0x, from 0 to max. pflag's own integer flags read a leading 0 as octal, so
// "-u 010" would address unit 8 and "-u 08" would be refused.
type numFlag[T uint8 | int] struct {
	p   *T
	max uint64
}

const maxFlagInt = 1<<31 - 1

func (f numFlag[T]) String() string {
	if f.p == nil {
		return "0"
	}
	return strconv.FormatUint(uint64(*f.p), 10)
}

func (f numFlag[T]) Set(s string) error {
	n, err := parseUint(s, f.max)
	if err != nil {
		return err
	}
	*f.p = T(n)
	return nil
}

func (f numFlag[T]) Type() string { return "uint" }

// durFlag is a duration flag whose mistake is said in words: pflag's own
// says "time: invalid duration" or "time: unknown unit", Go's words.
type durFlag struct{ p *time.Duration }

func (f durFlag) String() string {
	if f.p == nil || *f.p == 0 {
		return "0" // help leaves out a zero default
	}
	return f.p.String()
}

func (f durFlag) Set(s string) error {
	d, err := time.ParseDuration(s)
	if err != nil {
		return errors.New("want a duration: a number and its unit, such as 500ms, 2s or 1m30s")
	}
	*f.p = d
	return nil
}

func (f durFlag) Type() string { return "duration" }

// durationFlag defines a duration flag of fs read by durFlag.
func durationFlag(fs *pflag.FlagSet, name string, def time.Duration, usage string) *time.Duration {
	p := new(time.Duration)
	*p = def
	fs.Var(durFlag{p}, name, usage)
	return p
}

// floatFlag is a number flag (ping --rate) whose mistake is said in words,
// not strconv.ParseFloat's.
type floatFlag struct{ p *float64 }

func (f floatFlag) String() string {
	if f.p == nil {
		return "0"
	}
	return strconv.FormatFloat(*f.p, 'g', -1, 64)
}

func (f floatFlag) Set(s string) error {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return errors.New("want a number, such as 5 or 0.5")
	}
	*f.p = v
	return nil
}

func (f floatFlag) Type() string { return "float" }

// intFlag defines an integer flag of fs read by numFlag.
func intFlag(fs *pflag.FlagSet, name string, def int, usage string) *int {
	return intFlagP(fs, name, "", def, usage)
}

// intFlagP is intFlag with a one-letter shorthand ("" for none).
func intFlagP(fs *pflag.FlagSet, name, short string, def int, usage string) *int {
	p := new(int)
	*p = def
	fs.VarP(numFlag[int]{p, maxFlagInt}, name, short, usage)
	return p
}

// check validates the shared flags that pflag cannot.
func (o *sharedOptions) check() error {
	if err := checkAddress(o.address); err != nil {
		return err
	}
	// One rule for case: flag names are case-sensitive, the words they take
	// (json, console, warn, float32, CDAB, basic, on) are not.
	o.output, o.logFormat, o.logLevel = strings.ToLower(o.output), strings.ToLower(o.logFormat), strings.ToLower(o.logLevel)
	switch o.output {
	case "text", "json", "csv":
	default:
		return usagef("--output %q: want text, json or csv", o.output)
	}
	switch o.logFormat {
	case "text", "json":
	case "console": // the name before text
		o.logFormat = "text"
	default:
		return usagef("--log-format %q: want text or json", o.logFormat)
	}
	if _, err := zerolog.ParseLevel(strings.ToLower(o.logLevel)); err != nil || o.logLevel == "" {
		return usagef("--log-level %q: want trace, debug, info, warn or error", o.logLevel)
	}
	if o.timeout <= 0 {
		return usagef("--timeout %v: want a positive duration", o.timeout)
	}
	if o.retries < 0 {
		return usagef("--retries %d: want 0 or more", o.retries)
	}
	return o.tls.check()
}

// newFlagSet returns a flag set for a command with the shared flags added.
func (o *sharedOptions) newFlagSet(name string) *pflag.FlagSet {
	fs := pflag.NewFlagSet(name, pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	fs.SortFlags = false
	saved := *o // defining a flag stores its default: keep the values parsed so far
	o.addSharedFlags(fs)
	*o = saved
	return fs
}

// synopsis is the one-line usage of c.
func (c *command) synopsis() string {
	s := "plcctl " + c.name + " [flags]"
	if c.args != "" {
		s += " " + c.args
	}
	return s
}

// writeHelp prints the full help of c: synopsis, text, own flags, shared
// flags, exit codes.
func (c *command) writeHelp(out io.Writer) {
	w := new(strings.Builder) // one write, not one per line
	fmt.Fprintf(w, "Usage: %s\n\n%s.\n", c.synopsis(), c.summary)
	if len(c.aliases) > 0 {
		fmt.Fprintf(w, "Alias: %s.\n", strings.Join(c.aliases, ", "))
	}
	if c.long != "" {
		fmt.Fprintf(w, "\n%s\n", strings.TrimRight(c.long, "\n"))
	}
	if len(c.example) > 0 {
		fmt.Fprintf(w, "\nExamples:\n")
		for _, e := range c.example {
			fmt.Fprintf(w, "  plcctl %s\n", e)
		}
	}
	own, shared := splitFlags(c.flags)
	if own.HasFlags() {
		fmt.Fprintf(w, "\nFlags:\n%s", own.FlagUsagesWrapped(0))
	}
	fmt.Fprintf(w, "\nShared flags:\n%s", shared.FlagUsagesWrapped(0))
	for _, n := range c.notes {
		fmt.Fprintf(w, "\n%s\n", strings.TrimRight(n, "\n"))
	}
	fmt.Fprintf(w, "\n%s", exitCodesHelp)
	_, _ = io.WriteString(out, w.String())
}

// shortUsage is printed on stderr after a usage error.
func (c *command) shortUsage(w io.Writer) {
	fmt.Fprintf(w, "Usage: %s\nRun 'plcctl help %s' for details.\n", c.synopsis(), c.name)
}

// splitFlags separates a command's own flags from the shared ones, for help.
func splitFlags(fs *pflag.FlagSet) (own, shared *pflag.FlagSet) {
	own = pflag.NewFlagSet("own", pflag.ContinueOnError)
	shared = pflag.NewFlagSet("shared", pflag.ContinueOnError)
	own.SortFlags, shared.SortFlags = false, false
	fs.VisitAll(func(f *pflag.Flag) {
		if sharedFlagNames()[f.Name] {
			shared.AddFlag(f)
		} else {
			own.AddFlag(f)
		}
	})
	return own, shared
}

// isNegativeNumber reports whether s is an argument such as -42, -1.5,
// -0x10 or -Inf: a minus, then a digit, a dot and a digit, or the whole
// rest inf or nan in any case. (Not a regexp: this runs on every command
// line, and a package-level regexp costs every run its compile time.)
func isNegativeNumber(s string) bool {
	r, ok := strings.CutPrefix(s, "-")
	switch {
	case !ok || r == "":
		return false
	case isDigit(r[0]), len(r) > 1 && r[0] == '.' && isDigit(r[1]):
		return true
	}
	return strings.EqualFold(r, "inf") || strings.EqualFold(r, "nan")
}

func isDigit(b byte) bool { return '0' <= b && b <= '9' }

// parseFlags parses args with fs, taking negative numbers as positional
// arguments (pflag would read "-42" as shorthand flags), unless they are the
// value of the flag before them ("--rate -1") or follow "--".
func parseFlags(fs *pflag.FlagSet, args []string) error {
	const mark = "\x00neg"
	var saved []string
	in := make([]string, len(args))
	for i, s := range args {
		if strings.IndexByte(s, 0) >= 0 {
			// Only a shell script can carry a NUL (argv cannot), and no
			// command takes one; a word "\x00neg7" would also be read as
			// the mark below and index past saved.
			return fmt.Errorf("argument %q holds a NUL byte", s)
		}
		in[i] = s
		if s == "--" {
			copy(in[i:], args[i:])
			break
		}
		if isNegativeNumber(s) && (i == 0 || !takesValue(fs, args[i-1])) {
			in[i] = mark + strconv.Itoa(len(saved))
			saved = append(saved, s)
		}
	}
	err := fs.Parse(in)
	for i, s := range fs.Args() {
		if n, ok := strings.CutPrefix(s, mark); ok {
			k, _ := strconv.Atoi(n)
			fs.Args()[i] = saved[k]
		}
	}
	return err
}

// takesValue reports whether arg is a flag of fs that consumes the next
// argument as its value.
func takesValue(fs *pflag.FlagSet, arg string) bool {
	var f *pflag.Flag
	switch {
	case strings.HasPrefix(arg, "--") && !strings.Contains(arg, "="):
		f = fs.Lookup(arg[2:])
	case len(arg) == 2 && arg[0] == '-':
		f = fs.ShorthandLookup(arg[1:])
	}
	return f != nil && f.NoOptDefVal == ""
}
