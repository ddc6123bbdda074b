// Command report turns the raw results of bench/run.sh into the one table
// of issue 10, with every target's ratio, and writes the data files that
// bench/plot.gp draws.
//
//	go run ./bench/report DIR
//
// Every figure is a median over the rounds of one run; every ratio compares
// two things measured in that same run with the same placement.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: report DIR")
		os.Exit(2)
	}
	r := &report{dir: os.Args[1], w: os.Stdout}
	if err := r.run(); err != nil {
		fmt.Fprintln(os.Stderr, "report:", err)
		os.Exit(1)
	}
}

type report struct {
	dir string
	w   io.Writer
}

// samples maps a key to the values seen in the rounds.
type samples map[string][]float64

func (s samples) add(k string, v float64) { s[k] = append(s[k], v) }

// med returns the median of key k, or 0 when there is none.
func (s samples) med(k string) float64 {
	v := slices.Clone(s[k])
	if len(v) == 0 {
		return 0
	}
	slices.Sort(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

func (r *report) lines(name string) ([]string, error) {
	f, err := os.Open(filepath.Join(r.dir, name))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<16), 1<<20)
	for sc.Scan() {
		if t := strings.TrimSpace(sc.Text()); t != "" {
			out = append(out, t)
		}
	}
	return out, sc.Err()
}

func (r *report) run() error {
	meta, _ := r.lines("meta.txt")
	fmt.Fprintln(r.w, "# plcctl performance, one run (bench/run.sh)")
	for _, m := range meta {
		fmt.Fprintln(r.w, "#", m)
	}
	fmt.Fprintln(r.w, "# placement: cpu0 = everything on CPU 0; split = server CPU 0, load CPU 1; all = unpinned")
	fmt.Fprintln(r.w)
	floor, err := r.floor()
	if err != nil {
		return err
	}
	clients, err := r.clients(floor)
	if err != nil {
		return err
	}
	if err := r.plcctlBench(clients); err != nil {
		return err
	}
	if err := r.servers(floor); err != nil {
		return err
	}
	if err := r.cli(); err != nil {
		return err
	}
	r.allocs()
	return nil
}

var kv = regexp.MustCompile(`(\w+)=([0-9.]+)`)

// floor reads floor.txt: "cpu0 pingpong n=.. req=12 resp=29 ns_per_op=X ...".
func (r *report) floor() (samples, error) {
	ls, err := r.lines("floor.txt")
	if err != nil {
		return nil, err
	}
	s := samples{}
	for _, l := range ls {
		place, rest, _ := strings.Cut(l, " ")
		f := map[string]string{}
		for _, m := range kv.FindAllStringSubmatch(rest, -1) {
			f[m[1]] = m[2]
		}
		ns, _ := strconv.ParseFloat(f["ns_per_op"], 64)
		regs := map[string]string{"29": "10", "259": "125"}[f["resp"]]
		s.add(place+"/"+regs, ns)
	}
	fmt.Fprintln(r.w, "## Physical floor: raw ping-pong of the same frame sizes, two processes")
	fmt.Fprintf(r.w, "%-44s %12s %12s\n", "frames", "cpu0 µs", "all µs")
	for _, regs := range []string{"10", "125"} {
		fmt.Fprintf(r.w, "%-44s %12.2f %12.2f\n", "12 B request, "+map[string]string{"10": "29", "125": "259"}[regs]+" B answer ("+regs+" registers)",
			s.med("cpu0/"+regs)/1e3, s.med("all/"+regs)/1e3)
	}
	fmt.Fprintln(r.w)
	return s, nil
}

var benchLine = regexp.MustCompile(`^(\S+) Benchmark(\S+?)(?:-\d+)?\s+\d+\s+([0-9.]+) ns/op(?:.*?\s([0-9.]+) B/op\s+([0-9.]+) allocs/op)?`)

