// The contacts board: columns from `contactBoard`, moves by `moveContactStatus`, and the
// moves of others from `contactStatusChanged` over graphql-transport-ws. Plain JavaScript
// for current browsers: no dependency, no build step, nothing from another host.

const TOKEN_KEY = "contactgraph.board.token"; // in sessionStorage: this tab only, never in the URL
const PAGE = 20; // cards per column, and per "load more"
const SEARCH_DELAY_MS = 250;
const COUNTS_DELAY_MS = 200;
const RECONNECT_MS = [250, 500, 1000, 2000, 4000]; // then every 4 s
const NOTICE_MS = 8000; // errors stay until dismissed

const CARD = `fragment Card on Contact {
  id fullName phone statusChangedAt
  source { name }
  groups { id name }
  assignedAgent { id name }
  status { id }
}`;

const BOARD = `query Board($filter: ContactFilter, $first: Int) {
  me { name }
  groups { id name }
  contactBoard(filter: $filter) {
    status { id name color }
    count
    contacts(first: $first) { pageInfo { hasNextPage endCursor } edges { node { ...Card } } }
  }
}
${CARD}`;

const COLUMN = `query Column($filter: ContactFilter, $first: Int, $after: String) {
  contactBoard(filter: $filter) {
    status { id }
    contacts(first: $first, after: $after) { pageInfo { hasNextPage endCursor } edges { node { ...Card } } }
  }
}
${CARD}`;

const COUNTS = `query Counts($filter: ContactFilter) { contactBoard(filter: $filter) { status { id } count } }`;

const FIND = `query Find($filter: ContactFilter) { contacts(filter: $filter, first: 1) { edges { node { ...Card } } } }
${CARD}`;

const WHERE = `query Where($id: ID!) { contact(id: $id) { ...Card } }
${CARD}`;

const MOVE = `mutation Move($contactId: ID!, $statusId: ID!, $expectedStatusId: ID) {
  moveContactStatus(contactId: $contactId, statusId: $statusId, expectedStatusId: $expectedStatusId) {
    contact { ...Card }
    userErrors { field code message }
  }
}
${CARD}`;

const LIVE = `subscription Live {
  contactStatusChanged { contact { ...Card } fromStatus { id } toStatus { id } changedBy { name } }
}
${CARD}`;

const $ = (selector) => document.querySelector(selector);

const state = {
  token: null,
  filter: {}, // the ContactFilter of the search box and the list picker
  columns: new Map(), // status id → column
  cards: new Map(), // contact id → card shown on the board
  loaded: false,
  loading: false,
  heard: [], // live events heard while the board was being read
  generation: 0, // bumped by every read of the board: answers to an older one are dropped
};

// ------------------------------------------------------------------ GraphQL over HTTP

class ApiError extends Error {
  constructor(message, code) {
    super(message);
    this.code = code;
  }
}

async function gql(query, variables = {}) {
  let response;
  try {
    response = await fetch("/graphql", {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: `Bearer ${state.token}` },
      body: JSON.stringify({ query, variables }),
    });
  } catch {
    throw new ApiError("The server cannot be reached.", "NETWORK");
  }
  let body;
  try {
    body = await response.json();
  } catch {
    throw new ApiError(`The server answered ${response.status}.`, "HTTP");
  }
  if (body.errors?.length) {
    throw new ApiError(body.errors.map((e) => e.message).join(" "), body.errors[0].extensions?.code ?? "ERROR");
  }
  return body.data;
}

// ------------------------------------------------------------------ DOM helpers

function h(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === null || value === undefined) continue;
    if (key === "dataset") Object.assign(node.dataset, value);
    else if (key in node) node[key] = value;
    else node.setAttribute(key, value);
  }
  node.append(...children.filter((child) => child !== null && child !== undefined));
  return node;
}

function notify(message, kind = "info") {
  const dismiss = h("button", { type: "button", className: "dismiss", "aria-label": "Dismiss" }, "×");
  const item = h("li", { className: `notice ${kind}`, role: kind === "info" ? null : "alert" }, h("span", {}, message), dismiss);
  dismiss.addEventListener("click", () => item.remove());
  $("#notices").append(item);
  if (kind !== "error") setTimeout(() => item.remove(), NOTICE_MS);
}

function announce(message) {
  $("#announce").textContent = message; // read out by screen readers, not shown
}

const nameOf = (contact) => contact.fullName || contact.phone;
const timeOf = (card) => Date.parse(card.contact.statusChangedAt ?? "") || 0;

// ------------------------------------------------------------------ columns and cards

