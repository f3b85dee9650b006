// The live page's script: no build step, no library. It reads the state
// (routes, keys, reloads) from /_inquir/api/state, the requests from the
// Server-Sent Events stream at /_inquir/events, and sends replays and the
// matrix with this run's token (from the page's own HTML).
"use strict";

const token = document.querySelector('meta[name="inquir-token"]').content;
const maxRows = 500;
let selected = null; // the id of the request shown in the detail
let state = null;

const $ = (sel) => document.querySelector(sel);

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") e.className = v;
    else e.setAttribute(k, v);
  }
  for (const c of children) {
    if (c === null || c === undefined) continue;
    e.append(c instanceof Node ? c : String(c));
  }
  return e;
}

async function getJSON(url) {
  const r = await fetch(url, { cache: "no-store" });
  const body = await r.json();
  if (!r.ok) throw new Error(body.message || body.error || r.status);
  return body;
}

async function post(url, body) {
  const r = await fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-Inquir-Token": token },
    body: JSON.stringify(body),
  });
  const out = await r.json();
  if (!r.ok) throw new Error(out.message || out.error || r.status);
  return out;
}

function note(text) { $("#action-note").textContent = text; }

// --- the live list ---

function addRow(s) {
  const tbody = $("#live tbody");
  const tr = el("tr", { "data-id": s.id, "data-status": s.status, "data-verdict": s.verdict, class: s.id === selected ? "selected" : "" },
    el("td", { class: "mono" }, clock(s.time)),
    el("td", {}, s.method),
    el("td", { class: "mono" }, s.path),
    el("td", {}, s.status),
    el("td", { class: "v-" + s.verdict }, s.verdict + (s.reason ? " · " + s.reason : "")),
    el("td", {}, s.key || ""),
    el("td", {}, s.ms.toFixed(1)),
    el("td", { class: "mono dim" }, (s.route || "no route") +
      (s.authorizer ? " + authorizer " + s.authorizer + (s.authorizer_cache ? " (" + s.authorizer_cache + ")" : "") : "") +
      (s.function ? " → " + s.function : "") + (s.worker ? " (" + s.worker + ")" : "")));
  tr.addEventListener("click", () => show(s.id));
  tbody.prepend(tr);
  while (tbody.rows.length > maxRows) tbody.deleteRow(-1);
  $("#live-empty").hidden = true;
  $("#live-count").textContent = tbody.rows.length + " shown";
}

// clock is a time as HH:MM:SS.mmm, the log's precision.
function clock(t) {
  const d = new Date(t);
  const p = (n, w) => String(n).padStart(w, "0");
  return p(d.getHours(), 2) + ":" + p(d.getMinutes(), 2) + ":" + p(d.getSeconds(), 2) + "." + p(d.getMilliseconds(), 3);
}

function connect() {
  const es = new EventSource("/_inquir/events");
  es.addEventListener("open", () => { $("#conn").textContent = "live"; $("#conn").className = "pill on"; });
  es.addEventListener("error", () => { $("#conn").textContent = "reconnecting…"; $("#conn").className = "pill off"; });
  es.addEventListener("request", (e) => { addRow(JSON.parse(e.data)); stateSoon(); });
  es.addEventListener("dropped", (e) => { $("#dropped").textContent = e.data; });
}

// --- one request ---

function headerLines(hs) { return (hs || []).map(([k, v]) => k + ": " + v).join("\n"); }

function shownText(s) {
  if (!s) return "";
  let t = s.text;
  if (s.base64) t = "(base64) " + t;
  if (s.cut) t += "\n… " + s.cut + " more bytes not shown";
  return t;
}

