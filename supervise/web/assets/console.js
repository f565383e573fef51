// supervise console: a live table fed by Server-Sent Events, actions by POST.
"use strict";

const TOKEN = document.querySelector('meta[name="supervise-token"]').content;
// "node": one daemon's processes; "cluster": every node's, sectioned by node.
const CLUSTER = document.body.dataset.mode === "cluster";
const VIEWER = document.body.dataset.role === "viewer";
const LOG_LIMIT = 256 * 1024; // characters the log panel keeps
const STARTABLE = new Set(["STOPPED", "EXITED", "FATAL"]);
const STOPPABLE = new Set(["STARTING", "RUNNING", "BACKOFF"]);
const SIGNALLABLE = new Set(["STARTING", "RUNNING", "STOPPING"]);
const COLUMNS = ["name", "state", "pid", "uptime", "restarts", "exit", "cpu", "memory", "checks", "actions"];
const LABELS = ["Name", "State", "PID", "Uptime", "Restarts", "Last exit", "CPU", "Memory", "Checks", "Actions"];
const NOTICE_MS = 10000; // a notice ("web restarted") clears itself after this
const ALERT_MS = 60000; // an alert (a failed action) too, unless dismissed sooner
const GRAPH_POINTS = 30; // samples a usage graph shows

const table = document.getElementById("processes");
const filterBox = document.getElementById("filter");
const rows = new Map(); // key (namespec, or node/namespec) -> {data, tr, cells, buttons, visible}
const nodes = new Map(); // node name -> its latest health (cluster mode)
const groups = new Map(); // group -> {body, header, count}
let pending = new Map(); // key -> row data waiting for the next frame
let pendingNodes = [];
let pendingRemoved = [];
let pendingSnapshot = null;
let frame = 0;
let shownTotal = 0; // rows the filter shows, kept as rows change (no scan per update)
let clockOffset = 0; // server time - browser time, seconds
// The daemon's crash-loop rule (supervise/web/crashes.py), sent with each snapshot.
let crashLoop = { exits: 3, window: 300 };
let connected = false; // the live feed is up: actions are possible
let lostAt = 0; // when the feed was lost (browser ms), 0 while connected
const usage = new Map(); // namespec -> recent samples [{when, cpu, rss, ...}], oldest first
// What rendering costs, for benchmarks/console.py and the curious (read in devtools).
const stats = { flushes: 0, rows: 0, ms: 0, lastMs: 0, snapshots: 0 };
window.superviseStats = stats;

function el(tag, props, ...children) {
  const node = document.createElement(tag);
  Object.assign(node, props || {});
  for (const child of children) node.append(child);
  return node;
}

// Notices and alerts clear themselves after a while; an alert can also be dismissed.
const expiry = { notice: 0, alert: 0 };

function show(id, text, ms) {
  const box = document.getElementById(id);
  clearTimeout(expiry[id]);
  box.querySelector(".text").textContent = text;
  box.hidden = !text;
  if (text) expiry[id] = setTimeout(() => { box.hidden = true; box.querySelector(".text").textContent = ""; }, ms);
}

function say(text) { show("notice", text, NOTICE_MS); }
function warn(text) { show("alert", text, ALERT_MS); }

for (const id of ["notice", "alert"]) {
  const box = document.getElementById(id);
  const text = el("span", { className: "text" }, box.textContent.trim());
  box.textContent = "";
  const dismiss = el("button", { type: "button", className: "dismiss", textContent: "Dismiss" });
  dismiss.setAttribute("aria-label", `Dismiss the ${id}`);
  dismiss.addEventListener("click", () => show(id, "", 0));
  box.append(text, dismiss);
  show(id, text.textContent, id === "alert" ? ALERT_MS : NOTICE_MS);
}

function clock(seconds) { return new Date(seconds * 1000).toLocaleTimeString(); }

function duration(seconds) {
  seconds = Math.max(0, Math.floor(seconds));
  const d = Math.floor(seconds / 86400), h = Math.floor(seconds / 3600) % 24;
  const m = Math.floor(seconds / 60) % 60, s = seconds % 60;
  const hms = [h, m, s].map((n) => String(n).padStart(2, "0")).join(":");
  return d ? `${d}d ${hms}` : hms;
}

