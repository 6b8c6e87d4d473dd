// The "compare two devices" page (site/versus.html): device A against device B, computed by site/versus.js from
// the rows of the two devices (site/api.js), drawn here. The state is in the address (?a=…&b=…&family=…), so
// a comparison can be shared. Every string from the data is inserted as text, never as HTML.
import { deviceRowSource, fetchJson, loadIndex } from "./api.js";
import { createPicker } from "./picker.js";
import { attributionText } from "./sources.js";
import { REASON_ORDER, VersusError, compareDevices, deviceLabels, filePredictor, intervalText, labelOf, pct, percentText, pyG, resolve, times } from "./versus.js";

const CHART_FIRST = 400; // bars drawn at once; "show all" draws the others
const ONLY_FIRST = 8; // items per reason drawn at once
const CAPACITY_FIRST = 40;
const PICKER_LIMIT = 200;
// URL key -> the filter it sets (repeatable in the address, one value in the menus).
const FILTER_PARAMS = { family: "families", framework: "frameworks", precision: "precisions", scenario: "scenarios", source: "sources" };
const REASONS = { precision: "Precision not available", oom: "Out of memory", failed: "Failed", not_measured: "Not measured" };
const KINDS = { cuda: "NVIDIA and other CUDA GPUs", rocm: "AMD ROCm GPUs", mps: "Apple GPUs (Metal)", xpu: "Intel GPUs", tpu: "TPUs", cpu: "CPUs" };
const FIELD_NAMES = { release_date: "Release date", price_usd: "List price", tdp_w: "TDP", memory_gb: "Memory", bandwidth_gb_s: "Memory bandwidth" };

const $ = (id) => document.getElementById(id);
const grouped = new Intl.NumberFormat("en-US");
const num = (n) => grouped.format(n);

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

// A measured or predicted value for people: 4 significant digits, whole numbers from 10,000, SI prefixes on rates.
export function valueText(value, unit) {
  if (value === null || value === undefined) return "-";
  const u = unit ? ` ${unit}` : "";
  if (["FLOP/s", "B/s", "tokens/s"].includes(unit)) {
    for (const [scale, prefix] of [[1e15, "P"], [1e12, "T"], [1e9, "G"], [1e6, "M"], [1e3, "k"]]) {
      if (Math.abs(value) >= scale) return `${pyG(value / scale, 4)} ${prefix}${unit}`;
    }
  }
  if (unit === "bytes") return `${(value / 2 ** 20).toFixed(0)} MiB`;
  return `${Math.abs(value) >= 10000 ? num(Math.round(value)) : pyG(value, 4)}${u}`;
}

const sheetValue = (v) => (v === null || v === undefined ? "-" : typeof v === "number" ? (Number.isInteger(v) ? num(v) : pyG(v)) : String(v));

// "predicted (method, typical error X %): value unit": how a prediction is labelled wherever it is shown.
export function predictionText(p) {
  const mape = p.error && typeof p.error.mape === "number" ? p.error.mape : null;
  const error = mape === null ? "typical error unknown" : `typical error ${mape.toFixed(0)} %`;
  return `predicted (${p.method ?? "model"}, ${error}): ${valueText(p.value, p.unit)}`;
}

// ------------------------------------------------------------------------------------------------- summary

