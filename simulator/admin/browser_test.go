package admin

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/plcctl/plcctl/modbus"
	"github.com/plcctl/plcctl/plant"
	"github.com/plcctl/plcctl/simulator"
)

// chromiumPath finds Debian's chromium. With CI=true its absence fails the
// test (.ci/run installs it); locally the test skips.
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("chromium is not installed; CI must have it (.ci/run installs the Debian package)")
	}
	t.Skip("chromium is not installed (apt-get install chromium)")
	return ""
}

// browser starts a headless chromium with a fresh profile and returns its
// context (with no deadline: one on the first call would bound the whole
// browser); it ends with the test.
func browser(t *testing.T, width, height int) context.Context {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.Headless,
		chromedp.NoSandbox, // required as root
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(width, height),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelB := chromedp.NewContext(actx, chromedp.WithLogf(t.Logf))
	t.Cleanup(func() { cancelB(); cancelA() })
	if err := chromedp.Do(ctx); err != nil { // start the browser now
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// do runs steps within d.
func do(ctx context.Context, d time.Duration, steps ...chromedp.Action[chromedp.Void]) error {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	return chromedp.Do(ctx, steps...)
}

// eval evaluates a JavaScript expression within 10s.
func eval[T any](t *testing.T, ctx context.Context, js string) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js))
	if err != nil {
		t.Fatalf("evaluate %s: %v", js, err)
	}
	return v
}

// poll waits within d until a JavaScript expression is true.
func poll(ctx context.Context, d time.Duration, js string) error {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	_, err := chromedp.Run(ctx, chromedp.Poll[bool](js, chromedp.WithPollingInterval(10*time.Millisecond)))
	return err
}

// TestBrowserLivePage drives the page in a real browser: a value a Modbus
// client writes appears without a reload within a second, highlighted, and
// switching a fault rule off on the page takes effect on the wire.
func TestBrowserLivePage(t *testing.T) {
	p, err := plant.Parse([]byte(`
version: 1
devices:
  - name: station
    address: 127.0.0.1:5020
    units: [{id: 1}]
    tags:
      - {name: pressure, table: holding_register, address: 50, type: uint16, scale: 0.1, eng_unit: bar}
      - {name: pump/run, table: coil, address: 7}
`), "browser.yaml")
	if err != nil {
		t.Fatal(err)
	}
	r := newRig(t, Options{EventInterval: 100 * time.Millisecond, Tags: p.Tags}, simulator.Config{
		Faults: []simulator.FaultRule{{Action: simulator.FaultException, Function: modbus.FuncReadInputRegisters, Exception: modbus.ServerDeviceFailure}},
	})
	ctx := browser(t, 1280, 1000)
	c := dialMB(t, r.sim.Addr)
	if p := c.call(1, modbus.NewReadInputRegisters(0, 1)); string(p) != "\x84\x04" {
		t.Fatalf("FC 4 with the rule on = % X, want 84 04", p)
	}
	cell := chromedp.CSS(`td.v[data-address="5"]`)
	err = do(ctx, 20*time.Second,
		chromedp.Navigate(r.web.URL+"/?unit=1&table=holding-registers&address=0&count=20"),
		chromedp.WaitVisible(cell),
	)
	if err != nil {
		t.Fatalf("open the page: %v", err)
	}
	if err := poll(ctx, 10*time.Second, `document.querySelector('#live').textContent === "live"`); err != nil {
		t.Fatalf("the event stream did not open: %v", err)
	}
	eval[bool](t, ctx, `window.notReloaded = true`)
	if first := eval[string](t, ctx, `document.querySelector('td.v[data-address="5"]').textContent`); first != "0" {
		t.Fatalf("register 5 shows %q before the write, want 0", first)
	}

	c.call(1, &modbus.WriteSingleRegister{Address: 5, Value: 4242})
	if err := poll(ctx, time.Second, `document.querySelector('td.v[data-address="5"]').textContent === "4242"`); err != nil {
		t.Fatalf("the value written over Modbus did not appear on the page within 1s: %v", err)
	}
	notReloaded := eval[bool](t, ctx, `window.notReloaded === true`)
	highlighted := eval[bool](t, ctx, `document.querySelector('td.v[data-address="5"]').parentElement.classList.contains("changed")`)
	if !notReloaded || !highlighted {
		t.Errorf("after the write: page kept its state %v (no reload), row highlighted %v; want both", notReloaded, highlighted)
	}
	if err := poll(ctx, 5*time.Second, `document.querySelector('#journal tbody tr') !== null`); err != nil {
		t.Fatalf("no journal row: %v", err)
	}
	row := eval[string](t, ctx, `document.querySelector('#journal tbody tr').textContent`)
	if !strings.Contains(row, "4242") || !strings.Contains(row, c.nc.LocalAddr().String()) {
		t.Errorf("journal row %q, want the client %s and 4242", row, c.nc.LocalAddr())
	}

	// Tags: a value written over Modbus shows scaled, in its unit; a value
	// typed into the page reaches the memory.
	c.call(1, &modbus.WriteSingleRegister{Address: 50, Value: 125})
	if err := poll(ctx, time.Second, `document.querySelector('td.v[data-tag="pressure"]').textContent === "12.5 bar"`); err != nil {
		t.Errorf("tag pressure did not show 12.5 bar within 1s: %v", err)
	}
	setInput := chromedp.CSS(`input[aria-label="New value for tag pressure"]`)
	if err := do(ctx, 10*time.Second, chromedp.SendKeys(setInput, "3.3"+kb.Enter)); err != nil {
		t.Fatalf("type a tag value: %v", err)
	}
	waitFor(t, 5*time.Second, "the typed tag value in the memory", func() bool { return r.sim.HoldingRegisters(50, 1)[0] == 33 })

	// The connections panel lists the client.
	if err := poll(ctx, 2*time.Second, `[...document.querySelectorAll('#conns tbody td')].some(td => td.textContent === "`+c.nc.LocalAddr().String()+`")`); err != nil {
		t.Errorf("the client's connection %s is not on the page: %v", c.nc.LocalAddr(), err)
	}

	// Every control has an accessible name.
	unnamed := eval[[]string](t, ctx, `[...document.querySelectorAll("input, select, button")]
		.filter(e => !(e.getAttribute("aria-label") || (e.labels && e.labels.length) || e.textContent.trim()))
		.map(e => e.outerHTML)`)
	if len(unnamed) > 0 {
		t.Errorf("controls without an accessible name: %v", unnamed)
	}

	// Switch the fault off on the page.
	sw := chromedp.CSS(`input[role="switch"][data-index="0"]`)
	if err := do(ctx, 10*time.Second, chromedp.WaitVisible(sw), chromedp.Click(sw)); err != nil {
		t.Fatalf("switch the fault off: %v", err)
	}
	if label := eval[string](t, ctx, `document.querySelector('input[role="switch"][data-index="0"]').getAttribute("aria-label")`); !strings.Contains(label, "action=exception") {
		t.Errorf("switch's accessible name %q, want the rule", label)
	}
	waitFor(t, 5*time.Second, "the rule switched off", func() bool { return len(r.sim.Faults()) == 0 })
	if p := c.call(1, modbus.NewReadInputRegisters(0, 1)); p[0] != 4 {
		t.Errorf("FC 4 after switching the rule off on the page = % X, want a normal answer", p)
	}
	if err := poll(ctx, 2*time.Second, `document.querySelector('input[role="switch"][data-index="0"]').checked === false`); err != nil {
		t.Errorf("the switch does not show off: %v", err)
	}

	shot(t, ctx, "page.png")
	// And on a phone's screen.
	if err := do(ctx, 10*time.Second, chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile)); err != nil {
		t.Fatal(err)
	}
	if eval[bool](t, ctx, `document.documentElement.scrollWidth > window.innerWidth + 1`) {
		t.Error("on a 390px wide screen the page scrolls sideways")
	}
	shot(t, ctx, "page-phone.png")
}