function serverNow() { return Date.now() / 1000 + clockOffset; }
function keyOf(data) { return data.key || data.namespec; }
function sectionOf(data) { return CLUSTER ? data.node : data.group; }

// -- the table ------------------------------------------------------------------

function groupSection(name) {
  let group = groups.get(name);
  if (group) return group;
  const body = el("div", { className: "groupbody" });
  body.setAttribute("role", "rowgroup");
  body.dataset.group = name;
  const title = el("div", { className: "groupcell" }, CLUSTER ? `Node ${name}` : `Group ${name}`);
  title.setAttribute("role", "rowheader");
  const health = el("span", { className: "health" });
  if (CLUSTER) title.append(health);
  for (const action of CLUSTER ? [] : ["start", "stop", "restart"]) {
    const button = el("button", { type: "button", textContent: `${action[0].toUpperCase()}${action.slice(1)} group` });
    button.dataset.action = action;
    button.dataset.key = `${name}:*`;
    button.disabled = !connected;
    button.setAttribute("aria-label", `${action} every process of group ${name}`);
    title.append(button);
  }
  const header = el("div", { className: "row group" }, title);
  header.setAttribute("role", "row");
  body.append(header);
  // Keep groups sorted by name.
  const after = [...groups.keys()].sort().find((other) => other > name);
  table.insertBefore(body, after ? groups.get(after).body : null);
  group = { body, header, health, count: 0, shown: 0, dirty: true };
  if (CLUSTER && nodes.has(name)) showNode(nodes.get(name));
  groups.set(name, group);
  return group;
}

function makeRow(data) {
  const tr = el("div", { className: "row proc" });
  tr.setAttribute("role", "row");
  tr.dataset.namespec = data.namespec;
  tr.dataset.key = keyOf(data);
  if (CLUSTER) tr.dataset.node = data.node;
  const cells = {};
  COLUMNS.forEach((column, i) => {
    const td = el("div");
    td.setAttribute("role", i === 0 ? "rowheader" : "cell");
    td.dataset.label = LABELS[i];
    td.className = `col-${column}` + (["pid", "uptime", "restarts"].includes(column) ? " num" : "");
    cells[column] = td;
    tr.append(td);
  });
  cells.state.append(el("span", { className: "state" }), el("span", { className: "detail" }));
  const buttons = {};
  const actions = [
    ["start", "Start"], ["stop", "Stop"], ["restart", "Restart"], ["signal", "Signal"],
    ["clearlog", "Clear log"], ["stdout", "Stdout"], ["stderr", "Stderr"],
  ];
  for (const [action, label] of actions) {
    const button = el("button", { type: "button", textContent: label });
    button.dataset.action = action;
    button.dataset.key = keyOf(data);
    button.setAttribute("aria-label", `${label} ${CLUSTER ? `${data.namespec} on ${data.node}` : data.namespec}`);
    buttons[action] = button;
    cells.actions.append(button);
  }
  cells.actions.classList.add("actions");
  const row = { data: null, tr, cells, buttons, visible: true };
  rows.set(keyOf(data), row);
  const group = groupSection(sectionOf(data));
  // Keep rows sorted by name inside their group (snapshots arrive sorted: append).
  const last = group.body.lastElementChild;
  let later = null;
  if (last !== group.header && last.dataset.key > keyOf(data)) {
    later = [...group.body.querySelectorAll(".proc")].find((other) => other.dataset.key > keyOf(data));
  }
  group.body.insertBefore(tr, later);
  group.count += 1;
  group.shown += 1;
  shownTotal += 1;
  row.group = group;
  tr.addEventListener("contentvisibilityautostatechange", (event) => {
    if (event.skipped) onScreen.delete(row); else onScreen.add(row);
  });
  return row;
}

function setText(node, text) {
  if (node.textContent !== text) node.textContent = text;
}

