// plcsim live page: one server-sent event stream (/api/v1/events) feeds
// every panel; changes go through the same JSON API a test would use.
"use strict";

const $ = (sel) => document.querySelector(sel);
const el = (tag, props = {}, ...kids) => {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === "class") e.className = v;
    else if (k === "text") e.textContent = v;
    else if (k.startsWith("data-") || k.startsWith("aria-") || k === "role") e.setAttribute(k, v);
    else e[k] = v;
  }
  for (const kid of kids) e.append(kid);
  return e;
};

const view = $("#view");
const tokenInput = $("#token");
tokenInput.value = sessionStorage.getItem("plcsim-token") || "";
tokenInput.addEventListener("change", () => sessionStorage.setItem("plcsim-token", tokenInput.value));

// api sends a change; it returns the parsed answer or throws the API's error.
async function api(method, path, body, type = "application/json") {
  const headers = {};
  if (tokenInput.value) headers["Authorization"] = "Bearer " + tokenInput.value;
  if (body !== undefined) headers["Content-Type"] = type;
  const rsp = await fetch(path, { method, headers, body: body === undefined ? undefined : (type === "application/json" ? JSON.stringify(body) : body) });
  if (rsp.status === 204) return null;
  const data = await rsp.json().catch(() => ({ error: rsp.status + " " + rsp.statusText }));
  if (!rsp.ok) throw new Error(data.error || rsp.statusText);
  return data;
}

function showError(node, err) {
  node.textContent = err ? String(err.message || err) : "";
  node.hidden = !err;
}

// ---- the table range, from the URL (a deep link) or the form ----
function viewParams() {
  const f = new FormData(view);
  return new URLSearchParams({ unit: f.get("unit"), table: f.get("table"), address: f.get("address"), count: f.get("count") });
}

function loadViewFromURL() {
  const q = new URLSearchParams(location.search);
  for (const k of ["unit", "table", "address", "count"]) {
    if (q.has(k)) view.elements[k].value = q.get(k);
  }
}

let prev = new Map(); // address -> last value shown, to highlight changes
let current = null;   // the view the values table shows

function renderValues(v) {
  const tbody = $("#values tbody");
  const same = current && current.unit === v.unit && current.table === v.table && current.address === v.address && tbody.rows.length === v.values.length;
  const bits = v.table === "coils" || v.table === "discrete-inputs";
  if (!same) {
    tbody.replaceChildren();
    prev = new Map();
    v.values.forEach((_, i) => {
      const a = v.address + i;
      const input = el("input", { class: "set", type: "text", inputMode: bits ? "text" : "numeric", "aria-label": `New value for ${v.table} ${a}`, placeholder: bits ? "true/false" : "0..65535" });
      input.addEventListener("keydown", (ev) => { if (ev.key === "Enter") setValue(v, a, input); });
      tbody.append(el("tr", {},
        el("th", { scope: "row", text: String(a) }),
        el("td", { class: "v", "data-address": String(a) }),
        el("td", { class: "hex", "data-address": String(a) }),
        el("td", {}, input)));
    });
  }
  current = v;
  v.values.forEach((val, i) => {
    const a = v.address + i;
    const row = tbody.rows[i];
    const cell = row.cells[1];
    const text = String(val);
    if (cell.textContent !== text) {
      cell.textContent = text;
      row.cells[2].textContent = bits ? "" : "0x" + val.toString(16).toUpperCase().padStart(4, "0");
      if (prev.has(a)) { // highlight a change, not the first paint
        row.classList.remove("changed");
        void row.offsetWidth; // restart the animation
        row.classList.add("changed");
      }
    }
    prev.set(a, text);
  });
}

async function setValue(v, addr, input) {
  const bits = v.table === "coils" || v.table === "discrete-inputs";
  const raw = input.value.trim();
  let val = bits ? ({ "true": true, "1": true, "on": true, "false": false, "0": false, "off": false })[raw.toLowerCase()] : Number(raw);
  if (val === undefined || (!bits && (!Number.isInteger(val) || raw === ""))) {
    showError($("#view-error"), `${raw}: want ${bits ? "true or false" : "a whole number 0..65535"}`);
    return;
  }
  try {
    await api("PUT", `api/v1/units/${v.unit}/${v.table}?address=${addr}`, { values: [val] });
    input.value = "";
    showError($("#view-error"), null);
  } catch (err) {
    showError($("#view-error"), err);
  }
}

