// One station's bench page. Every figure comes from the station's `status` snapshot (what
// `chargepoint status --json` prints); every button sends the request the CLI sends.
"use strict";

const MAX_POINTS = 3600;
const MAX_FRAMES = 500;
const FIELDS = [
  ["error", c => c.error_code], ["transaction", c => c.transaction_id ?? "–"], ["idTag", c => c.id_tag ?? "–"],
  ["power W", c => c.power_w ?? "–"], ["energy Wh", c => c.energy_wh ?? "–"],
  ["offered A", c => c.offered_a], ["limit A", c => c.limit_a ?? "none"], ["locked", c => c.locked ? "yes" : "no"],
];

// The page's state, open to whoever reads it (the browser test reads the plot's points here).
const bench = window.bench = { status: null, faultCodes: [], points: {}, answers: [], cards: {} };
let socket = null;
let nextId = 1;
const waiting = new Map();

function element(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  for (const child of children) node.append(child);
  return node;
}

function send(request) {
  const id = nextId++;
  socket.send(JSON.stringify({ ...request, id }));
  return new Promise(resolve => waiting.set(id, resolve));
}

function show(target, reply) {
  target.textContent = reply.ok ? (reply.message ?? reply.status) : reply.error;
  target.classList.toggle("refused", !reply.ok);
}

async function command(card, request) {
  const reply = await send(request);
  bench.answers.push({ request, reply });
  show(card.answer, reply);
}

function connectorCard(number) {
  const values = {};
  const list = element("dl");
  for (const [name] of FIELDS) {
    values[name] = element("dd");
    list.append(element("dt", {}, name), values[name]);
  }
  const status = element("span", { class: "pill" });
  const idTag = element("input", { placeholder: "idTag", value: "CARD1", size: 12, "data-field": "idtag" });
  const codes = element("select", { "data-field": "fault" });
  for (const code of bench.faultCodes) codes.append(element("option", {}, code));
  const answer = element("p", { class: "answer" });
  const plot = element("div", { class: "plot" });
  const card = { status, values, answer };
  const button = (label, name, request) => {
    const node = element("button", { "data-command": name }, label);
    node.addEventListener("click", () => command(card, { connector: number, ...request() }));
    return node;
  };
  const buttons = element("div", { class: "buttons" },
    button("Plug", "plug", () => ({ command: "plug" })),
    button("Unplug", "unplug", () => ({ command: "unplug" })),
    button("EV charge", "ev-charge", () => ({ command: "ev", action: "charge" })),
    button("EV suspend", "ev-suspend", () => ({ command: "ev", action: "suspend" })),
    idTag, button("Card", "swipe", () => ({ command: "swipe", id_tag: idTag.value })),
    codes, button("Fault", "fault", () => ({ command: "fault", code: codes.value })),
    button("Clear", "clear", () => ({ command: "fault", code: null })),
  );
  const section = element("section", { class: "connector", id: `connector-${number}` },
    element("h2", {}, `Connector ${number} `, status), list, buttons, answer, plot);
  document.getElementById("connectors").append(section);
  card.plot = new uPlot({
    width: 560, height: 220,
    series: [{}, { label: "power W", stroke: "#1565c0", scale: "W" }, { label: "energy Wh", stroke: "#ef6c00", scale: "Wh" }],
    axes: [{}, { scale: "W", label: "W" }, { scale: "Wh", side: 1, label: "Wh", grid: { show: false } }],
  }, [[], [], []], plot);
  return card;
}

// The points of the session on this connector, from the cable going in: an occupied connector
// after a free one starts a new plot.
const OCCUPIED = new Set(["Preparing", "Charging", "SuspendedEV", "SuspendedEVSE", "Finishing"]);