function render(row, data) {
  const old = row.data || {};
  row.data = data;
  const { cells, buttons } = row;
  if (old.name !== data.name || old.adopted !== data.adopted) {
    cells.name.textContent = CLUSTER ? data.namespec : data.name;
    if (data.adopted) cells.name.append(el("span", { className: "tag", title: "found running, not started by supervise" }, "adopted"));
  }
  row.tr.dataset.state = data.state;
  showState(row);
  setText(cells.pid, data.pid ? String(data.pid) : "");
  setText(cells.uptime, uptimeText(data));
  setText(cells.restarts, String(data.restarts));
  setText(cells.exit, data.last_exit ? `${data.last_exit} at ${clock(data.stop)}` : "");
  cells.exit.title = data.last_exit ? new Date(data.stop * 1000).toString() : "";
  const checks = [];
  if (data.ready) checks.push(`ready: ${data.ready}`);
  if (data.health) checks.push(data.health === "ok" ? "healthy" : `unhealthy (${data.health_failures} failed)`);
  if (data.disabled) checks.push("disabled");
  if (data.next_run) checks.push(`next run ${new Date(data.next_run * 1000).toLocaleString()}`);
  if (data.numprocs !== data.numprocs_declared) checks.push(`scaled to ${data.numprocs} from ${data.numprocs_declared}`);
  setText(cells.checks, checks.join(", "));
  const offline = !connected;
  buttons.start.disabled = offline || !STARTABLE.has(data.state);
  buttons.stop.disabled = offline || !STOPPABLE.has(data.state);
  buttons.restart.disabled = offline || data.state === "STOPPING" || data.state === "UNKNOWN";
  buttons.signal.disabled = offline || !SIGNALLABLE.has(data.state);
  buttons.stdout.disabled = offline || !data.stdout;
  buttons.stderr.disabled = offline || !data.stderr;
  buttons.clearlog.disabled = offline || (!data.stdout && !data.stderr);
  showUsage(row);
  applyFilter(row);
}

// Exits in the crash-loop window before now (server time).
function recentExits(data) {
  const now = serverNow();
  return (data.exits || []).filter((when) => now - when <= crashLoop.window);
}

// The badge says what the process is doing, and never a green RUNNING for a crash loop:
// CRASH LOOP while it ended on its own crashLoop.exits times within crashLoop.window.
function showState(row) {
  const data = row.data;
  const exits = recentExits(data).length;
  const looping = exits >= crashLoop.exits;
  const masked = looping && (data.state === "RUNNING" || data.state === "STARTING");
  const label = masked ? "CRASH LOOP" : data.state;
  const badge = row.cells.state.firstChild;
  const className = `state state-${masked ? "CRASHLOOP" : data.state}`;
  if (badge.className !== className) badge.className = className;
  setText(badge, label);
  row.tr.dataset.crashloop = looping ? "true" : "false";
  const minutes = Math.round(crashLoop.window / 60);
  const loopText = looping ? `${exits} exits in ${minutes} min` : "";
  let detail = "";
  if (data.state === "BACKOFF" || data.state === "FATAL") detail = [data.spawnerr, loopText].filter(Boolean).join(" · ");
  else if (masked) detail = `${loopText}; ${data.state} again since ${clock(data.start)}`;
  setText(row.cells.state.lastChild, detail);
  badge.title = masked ? `${data.state}, but it ended ${exits} times in the last ${minutes} minutes` : "";
}

// -- resource use: the latest figures and a small graph of the recent ones -------------

function bytesText(kib) {
  if (kib < 1024) return `${kib} KiB`;
  if (kib < 1024 * 1024) return `${(kib / 1024).toFixed(1)} MiB`;
  return `${(kib / 1024 / 1024).toFixed(2)} GiB`;
}

// ``floor``: the smallest top of the scale (so an idle program's CPU is a flat line).
function sparkline(values, label, floor) {
  const NS = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(NS, "svg");
  svg.setAttribute("class", "spark");
  svg.setAttribute("viewBox", `0 0 ${GRAPH_POINTS - 1} 20`);
  svg.setAttribute("preserveAspectRatio", "none");
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", label);
  const top = Math.max(...values, floor);
  const offset = GRAPH_POINTS - values.length;
  const points = values.map((v, i) => `${i + offset},${(19.5 - (v / top) * 18.5).toFixed(2)}`).join(" ");
  const line = document.createElementNS(NS, "polyline");
  line.setAttribute("points", points);
  svg.append(line);
  return svg;
}