function renderSummary(v, predictions) {
  const s = v.summary;
  $("vs-title").textContent = `${v.a.label} vs ${v.b.label}`;
  const sides = [v.a, v.b].map((d, i) => {
    const role = i ? "B" : "A";
    let text = `${role}: ${d.label}` + (d.catalogue_name ? ` (catalogue: ${d.catalogue_name})` : " (not in the device catalogue)");
    if (d.other_matches.length) text += `; “${d.asked}” also matches ${d.other_matches.join(", ")}: choose one in the picker`;
    return text;
  });
  $("vs-sides").textContent = sides.join(". ") + ".";
  const head = $("vs-headline");
  const details = [];
  if (s.geomean === null) {
    head.replaceChildren(`No comparable results: the two devices share no workload setting` +
      (s.nearest ? ` (${num(s.nearest)} nearest-comparable pairs below)` : "") + ".");
  } else {
    const strong = el("strong", "vs-geomean", times(s.geomean));
    strong.dataset.value = String(s.geomean);
    head.replaceChildren("A is ", strong, ` B: the geometric mean of A over B, measured results only, over ${num(s.comparable)} ` +
      `comparable workload settings of ${num(s.union)} either device ran (${num(s.shared)} workloads both ran).`);
    if (s.interval) {
      const [lo, hi] = intervalText(s.interval[0], s.interval[1]);
      details.push(["vs-interval", `Measurement interval (95 %): ${lo} to ${hi} (${s.interval_basis}; repeat noise ${pct(s.noise_cv)} per result).`]);
    } else {
      details.push(["vs-interval", `Measurement interval: ${s.interval_basis}.`]);
    }
    details.push(["vs-spread", `Spread across workloads (not an uncertainty): geometric SD ${times(s.spread.gsd)}, from ${times(s.spread.min)} to ${times(s.spread.max)}.`]);
    details.push(["vs-wtl", `Wins / ties / losses of A: ${num(s.wins)} / ${num(s.ties)} / ${num(s.losses)} (a tie: within 5 %, or past it with an interval that holds 1, marked ~).`]);
    const extra = [];
    if (s.per_watt !== null) extra.push(`per watt of TDP (datasheet TDP, not measured power) ${times(s.per_watt)}`);
    if (s.per_dollar !== null) extra.push(`per dollar of list price ${times(s.per_dollar)}`);
    if (extra.length) details.push(["vs-value", `A over B ${extra.join("; ")}.`]);
  }
  const fr = s.fraction_of_peak;
  if (fr.a !== null || fr.b !== null) details.push(["vs-peak", `Median fraction of the catalogue peak over the compared results: A ${pct(fr.a)}, B ${pct(fr.b)}.`]);
  if (s.nearest) details.push(["vs-nearest-note", `${num(s.nearest)} workloads both ran in no common setting: their nearest comparable pairs are shown apart, not in the summary.`]);
  if (v.left_out.mlperf_workloads) details.push(["vs-mlperf", `Left out: ${num(v.left_out.mlperf_workloads)} MLPerf workloads (MLPerf results are compared only with each other: choose an MLPerf family).`]);
  if (v.left_out.no_metric.length) details.push(["vs-no-metric", `Left out: ${num(v.left_out.no_metric.length)} workloads with no metric to compare on.`]);
  if (predictions) details.push(["vs-predicted-note", `${num(v.predicted.length)} predictions for settings one device did not measure: shown in the lists below, labelled, never in the summary.`]);
  $("vs-details").replaceChildren(...details.map(([id, text]) => { const li = el("li", "", text); li.id = id; return li; }));
  $("vs-summary").hidden = false;
}

// --------------------------------------------------------------------------------------------------- chart

function barRow(p, scale) {
  const row = el("div", `vs-row ${p.outcome}${p.nearest ? " nearest" : ""}`);
  row.setAttribute("role", "listitem");
  row.dataset.ratio = String(p.ratio);
  const label = el("span", "vs-label");
  label.title = `${p.workload} ${p.setting_text}`;
  label.append(el("span", "vs-workload", p.workload), " ", el("span", "vs-setting", p.setting_text));
  if (p.nearest) {
    const differs = Object.entries(p.nearest.differs).map(([k, [x, y]]) => `${k} ${x ?? "-"} vs ${y ?? "-"}`).join(", ");
    label.append(" ", el("span", "vs-differs", `nearest comparable: ${differs}`));
  }
  const track = el("span", "vs-track");
  const bar = el("span", "vs-bar");
  const size = Math.abs(Math.log(p.ratio)) * scale; // per cent of half the track
  bar.style.width = `${size / 2}%`;
  bar.style.left = p.ratio >= 1 ? "50%" : `${50 - size / 2}%`;
  track.append(bar);
  const pctText = el("span", "vs-pct", percentText(p.ratio));
  const mark = el("span", "vs-mark", p.mark === "~" ? "~" : p.mark === "=" ? "tie" : "");
  if (p.mark) mark.title = p.mark === "~" ? "past 5 % but its interval holds 1: not significant (counted as a tie)" : "within 5 %: a tie";
  const interval = p.interval ? `interval ${intervalText(p.interval[0], p.interval[1]).join(" to ")}` : "single result";
  const detail = el("span", "vs-detail", `${times(p.ratio)} · A ${valueText(p.a_value, p.unit)} vs B ${valueText(p.b_value, p.unit)} · ` +
    `n ${p.n_a}/${p.n_b} · ${interval}${p.higher_is_better ? "" : ` · ${p.metric}: lower is better`}`);
  row.append(label, track, pctText, mark, detail);
  return row;
}