function record(connector) {
  let points = bench.points[connector.connector];
  if (!points || (!OCCUPIED.has(points.status) && OCCUPIED.has(connector.status))) {
    points = bench.points[connector.connector] = { t: [], power: [], energy: [], start: null };
  }
  points.status = connector.status;
  if (connector.energy_wh !== null && points.start === null) points.start = connector.energy_wh;
  points.t.push(Date.now() / 1000);
  points.power.push(connector.power_w);
  points.energy.push(connector.energy_wh === null ? null : connector.energy_wh - points.start);
  if (points.t.length > MAX_POINTS) for (const series of [points.t, points.power, points.energy]) series.shift();
  return points;
}

function render(status) {
  if (!status.ok) return;  // the station could not say; the last figures stay
  bench.status = status;
  document.getElementById("identity").textContent = status.identity;
  const link = document.getElementById("link");
  link.textContent = status.link + (status.link_error ? ` (${status.link_error})` : "");
  link.className = `pill ${status.link}`;
  document.getElementById("summary").textContent =
    `registration ${status.registration} · queued ${status.queued} · station ${status.station.status}` +
    (status.station.error_code !== "NoError" ? ` ${status.station.error_code}` : "") +
    (status.emergency_stop ? " · emergency stop pressed" : "");
  for (const connector of status.connectors) {
    const card = bench.cards[connector.connector] ??= connectorCard(connector.connector);
    card.status.textContent = connector.status;
    card.status.className = `pill ${connector.status}`;
    for (const [name, value] of FIELDS) card.values[name].textContent = value(connector);
    const points = record(connector);
    card.plot.setData([points.t, points.power, points.energy]);
  }
}

function frames(lines) {
  const list = document.getElementById("frames");
  for (const line of lines) {
    const text = typeof line.frame === "string" ? line.frame : JSON.stringify(line.frame);
    list.append(element("li", { class: line.direction }, element("time", {}, line.time), text));
  }
  while (list.children.length > MAX_FRAMES) list.firstChild.remove();
  list.scrollTop = list.scrollHeight;
}

async function loadConfig() {
  const reply = await send({ command: "config-get", keys: [] });
  const body = document.querySelector("#config tbody");
  body.replaceChildren();
  if (!reply.ok) return;
  const rows = reply.keys.map(k => [k.key, k.readonly ? "R" : "RW", k.value ?? ""]);
  rows.push(...reply.write_only.map(k => [k.key, "W", ""]));
  rows.sort((a, b) => a[0].localeCompare(b[0]));
  for (const [key, mode, value] of rows) {
    const answer = element("td", { class: "answer" });
    const cell = element("td");
    const row = element("tr", { "data-key": key }, element("td", {}, key), element("td", {}, mode), cell, element("td"), answer);
    if (mode === "R") {
      cell.textContent = value;
    } else {
      const input = element("input", { value, placeholder: mode === "W" ? "write-only" : "" });
      const set = element("button", {}, "Set");
      set.addEventListener("click", async () => {
        const reply = await send({ command: "config-set", key, value: input.value });
        answer.textContent = reply.ok ? reply.status + (reply.reason ? `: ${reply.reason}` : "") : reply.error;
        answer.classList.toggle("refused", !(reply.ok && reply.accepted));
      });
      cell.append(input);
      row.children[3].append(set);
    }
    body.append(row);
  }
}

function connect() {
  const url = new URL("ws", location.href);
  url.protocol = location.protocol === "https:" ? "wss:" : "ws:";
  socket = new WebSocket(url);
  socket.addEventListener("message", event => {
    const message = JSON.parse(event.data);
    if (message.type === "hello") {
      bench.faultCodes = message.fault_codes;
      document.getElementById("frames").replaceChildren();
      frames(message.frames);
      loadConfig();
    } else if (message.type === "status") {
      render(message.status);
    } else if (message.type === "frames") {
      frames(message.frames);
    } else if (message.type === "answer" && waiting.has(message.id)) {
      waiting.get(message.id)(message.reply);
      waiting.delete(message.id);
    }
  });
  socket.addEventListener("close", () => {
    const link = document.getElementById("link");
    link.textContent = "page disconnected; retrying";
    link.className = "pill Error";
    setTimeout(connect, 2000);
  });
}

connect();