function showUsage(row) {
  if (CLUSTER) return;
  const history = usage.get(row.data.namespec) || [];
  const last = history[history.length - 1];
  if (row.lastUsage === last && row.usagePid === row.data.pid) return;
  row.lastUsage = last;
  row.usagePid = row.data.pid;
  const current = row.data.pid && last ? last : null;
  const cpu = history.map((p) => p.cpu), rss = history.map((p) => p.rss);
  row.cells.cpu.replaceChildren(
    el("span", { className: "figure" }, current ? `${current.cpu.toFixed(1)}%` : ""),
    ...(history.length ? [sparkline(cpu, `CPU of ${row.data.namespec}, last ${history.length} samples`, 10)] : []),
  );
  row.cells.memory.replaceChildren(
    el("span", { className: "figure" }, current ? bytesText(current.rss) : ""),
    ...(history.length ? [sparkline(rss, `memory of ${row.data.namespec}, last ${history.length} samples`, 1)] : []),
  );
  row.cells.cpu.title = current ? `${current.cpu_seconds} s of CPU so far; ${current.processes} process(es)` : "";
}

function receiveUsage(message) {
  for (const [namespec, point] of Object.entries(message.usage)) {
    const history = usage.get(namespec) || [];
    history.push(point);
    if (history.length > GRAPH_POINTS) history.splice(0, history.length - GRAPH_POINTS);
    usage.set(namespec, history);
  }
  for (const row of rows.values()) showUsage(row);
}

function uptimeText(data) {
  return data.state === "RUNNING" && data.start ? duration(serverNow() - data.start) : "";
}

function removeRow(key) {
  const row = rows.get(key);
  if (!row) return;
  const group = row.group;
  onScreen.delete(row);
  row.tr.remove();
  rows.delete(key);
  if (row.visible) { group.shown -= 1; shownTotal -= 1; }
  group.dirty = true;
  if (--group.count === 0) {
    group.body.remove();
    groups.delete(sectionOf(row.data));
  }
}

// -- updates, batched per animation frame -----------------------------------------

function schedule() {
  if (!frame) frame = requestAnimationFrame(flush);
}

function flush() {
  frame = 0;
  const began = performance.now();
  const applied = applyPending();
  stats.lastMs = performance.now() - began;
  stats.ms += stats.lastMs;
  stats.flushes += 1;
  stats.rows += applied;
  stats.appliedAt = Date.now();
}

function applyPending() {
  if (pendingSnapshot) {
    const snapshot = pendingSnapshot;
    pendingSnapshot = null;
    stats.snapshots += 1;
    applyDaemon(snapshot.daemon);
    const seen = new Set();
    for (const data of snapshot.processes) {
      seen.add(keyOf(data));
      if (!pending.has(keyOf(data))) pending.set(keyOf(data), data);
    }
    for (const key of [...rows.keys()]) if (!seen.has(key)) removeRow(key);
    if (snapshot.nodes) { nodes.clear(); pendingNodes = snapshot.nodes.concat(pendingNodes); }
  }
  for (const key of pendingRemoved) removeRow(key);
  pendingRemoved = [];
  const batch = pending;
  pending = new Map();
  for (const [key, data] of batch) {
    const row = rows.get(key) || makeRow(data);
    if (row.data && sectionOf(row.data) !== sectionOf(data)) { removeRow(key); render(makeRow(data), data); continue; }
    render(row, data);
  }
  const changedNodes = pendingNodes;
  pendingNodes = [];
  for (const node of changedNodes) { nodes.set(node.name, node); showNode(node); }
  if (CLUSTER && changedNodes.length && redisUp) {
    const up = [...nodes.values()].filter((node) => node.reachable).length;
    setText(document.getElementById("daemon-state"), `${up} of ${nodes.size} nodes up`);
  }
  updateCounts();
  return batch.size;
}

function showNode(node) {
  const group = groups.get(node.name);
  if (!group) return;
  const since = new Date(node.heartbeat * 1000).toLocaleTimeString();
  let text = node.reachable ? `up · revision ${node.applied}` : `UNREACHABLE since ${since} (silent for ${Math.round(node.age)} s)`;
  if (!redisUp) text = `unknown while Redis is unreachable (last known: ${node.reachable ? "up" : "unreachable"}, revision ${node.applied})`;
  if (node.labels && node.labels.length) text += ` · labels ${node.labels.join(", ")}`;
  if (node.version) text += ` · supervise ${node.version}`;
  if (node.refused) text += ` · refused: ${node.refused}`;
  setText(group.health, text);
  group.health.className = `health ${!redisUp ? "health-unknown" : node.reachable ? "health-up" : "health-down"}${node.refused ? " health-refused" : ""}`;
  group.body.classList.toggle("unreachable", !node.reachable);
}