// ---- tags (a plant file) ----
const tagShown = new Map(); // name -> text shown
function renderTags(tags) {
  $("#tags-section").hidden = tags.length === 0;
  const tbody = $("#tags tbody");
  if (tbody.rows.length !== tags.length) {
    tbody.replaceChildren();
    tagShown.clear();
    for (const t of tags) {
      const input = el("input", { class: "set", type: "text", "aria-label": `New value for tag ${t.name}`, placeholder: t.type });
      input.addEventListener("keydown", (ev) => { if (ev.key === "Enter") setTag(t, input); });
      tbody.append(el("tr", { "data-tag": t.name },
        el("th", { scope: "row", text: t.name }),
        el("td", { class: "v", "data-tag": t.name }),
        el("td", { class: "muted", text: `unit ${t.unit} ${t.table} ${t.address}` }),
        el("td", {}, input)));
    }
  }
  tags.forEach((t, i) => {
    const row = tbody.rows[i];
    const text = t.error ? "⚠ " + t.error : t.text + (t.eng_unit ? " " + t.eng_unit : "");
    if (tagShown.get(t.name) !== text) {
      row.cells[1].textContent = text;
      if (tagShown.has(t.name)) {
        row.classList.remove("changed");
        void row.offsetWidth;
        row.classList.add("changed");
      }
      tagShown.set(t.name, text);
    }
  });
}

async function setTag(t, input) {
  // Sent as text: the server parses it by the tag's own rules (a JS number
  // would round a 64-bit integer).
  try {
    await api("PUT", "api/v1/tags/" + t.name.split("/").map(encodeURIComponent).join("/"), { value: input.value.trim() });
    input.value = "";
    showError($("#tag-error"), null);
  } catch (err) {
    showError($("#tag-error"), err);
  }
}

// ---- fault rules ----
function renderFaults(rules) {
  const ul = $("#faults");
  ul.replaceChildren();
  $("#no-faults").hidden = rules.length > 0;
  for (const r of rules) {
    const sw = el("input", { type: "checkbox", role: "switch", checked: r.enabled, "aria-label": `Fault rule ${r.index + 1}: ${r.rule}`, "data-index": String(r.index) });
    sw.setAttribute("aria-checked", String(r.enabled));
    sw.addEventListener("change", async () => {
      try {
        await api("PUT", `api/v1/faults/${r.index}`, { enabled: sw.checked });
        showError($("#fault-error"), null);
      } catch (err) {
        sw.checked = !sw.checked;
        showError($("#fault-error"), err);
      }
      sw.setAttribute("aria-checked", String(sw.checked));
    });
    ul.append(el("li", { class: r.enabled ? "on" : "off" }, el("span", { class: "switch" }, sw), el("code", { text: r.rule }),
      el("span", { class: "muted", text: r.enabled ? "on" : "off" })));
  }
}

$("#add-fault").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const input = ev.target.elements.rule;
  try {
    const cur = await fetch("api/v1/faults").then((r) => r.json());
    const rules = cur.rules.map((r) => ({ rule: r.rule, enabled: r.enabled }));
    rules.push({ rule: input.value.trim(), enabled: true });
    await api("PUT", "api/v1/faults", { rules });
    input.value = "";
    showError($("#fault-error"), null);
  } catch (err) {
    showError($("#fault-error"), err);
  }
});

$("#clear-faults").addEventListener("click", async () => {
  try { await api("DELETE", "api/v1/faults"); showError($("#fault-error"), null); } catch (err) { showError($("#fault-error"), err); }
});

// ---- counters ----
const counterNames = { conns: "open connections", accepted: "accepted", refused: "refused", requests: "requests", responses: "responses",
  exceptions: "exceptions", writes: "client writes", framing_faults: "framing faults", malformed_pdus: "malformed PDUs",
  foreign_protocol: "foreign protocol", resets: "resets sent", evicted: "evicted (max conns)", idle_closed: "closed idle", peer_eof: "closed by peer", peer_resets: "reset by peer", faults: "faults injected" };

function renderCounters(c) {
  const dl = $("#counters");
  dl.replaceChildren();
  for (const [k, label] of Object.entries(counterNames)) {
    if (!(k in c)) continue;
    dl.append(el("div", {}, el("dt", { text: label }), el("dd", { text: String(c[k]), "data-counter": k })));
  }
}

