package main

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rs/zerolog"
	"github.com/spf13/pflag"

	"github.com/plcctl/plcctl/internal/certgen"
	"github.com/plcctl/plcctl/internal/limitfile"
	"github.com/plcctl/plcctl/modbus"
	"github.com/plcctl/plcctl/plant"
	"github.com/plcctl/plcctl/simulator"
)

// securityFlags are plcsim's access-control flags (README "Security").
type securityFlags struct {
	cert, key, clientCA string
	handshakeTimeout    time.Duration
	allow               string
	readOnly            bool
	perIP               int
	accessFile          string
}

func addSecurityFlags(fs *pflag.FlagSet) *securityFlags {
	f := &securityFlags{}
	fs.StringVar(&f.cert, "tls-cert", "", "serve Modbus/TCP Security (TLS): the server certificate `FILE` (PEM); needs --tls-key and --tls-client-ca")
	fs.StringVar(&f.key, "tls-key", "", "the server certificate's private key `FILE` (PEM)")
	fs.StringVar(&f.clientCA, "tls-client-ca", "", "CA certificates `FILE` (PEM) that client certificates must be signed by; every client must show one")
	fs.DurationVar(&f.handshakeTimeout, "tls-handshake-timeout", simulator.DefaultHandshakeTimeout, "time a client has to complete the TLS handshake")
	fs.StringVar(&f.allow, "allow", "", "accept connections only from these `ADDRS` or networks, comma-separated (e.g. 127.0.0.1/32,::1)")
	fs.BoolVar(&f.readOnly, "read-only", false, "answer every write with exception 01 (illegal function), on TCP and TLS alike")
	fs.IntVar(&f.perIP, "max-conns-per-ip", 0, "at most `N` concurrent connections per client address (0 = no cap beyond --max-conns)")
	fs.StringVar(&f.accessFile, "access", "", "role rules for TLS clients from `FILE`, a YAML file with an access: section as a plant file has (not with a plant file that has one; its grants' units must be served, its ranges must meet the tables served); SIGHUP reloads it")
	return f
}

// applyAccess puts the access rules into cfg: those of --access, or of
// the plant file (the device's own, else the plant's), never both. The
// file's read_only adds to --read-only. Rules without TLS are legal (a
// plant file may be served either way) but decide nothing: the log says so.
func (f *securityFlags) applyAccess(cfg *simulator.Config, pl *plantRun, log *zerolog.Logger) error {
	var rules *plant.AccessRules
	from := f.accessFile
	if f.accessFile != "" {
		var err error
		if rules, err = plant.LoadAccess(f.accessFile); err != nil {
			return err
		}
	}
	if pl != nil {
		if pr := pl.p.AccessFor(pl.dev); pr != nil {
			if rules != nil {
				return fmt.Errorf("--access %s and %s:%d both give access rules: keep one", f.accessFile, pl.p.File, pr.Line)
			}
			rules, from = pr, fmt.Sprintf("%s:%d", pl.p.File, pr.Line)
		}
	}
	if rules == nil {
		return nil
	}
	pol, err := policyFrom(rules, f.readOnly)
	if err != nil {
		return err
	}
	cfg.Security.Policy = pol
	if cfg.Security.TLS == nil && rules.Rules != nil {
		log.Warn().Str("access", from).Msg("access rules apply to TLS clients (roles come from client certificates): without --tls-cert they decide nothing but read_only")
	}
	log.Info().Str("access", from).Int("rules", len(rules.Rules)).Bool("read_only", pol.ReadOnly).Msg("access rules loaded")
	return nil
}

// servedUnits is what --access rules must fit: the plant's devices
// served (runs), else the unit ids of --unit-ids (ids), which 0 and 255
// join (they address the first), or every unit id when there are none,
// each with the tables of --coils and the other size flags (sizes, in
// plant.TableKind order).
type servedUnits struct {
	runs  []*plantRun
	ids   []uint8
	sizes [4]int
}

// servedBy is what is served: the plant's device pl, else the units and
// tables of cfg.
func servedBy(pl *plantRun, cfg simulator.Config) servedUnits {
	return servedUnits{runs: runsOf(pl), ids: cfg.UnitIDs,
		sizes: [4]int{cfg.Coils, cfg.DiscreteInputs, cfg.HoldingRegisters, cfg.InputRegisters}}
}