// shot saves a screenshot under the test's temp dir (and, when
// PLCSIM_SCREENSHOT_DIR is set, there too, to look at).
func shot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	dirs := []string{t.TempDir()}
	if d := os.Getenv("PLCSIM_SCREENSHOT_DIR"); d != "" {
		dirs = append(dirs, d)
	}
	for _, d := range dirs {
		p := filepath.Join(d, name)
		if err := os.WriteFile(p, png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot: %s", p)
	}
}

// TestBrowserDevices: the live page of one device of several, under
// /devices/NAME/, shows that device's values live and offers a selector
// of every device that opens another device's page.
func TestBrowserDevices(t *testing.T) {
	r, sims := devicesRig(t, Options{EventInterval: 100 * time.Millisecond})
	sims[0].SetHoldingRegisters(0, 11)
	ctx := browser(t, 1280, 1000)
	cell := `td.v[data-address="2"]`
	err := do(ctx, 20*time.Second,
		chromedp.Navigate(r.web.URL+"/devices/tank/farm/?unit=1&table=holding-registers&address=0&count=5"),
		chromedp.WaitVisible(chromedp.CSS(cell)),
	)
	if err != nil {
		t.Fatalf("open tank/farm's page: %v", err)
	}
	if err := poll(ctx, 10*time.Second, `document.querySelector('#live').textContent === "live"`); err != nil {
		t.Fatalf("the event stream did not open: %v", err)
	}
	dialMB(t, sims[1].Addr).call(1, &modbus.WriteSingleRegister{Address: 2, Value: 777})
	if err := poll(ctx, 5*time.Second, `document.querySelector('`+cell+`').textContent === "777"`); err != nil {
		t.Fatalf("tank/farm's register 2 written over Modbus did not appear: %v", err)
	}
	if err := poll(ctx, 5*time.Second, `!document.querySelector('#device-pick').hidden`); err != nil {
		t.Fatalf("no device selector: %v", err)
	}
	opts := eval[[]string](t, ctx, `[...document.querySelectorAll('#device option')].map(o => (o.selected ? "*" : "") + o.textContent)`)
	want := []string{"pumps (" + sims[0].Addr + ")", "*tank/farm (" + sims[1].Addr + ")"}
	if strings.Join(opts, "|") != strings.Join(want, "|") {
		t.Errorf("selector options %q, want %q", opts, want)
	}
	if title := eval[string](t, ctx, `document.title`); title != "plcsim: tank/farm" {
		t.Errorf("title %q, want plcsim: tank/farm", title)
	}
	eval[bool](t, ctx, `(() => { const s = document.querySelector('#device'); s.value = "/devices/pumps/"; s.dispatchEvent(new Event("change")); return true })()`)
	// The navigation destroys the context a poll runs in: poll again (a
	// few times) until one runs in the new page.
	var err2 error
	for range 5 {
		if err2 = poll(ctx, 10*time.Second, `location.pathname === "/devices/pumps/" && document.querySelector('td.v[data-address="0"]') !== null && document.querySelector('td.v[data-address="0"]').textContent === "11"`); err2 == nil {
			break
		}
	}
	if err2 != nil {
		t.Fatalf("choosing pumps did not open its page with its register 0 = 11: %v", err2)
	}
	if q := eval[string](t, ctx, `location.search`); !strings.Contains(q, "count=5") {
		t.Errorf("the view %q was not kept across devices", q)
	}
}
