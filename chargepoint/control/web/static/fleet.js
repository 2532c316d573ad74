// The fleet's table: one row per station from its `status` snapshot, its page one click away.
"use strict";

const fleet = window.fleet = { stations: [] };

function cell(...children) {
  const node = document.createElement("td");
  node.append(...children);
  return node;
}

function render(stations) {
  stations = stations.filter(station => station.ok);
  fleet.stations = stations;
  const body = document.querySelector("#fleet tbody");
  body.replaceChildren(...stations.map(station => {
    const link = document.createElement("a");
    link.href = `/station/${encodeURIComponent(station.identity)}/`;
    link.textContent = station.identity;
    const connectors = station.connectors.map(c => `${c.connector}: ${c.status}${c.error_code !== "NoError" ? " " + c.error_code : ""}`);
    const power = station.connectors.reduce((sum, c) => sum + (c.power_w ?? 0), 0);
    const row = document.createElement("tr");
    row.append(cell(link), cell(station.link), cell(station.registration), cell(connectors.join(", ")),
      cell(String(Math.round(power))), cell(String(station.queued)));
    return row;
  }));
}

function connect() {
  const url = new URL("/ws", location.href);
  url.protocol = location.protocol === "https:" ? "wss:" : "ws:";
  const socket = new WebSocket(url);
  const state = document.getElementById("link");
  socket.addEventListener("open", () => { state.textContent = "live"; state.className = "pill Connected"; });
  socket.addEventListener("message", event => {
    const message = JSON.parse(event.data);
    if (message.type === "fleet") render(message.stations);
  });
  socket.addEventListener("close", () => {
    state.textContent = "page disconnected; retrying";
    state.className = "pill Error";
    setTimeout(connect, 2000);
  });
}

connect();
