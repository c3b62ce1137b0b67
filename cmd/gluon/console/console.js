// The Gluon console: it polls the admin endpoint's console state every
// second and draws it when it changed, with each route's request and error
// rates since the last change. It asks nothing of any other origin.
"use strict";

const open = new Set(); // upstreams whose functions are shown
let last = "";
let state = null;

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") e.className = v; else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(c ?? ""));
  return e;
}

function reasons(list) {
  const ul = el("ul", {class: "reasons"});
  for (const r of list || []) ul.append(el("li", {}, r));
  return ul;
}

function stateCell(item) {
  return el("td", {class: "state-" + item.state}, item.state, reasons(item.reasons));
}

function drawUpstreams() {
  const body = document.getElementById("upstream-rows");
  const query = document.getElementById("search").value.toLowerCase();
  body.replaceChildren();
  for (const u of state.upstreams || []) {
    const fns = (state.functions[u.key] || []).filter(f => !query || f.name.toLowerCase().includes(query) || (f.call || "").toLowerCase().includes(query));
    if (query && fns.length === 0) continue;
    const link = el("a", {href: "#", class: "upstream-link", "data-key": u.key}, u.key);
    link.addEventListener("click", ev => {
      ev.preventDefault();
      open.has(u.key) ? open.delete(u.key) : open.add(u.key);
      drawUpstreams();
    });
    const list = el("ul", {class: "functions" + (open.has(u.key) || query ? "" : " hidden")});
    for (const f of fns) list.append(el("li", {class: "function"}, f.name + (f.call ? "  (" + f.call + ")" : "  (" + f.kind + ")")));
    body.append(el("tr", {"data-key": u.key}, el("td", {}, link), el("td", {}, u.detail), stateCell(u),
      el("td", {}, String((state.functions[u.key] || []).length), list)));
  }
}

// rates turns the routes' request and error counts into rates per second
// since the previous state: counts held by route, with when.
const seen = new Map();

function traffic(key, r, now) {
  const before = seen.get(key);
  seen.set(key, {requests: r.requests, errors: r.errors, at: now});
  let text = r.requests + " req, " + r.errors + " 5xx";
  if (before && now > before.at) {
    const secs = (now - before.at) / 1000;
    text += " (" + ((r.requests - before.requests) / secs).toFixed(1) + " req/s, " + ((r.errors - before.errors) / secs).toFixed(1) + " 5xx/s)";
  }
  return el("td", {class: "traffic" + (r.errors > 0 ? " nack" : "")}, text);
}

function drawVirtualServices() {
  const body = document.getElementById("vs-rows");
  const now = Date.now();
  body.replaceChildren();
  for (const vs of state.virtualServices || []) {
    const routes = el("table", {class: "routes"});
    (vs.routes || []).forEach((r, i) => routes.append(el("tr", {}, el("td", {}, r.match), el("td", {}, r.action), traffic(vs.key + "#" + i, r, now))));
    body.append(el("tr", {"data-key": vs.key}, el("td", {}, vs.key), el("td", {}, vs.detail), stateCell(vs), el("td", {}, routes)));
  }
}

function drawProxies() {
  const body = document.getElementById("proxy-rows");
  body.replaceChildren();
  for (const p of state.proxies || []) {
    const clients = el("ul", {class: "reasons"});
    for (const c of p.clients || []) clients.append(el("li", {class: c.includes("NACK") ? "nack" : ""}, c));
    body.append(el("tr", {}, el("td", {}, p.name), el("td", {}, p.version), el("td", {}, clients)));
  }
}

function draw() {
  const ready = document.getElementById("ready");
  ready.textContent = state.ready ? "ready" : "not ready";
  ready.className = "badge " + (state.ready ? "ready" : "not-ready");
  document.getElementById("updated").textContent = "updated " + new Date().toLocaleTimeString();
  document.getElementById("errors").replaceChildren(...(state.errors || []).map(e => el("li", {class: "not-ready"}, e)));
  drawUpstreams();
  drawVirtualServices();
  drawProxies();
  document.getElementById("rate-limit-list").replaceChildren(...(state.rateLimits || []).map(r => el("li", {}, r)));
  const listener = document.getElementById("try-listener");
  const chosen = listener.value;
  listener.replaceChildren(...(state.listeners || []).map(l => el("option", {}, l)));
  if (chosen) listener.value = chosen;
}

async function poll() {
  try {
    const res = await fetch("api/state", {cache: "no-cache", credentials: "same-origin"});
    if (res.ok) {
      const text = await res.text();
      if (text !== last) {
        last = text;
        state = JSON.parse(text);
        draw();
      }
    }
  } catch (e) {
    document.getElementById("updated").textContent = "cannot reach the control plane: " + e;
  }
  setTimeout(poll, 1000);
}

document.getElementById("search").addEventListener("input", () => state && drawUpstreams());
document.getElementById("try-form").addEventListener("submit", async ev => {
  ev.preventDefault();
  const out = document.getElementById("try-result");
  out.textContent = "…";
  const req = {
    listener: document.getElementById("try-listener").value,
    method: document.getElementById("try-method").value,
    path: document.getElementById("try-path").value,
    host: document.getElementById("try-host").value,
  };
  const res = await fetch("api/try", {method: "POST", body: JSON.stringify(req), credentials: "same-origin"});
  if (!res.ok) { out.textContent = await res.text(); return; }
  const r = await res.json();
  out.textContent = r.error ? "error: " + r.error :
    r.status + "\n" + Object.entries(r.headers).map(([k, v]) => k + ": " + v).join("\n") + "\n\n" + r.body;
});
poll();