function cardParts(contact) {
  const agent = contact.assignedAgent;
  return [
    h("strong", { className: "name" }, nameOf(contact)),
    h("span", { className: "phone" }, contact.phone),
    h("span", { className: "source", title: "Source" }, contact.source.name),
    contact.groups.length
      ? h("ul", { className: "groups", "aria-label": "Lists" }, ...contact.groups.map((g) => h("li", {}, g.name)))
      : null,
    h("span", { className: agent ? "agent" : "agent unassigned", title: "Assigned agent" }, agent ? agent.name : "Unassigned"),
  ].filter(Boolean);
}

function makeCard(contact) {
  const el = h("li", {
    className: "card",
    draggable: true,
    tabIndex: 0,
    dataset: { contactId: contact.id },
    "aria-keyshortcuts": "Enter",
    "aria-describedby": "hint",
  });
  const card = { contact, el, statusId: null, pending: false };
  el.replaceChildren(...cardParts(contact));
  return card;
}

function refresh(card, contact) {
  card.contact = contact;
  card.el.replaceChildren(...cardParts(contact));
}

function makeColumn({ status, count }, index) {
  const heading = h("h2", { id: `column-${index}` }, status.name);
  const counter = h("span", { className: "count", title: "Contacts in this column" }, String(count));
  const list = h("ol", { className: "cards", "aria-labelledby": heading.id });
  const more = h("button", { type: "button", className: "more", hidden: true, "aria-label": `Load more in ${status.name}` }, "Load more");
  const el = h(
    "section",
    { className: "column", dataset: { statusId: status.id }, "aria-labelledby": heading.id },
    h("header", {}, h("span", { className: "swatch", "aria-hidden": "true" }), heading, counter),
    list,
    more,
  );
  el.style.setProperty("--status-colour", status.color); // "#rrggbb", checked by the server
  const column = { status, count, cursor: null, hasNext: false, el, list, counter, more };
  more.addEventListener("click", () => loadMore(column));
  el.addEventListener("dragover", (event) => {
    if (!dragged) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    el.classList.add("drop-target");
  });
  el.addEventListener("dragleave", (event) => {
    if (!el.contains(event.relatedTarget)) el.classList.remove("drop-target");
  });
  el.addEventListener("drop", (event) => {
    event.preventDefault();
    el.classList.remove("drop-target");
    const id = event.dataTransfer.getData("text/plain") || dragged;
    if (id) move(id, status.id);
  });
  return column;
}

function setCount(column, count) {
  column.count = Math.max(0, count);
  column.counter.textContent = String(column.count);
}

// Put a card in a column, by its status change, newest first. A card older than every card
// shown while the column has more to load leaves the board: "load more" brings it back.
function insert(column, card, { paged = false } = {}) {
  const time = timeOf(card);
  let before = null;
  let shown = 0;
  for (const li of column.list.children) {
    const other = state.cards.get(li.dataset.contactId);
    if (!other || other === card) continue;
    shown += 1;
    if (timeOf(other) < time) {
      before = li;
      break;
    }
  }
  if (!paged && before === null && column.hasNext && shown > 0) {
    card.el.remove();
    state.cards.delete(card.contact.id);
    return;
  }
  column.list.insertBefore(card.el, before);
  card.statusId = column.status.id;
  state.cards.set(card.contact.id, card);
}

// Move a card shown on the board to another column, counts included.
function place(card, statusId) {
  const to = state.columns.get(statusId);
  if (!to) {
    loadBoard(); // a status this board has not read
    return;
  }
  const from = state.columns.get(card.statusId);
  if (from === to) return;
  if (from) setCount(from, from.count - 1);
  setCount(to, to.count + 1);
  insert(to, card);
}

function removeCard(card) {
  const column = state.columns.get(card.statusId);
  if (column) setCount(column, column.count - 1);
  card.el.remove();
  state.cards.delete(card.contact.id);
}

function addPage(column, page) {
  column.cursor = page.pageInfo.endCursor ?? column.cursor;
  for (const { node } of page.edges) {
    if (!state.cards.has(node.id)) insert(column, makeCard(node), { paged: true });
  }
  column.hasNext = page.pageInfo.hasNextPage;
  column.more.hidden = !column.hasNext;
}

// ------------------------------------------------------------------ reading the board

let countsTimer = 0;

function scheduleCounts() {
  clearTimeout(countsTimer);
  countsTimer = setTimeout(refreshCounts, COUNTS_DELAY_MS);
}