function drawBars(box, pairs, scale, from, to) {
  const frag = document.createDocumentFragment();
  for (let i = from; i < to; i++) frag.append(barRow(pairs[i], scale));
  box.append(frag);
}

function renderChart(v) {
  const compared = v.workloads.filter((p) => !p.nearest);
  const nearest = v.workloads.filter((p) => p.nearest);
  let largest = 0;
  for (const p of v.workloads) largest = Math.max(largest, Math.abs(Math.log(p.ratio)));
  const scale = largest > 0 ? 100 / largest : 0;
  const caption = $("vs-chart-caption");
  caption.textContent = compared.length ? `A over B on each workload's headline metric, oriented so that + means A is better ` +
    `(times and latencies inverted); the largest differences first. Bars to the right: A better; to the left: B better; ` +
    `bar length ∝ |log ratio|. A tie is within 5 %; ~ marks a difference its interval does not show to be real.`
    : "No workload setting both devices ran.";
  const chart = $("vs-chart");
  chart.replaceChildren();
  const first = Math.min(CHART_FIRST, compared.length);
  drawBars(chart, compared, scale, 0, first);
  const more = $("vs-chart-more");
  more.hidden = compared.length <= first;
  more.textContent = `Show all ${num(compared.length)} workload settings`;
  more.onclick = () => {
    drawBars(chart, compared, scale, chart.childElementCount, compared.length);
    more.hidden = true;
  };
  const near = $("vs-nearest");
  near.replaceChildren();
  drawBars(near, nearest, scale, 0, nearest.length);
  near.hidden = $("vs-nearest-title").hidden = !nearest.length;
  $("vs-chart-section").hidden = false;
}

// ------------------------------------------------------------------------------------------ "cannot" lists

function onlyItem(item, v, role) {
  const li = el("li", `vs-item ${item.reason}`);
  li.append(el("span", "vs-workload", item.workload ?? "(the device)"));
  if (item.setting_text) li.append(" ", el("span", "vs-setting", item.setting_text));
  li.append(": ", el("span", "vs-why", item.detail));
  li.append(item.value !== null ? el("span", "vs-value", `. ${role} measured ${valueText(item.value, item.unit)} (n ${item.n}).`) : ".");
  const ev = [...item.evidence.can.slice(0, 1).map((e) => `${role}: ${e}`), ...item.evidence.cannot.slice(0, 1).map((e) => `${role === "A" ? "B" : "A"}: ${e}`)];
  if (ev.length) li.append(el("span", "vs-evidence", `Evidence: ${ev.join("; ")}`));
  if (item.prediction) li.append(el("span", "predicted", `${role === "A" ? "B" : "A"} ${predictionText(item.prediction)}`));
  return li;
}

function renderOnly(box, items, v, role) {
  const mine = role === "A" ? v.a : v.b;
  const theirs = role === "A" ? v.b : v.a;
  const heading = el("h2", "", `What ${role} (${mine.label}) can do that ${role === "A" ? "B" : "A"} (${theirs.label}) cannot (${num(items.length)})`);
  box.replaceChildren(heading);
  if (!items.length) box.append(el("p", "vs-none", "Nothing: every setting it ran, the other ran too."));
  for (const reason of Object.keys(REASON_ORDER)) {
    const group = items.filter((i) => i.reason === reason);
    if (!group.length) continue;
    const section = el("section", `vs-reason ${reason}`);
    section.dataset.reason = reason;
    section.append(el("h3", "", `${REASONS[reason]} (${num(group.length)})`));
    const list = el("ul", "vs-items");
    const first = Math.min(ONLY_FIRST, group.length);
    list.append(...group.slice(0, first).map((i) => onlyItem(i, v, role)));
    section.append(list);
    if (group.length > first) {
      const button = el("button", "vs-show-all", `Show all ${num(group.length)}`);
      button.type = "button";
      button.onclick = () => {
        const frag = document.createDocumentFragment();
        for (const i of group.slice(list.childElementCount)) frag.append(onlyItem(i, v, role));
        list.append(frag);
        button.remove();
      };
      section.append(button);
    }
    box.append(section);
  }
}