// clients reads clients.txt and prints the client table; it returns ns/op
// samples keyed "server-placement/Benchmark/name".
func (r *report) clients(floor samples) (samples, error) {
	ls, err := r.lines("clients.txt")
	if err != nil {
		return nil, err
	}
	s, allocs := samples{}, samples{}
	for _, l := range ls {
		m := benchLine.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		ns, _ := strconv.ParseFloat(m[3], 64)
		k := m[1] + "/" + regexp.MustCompile(`callers=\d+`).ReplaceAllString(m[2], "callers")
		s.add(k, ns)
		if m[5] != "" {
			a, _ := strconv.ParseFloat(m[5], 64)
			allocs.add(k, a)
		}
	}
	fmt.Fprintln(r.w, "## Clients, one connection, FC 3 (µs per request, median; speed ratio = libmodbus µs / plcctl µs, target >= 1.00)")
	fmt.Fprintf(r.w, "%-24s %-8s %9s %9s %9s %9s %9s %8s\n", "server, placement", "regs", "plcctl", "goburrow", "libmodbus", "vs libmb", "vs goburr", "floor %")
	for _, cfg := range []string{"plcsim-0", "libmodbus-0", "plcsim-all"} {
		place := "cpu0"
		if strings.HasSuffix(cfg, "all") {
			place = "all"
		}
		for _, regs := range []string{"10", "125"} {
			b := cfg + "/Read/regs=" + regs + "/client="
			p, g, l := s.med(b+"plcctl"), s.med(b+"goburrow"), s.med(b+"libmodbus")
			if p == 0 {
				continue
			}
			fmt.Fprintf(r.w, "%-24s %-8s %9.2f %9.2f %9.2f %8.2fx %8.2fx %7.0f%%\n", strings.Replace(cfg, "-", ", ", 1), regs,
				p/1e3, g/1e3, l/1e3, ratio(l, p), ratio(g, p), 100*floor.med(place+"/"+regs)/p)
		}
	}
	fmt.Fprintln(r.w)
	fmt.Fprintln(r.w, "## Pipelining: plcctl with 16 in flight (16 callers) vs plcctl sequential (target: >= 3x cpu0, >= 4x all)")
	fmt.Fprintf(r.w, "%-24s %12s %12s %12s %9s\n", "server, placement", "seq µs", "16 in fl. µs", "MaxInFl 1 µs", "speed-up")
	for _, cfg := range []string{"plcsim-0", "libmodbus-0", "plcsim-all"} {
		seq := s.med(cfg + "/Read/regs=10/client=plcctl")
		pip := s.med(cfg + "/ReadParallel/regs=10/callers/client=plcctl-pipelined")
		one := s.med(cfg + "/ReadParallel/regs=10/callers/client=plcctl")
		if seq == 0 || pip == 0 {
			continue
		}
		fmt.Fprintf(r.w, "%-24s %12.2f %12.2f %12.2f %8.2fx\n", strings.Replace(cfg, "-", ", ", 1), seq/1e3, pip/1e3, one/1e3, seq/pip)
	}
	fmt.Fprintln(r.w)
	fmt.Fprintln(r.w, "## Client allocations per request (go test -benchmem, median)")
	for _, k := range []string{"plcsim-0/Read/regs=10/client=plcctl", "plcsim-0/Read/regs=125/client=plcctl", "plcsim-0/Read/regs=10/client=goburrow",
		"plcsim-0/ReadParallel/regs=10/callers/client=plcctl-pipelined"} {
		if len(allocs[k]) > 0 {
			fmt.Fprintf(r.w, "%-64s %6.0f allocs/op\n", strings.TrimPrefix(k, "plcsim-0/"), allocs.med(k))
		}
	}
	fmt.Fprintln(r.w)
	return s, nil
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

// plcctlBench compares plcctl bench with the Go benchmark of the same
// workload and writes inflight.tsv.
func (r *report) plcctlBench(clients samples) error {
	ls, err := r.lines("plcctl-bench.jsonl")
	if err != nil {
		return err
	}
	s := samples{}
	for _, l := range ls {
		place, js, _ := strings.Cut(l, " ")
		var b struct {
			InFlight int     `json:"in_flight"`
			RPS      float64 `json:"requests_per_s"`
			Errors   int     `json:"errors"`
		}
		if json.Unmarshal([]byte(js), &b) != nil || b.Errors > 0 {
			continue
		}
		s.add(fmt.Sprintf("%s/%d", place, b.InFlight), b.RPS)
	}
	// The Go benchmark run right before plcctl bench in each round
	// (paired.txt); the clients table's figure only when that is missing.
	goRPS := 1e9 / clients.med("plcsim-0/Read/regs=10/client=plcctl")
	if pl, err := r.lines("paired.txt"); err == nil {
		p := samples{}
		for _, l := range pl {
			if m := benchLine.FindStringSubmatch(l); m != nil {
				ns, _ := strconv.ParseFloat(m[3], 64)
				p.add("go", ns)
			}
		}
		if len(p["go"]) > 0 {
			goRPS = 1e9 / p.med("go")
		}
	}
	cli := s.med("cpu0/1")
	fmt.Fprintln(r.w, "## plcctl bench (the field tool) vs the Go benchmark of the same workload, run back to back in each round, FC 3 x 10, 1 in flight, cpu0 (target: within 5%)")
	fmt.Fprintf(r.w, "%-40s %12.0f req/s\n%-40s %12.0f req/s\n%-40s %+11.1f%%\n\n", "plcctl bench --in-flight 1", cli,
		"BenchmarkRead/regs=10/client=plcctl", goRPS, "difference", 100*(cli-goRPS)/goRPS)
	fmt.Fprintln(r.w, "## plcctl bench, requests/s against requests in flight (plcsim; inflight.png)")
	fmt.Fprintf(r.w, "%-10s %12s %12s\n", "in flight", "cpu0", "all")
	var tsv strings.Builder
	tsv.WriteString("# in_flight cpu0_rps all_rps\n")
	for _, k := range []int{1, 2, 4, 8, 16} {
		a, b := s.med(fmt.Sprintf("cpu0/%d", k)), s.med(fmt.Sprintf("all/%d", k))
		fmt.Fprintf(r.w, "%-10d %12.0f %12.0f\n", k, a, b)
		fmt.Fprintf(&tsv, "%d %.0f %.0f\n", k, a, b)
	}
	fmt.Fprintln(r.w)
	return os.WriteFile(filepath.Join(r.dir, "inflight.tsv"), []byte(tsv.String()), 0o644)
}

// servers reads servers.txt ("split plcsim {json}") and writes connections.tsv.
func (r *report) servers(floor samples) error {
	ls, err := r.lines("servers.txt")
	if err != nil {
		return err
	}
	rps, p99, scpu, lcpu := samples{}, samples{}, samples{}, samples{}
	for _, l := range ls {
		f := strings.SplitN(l, " ", 3)
		if len(f) != 3 {
			continue
		}
		var g struct {
			Conns  int     `json:"conns"`
			RPS    float64 `json:"rps"`
			P99    float64 `json:"p99_us"`
			Errors int     `json:"errors"`
			// Added by run.sh (the server's threads) and by loadgen (its own).
			ServerCPU float64 `json:"server_cpu_us_per_req"`
			LoadCPU   float64 `json:"cpu_us_per_req"`
		}
		if json.Unmarshal([]byte(f[2]), &g) != nil {
			continue
		}
		k := fmt.Sprintf("%s/%s/%d", f[0], f[1], g.Conns)
		rps.add(k, g.RPS)
		p99.add(k, g.P99)
		if g.ServerCPU > 0 {
			scpu.add(k, g.ServerCPU)
		}
		if g.LoadCPU > 0 {
			lcpu.add(k, g.LoadCPU)
		}
	}
	fmt.Fprintln(r.w, "## Servers under the same load generator (bench/loadgen, FC 3 x 10, one request outstanding per connection)")
	fmt.Fprintln(r.w, "## split = server on CPU 0, load on CPU 1; all = plcsim and load unpinned. Target: plcsim >= 1.5x libmodbus at 64 connections, split")
	fmt.Fprintf(r.w, "%-6s %11s %11s %11s %9s %11s | %9s %9s %9s %9s\n", "conns", "plcsim/s", "libmodbus/s", "pymodbus/s", "vs libmb", "plcsim all",
		"p99 plcs", "p99 libm", "p99 pym", "p99 all")
	var tsv strings.Builder
	tsv.WriteString("# conns plcsim libmodbus pymodbus plcsim_all (requests/s)\n")
	for _, c := range []int{1, 8, 64, 256} {
		k := func(p, s string) string { return fmt.Sprintf("%s/%s/%d", p, s, c) }
		ps, lm, py, pa := rps.med(k("split", "plcsim")), rps.med(k("split", "libmodbus")), rps.med(k("split", "pymodbus")), rps.med(k("all", "plcsim"))
		fmt.Fprintf(r.w, "%-6d %11.0f %11.0f %11.0f %8.2fx %11.0f | %7.0fµs %7.0fµs %7.0fµs %7.0fµs\n", c, ps, lm, py, ratio(ps, lm), pa,
			p99.med(k("split", "plcsim")), p99.med(k("split", "libmodbus")), p99.med(k("split", "pymodbus")), p99.med(k("all", "plcsim")))
		fmt.Fprintf(&tsv, "%d %.0f %.0f %.0f %.0f\n", c, ps, lm, py, pa)
	}
	{
		k := func(s string) string { return "split/" + s + "/64" }
		ps, lm, ce := rps.med(k("plcsim")), rps.med(k("libmodbus")), rps.med(k("ceiling"))
		fmt.Fprintf(r.w, "target row, 64 connections, split: plcsim %.2fx libmodbus in requests/s (target 1.5x), %.2fx by server CPU per request; the ceiling %.2fx and %.2fx; load generator %.2f µs per request\n",
			ratio(ps, lm), ratio(scpu.med(k("libmodbus")), scpu.med(k("plcsim"))), ratio(ce, lm), ratio(scpu.med(k("libmodbus")), scpu.med(k("ceiling"))), lcpu.med(k("plcsim")))
	}
	fmt.Fprintln(r.w)
	if ls := pipelined(rps, scpu, lcpu); ls != "" {
		fmt.Fprint(r.w, ls)
	}
	if len(scpu) > 0 {
		// Requests/s swing with other processes' load; CPU time per request
		// much less. The ceiling (bench/testdata/epoll_server.c) is the
		// least any server costs; the load generator's own cost bounds what
		// any server can be shown to do on CPU 0 while it has CPU 1.
		fmt.Fprintln(r.w, "## CPU time per request, split (µs, median): each server's threads; the load generator's own; ceiling = bench/testdata/epoll_server.c (one epoll thread, canned answers)")
		fmt.Fprintf(r.w, "%-6s %9s %9s %9s %9s %9s | %10s %11s %9s\n", "conns", "plcsim", "libmodbus", "pymodbus", "ceiling", "libmb/plc", "load µs", "ceiling/s", "ceil/libm")
		for _, c := range []int{1, 8, 64, 256} {
			k := func(s string) string { return fmt.Sprintf("split/%s/%d", s, c) }
			pc, lc := scpu.med(k("plcsim")), scpu.med(k("libmodbus"))
			fmt.Fprintf(r.w, "%-6d %9.2f %9.2f %9.2f %9.2f %8.2fx | %10.2f %11.0f %8.2fx\n", c, pc, lc, scpu.med(k("pymodbus")), scpu.med(k("ceiling")),
				ratio(lc, pc), lcpu.med(k("plcsim")), rps.med(k("ceiling")), ratio(rps.med(k("ceiling")), rps.med(k("libmodbus"))))
		}
		fmt.Fprintln(r.w)
	}
	return os.WriteFile(filepath.Join(r.dir, "connections.tsv"), []byte(tsv.String()), 0o644)
}

// pipelined formats the rows run.sh measured with loadgen -depth 4
// ("split-depth4 SERVER {json}"): a pipelined load, another shape than the
// target's one request outstanding per connection, reported apart.
func pipelined(rps, scpu, lcpu samples) string {
	var b strings.Builder
	for _, c := range []int{1, 8, 64, 256} {
		k := func(s string) string { return fmt.Sprintf("split-depth4/%s/%d", s, c) }
		lm := rps.med(k("libmodbus"))
		if lm == 0 {
			continue
		}
		if b.Len() == 0 {
			b.WriteString("## Pipelined load, NOT the target's shape: loadgen -depth 4 (4 requests outstanding per connection), split; requests/s, server and load CPU µs per request\n")
			fmt.Fprintf(&b, "%-6s %-10s %11s %9s %10s %10s\n", "conns", "server", "requests/s", "vs libmb", "server µs", "load µs")
		}
		for _, s := range []string{"plcsim", "libmodbus", "pymodbus", "ceiling"} {
			if v := rps.med(k(s)); v > 0 {
				fmt.Fprintf(&b, "%-6d %-10s %11.0f %8.2fx %10.2f %10.2f\n", c, s, v, ratio(v, lm), scpu.med(k(s)), lcpu.med(k(s)))
			}
		}
	}
	if b.Len() > 0 {
		b.WriteString("\n")
	}
	return b.String()
}

// cli reads bench/oneshot's lines (oneshot.txt, one line per command and
// round): per command the median over rounds, and each round's ratio to
// the hello-world of the same round, median over rounds.
func (r *report) cli() error {
	lines, err := r.lines("oneshot.txt")
	if err != nil {
		return err
	}
	var order []string
	vals := map[string]samples{}
	rounds := 0
	for _, l := range lines {
		name, rest, ok := strings.Cut(l, "\t")
		if !ok {
			return fmt.Errorf("oneshot.txt: %q", l)
		}
		if vals[name] == nil {
			vals[name] = samples{}
			order = append(order, name)
		}
		for _, m := range kv.FindAllStringSubmatch(rest, -1) {
			v, _ := strconv.ParseFloat(m[2], 64)
			vals[name].add(m[1], v)
		}
		if name == "hello-world" {
			rounds++
		}
	}
	fmt.Fprintf(r.w, "## One-shot CLI, start to exit (bench/oneshot: 300 runs interleaved x %d rounds, unpinned, medians over rounds; targets: read <= 1.3x, --help <= 1.2x hello-world)\n", rounds)
	fmt.Fprintln(r.w, "## floors: hello + imports = the hello-world importing every package plcctl links (their init); hello + no TLS/YAML = importing what a plcctl without TLS and plant files would link;")
	fmt.Fprintln(r.w, "## Go net read / Go syscall read = the hello-world plus the same exchange and graceful close (bench/testdata/oneshot_read.go); plcctl --version = plcctl's binary starting and parsing one flag")
	fmt.Fprintln(r.w, "## peers: libmodbus read (C, dynamically linked) and goburrow read do the same read but close at once (goburrow close(2), libmodbus shutdown(SHUT_RDWR) and close(2)), without waiting for the peer's FIN as plcctl's graceful close does")
	fmt.Fprintln(r.w, "## every binary dropped from the page cache first: measured as it starts after a reboot")
	fmt.Fprintf(r.w, "%-20s %10s %10s %10s %10s %10s %8s %9s\n", "command", "median ms", "mean ms", "user ms", "sys ms", "minflt", "csw", "vs hello")
	for _, c := range order {
		v := vals[c]
		fmt.Fprintf(r.w, "%-20s %10.2f %10.2f %10.2f %10.2f %10.0f %8.1f %8.2fx\n", c, v.med("median_ms"), v.med("mean_ms"),
			v.med("user_ms"), v.med("sys_ms"), v.med("minflt"), v.med("csw"), v.med("vs_first"))
	}
	fmt.Fprintln(r.w)
	return nil
}

// allocs prints allocs.txt as it is: the in-process allocation benchmarks.
func (r *report) allocs() {
	ls, err := r.lines("allocs.txt")
	if err != nil || len(ls) == 0 {
		return
	}
	fmt.Fprintln(r.w, "## Allocation benchmarks (in-process, -benchmem; target 0 allocs/op)")
	for _, l := range ls {
		fmt.Fprintln(r.w, l)
	}
	fmt.Fprintln(r.w)
}