async function refreshCounts() {
  const generation = state.generation;
  try {
    const data = await gql(COUNTS, { filter: state.filter });
    if (generation !== state.generation) return;
    for (const { status, count } of data.contactBoard) {
      const column = state.columns.get(status.id);
      if (column) setCount(column, count);
    }
  } catch (error) {
    notify(`The counts could not be read: ${error.message}`, "error");
  }
}

function renderGroups(groups) {
  const select = $("#group");
  const chosen = select.value;
  select.replaceChildren(
    h("option", { value: "" }, "All lists"),
    ...groups.map((g) => h("option", { value: g.id, selected: g.id === chosen }, g.name)),
  );
}

function renderBoard(board) {
  state.columns.clear();
  state.cards.clear();
  const columns = board.map((column, index) => makeColumn(column, index));
  for (const column of columns) state.columns.set(column.status.id, column);
  $("#board").replaceChildren(...columns.map((column) => column.el));
  board.forEach((column, index) => addPage(columns[index], column.contacts));
}

async function loadBoard() {
  const generation = ++state.generation;
  state.loading = true;
  state.heard = [];
  try {
    const data = await gql(BOARD, { filter: state.filter, first: PAGE });
    if (generation !== state.generation) return;
    $("#who").textContent = data.me ? `Signed in as ${data.me.name}` : "";
    renderGroups(data.groups);
    renderBoard(data.contactBoard);
    state.loaded = true;
    showBoard(true);
  } catch (error) {
    if (generation !== state.generation) return;
    if (error.code === "UNAUTHENTICATED") signOut(`That token was refused: ${error.message}`);
    else notify(`The board could not be read: ${error.message}`, "error");
  } finally {
    if (generation === state.generation) {
      state.loading = false;
      const heard = state.heard.splice(0);
      for (const event of heard) hear(event);
      if (heard.length) scheduleCounts(); // the read may or may not have included them
    }
  }
}

async function loadMore(column) {
  const generation = state.generation;
  column.more.disabled = true;
  try {
    const filter = { ...state.filter, statusIds: [column.status.id] };
    const data = await gql(COLUMN, { filter, first: PAGE, after: column.cursor });
    if (generation !== state.generation) return;
    const page = data.contactBoard.find((c) => c.status.id === column.status.id);
    if (page) addPage(column, page.contacts);
  } catch (error) {
    notify(`More of ${column.status.name} could not be read: ${error.message}`, "error");
  } finally {
    column.more.disabled = false;
  }
}

// ------------------------------------------------------------------ moving cards

// Shown in its new column at once; put back if the server refuses, or where the server
// says it is when someone moved it first (CONFLICT).
async function move(contactId, statusId) {
  const card = state.cards.get(contactId);
  if (!card || card.pending || card.statusId === statusId) return;
  const before = card.contact;
  const fromId = card.statusId;
  const target = state.columns.get(statusId).status.name;
  card.pending = true;
  card.el.setAttribute("aria-busy", "true");
  card.contact = { ...before, statusChangedAt: new Date().toISOString() };
  place(card, statusId);
  try {
    const { moveContactStatus: payload } = await gql(MOVE, { contactId, statusId, expectedStatusId: fromId });
    const conflict = payload.userErrors.find((e) => e.code === "CONFLICT");
    if (conflict) {
      await settleConflict(card, conflict);
    } else if (payload.userErrors.length) {
      undo(card, before, fromId, statusId);
      const reasons = payload.userErrors.map((e) => e.message).join(" ");
      notify(`${nameOf(before)} was not moved to ${target}: ${reasons}`, "error");
    } else {
      if (state.cards.get(contactId) === card) refresh(card, payload.contact);
      announce(`${nameOf(before)} moved to ${target}.`);
    }
  } catch (error) {
    undo(card, before, fromId, statusId);
    notify(`${nameOf(before)} was not moved to ${target}: ${error.message}`, "error");
  } finally {
    card.pending = false;
    card.el.removeAttribute("aria-busy");
  }
}

function undo(card, before, fromId, statusId) {
  if (state.cards.get(card.contact.id) !== card || card.statusId !== statusId) return; // moved since
  card.contact = before;
  place(card, fromId);
}

async function settleConflict(card, conflict) {
  const name = nameOf(card.contact);
  const generation = state.generation;
  const { contact: now } = await gql(WHERE, { id: card.contact.id });
  if (generation !== state.generation) return;
  if (!now) {
    if (state.cards.get(card.contact.id) === card) removeCard(card);
    notify(`${name} was not moved: ${conflict.message} It is no longer on your board.`, "warning");
    return;
  }
  if (state.cards.get(now.id) === card) {
    refresh(card, now);
    place(card, now.status.id);
  }
  const column = state.columns.get(now.status.id);
  notify(`${name} was not moved: ${conflict.message} It is in ${column?.status.name ?? "another column"}.`, "warning");
}