// sizeFlags are the flags of servedUnits.sizes.
var sizeFlags = [4]string{"--coils", "--discrete-inputs", "--holding-registers", "--input-registers"}

// tables are the tables of s.sizes, and the flag giving each, as
// plant.AccessRules.CheckTables takes them. A size outside 1..65536 (0 is
// the default, every address) counts as every address: simulator.New
// refuses it after.
func (s servedUnits) tables() ([4]plant.Table, [4]string) {
	var ts [4]plant.Table
	var from [4]string
	for k, n := range s.sizes {
		ts[k].Kind = plant.TableKind(k)
		if n < 1 || n > simulator.DefaultTableSize {
			n = simulator.DefaultTableSize
		}
		ts[k].Ranges = []plant.Range{{Start: 0, End: uint16(n - 1)}}
		from[k] = fmt.Sprintf("%s %d", sizeFlags[k], n)
	}
	return ts, from
}

// serves reports whether unit id is served in gateway mode (s.ids).
func (s servedUnits) serves(id uint8) bool {
	return id == 0 || id == modbus.UnitIDNotUsed || slices.Contains(s.ids, id)
}

// flag is the --unit-ids of s.ids, "--unit-ids 1,2".
func (s servedUnits) flag() string {
	ids := make([]string, 0, len(s.ids))
	for _, id := range s.ids {
		if v := strconv.Itoa(int(id)); !slices.Contains(ids, v) {
			ids = append(ids, v)
		}
	}
	return "--unit-ids " + strings.Join(ids, ",")
}

// idsServed says which units --unit-ids serves: "plcsim serves only units
// 1, 2 (0 and 255 address unit 1)".
func (s servedUnits) idsServed() string {
	listed := strings.ReplaceAll(strings.TrimPrefix(s.flag(), "--unit-ids "), ",", ", ")
	msg := "plcsim serves only unit " + listed
	if strings.Contains(listed, ",") {
		msg = "plcsim serves only units " + listed
	}
	var extra []string
	for _, id := range []uint8{0, modbus.UnitIDNotUsed} {
		if !slices.Contains(s.ids, id) {
			extra = append(extra, strconv.Itoa(int(id)))
		}
	}
	switch len(extra) {
	case 1:
		msg += fmt.Sprintf(" (%s addresses unit %d)", extra[0], s.ids[0])
	case 2:
		msg += fmt.Sprintf(" (%s and %s address unit %d)", extra[0], extra[1], s.ids[0])
	}
	return msg
}

// checkAccessFits refuses --access rules that cannot apply as written to
// what is served (s), as the plant file's own access: sections are
// refused: a grant for a unit not served (a plant's devices', or those of
// --unit-ids; without either every unit id is served), or for addresses
// that lie wholly outside their table in every unit the grant holds on. A
// unit id or an address mistyped in the --access file (40001 for holding
// register 0) would otherwise go unnoticed.
func (f *securityFlags) checkAccessFits(s servedUnits) error {
	if f.accessFile == "" {
		return nil
	}
	rules, err := plant.LoadAccess(f.accessFile)
	if err != nil {
		return err
	}
	return accessFits(rules, s)
}

// accessFits is checkAccessFits for rules already loaded, as one
// sentence: "--access FILE:LINE:COL (KEY) does not fit --plant FILE: unit
// 7: device station serves only unit 1, so a grant for it never applies",
// "... does not fit --unit-ids 1,2: unit 7: plcsim serves only units 1, 2
// (0 and 255 address unit 1), so ...", or "... does not fit the tables
// served: holding registers 40001-40100: plcsim has holding registers
// 0-99 only (--holding-registers 100), so a grant for them never applies".
// Units are checked first: a range is checked on the units served only.
func accessFits(rules *plant.AccessRules, s servedUnits) error {
	var units, ranges error
	var fit string
	switch {
	case len(s.runs) > 0:
		devs := make([]*plant.Device, len(s.runs))
		for i, r := range s.runs {
			devs[i] = r.dev
		}
		units, ranges, fit = rules.CheckUnits(devs), rules.CheckRanges(devs), "--plant "+s.runs[0].p.File
	case len(s.ids) > 0:
		units, fit = rules.CheckUnitIDs(s.serves, s.idsServed()), s.flag()
	}
	if len(s.runs) == 0 {
		ranges = rules.CheckTables(s.tables())
	}
	if err := oneSentence(units, fit, "units"); err != nil {
		return err
	}
	if len(s.runs) == 0 {
		fit = "the tables served"
	}
	return oneSentence(ranges, fit, "ranges")
}