// Cluster mode: whether the console reaches Redis (else every node's state is last known).
let redisUp = true;

function applyDaemon(daemon) {
  if (CLUSTER) {
    redisUp = daemon.redis_up !== false;
    setLink(redisUp, redisUp ? "live" : "Redis unreachable: showing the last known state");
  }
  document.getElementById("identification").textContent = daemon.identification;
  document.getElementById("version").textContent = `supervise ${daemon.version}`;
  document.getElementById("daemon-state").textContent = daemon.state;
  document.getElementById("daemon-pid-part").hidden = CLUSTER;
  document.getElementById("daemon-pid").textContent = String(daemon.pid);
  const cluster = daemon.cluster;
  if (cluster) {
    const parts = [`node ${cluster.node}`, `revision ${cluster.applied}`];
    if (cluster.redis !== "up") parts.push(`Redis unreachable since ${new Date(cluster.down_since * 1000).toLocaleTimeString()}: the cluster view and central changes wait; programs run on`);
    if (cluster.refused) parts.push(`refused: ${cluster.refused}`);
    setText(document.getElementById("cluster-status"), `cluster: ${parts.join(" · ")}`);
  }
  if (CLUSTER) showRollout(daemon.rollout || "");
  document.title = `${daemon.identification} · supervise`;
}

// A rolling push in progress (or the last one) and the reason of a halt (cluster page).
function showRollout(text) {
  setText(document.getElementById("cluster-status"), text);
}

function receive(kind, message) {
  stats.receivedAt = Date.now();
  clockOffset = message.now - Date.now() / 1000;
  if (kind === "snapshot") {
    pendingSnapshot = message;
    pending = new Map();
    if (message.crash_loop) crashLoop = message.crash_loop;
    if (message.usage) {
      usage.clear();
      for (const [namespec, history] of Object.entries(message.usage)) usage.set(namespec, history);
    }
  } else {
    for (const data of message.processes) pending.set(keyOf(data), data);
    if (message.nodes) pendingNodes = pendingNodes.concat(message.nodes);
    if (message.removed) pendingRemoved = pendingRemoved.concat(message.removed);
    if (message.rollout !== undefined) showRollout(message.rollout);
  }
  schedule();
}

// -- the live feed ------------------------------------------------------------------

function setLink(up, text) {
  const link = document.getElementById("link");
  link.className = `link ${up ? "link-up" : "link-down"}`;
  link.textContent = text;
}

// While the feed is down, nothing on the page can be trusted to be current and no
// action can be sent: every control is disabled and the banner says since when.
function enableControls(up) {
  document.body.classList.toggle("offline", !up);
  for (const button of document.querySelectorAll("button[data-bulk], .groupcell button, #mainlog")) button.disabled = !up;
  document.getElementById("signal").disabled = !up;
}

function setConnected(up) {
  if (up === connected && (up || lostAt)) return;
  connected = up;
  enableControls(up);
  for (const row of rows.values()) if (row.data) render(row, row.data);
  const banner = document.getElementById("offline");
  if (up) {
    banner.hidden = true;
    if (lostAt) say(`Reconnected at ${new Date().toLocaleTimeString()}; the page shows the daemon's state again.`);
    lostAt = 0;
  } else {
    lostAt = lostAt || Date.now();
    banner.hidden = false;
    banner.textContent = `Connection to the daemon lost at ${new Date(lostAt).toLocaleTimeString()}; reconnecting… Controls are disabled until it is back; what the page shows may be out of date.`;
  }
}

let attempts = 0;