async function show(id) {
  selected = id;
  for (const tr of document.querySelectorAll("#live tbody tr")) tr.classList.toggle("selected", Number(tr.dataset.id) === id);
  // What was shown of another request goes now, before the wait: a replay
  // clicked meanwhile shows its own answer.
  $("#replay-result").hidden = true;
  $("#matrix").hidden = true;
  note("");
  let d;
  try {
    d = await getJSON("/_inquir/api/requests/" + id);
  } catch (err) {
    note(String(err.message || err));
    return;
  }
  if (selected !== id) return;
  $("#detail").hidden = false;
  $("#detail").dataset.id = id;
  $("#detail-title").textContent = d.method + " " + d.path + " → " + d.status + (d.reason ? " (" + d.reason + ")" : "");
  const why = d.why;
  $("#why").hidden = !why;
  if (why) {
    $("#why-sentence").textContent = why.sentence;
    $("#why-line").textContent = why.line ? why.file + ":" + why.line + (why.field ? "  " + why.field : "") + (why.text ? "\n    " + why.text : "") : "";
    $("#why-change").textContent = why.change ? "Change: " + why.change : "";
  }
  let req = d.method + " " + d.path + (d.query ? "?" + d.query : "") + "\n" + headerLines(d.headers);
  if (d.headers_cut) req += "\n… " + d.headers_cut + " more header fields not kept";
  req += "\n\n" + (d.body_read ? shownText(d.body) : "(body not read: the gateway refused the request first)");
  $("#request").textContent = req;
  $("#event").textContent = d.event ? shownText(d.event) : "(no function was invoked)";
  $("#answer").textContent = d.answer
    ? d.answer.status + "\n" + headerLines(d.answer.headers) + "\n\n" + shownText(d.answer.body)
    : d.status + " from the gateway" + (d.error ? ": " + d.error : "");
  $("#curl").textContent = d.curl;
  $("#testscript").textContent = d.testscript;
  const sel = $("#replay-key-id");
  sel.replaceChildren();
  for (const k of (state ? state.keys : [])) {
    const held = d.replay_keys.includes(k.id);
    sel.append(el("option", { value: k.id }, k.id + (held ? "" : " (type its secret)")));
  }
}

async function replay(as) {
  const id = selected;
  const body = { id, as };
  if (as === "key") {
    body.key = $("#replay-key-id").value;
    const s = $("#replay-secret").value;
    if (s) body.secret = s;
  }
  note("replaying…");
  try {
    const a = await post("/_inquir/api/replay", body);
    const box = $("#replay-result");
    box.hidden = false;
    box.dataset.status = a.status;
    box.dataset.invoked = a.invoked;
    box.replaceChildren(
      el("p", {}, el("b", {}, "Replay (" + a.sent + "): " + a.status), a.invoked >= 0 ? " · function invoked " + a.invoked + "×" : ""),
      el("pre", {}, headerLines(a.headers) + "\n\n" + shownText(a.body)));
    note("");
  } catch (err) {
    note("replay refused: " + (err.message || err));
  }
  $("#replay-secret").value = "";
}

async function matrix() {
  note("probing the route as inquir verify does…");
  try {
    const rows = await post("/_inquir/api/matrix", { id: selected });
    const tbody = $("#matrix tbody");
    tbody.replaceChildren();
    for (const r of rows) {
      tbody.append(el("tr", { "data-credential": r.credential, "data-expect": r.expect, "data-status": r.status, "data-result": r.result },
        el("td", { class: "mono" }, r.request || ""), el("td", {}, r.credential), el("td", {}, r.expect), el("td", {}, r.got),
        el("td", {}, r.invoked < 0 ? "?" : r.invoked), el("td", { class: "result-" + r.result }, r.result)));
    }
    $("#matrix").hidden = false;
    note(rows.length + " cells");
  } catch (err) {
    note("matrix refused: " + (err.message || err));
  }
}

async function copy(sel) {
  const text = $(sel).textContent;
  try {
    await navigator.clipboard.writeText(text);
    note("copied");
  } catch (err) {
    // No clipboard (a page not in focus, a browser that refuses): select
    // the text for the user to copy.
    const range = document.createRange();
    range.selectNodeContents($(sel));
    const s = window.getSelection();
    s.removeAllRanges();
    s.addRange(range);
    $(sel).closest("details").open = true;
    note("selected: copy it with your keyboard");
  }
}

// --- routes, keys, rotations ---

let stateTimer = null;
function stateSoon() {
  if (stateTimer) return;
  stateTimer = setTimeout(() => { stateTimer = null; loadState(); }, 1000);
}