// -------------------------------------------------------------------------------------- capacity, datasheet

function tableHead(table, names) {
  const tr = el("tr");
  for (const n of names) tr.append(el("th", "", n));
  table.tHead.replaceChildren(tr);
}

function fitText(fit, oom, sweep) {
  return [fit !== null ? `fits ${num(fit)}` : "no fit measured", oom !== null ? `out of memory at ${num(oom)}` : ""].filter(Boolean).join(", ") +
    (sweep ? ` (batch-size sweep, resolution ${num(sweep.resolution)})` : "");
}

function capacityRow(c) {
  const tr = el("tr");
  tr.append(el("td", "", c.workload), el("td", "", c.setting_text), el("td", c.a_oom !== null ? "vs-oom" : "", fitText(c.a_fit, c.a_oom, c.a_sweep)),
    el("td", c.b_oom !== null ? "vs-oom" : "", fitText(c.b_fit, c.b_oom, c.b_sweep)));
  return tr;
}

function renderCapacity(v) {
  const table = $("vs-capacity");
  tableHead(table, ["Workload", "Setting", `A: ${v.a.label}`, `B: ${v.b.label}`]);
  const mem = v.capacity.memory_gb;
  const memory = el("tr", "vs-memory");
  memory.append(el("td", "", "Memory (catalogue)"), el("td"), el("td", "num", mem.a !== null ? `${sheetValue(mem.a)} GB` : "-"),
    el("td", "num", mem.b !== null ? `${sheetValue(mem.b)} GB` : "-"));
  const rows = v.capacity.workloads;
  const first = Math.min(CAPACITY_FIRST, rows.length);
  table.tBodies[0].replaceChildren(memory, ...rows.slice(0, first).map(capacityRow));
  if (!rows.length) {
    const none = el("td", "vs-none", "No workload setting where either device ran out of memory, swept its batch size or the two fitted different batches.");
    none.colSpan = 4;
    const tr = el("tr");
    tr.append(none);
    table.tBodies[0].append(tr);
  }
  const more = $("vs-capacity-more");
  more.hidden = rows.length <= first;
  more.textContent = `Show all ${num(rows.length)} workload settings`;
  more.onclick = () => {
    table.tBodies[0].append(...rows.slice(first).map(capacityRow));
    more.hidden = true;
  };
  $("vs-capacity-section").hidden = false;
}

function fieldName(field) {
  if (field.startsWith("peak_tflops.")) {
    const p = field.slice("peak_tflops.".length);
    return p === "fp16_plain" ? "Peak fp16 (without tensor cores)" : `Peak ${p}`;
  }
  return FIELD_NAMES[field] ?? field;
}

function renderDatasheet(v) {
  const table = $("vs-datasheet");
  tableHead(table, ["", "Unit", `A: ${v.a.label}`, `B: ${v.b.label}`, "A over B"]);
  const rows = v.datasheet.map((d) => {
    const tr = el("tr", d.differs ? "differs" : "same");
    tr.dataset.field = d.field;
    tr.append(el("th", "", fieldName(d.field)), el("td", "", d.unit), el("td", "num vs-a", sheetValue(d.a)), el("td", "num vs-b", sheetValue(d.b)),
      el("td", "num", d.ratio ? times(d.ratio) : ""));
    return tr;
  });
  table.tBodies[0].replaceChildren(...rows);
  if (!rows.length) {
    const tr = el("tr");
    const none = el("td", "vs-none", "Neither device is in the device catalogue.");
    none.colSpan = 5;
    tr.append(none);
    table.tBodies[0].append(tr);
  }
  $("vs-datasheet-section").hidden = false;
}

