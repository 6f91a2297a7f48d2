// bordersim explore: the page. It holds no scenario logic: it shows the inputs the server describes,
// sends the values as typed to /api/check (validation and preview), /api/run, /api/scenario.
"use strict";

const state = { form: null, baseline: null, checkSeq: 0, job: null };
const $ = (id) => document.getElementById(id);
const SVG = "http://www.w3.org/2000/svg";

async function api(path, body) {
  const options = body === undefined ? {} : { method: "POST", headers: { "Content-Type": "application/json" },
                                               body: JSON.stringify(body) };
  const response = await fetch(path, options);
  if (!response.ok) {
    const text = await response.text();
    let message = text;
    try { message = JSON.parse(text).error; } catch (e) { /* not JSON */ }
    throw new Error(message);
  }
  return response;
}

// ---------------------------------------------------------------- inputs

function element(tag, attributes, text) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes || {})) {
    if (value !== null && value !== undefined) node.setAttribute(key, value);
  }
  if (text !== undefined) node.textContent = text;
  return node;
}

function inputFor(spec, path, value) {
  const numeric = spec.kind === "integer" || spec.kind === "number";
  const input = element("input", {
    type: "text", "data-path": path, "data-original": value, value: value, title: spec.help || spec.label,
    inputmode: numeric ? "decimal" : null, size: { date: 10, integer: 7, number: 7 }[spec.kind] || 11,
    placeholder: spec.kind === "date" ? "YYYY-MM-DD" : null,
  });
  const limits = [spec.minimum !== null ? `≥ ${spec.minimum}` : "", spec.maximum !== null ? `≤ ${spec.maximum}` : ""];
  if (numeric && limits.join("")) input.title += ` (${limits.filter(Boolean).join(", ")})`;
  input.addEventListener("input", scheduleCheck);
  return input;
}

function buildField(spec) {
  const row = element("div", { class: "field" });
  const id = `in-${spec.path}`;
  row.append(element("label", { for: id, title: spec.help }, spec.label));
  const input = inputFor(spec, spec.path, spec.value);
  input.id = id;
  row.append(input, element("span", { class: "msg", "data-msg": spec.path }));
  return row;
}

function buildTable(table) {
  const wrapper = element("div", { class: "table", "data-table": table.path });
  wrapper.append(element("p", { class: "hint" }, `${table.label}: ${table.help}`));
  const grid = element("table", { class: "rows" });
  const head = element("tr");
  for (const column of table.columns) head.append(element("th", { title: column.help }, column.label));
  head.append(element("th"));
  grid.append(head);
  const body = element("tbody");
  grid.append(body);
  table.rows.forEach((cells) => body.append(tableRow(table, cells)));
  const add = element("button", { class: "small", type: "button" }, "+ add");
  add.addEventListener("click", () => {
    const last = body.lastElementChild;
    const cells = last ? [...last.querySelectorAll("input")].map((input) => input.value) : table.columns.map(() => "");
    body.append(tableRow(table, cells));
    renumber(body, table);
    scheduleCheck();
  });
  wrapper.append(grid, add, element("div", { class: "msg", "data-msg": table.path }));
  return wrapper;
}

function tableRow(table, cells) {
  const row = element("tr");
  table.columns.forEach((column, index) => {
    const cell = element("td");
    cell.append(inputFor(column, "", cells[index]));
    row.append(cell);
  });
  const remove = element("button", { class: "small", type: "button", title: "remove this row" }, "×");
  remove.addEventListener("click", () => { const body = row.parentNode; row.remove(); renumber(body, table); scheduleCheck(); });
  const last = element("td");
  last.append(remove);
  row.append(last);
  return row;
}

function renumber(body, table) {
  // Cells carry their key path (slowdowns.3.to) so that a problem finds its input.
  [...body.children].forEach((row, index) => {
    row.querySelectorAll("input").forEach((input, column) => {
      input.dataset.path = `${table.path}.${index}.${table.columns[column].path}`;
    });
  });
}

function buildInputs(form) {
  const root = $("inputs");
  root.textContent = "";
  for (const section of form.sections) {
    const fieldset = element("fieldset");
    fieldset.append(element("legend", {}, section.title));
    section.inputs.forEach((spec) => fieldset.append(buildField(spec)));
    section.tables.forEach((table) => {
      const built = buildTable(table);
      fieldset.append(built);
      renumber(built.querySelector("tbody"), table);
    });
    root.append(fieldset);
  }
}