function whoMayCall(r) {
  if (r.public) return el("span", { class: "v-public" }, "anyone, no key: " + (r.reason || "no reason given"));
  if (r.auth === "authorizer") return el("span", {}, "no key: whoever authorizer " + r.authorizer + " allows");
  const parts = [];
  if (r.group) parts.push("group " + r.group);
  if (r.keys && r.keys.length) parts.push("keys " + r.keys.join(", "));
  if (r.any_key) parts.push("any valid key");
  const callers = r.callers.length ? r.callers.join(", ") : "no key now";
  const inactive = r.inactive && r.inactive.length ? "; inactive: " + r.inactive.join(", ") : "";
  return el("span", {}, parts.join(", ") + " → " + callers + inactive);
}

function findingItem(f) {
  return el("li", { class: "sev-" + f.severity }, f.rule + " (line " + f.line + "): " + f.message);
}

async function loadState() {
  try {
    state = await getJSON("/_inquir/api/state");
  } catch (err) {
    note(String(err.message || err));
    return;
  }
  $("#config").textContent = state.file + " · config " + state.config;
  const routes = $("#routes tbody");
  routes.replaceChildren();
  for (const r of state.routes) {
    routes.append(el("tr", { "data-route": r.method + " " + r.path },
      el("td", {}, r.method), el("td", { class: "mono" }, r.path), el("td", {}, r.function + (r.payload ? " (payload " + r.payload + ")" : "")), el("td", {}, r.runtime),
      el("td", {}, whoMayCall(r)), el("td", {}, (r.plans || []).join(", ")),
      el("td", {}, r.authorizer || "—"),
      el("td", {}, r.lint ? el("ul", { class: "findings" }, ...r.lint.map(findingItem)) : "")));
  }
  $("#lint-other").replaceChildren(...(state.lint || []).map(findingItem));
  if (state.lint_error) $("#lint-other").append(el("li", { class: "sev-error" }, "lint: " + state.lint_error));
  const keys = $("#keys tbody");
  keys.replaceChildren();
  for (const k of state.keys) {
    let usage = "";
    if (k.plan) {
      usage = "plan " + k.plan + ": " + k.used + (k.limit ? " of " + k.limit + " this " + k.period : " today");
    }
    keys.append(el("tr", { "data-key": k.id },
      el("td", {}, k.id), el("td", {}, k.groups.join(", ")),
      el("td", { class: "state-" + k.state.replaceAll(" ", "-") }, k.state + (k.detail ? " (" + k.detail + ")" : "")),
      el("td", { class: "mono" }, k.fingerprints.join(" ") || "—"), el("td", { class: "mono" }, k.secret.join(", ")),
      el("td", {}, usage)));
  }
  const list = $("#reloads");
  list.replaceChildren();
  for (const r of state.reloads.slice().reverse()) {
    let what = "";
    if (r.outcome === "refused") what = r.error;
    else if (r.outcome === "unchanged") what = "nothing to apply";
    else what = describeChanges(r.changes);
    list.append(el("li", {},
      el("span", { class: "mono" }, clock(r.time)), " ",
      el("b", { class: "outcome-" + r.outcome }, r.outcome), " ",
      el("span", { class: "dim" }, r.config || ""), " — ", what));
  }
  $("#reloads-empty").hidden = state.reloads.length > 0;
}

function describeChanges(c) {
  if (!c) return "";
  const parts = [];
  const add = (label, ids) => { if (ids && ids.length) parts.push(label + ": " + ids.join(", ")); };
  add("keys added", c.keys_added);
  add("keys removed", c.keys_removed);
  add("secrets rotated", c.secrets_rotated);
  add("keys changed", c.keys_changed);
  add("routes added", c.routes_added);
  add("routes removed", c.routes_removed);
  add("routes changed", c.routes_changed);
  return parts.length ? parts.join("; ") : "no key or route changed";
}

$("#replay-asis").addEventListener("click", () => replay("as-is"));
$("#replay-nokey").addEventListener("click", () => replay("no-key"));
$("#replay-key").addEventListener("click", () => replay("key"));
$("#matrix-run").addEventListener("click", matrix);
$("#copy-curl").addEventListener("click", () => copy("#curl"));
$("#copy-testscript").addEventListener("click", () => copy("#testscript"));
loadState();
connect();
// Keys' states move with the clock (expiring, expired): read them again
// now and then; requests and reloads read them sooner (stateSoon).
setInterval(loadState, 60000);