// oneSentence is the first of the Errors err as accessFits says it, what
// is left of them counted as more of what.
func oneSentence(err error, fit, what string) error {
	var es plant.Errors
	if !errors.As(err, &es) || len(es) == 0 {
		return err
	}
	e := es[0]
	msg := fmt.Sprintf("--access %s:%d:%d (%s) does not fit %s: %s", e.File, e.Line, e.Column, e.Key, fit, e.Msg)
	if len(es) > 1 {
		msg += fmt.Sprintf(" (and %d more %s like it)", len(es)-1, what)
	}
	return errors.New(msg)
}

// reloader is what SIGHUP reloads on srvs: faultFile (after the fixed
// rules) and the access rules: the --access file's when given (checked
// against s, as at the start), else those of the plant file of s.runs (nil
// without one), s.runs[i] serving srvs[i].
func (f *securityFlags) reloader(srvs []*simulator.Server, s servedUnits, faultFile string, fixed []simulator.FaultRule, log *zerolog.Logger) *reloader {
	r := &reloader{srvs: srvs, faultFile: faultFile, fixed: fixed, accessFile: f.accessFile, readOnly: f.readOnly, log: log}
	if f.accessFile != "" {
		r.served = s // a reloaded --access file is checked against them too
	}
	if len(s.runs) > 0 && f.accessFile == "" {
		r.plantFile = s.runs[0].p.File
		for _, run := range s.runs {
			r.devices = append(r.devices, run.dev.Name)
		}
	}
	return r
}

// apply puts the flags into cfg.
func (f *securityFlags) apply(cfg *simulator.Config) error {
	sec := &cfg.Security
	sec.HandshakeTimeout = f.handshakeTimeout
	sec.Policy.ReadOnly = f.readOnly
	sec.MaxConnsPerIP = f.perIP
	if f.perIP < 0 {
		return fmt.Errorf("--max-conns-per-ip %d: want 0 or more", f.perIP)
	}
	var err error
	if sec.Allow, err = parseAllow(f.allow); err != nil {
		return err
	}
	if f.cert == "" && f.key == "" && f.clientCA == "" {
		return nil
	}
	if f.cert == "" || f.key == "" || f.clientCA == "" {
		return errors.New("TLS needs all three of --tls-cert, --tls-key and --tls-client-ca (plcsim certs --out DIR makes a set to try)")
	}
	sec.TLS, err = serverTLS(f.cert, f.key, f.clientCA)
	return err
}