function values() {
  const result = {};
  for (const section of state.form.sections) {
    section.inputs.forEach((spec) => { result[spec.path] = document.querySelector(`[data-path="${spec.path}"]`).value; });
    section.tables.forEach((table) => {
      const body = document.querySelector(`[data-table="${table.path}"] tbody`);
      result[table.path] = [...body.children].map((row) => [...row.querySelectorAll("input")].map((input) => input.value));
    });
  }
  return result;
}

// ---------------------------------------------------------------- validation and preview

let checkTimer = null;
function scheduleCheck() {
  clearTimeout(checkTimer);
  checkTimer = setTimeout(check, 200);
}

async function check() {
  const seq = ++state.checkSeq;
  $("preview-line").textContent = "checking…";
  let answer;
  try {
    answer = await (await api("/api/check", { values: values() })).json();
  } catch (error) {
    $("preview-line").textContent = `error: ${error.message}`;
    return;
  }
  if (seq !== state.checkSeq) return; // a later edit is already on its way
  showProblems(answer);
  showChanges(answer.changes);
  if (answer.preview) showPreview(answer.preview);
  else $("preview-line").textContent = "The scenario has problems (in red): no preview until they are fixed.";
  $("run").disabled = !answer.ok;
}

function showProblems(answer) {
  document.querySelectorAll("[data-msg]").forEach((node) => { node.textContent = ""; node.className = "msg"; });
  document.querySelectorAll("input[data-path]").forEach((input) => {
    input.classList.remove("bad");
    input.classList.toggle("changed", input.dataset.original !== undefined && input.value !== input.dataset.original);
  });
  const place = (item, warn) => {
    const target = nearestInput(item.key_path);
    if (!target) { $("preview-line").textContent = item.text; return; }
    if (!warn) target.classList.add("bad");
    const message = messageNodeFor(target);
    message.textContent = (message.textContent ? message.textContent + " " : "") + item.text;
    if (warn) message.classList.add("warn");
  };
  answer.problems.forEach((item) => place(item, false));
  answer.warnings.forEach((item) => place(item, true));
}

function nearestInput(keyPath) {
  // The input whose key path is the longest prefix of the problem's (a list's problem: its first cell).
  let parts = keyPath.split(".");
  while (parts.length) {
    const path = parts.join(".");
    const exact = document.querySelector(`input[data-path="${path}"]`);
    if (exact) return exact;
    const inside = document.querySelector(`input[data-path^="${path}."]`);
    if (inside) return inside;
    parts = parts.slice(0, -1);
  }
  return null;
}

function messageNodeFor(input) {
  const field = input.closest(".field");
  if (field) return field.querySelector(".msg");
  return input.closest("[data-table]").querySelector(":scope > .msg");
}

function showChanges(changes) {
  const node = $("changes");
  node.textContent = changes.length ? "Changed: " : "No changes yet.";
  node.append(...changes.map((change, index) =>
    element("span", { class: "change" }, `${index ? "; " : ""}${change.path} ${change.was} → ${change.now}`)));
}

function people(value) {
  return value === null || value === undefined ? "n/a" : Math.round(value).toLocaleString("en");
}

function showPreview(preview) {
  const base = state.baseline;
  const line = `Preview (${preview.method}, ${preview.seconds} s), by the target date: `
    + `${people(preview.crossed_by_target_date)} crossed (unchanged ${people(base.crossed_by_target_date)}); `
    + `busiest day ${people(preview.busiest_day_people)} (unchanged ${people(base.busiest_day_people)}); `
    + `capacity ceiling ${people(preview.ceiling_by_target_date)} (unchanged ${people(base.ceiling_by_target_date)}).`;
  const node = $("preview-line");
  node.textContent = line;
  node.dataset.crossed = preview.crossed_by_target_date;
  node.dataset.busiest = preview.busiest_day_people;
  node.dataset.ceiling = preview.ceiling_by_target_date;
  drawChart($("preview-chart"), preview.dates, {
    lines: [
      { values: base.crossed_cumulative, color: "#888", width: 2 },
      { values: preview.ceiling_cumulative, color: "#b35c00", width: 1.5, dash: "5,4", unscaled: true },
      { values: preview.crossed_cumulative, color: "#2868a8", width: 2.5 },
    ],
    observed: state.form.observed, target: state.form.target,
  });
}

// ---------------------------------------------------------------- charts (plain SVG)