function connect() {
  const source = new EventSource("api/events");
  source.addEventListener("open", () => { attempts = 0; setLink(redisUp, redisUp ? "live" : "Redis unreachable: showing the last known state"); });
  // The snapshot, not the open, brings the page up to date: controls come back with it.
  source.addEventListener("snapshot", (event) => { receive("snapshot", JSON.parse(event.data)); setConnected(true); });
  source.addEventListener("update", (event) => receive("update", JSON.parse(event.data)));
  source.addEventListener("usage", (event) => receiveUsage(JSON.parse(event.data)));
  source.addEventListener("error", () => {
    attempts += 1;
    setConnected(false);
    if (source.readyState === EventSource.CLOSED) {
      setLink(false, `disconnected, retrying (attempt ${attempts})…`);
      setTimeout(connect, 2000);
    } else {
      setLink(false, `reconnecting (attempt ${attempts})…`);
    }
  });
}

// -- the filter ---------------------------------------------------------------------

function terms() {
  return filterBox.value.toLowerCase().split(/\s+/).filter(Boolean);
}

let filterTerms = [];

function applyFilter(row) {
  const node = CLUSTER ? nodes.get(row.data.node) : null;
  const where = node ? `${node.name} ${(node.labels || []).join(" ")} ${node.reachable ? "" : "unreachable"}` : (row.data.node || "");
  const text = `${row.data.namespec} ${row.data.group} ${row.data.state} ${where}`.toLowerCase();
  const visible = filterTerms.every((term) => text.includes(term));
  if (visible !== row.visible) {
    row.visible = visible;
    row.tr.hidden = !visible;
    const delta = visible ? 1 : -1;
    row.group.shown += delta;
    row.group.dirty = true;
    shownTotal += delta;
  }
}

function updateCounts() {
  for (const [name, group] of groups) {
    if (!group.dirty) continue;
    group.dirty = false;
    // A group of one process named like it (a plain [program:x]) needs no header row.
    const solo = !CLUSTER && group.count === 1 && group.body.lastElementChild.dataset.namespec === name;
    group.header.hidden = group.shown === 0 || solo;
  }
  setText(document.getElementById("counts"), `${shownTotal} of ${rows.size} shown`);
  document.getElementById("empty").hidden = shownTotal > 0 || rows.size === 0;
}

filterBox.addEventListener("input", () => {
  filterTerms = terms();
  for (const row of rows.values()) applyFilter(row);
  updateCounts();
});

// -- actions --------------------------------------------------------------------------

const PAST = { start: "started", stop: "stopped", restart: "restarted", signal: "signalled", clearlog: "log cleared" };
const DOING = { start: "Starting", stop: "Stopping", restart: "Restarting", signal: "Signalling", clearlog: "Clearing the log of" };

// ``keys`` are row keys (namespec, or node/namespec in cluster mode) or ``group:*``.
function actionBody(action, keys, signal) {
  if (!CLUSTER) return { action, names: keys, signal };
  const byNode = new Map();
  for (const key of keys) {
    const row = rows.get(key);
    if (!row) continue;
    if (!byNode.has(row.data.node)) byNode.set(row.data.node, []);
    byNode.get(row.data.node).push(row.data.namespec);
  }
  return { action, signal, targets: [...byNode].map(([node, names]) => ({ node, names })) };
}

function resultName(result) { return result.node ? `${result.name} on ${result.node}` : result.name; }

async function act(action, keys, buttons) {
  if (!connected) { warn("Not connected to the daemon: nothing was sent."); return; }
  const signal = document.getElementById("signal").value;
  const first = rows.get(keys[0]);
  const who = keys.length === 1 ? (first && CLUSTER ? `${first.data.namespec} on ${first.data.node}` : keys[0]) : `${keys.length} processes`;
  say(`${DOING[action]} ${who}…`);
  warn("");
  for (const button of buttons) { button.disabled = true; button.setAttribute("aria-busy", "true"); }
  try {
    const response = await fetch("api/action", {
      method: "POST",
      headers: { "content-type": "application/json", "x-supervise-token": TOKEN },
      body: JSON.stringify(actionBody(action, keys, signal)),
      credentials: "same-origin",
    });
    const answer = await response.json().catch(() => ({ error: `HTTP ${response.status}` }));
    if (!response.ok) {
      warn(`Could not ${action} ${who}: ${answer.error || response.statusText}`);
      say("");
      return;
    }
    const failed = answer.results.filter((result) => !result.ok);
    const done = answer.results.length - failed.length;
    say(done ? `${done === 1 && answer.results.length === 1 ? resultName(answer.results[0]) : `${done} processes`} ${PAST[action]}` : "");
    warn(failed.map((result) => `${resultName(result)}: ${result.error}`).join("\n"));
  } catch (error) {
    warn(`Could not ${action} ${who}: ${error.message}`);
    say("");
  } finally {
    for (const button of buttons) {
      button.removeAttribute("aria-busy");
      const row = rows.get(button.dataset.key);
      if (row) render(row, row.data); else button.disabled = false;
    }
  }
}