func serverTLS(certFile, keyFile, caFile string) (*tls.Config, error) {
	cert, err := limitfile.KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("--tls-cert %s / --tls-key %s: %w", certFile, keyFile, err)
	}
	pem, err := limitfile.Read(caFile, limitfile.MaxPEM)
	if err != nil {
		return nil, fmt.Errorf("--tls-client-ca: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("--tls-client-ca %s: no PEM certificate in it", caFile)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, ClientCAs: pool}, nil
}

// parseAllow parses "--allow 127.0.0.1/32,::1,10.0.0.0/8": networks, or
// single addresses.
func parseAllow(s string) ([]netip.Prefix, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var ps []netip.Prefix
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if p, err := netip.ParsePrefix(f); err == nil {
			ps = append(ps, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(f)
		if err != nil {
			return nil, fmt.Errorf("--allow: %q is neither an address nor a network like 127.0.0.1/32", f)
		}
		ps = append(ps, netip.PrefixFrom(a, a.BitLen()))
	}
	return ps, nil
}

const certsUsage = `Usage: plcsim certs --out DIR [flags]

Makes a test PKI for Modbus/TCP Security in DIR: a CA (ca.pem, ca-key.pem), a
server certificate for --hosts (server.pem, server-key.pem) and one client
certificate per role in --roles (client-ROLE.pem, client-ROLE-key.pem), the
role in the extension OID 1.3.6.1.4.1.50316.802.1 as a UTF8String. Keys are
ECDSA P-256, written with mode 0600. For tests and trials only: the CA key
lies next to the certificates. Existing files are not overwritten unless
--force.

Then:
  plcsim --listen 127.0.0.1:8020 --tls-cert DIR/server.pem --tls-key DIR/server-key.pem --tls-client-ca DIR/ca.pem
  plcctl -a 127.0.0.1:8020 --tls-ca DIR/ca.pem --tls-cert DIR/client-operator.pem --tls-key DIR/client-operator-key.pem read-holding-registers 0 4

Flags:
`

// runCerts is "plcsim certs".
func runCerts(args []string, stdout, stderr io.Writer) int {
	fs := pflag.NewFlagSet("plcsim certs", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	out := fs.String("out", "", "`DIR` to write into (created if missing)")
	hosts := fs.String("hosts", strings.Join(certgen.LoopbackHosts, ","), "server certificate `NAMES`: host names and addresses, comma-separated")
	roles := fs.String("roles", "operator,viewer", "one client certificate per role in `ROLES`, comma-separated")
	days := fs.Int("days", 30, "validity in `DAYS`")
	force := fs.Bool("force", false, "overwrite existing files")
	help := fs.BoolP("help", "h", false, "show this help")
	if err := fs.Parse(args); err != nil {
		fmt.Fprintf(stderr, "plcsim certs: %v\nRun 'plcsim certs --help' for usage.\n", err)
		return exitUsage
	}
	if *help {
		fmt.Fprint(stdout, certsUsage+fs.FlagUsages())
		return exitOK
	}
	switch {
	case *out == "":
		fmt.Fprintln(stderr, "plcsim certs: --out DIR is required")
		return exitUsage
	case fs.NArg() > 0:
		fmt.Fprintf(stderr, "plcsim certs: unexpected argument %q\n", fs.Arg(0))
		return exitUsage
	case *days < 1:
		fmt.Fprintf(stderr, "plcsim certs: --days %d: want 1 or more\n", *days)
		return exitUsage
	}
	files, err := makeCerts(splitList(*hosts), splitList(*roles), time.Duration(*days)*24*time.Hour)
	if err == nil {
		err = writeFiles(*out, files, *force)
	}
	if err != nil {
		fmt.Fprintf(stderr, "plcsim certs: %v\n", err)
		return exitFailure
	}
	for _, f := range files {
		fmt.Fprintln(stdout, filepath.Join(*out, f.name))
	}
	return exitOK
}

type pemFile struct {
	name   string
	data   []byte
	secret bool
}

func makeCerts(hosts, roles []string, valid time.Duration) ([]pemFile, error) {
	if len(hosts) == 0 {
		return nil, errors.New("--hosts: at least one name or address")
	}
	v := certgen.Valid(valid)
	ca, err := certgen.NewCA("plcsim test CA", v)
	if err != nil {
		return nil, err
	}
	caKey, err := certgen.KeyPEM(ca.Key)
	if err != nil {
		return nil, err
	}
	files := []pemFile{{"ca.pem", ca.CertPEM(), false}, {"ca-key.pem", caKey, true}}
	add := func(base string, l *certgen.Leaf, err error) error {
		if err != nil {
			return err
		}
		key, err := l.KeyPEM()
		if err != nil {
			return err
		}
		files = append(files, pemFile{base + ".pem", l.CertPEM(), false}, pemFile{base + "-key.pem", key, true})
		return nil
	}
	l, err := ca.Server("plcsim", hosts, v)
	if err := add("server", l, err); err != nil {
		return nil, err
	}
	for _, r := range roles {
		if strings.ContainsAny(r, `/\`) || r == "." || r == ".." {
			return nil, fmt.Errorf("--roles: %q cannot be part of a file name", r)
		}
		l, err := ca.Client("plcctl "+r, []string{r}, v)
		if err := add("client-"+r, l, err); err != nil {
			return nil, err
		}
	}
	return files, nil
}

func writeFiles(dir string, files []pemFile, force bool) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if !force {
		for _, f := range files {
			if _, err := os.Stat(filepath.Join(dir, f.name)); err == nil {
				return fmt.Errorf("%s exists; use --force to overwrite", filepath.Join(dir, f.name))
			}
		}
	}
	for _, f := range files {
		mode := os.FileMode(0o644)
		if f.secret {
			mode = 0o600
		}
		p := filepath.Join(dir, f.name)
		if err := os.WriteFile(p, f.data, mode); err != nil {
			return err
		}
		if err := os.Chmod(p, mode); err != nil { // WriteFile keeps the mode of an existing file
			return err
		}
	}
	return nil
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}