// ---- connections ----
let conns = [];
const clock = (d) => d.toLocaleTimeString([], { hour12: false });
function renderConns() {
  const tbody = $("#conns tbody");
  tbody.replaceChildren();
  $("#no-conns").hidden = conns.length > 0;
  const now = Date.now();
  for (const c of conns) {
    const age = Math.max(0, Math.round((now - new Date(c.opened)) / 1000));
    tbody.append(el("tr", { "data-conn": String(c.id), class: c.draining ? "off" : "" },
      el("td", { text: c.remote + (c.draining ? " (closing)" : "") }),
      el("td", { text: c.tls ? (c.role || "none") : "plain TCP", title: c.subject || c.role_error || "" }), el("td", { text: age + " s" }),
      el("td", { text: String(c.requests) }), el("td", { text: clock(new Date(c.last_activity)) })));
  }
}
setInterval(renderConns, 1000); // ages move on between updates

// ---- journal ----
function addWrites(w) {
  const tbody = $("#journal tbody");
  for (const e of w.writes) {
    const t = new Date(e.time);
    const vals = e.values.map(String).join(", ");
    const addr = e.file ? `file ${e.file} rec ${e.address}` : String(e.address);
    tbody.prepend(el("tr", { "data-seq": String(e.seq) },
      el("td", { text: String(e.seq) }), el("td", { text: t.toLocaleTimeString([], { hour12: false }) + "." + String(t.getMilliseconds()).padStart(3, "0") }),
      el("td", { text: e.remote }), el("td", { text: String(e.unit) }), el("td", { text: String(e.fc), title: e.function }),
      el("td", { text: addr }), el("td", { text: vals })));
  }
  while (tbody.rows.length > 100) tbody.deleteRow(-1);
  $("#no-writes").hidden = tbody.rows.length > 0;
}

// ---- the event stream ----
let source = null;
function connect() {
  if (source) source.close();
  $("#journal tbody").replaceChildren();
  current = null;
  source = new EventSource("api/v1/events?" + viewParams());
  const live = $("#live");
  source.onopen = () => { live.textContent = "live"; live.className = "badge ok"; showError($("#view-error"), null); };
  source.onerror = async () => {
    live.textContent = "reconnecting…"; live.className = "badge down";
    // A bad range is answered 400 and EventSource only says "error": ask why.
    const rsp = await fetch("api/v1/events?" + viewParams() + "&probe=1", { method: "GET" }).catch(() => null);
    if (rsp && rsp.status === 400) { showError($("#view-error"), new Error((await rsp.json()).error)); source.close(); live.textContent = "stopped"; }
    else if (rsp && rsp.body) rsp.body.cancel();
  };
  source.addEventListener("update", (ev) => {
    const u = JSON.parse(ev.data);
    if (u.values) renderValues(u.values);
    if (u.tags) renderTags(u.tags);
    if (u.faults) renderFaults(u.faults);
    if (u.counters) renderCounters(u.counters);
    if (u.connections) { conns = u.connections; renderConns(); }
    if (u.writes) addWrites(u.writes);
  });
}

view.addEventListener("submit", (ev) => {
  ev.preventDefault();
  history.replaceState(null, "", "?" + viewParams());
  connect();
});

// ---- the device selector: a plcsim serving several devices lists them
// at /api/v1/devices, each page under /devices/NAME/ ----
async function loadDevices() {
  const rsp = await fetch("/api/v1/devices").catch(() => null);
  if (!rsp || !rsp.ok) return; // one device: no list, no selector
  const devs = await rsp.json().catch(() => null);
  if (!Array.isArray(devs) || devs.length < 2) return;
  const sel = $("#device");
  for (const d of devs) {
    sel.append(el("option", { value: d.page, text: d.name + (d.modbus ? " (" + d.modbus + ")" : ""), selected: location.pathname === d.page }));
  }
  const cur = devs.find((d) => d.page === location.pathname);
  if (cur) document.title = "plcsim: " + cur.name;
  sel.addEventListener("change", () => { location.href = sel.value + location.search; });
  $("#device-pick").hidden = false;
}

loadViewFromURL();
connect();
loadDevices();