let dragged = null;

function onDragStart(event) {
  const el = event.target.closest?.(".card");
  if (!el) return;
  dragged = el.dataset.contactId;
  event.dataTransfer.setData("text/plain", dragged);
  event.dataTransfer.effectAllowed = "move";
  el.classList.add("dragging");
}

function onDragEnd(event) {
  event.target.closest?.(".card")?.classList.remove("dragging");
  dragged = null;
  for (const column of state.columns.values()) column.el.classList.remove("drop-target");
}

// The keyboard (and touch) way: a card opens a list of the columns to move it to.
function openMoveDialog(card) {
  const dialog = $("#move-dialog");
  $("#move-title").textContent = `Move ${nameOf(card.contact)} to`;
  const targets = [...state.columns.values()].map((column) => {
    const here = column.status.id === card.statusId;
    const button = h(
      "button",
      { type: "button", disabled: here, dataset: { statusId: column.status.id } },
      h("span", { className: "swatch", "aria-hidden": "true" }),
      here ? `${column.status.name} (here)` : column.status.name,
    );
    button.style.setProperty("--status-colour", column.status.color);
    button.addEventListener("click", async () => {
      dialog.close();
      await move(card.contact.id, column.status.id);
      if (card.el.isConnected) card.el.focus();
    });
    return button;
  });
  $("#move-targets").replaceChildren(...targets);
  dialog.returnTo = card.el;
  dialog.showModal();
  targets.find((button) => !button.disabled)?.focus();
}

function onCardKey(event) {
  const el = event.target;
  if (!el.classList?.contains("card") || (event.key !== "Enter" && event.key !== " ")) return;
  event.preventDefault();
  const card = state.cards.get(el.dataset.contactId);
  if (card) openMoveDialog(card);
}

function onCardClick(event) {
  const el = event.target.closest?.(".card");
  const card = el && state.cards.get(el.dataset.contactId);
  if (card) openMoveDialog(card);
}

// ------------------------------------------------------------------ live

// What another tab, person or service moved: the card follows, whoever moved it.
async function hear(event) {
  if (state.loading) {
    state.heard.push(event);
    return;
  }
  const { contact, toStatus } = event;
  const card = state.cards.get(contact.id);
  if (card) {
    refresh(card, contact);
    place(card, toStatus.id);
    return;
  }
  if (!state.columns.has(toStatus.id)) {
    loadBoard();
    return;
  }
  const generation = state.generation;
  let shown = contact;
  if (state.filter.search || state.filter.groupIds) {
    try {
      const data = await gql(FIND, { filter: { ...state.filter, ids: [contact.id] } });
      shown = data.contacts.edges[0]?.node;
    } catch (error) {
      notify(`A live change could not be shown: ${error.message}`, "error");
      return;
    }
  }
  if (generation !== state.generation || !shown || state.cards.has(shown.id)) return;
  scheduleCounts(); // a card not shown: the server knows which columns counted it
  if (shown.status.id === toStatus.id) insert(state.columns.get(toStatus.id), makeCard(shown));
}

const LIVE_LABELS = {
  connecting: "Connecting…",
  live: "Live",
  reconnecting: "Reconnecting…",
  stopped: "Not live",
  off: "Offline",
};

function showLive(name) {
  const badge = $("#live");
  badge.dataset.state = name;
  badge.textContent = LIVE_LABELS[name];
}

// A minimal graphql-transport-ws client: connection_init with the token, one subscription,
// next/error/complete, ping/pong; reconnects with backoff after the connection drops.
class LiveFeed {
  constructor(handlers) {
    this.handlers = handlers;
    this.socket = null;
    this.timer = 0;
    this.attempt = 0;
    this.stopped = true;
    this.connected = false; // once acknowledged: a later acknowledgement is a reconnection
  }

  start(token) {
    this.stop();
    this.token = token;
    this.stopped = false;
    this.connected = false;
    this.attempt = 0;
    this.connect();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    if (this.socket) {
      this.socket.onclose = null;
      this.socket.close(1000);
      this.socket = null;
    }
    this.handlers.state("off");
  }