function drawChart(svg, dates, { lines = [], bands = [], observed = [], target = null, symmetric = false }) {
  svg.textContent = "";
  const width = 640, height = 260, left = 58, right = 12, top = 10, bottom = 26;
  const index = new Map(dates.map((date, i) => [date, i]));
  const finite = (values) => values.filter((value) => Number.isFinite(value));
  const scaled = lines.filter((line) => !line.unscaled);
  let top_value = Math.max(10, ...scaled.flatMap((line) => finite(line.values.slice(0, dates.length))),
                           ...bands.flatMap((band) => finite(band.high)), ...observed.map((point) => point[1]));
  if (target) top_value = Math.max(top_value, target.people * 1.05);
  const lowest = Math.min(0, ...bands.flatMap((band) => finite(band.low)), ...scaled.flatMap((line) => finite(line.values)));
  // A difference is drawn around zero; people crossed from zero up.
  const ceiling = niceCeiling(symmetric ? Math.max(top_value, -lowest) : top_value);
  const floor = symmetric ? -ceiling : lowest < 0 ? -niceCeiling(-lowest) : 0;
  const x = (i) => left + (width - left - right) * i / Math.max(1, dates.length - 1);
  const y = (value) => top + (height - top - bottom) * (1 - (value - floor) / (ceiling - floor));
  const add = (tag, attributes, text) => {
    const node = document.createElementNS(SVG, tag);
    for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, value);
    if (text !== undefined) node.textContent = text;
    svg.append(node);
    return node;
  };
  for (let step = 0; step <= 4; step++) {
    const value = floor + (ceiling - floor) * step / 4;
    add("line", { x1: left, x2: width - right, y1: y(value), y2: y(value), stroke: "#eee" });
    add("text", { x: left - 4, y: y(value) + 4, "text-anchor": "end", "font-size": 11, fill: "#555" }, short(value));
  }
  dates.forEach((date, i) => {
    if (date.endsWith("-01") || i === 0) {
      add("line", { x1: x(i), x2: x(i), y1: top, y2: height - bottom, stroke: "#f0f0f0" });
      add("text", { x: x(i), y: height - 8, "font-size": 11, fill: "#555", "text-anchor": "middle" }, date.slice(0, 7));
    }
  });
  const clip = `clip-${svg.id}`;
  const defs = add("defs", {});
  const rect = document.createElementNS(SVG, "clipPath");
  rect.setAttribute("id", clip);
  rect.innerHTML = `<rect x="${left}" y="${top}" width="${width - left - right}" height="${height - top - bottom}"/>`;
  defs.append(rect);
  const path = (values) => values.slice(0, dates.length).map((value, i) => `${i ? "L" : "M"}${x(i).toFixed(1)},${y(value).toFixed(1)}`).join("");
  for (const band of bands) {
    const upper = path(band.high);
    const lower = band.low.slice(0, dates.length).map((value, i) => `L${x(i).toFixed(1)},${y(value).toFixed(1)}`).reverse().join("");
    add("path", { d: `${upper}${lower}Z`, fill: band.color, stroke: "none" });
  }
  for (const line of lines) {
    add("path", { d: path(line.values), fill: "none", stroke: line.color, "stroke-width": line.width || 2,
                  "stroke-dasharray": line.dash || "none", "clip-path": `url(#${clip})` });
  }
  if (target && index.has(target.by)) {
    add("line", { x1: left, x2: width - right, y1: y(target.people), y2: y(target.people), stroke: "#c0392b", "stroke-dasharray": "2,3" });
    add("line", { x1: x(index.get(target.by)), x2: x(index.get(target.by)), y1: top, y2: height - bottom, stroke: "#c0392b", "stroke-dasharray": "2,3" });
    add("text", { x: left + 4, y: y(target.people) - 4, "font-size": 11, fill: "#c0392b" }, `target ${short(target.people)}`);
  }
  for (const [date, value, lowerBound] of observed) {  // a lower bound ("400,000+") as an open circle
    if (index.has(date)) add("circle", { cx: x(index.get(date)), cy: y(value), r: 3.5, stroke: "#000",
                                         fill: lowerBound ? "#fff" : "#000" });
  }
}

function niceCeiling(value) {
  const magnitude = 10 ** Math.floor(Math.log10(value));
  return [1, 2, 2.5, 5, 10].map((step) => step * magnitude).find((candidate) => candidate >= value);
}