// Draws the whole comparison `v` (compareDevices' object).
export function renderVersus(v, { predictions = false } = {}) {
  renderSummary(v, predictions);
  renderChart(v);
  renderOnly($("vs-only-a"), v.only_a, v, "A");
  renderOnly($("vs-only-b"), v.only_b, v, "B");
  $("vs-only").hidden = false;
  renderCapacity(v);
  renderDatasheet(v);
  const note = $("catalogue-attribution");
  const text = attributionText(v.attribution);
  note.hidden = !text;
  note.textContent = text;
}

// -------------------------------------------------------------------------------------------- the page

const root = $("versus");
const params = new URLSearchParams(location.search);
const apiBase = (params.get("api") || root.dataset.api || "data/api/v1").replace(/\/+$/, "");
const state = { index: null, catalogue: null, source: null, a: params.get("a") || "", b: params.get("b") || "", token: 0,
  filters: Object.fromEntries(Object.keys(FILTER_PARAMS).map((k) => [k, params.getAll(k).filter(Boolean)])), measured: ["1", "true", "yes"].includes(params.get("measured")) };
const pickers = {};

const SECTIONS = ["vs-summary", "vs-chart-section", "vs-only", "vs-capacity-section", "vs-datasheet-section"];

function showError(message) {
  for (const id of SECTIONS) $(id).hidden = true;
  delete root.dataset.compared;
  $("error").hidden = false;
  $("error").textContent = message;
  $("status").textContent = "";
}

function saveToUrl() {
  const p = new URLSearchParams();
  if (params.get("api")) p.set("api", params.get("api"));
  if (state.a) p.set("a", state.a);
  if (state.b) p.set("b", state.b);
  for (const k of Object.keys(FILTER_PARAMS)) for (const value of state.filters[k]) p.append(k, value);
  if (state.measured) p.set("measured", "1");
  const query = p.toString();
  history.replaceState(null, "", query ? `?${query}` : location.pathname);
}

function fillMenu(select, values, chosen) {
  while (select.options.length > 1) select.remove(1);
  for (const [value, label] of values) {
    const o = el("option", "", label);
    o.value = value;
    select.append(o);
  }
  // Several values from the address: the menu cannot show them, the comparison still uses them all.
  select.value = chosen.length === 1 && values.some(([x]) => x === chosen[0]) ? chosen[0] : "";
}

function fillMenus(rows) {
  const index = state.index;
  fillMenu($("family"), (index.families ?? []).map((f) => [f.id, `${f.id}: ${f.title ?? f.id}`]), state.filters.family);
  const seen = (key) => [...new Set([...rows.map((r) => r[key]).filter((x) => typeof x === "string"), ...state.filters[key]])].sort();
  fillMenu($("framework"), seen("framework").map((x) => [x, x]), state.filters.framework);
  fillMenu($("precision"), seen("precision").map((x) => [x, x]), state.filters.precision);
  fillMenu($("scenario"), seen("scenario").map((x) => [x, x]), state.filters.scenario);
  $("source").value = state.filters.source.join(" ");
  $("measured").checked = state.measured;
}

async function predictorFor(labels) {
  if (state.measured) return null;
  const files = {};
  for (const label of labels) {
    const file = await state.source.predictions(label);
    if (file) files[label] = file;
  }
  return Object.keys(files).length ? filePredictor(files) : null;
}