table.addEventListener("click", (event) => {
  const button = event.target.closest("button[data-action]");
  if (!button) return;
  const { action, key } = button.dataset;
  if (action === "stdout" || action === "stderr") {
    const row = rows.get(key);
    if (CLUSTER) {
      const path = [row.data.node, row.data.namespec, action].map(encodeURIComponent).join("/");
      openLog(`${row.data.namespec} on ${row.data.node}: ${action}`, `logtail/${path}`, null);
    } else {
      const name = encodeURIComponent(key);
      openLog(`${key} ${action}`, `logtail/${name}/${action}`, `download/${name}/${action}`);
    }
    return;
  }
  act(action, [key], [button]);
});

document.querySelector(".toolbar").addEventListener("click", (event) => {
  const button = event.target.closest("button[data-bulk]");
  if (!button) return;
  const action = button.dataset.bulk;
  const wanted = { start: STARTABLE, stop: STOPPABLE, signal: SIGNALLABLE }[action];
  const keys = [...rows.entries()]
    .filter(([, row]) => row.visible && (!wanted || wanted.has(row.data.state)))
    .map(([key]) => key);
  if (!keys.length) { say(`Nothing shown to ${action}.`); return; }
  act(action, keys, [button]);
});

// -- logs -----------------------------------------------------------------------------

let logAbort = null;
let logText = "";
let logFrame = 0;

function showLog() {
  logFrame = 0;
  const pre = document.getElementById("logtext");
  const atBottom = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 8;
  pre.textContent = logText;
  if (atBottom) pre.scrollTop = pre.scrollHeight;
}

function appendLog(text) {
  logText += text;
  if (logText.length > LOG_LIMIT) logText = logText.slice(logText.length - LOG_LIMIT);
  if (!logFrame) logFrame = requestAnimationFrame(showLog);
}

async function openLog(title, url, download) {
  if (logAbort) logAbort.abort();
  const controller = new AbortController();
  logAbort = controller;
  logText = "";
  document.getElementById("logtitle").textContent = title;
  const link = document.getElementById("logdownload");
  link.hidden = !download;
  if (download) link.href = download;
  const panel = document.getElementById("logpanel");
  panel.hidden = false;
  showLog();
  document.getElementById("logtext").focus();
  try {
    const response = await fetch(url, { signal: controller.signal, credentials: "same-origin" });
    if (!response.ok) { appendLog(`(${response.status}: ${await response.text()})\n`); return; }
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      appendLog(decoder.decode(value, { stream: true }));
    }
    appendLog("\n(the log stream ended)\n");
  } catch (error) {
    if (error.name !== "AbortError") appendLog(`\n(the log stream failed: ${error.message})\n`);
  }
}

document.getElementById("logclose").addEventListener("click", () => {
  if (logAbort) logAbort.abort();
  logAbort = null;
  document.getElementById("logpanel").hidden = true;
});

document.getElementById("mainlog").addEventListener("click", () => openLog("main log", "mainlogtail", "download/main"));

document.addEventListener("keydown", (event) => {
  if (event.key === "Escape" && !document.getElementById("logpanel").hidden) document.getElementById("logclose").click();
  if (event.key === "/" && document.activeElement !== filterBox) { event.preventDefault(); filterBox.focus(); }
});

// Uptimes tick in the browser; the server sends nothing for them. Only rows the
// renderer shows (content-visibility tells which) are touched: cheap with 2,000 rows.
const onScreen = new Set();
setInterval(() => {
  for (const row of onScreen) {
    if (row.visible && row.data.state === "RUNNING") setText(row.cells.uptime, uptimeText(row.data));
  }
  // A crash loop ends by itself once its exits age out of the window.
  for (const row of rows.values()) if (row.data.exits && row.data.exits.length) showState(row);
}, 1000);

enableControls(false);
connect();