  connect() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const socket = new WebSocket(`${scheme}://${location.host}/graphql`, "graphql-transport-ws");
    this.socket = socket;
    this.handlers.state(this.connected ? "reconnecting" : "connecting");
    socket.onopen = () => this.send({ type: "connection_init", payload: { authorization: `Bearer ${this.token}` } });
    socket.onmessage = (message) => this.receive(JSON.parse(message.data));
    socket.onclose = (event) => this.closed(event);
  }

  send(message) {
    if (this.socket?.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(message));
  }

  receive(message) {
    switch (message.type) {
      case "connection_ack": {
        const again = this.connected;
        this.connected = true;
        this.attempt = 0;
        this.send({ id: "board", type: "subscribe", payload: { query: LIVE } });
        this.handlers.state("live");
        this.handlers.connected(again);
        break;
      }
      case "next":
        if (message.payload.errors) this.handlers.problem(message.payload.errors.map((e) => e.message).join(" "));
        if (message.payload.data) this.handlers.event(message.payload.data.contactStatusChanged);
        break;
      case "error":
        this.handlers.state("stopped");
        this.handlers.problem(message.payload.map((e) => e.message).join(" "));
        break;
      case "complete":
        this.handlers.state("stopped");
        this.handlers.problem("The server ended the live updates; reload the page to resume them.");
        break;
      case "ping":
        this.send({ type: "pong" });
        break;
      default:
        break; // "pong", or a message of a later version of the protocol
    }
  }

  closed(event) {
    this.socket = null;
    if (this.stopped) return;
    if (event.code === 4401 || event.code === 4403) {
      this.stopped = true;
      this.handlers.state("off");
      this.handlers.refused(event.reason);
      return;
    }
    this.handlers.state(this.connected ? "reconnecting" : "connecting");
    const delay = RECONNECT_MS[Math.min(this.attempt, RECONNECT_MS.length - 1)];
    this.attempt += 1;
    this.timer = setTimeout(() => this.connect(), delay);
  }
}

const live = new LiveFeed({
  state: showLive,
  event: hear,
  problem: (message) => notify(`Live updates: ${message}`, "error"),
  refused: (reason) => signOut(`The server refused the token for live updates${reason ? `: ${reason}` : "."}`),
  connected(again) {
    // After a reconnection the board may have missed moves: read it again.
    if (again || (!state.loaded && !state.loading)) loadBoard();
  },
});

// ------------------------------------------------------------------ signing in and filters

function showBoard(shown) {
  for (const id of ["#filters", "#board", "#hint", "#sign-out"]) $(id).hidden = !shown;
  $("#sign-in").hidden = shown;
}

function start(token) {
  state.token = token;
  sessionStorage.setItem(TOKEN_KEY, token);
  live.start(token);
  loadBoard();
}

function signOut(message) {
  sessionStorage.removeItem(TOKEN_KEY);
  state.token = null;
  state.loaded = false;
  state.generation += 1;
  live.stop();
  showBoard(false);
  $("#board").replaceChildren();
  $("#who").textContent = "";
  if (message) notify(message, "error");
  $("#token").focus();
}

let searchTimer = 0;

function readFilters() {
  clearTimeout(searchTimer); // this reads the search box too
  const filter = {};
  const search = $("#search").value.trim();
  const group = $("#group").value;
  if (search) filter.search = search;
  if (group) filter.groupIds = [group];
  if (JSON.stringify(filter) === JSON.stringify(state.filter)) return;
  state.filter = filter;
  loadBoard();
}

function wire() {
  $("#sign-in").addEventListener("submit", (event) => {
    event.preventDefault(); // the token never goes into a URL
    const token = $("#token").value.trim().replace(/^Bearer\s+/i, "");
    $("#token").value = "";
    if (token) start(token);
  });
  $("#sign-out").addEventListener("click", () => signOut());
  $("#filters").addEventListener("submit", (event) => event.preventDefault());
  $("#search").addEventListener("input", () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(readFilters, SEARCH_DELAY_MS);
  });
  $("#group").addEventListener("change", readFilters);
  $("#move-cancel").addEventListener("click", () => $("#move-dialog").close());
  $("#move-dialog").addEventListener("close", (event) => {
    if (event.target.returnTo?.isConnected) event.target.returnTo.focus();
  });
  const board = $("#board");
  board.addEventListener("dragstart", onDragStart);
  board.addEventListener("dragend", onDragEnd);
  board.addEventListener("keydown", onCardKey);
  board.addEventListener("click", onCardClick);
}

wire();
const saved = sessionStorage.getItem(TOKEN_KEY);
if (saved) start(saved);
else showBoard(false);