function short(value) {
  if (value < 0) return `-${short(-value)}`;
  if (value >= 1e6) return `${+(value / 1e6).toFixed(2)}M`;
  if (value >= 1e3) return `${+(value / 1e3).toFixed(0)}k`;
  return `${Math.round(value)}`;
}

// ---------------------------------------------------------------- runs

async function run() {
  const replications = parseInt($("replications").value, 10);
  $("run").disabled = true;
  $("run-status").textContent = "starting…";
  try {
    const job = await (await api("/api/run", { values: values(), replications })).json();
    state.job = job.id;
    poll(job.id);
  } catch (error) {
    $("run-status").textContent = error.message;
    $("run").disabled = false;
  }
}

async function poll(id) {
  const job = await (await api(`/api/job/${id}`)).json();
  if (id !== state.job) return;
  $("progress").max = job.total;
  $("progress").value = job.done;
  $("run-status").textContent = job.state === "running" ? `${job.done} of ${job.total} replications` : job.message;
  if (job.state === "running") { setTimeout(() => poll(id), 300); return; }
  $("run").disabled = false;
  if (job.state === "done") showAnswer(job);
}

function showAnswer(job) {
  const result = job.result;
  $("answer").hidden = false;
  const folder = result.folder.split("/").slice(-3).join("/");  // results/<scenario>/explore-…
  $("run-status").textContent = `done: ${result.replications} replications; results folder ${folder}`;
  $("p-target").textContent = result.p_target === null ? "no target" : result.p_target.toFixed(2);
  $("answer-lines").textContent = "";
  result.answer.forEach((line) => $("answer-lines").append(element("li", {}, line)));
  const body = $("metrics").querySelector("tbody");
  body.textContent = "";
  for (const row of result.table) {
    const tr = element("tr", { "data-metric": row.metric });
    [row.label, row.unchanged, row.edited, row.difference].forEach((text) => tr.append(element("td", {}, text)));
    body.append(tr);
  }
  const chart = result.chart;
  drawChart($("run-chart"), chart.dates, {
    bands: [{ low: chart.edited.p05, high: chart.edited.p95, color: "#a9c6e4" }],
    lines: [{ values: chart.unchanged.p50, color: "#888", width: 2 }, { values: chart.edited.p50, color: "#2868a8", width: 2.5 }],
    observed: chart.observed, target: chart.target,
  });
  const last = chart.dates.length - 1;
  $("difference-line").textContent = `Edited minus unchanged, replication by replication (common random numbers), `
    + `crossed by ${chart.dates[last]}: median ${people(chart.difference.p50[last])} `
    + `(90 % of replications between ${people(chart.difference.p05[last])} and ${people(chart.difference.p95[last])}).`;
  drawChart($("difference-chart"), chart.dates, {
    bands: [{ low: chart.difference.p05, high: chart.difference.p95, color: "#a9c6e4" }],
    lines: [{ values: chart.dates.map(() => 0), color: "#888", width: 1 },
            { values: chart.difference.p50, color: "#2868a8", width: 2.5 }],
    symmetric: true,
  });
  $("download-results").href = `/api/results/${job.id}`;
}

// ---------------------------------------------------------------- keeping the scenario

async function downloadYaml() {
  try {
    const response = await api("/api/scenario", { values: values() });
    const name = /filename="([^"]+)"/.exec(response.headers.get("Content-Disposition"))[1];
    const link = element("a", { href: URL.createObjectURL(await response.blob()), download: name });
    document.body.append(link);
    link.click();
    link.remove();
  } catch (error) {
    $("keep-status").textContent = error.message;
  }
}

async function keep() {
  try {
    const kept = await (await api("/api/keep", { values: values() })).json();
    $("keep-status").textContent = `saved: ${kept.path}`;
  } catch (error) {
    $("keep-status").textContent = error.message;
  }
}

async function start() {
  state.form = await (await api("/api/form")).json();
  state.baseline = state.form.preview;
  const target = state.form.sections.find((section) => section.title === "Target");
  state.form.target = target ? { people: Number(target.inputs[0].value), by: target.inputs[1].value } : null;
  $("scenario-name").textContent = state.form.scenario;
  $("scenario-file").textContent = state.form.file;
  $("replications").value = state.form.replications;
  $("replications").max = state.form.max_replications;
  buildInputs(state.form);
  showPreview(state.baseline);
  showChanges([]);
  $("run").addEventListener("click", run);
  $("download-yaml").addEventListener("click", downloadYaml);
  $("keep").addEventListener("click", keep);
  document.body.dataset.ready = "1";
}

start();