// Loads the two devices' rows (once each) and draws their comparison.
async function update() {
  saveToUrl();
  const token = ++state.token;
  $("error").hidden = true;
  if (!state.a || !state.b) {
    $("status").textContent = "Choose two devices to compare.";
    return;
  }
  const labels = deviceLabels(state.index);
  let pickedA;
  let pickedB;
  try {
    pickedA = resolveLabel(labels, state.a, "A");
    pickedB = resolveLabel(labels, state.b, "B");
  } catch (err) {
    showError(err.message);
    return;
  }
  pickers.a.set(pickedA);
  pickers.b.set(pickedB);
  $("status").textContent = `Loading the results of ${pickedA} and ${pickedB}…`;
  let rows;
  let predictor;
  try {
    const [ra, rb, pr] = await Promise.all([state.source.rows(pickedA), state.source.rows(pickedB), predictorFor([pickedA, pickedB])]);
    rows = ra.concat(rb);
    predictor = pr;
  } catch (err) {
    if (token === state.token) showError(`Could not load the results: ${err.message}`);
    return;
  }
  if (token !== state.token) return;
  performance.mark("dlbench:versus-loaded", { detail: { a: pickedA, b: pickedB, rows: rows.length } });
  const t0 = performance.now();
  let v;
  try {
    v = compareDevices(rows, state.index, state.catalogue, state.a, state.b, filtersOf(), predictor);
  } catch (err) {
    if (err instanceof VersusError) showError(err.message);
    else throw err;
    return;
  }
  const t1 = performance.now();
  window.__versus = v;
  fillMenus(rows);
  renderVersus(v, { predictions: predictor !== null });
  const t2 = performance.now();
  $("status").textContent = `${num(rows.length)} results of the two devices compared.`;
  requestAnimationFrame(() => setTimeout(() => {
    if (token !== state.token) return;
    root.dataset.compared = `${v.a.label}|${v.b.label}`;
    performance.mark("dlbench:versus-drawn", { detail: { compute_ms: t1 - t0, render_ms: t2 - t1, rows: rows.length, pairs: v.workloads.length } });
  }, 0));
}

// The label a name in the address stands for, as compareDevices resolves it (an error names the candidates).
const resolveLabel = (labels, wanted, role) => resolve(labels, wanted, role)[0];

function filtersOf() {
  const f = {};
  for (const [k, key] of Object.entries(FILTER_PARAMS)) f[key] = [...state.filters[k]];
  f.measured_only = state.measured;
  return f;
}

function pickerItems(labels) {
  const items = [...labels].map(([label, count]) => {
    const kind = label.slice(label.lastIndexOf(" (") + 2, -1);
    const catalogue = state.index.devices.find((d) => label.startsWith(`${d.name} (`))?.catalogue_name ?? "";
    return { entry: { name: label, result_count: count }, family: { id: kind, title: KINDS[kind] ?? kind, source: KINDS[kind] ?? kind },
      hay: `${label}\n${catalogue}`.toLowerCase() };
  });
  const order = Object.keys(KINDS);
  const rank = (k) => (order.includes(k) ? order.indexOf(k) : order.length);
  return items.sort((x, y) => rank(x.family.id) - rank(y.family.id) || (x.family.id < y.family.id ? -1 : x.family.id > y.family.id ? 1 : 0) ||
    y.entry.result_count - x.entry.result_count || (x.entry.name < y.entry.name ? -1 : 1));
}

async function main() {
  try {
    state.index = await loadIndex(apiBase);
  } catch (err) {
    showError(`Could not load the results index: ${err.message}`);
    return;
  }
  try {
    const file = state.index.catalogue?.file;
    state.catalogue = file ? await fetchJson(`${apiBase}/${file}`) : { devices: [] };
  } catch (err) {
    showError(`Could not load the device catalogue: ${err.message}`);
    return;
  }
  state.source = deviceRowSource(apiBase, state.index, labelOf);
  const items = pickerItems(deviceLabels(state.index));
  for (const role of ["a", "b"]) {
    pickers[role] = createPicker({
      input: $(`device-${role}`), listbox: $(`device-${role}-list`), count: $(`device-${role}-count`), items, limit: PICKER_LIMIT, noun: "device",
      onChoose: (label) => { state[role] = label; update(); },
    });
    pickers[role].set(state[role]);
  }
  $("swap").addEventListener("click", () => {
    [state.a, state.b] = [state.b, state.a];
    pickers.a.set(state.a);
    pickers.b.set(state.b);
    update();
  });
  for (const k of ["family", "framework", "precision", "scenario"]) {
    $(k).addEventListener("change", () => { state.filters[k] = $(k).value ? [$(k).value] : []; update(); });
  }
  $("source").addEventListener("change", () => { state.filters.source = $("source").value.trim() ? [$("source").value.trim()] : []; update(); });
  $("measured").addEventListener("change", () => { state.measured = $("measured").checked; update(); });
  $("versus-form").addEventListener("submit", (e) => e.preventDefault());
  fillMenus([]);
  await update();
}

main();
