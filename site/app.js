// The results page: wires the filters, the table and the chart to the sharded JSON API.
import { fetchJson, loadIndex, loadWorkload } from "./api.js";
import { renderChart } from "./chart.js";
import { MLPERF_NOTE, familyOf, prepare } from "./families.js";
import { metricsIn } from "./format.js";
import { createPicker } from "./picker.js";
import { SETTINGS, matcher, valuesOf, varies } from "./settings.js";
import { attributionText, renderNotes, sourceNotes } from "./sources.js";
import { renderSweeps } from "./sweep.js";
import { columnsFor, renderBody, renderHead, sortRows } from "./table.js";

const MAX_TABLE_ROWS = 1000;
// Rows drawn at once; the others follow after the first paint, CHUNK_ROWS at a time (a table lays out
// again whole at each chunk: few big chunks cost less than many small ones).
const FIRST_ROWS = 100;
const CHUNK_ROWS = 1000;
const PICKER_LIMIT = 50; // matches the workload picker lists at most
const $ = (id) => document.getElementById(id);

const app = $("app");
const params = new URLSearchParams(location.search);
const apiBase = (params.get("api") || app.dataset.api || "data/api/v1").replace(/\/+$/, "");
const ctx = { repo: params.get("repo") || app.dataset.repo || "" };
const controls = { workload: $("workload"), framework: $("framework"), device: $("device"), status: $("status"), metric: $("metric"), hideOutliers: $("hide-outliers"), curve: $("sweep-curve") };
const state = { index: null, families: new Map(), workload: "", rows: [], columns: [], metrics: new Map(), sort: { key: params.get("sort") || "", dir: params.get("dir") === "desc" ? "desc" : "asc" }, loading: 0, drawing: 0 };
const cache = new Map();
// The setting filters (site/settings.js), by their key in the address: precision, compile, layout, batch, devices.
const settingMenus = new Map(SETTINGS.map((s) => [s.param, $(s.param)]));
// Used by the first load only
const initial = { framework: params.get("framework"), metric: params.get("metric"), ...Object.fromEntries(SETTINGS.map((s) => [s.param, params.get(s.param)])) };
let picker = null;

function option(select, value, label) {
  const o = document.createElement("option");
  o.value = value;
  o.textContent = label;
  select.append(o);
}

// Selects `value` if the menu offers it (a value it lacks would leave the menu blank).
function choose(select, value) {
  if ([...select.options].some((o) => o.value === value)) select.value = value;
}

function setOptions(select, values, keepFirst, wanted) {
  while (select.options.length > (keepFirst ? 1 : 0)) select.remove(select.options.length - 1);
  for (const [value, label] of values) option(select, value, label);
  choose(select, wanted);
}

function showError(message) {
  $("error").hidden = false;
  $("error").textContent = message;
  $("summary").textContent = "";
}

// The values chosen in the setting filters: {param: value, "" for all}.
function chosenSettings() {
  return Object.fromEntries([...settingMenus].map(([param, menu]) => [param, menu.value]));
}

// Fills the setting filters with the values of the workload's rows: a filter is shown only when the rows
// differ on it. A choice is kept from the address (first load) or from the workload shown before when the
// new one offers it, else the filter is reset to all.
function fillSettings(rows) {
  for (const setting of SETTINGS) {
    const menu = settingMenus.get(setting.param);
    const values = valuesOf(rows, setting);
    const shown = values.length > 1;
    setOptions(menu, shown ? values : [], true, initial[setting.param] ?? menu.value);
    if (!shown) menu.value = "";
    menu.closest("label").hidden = !shown;
    initial[setting.param] = null;
  }
}

function filtered() {
  const framework = controls.framework.value;
  const status = controls.status.value;
  const device = controls.device.value.trim().toLowerCase();
  const hideOutliers = controls.hideOutliers.checked;
  const inSetting = matcher(chosenSettings());
  return state.rows.filter(
    (r) =>
      (!framework || r.framework === framework) &&
      inSetting(r) &&
      (!status || r.status === status) &&
      (!device || String(r.device).toLowerCase().includes(device)) &&
      !(hideOutliers && r.outlier === true),
  );
}

// The rule of the outlier and corroboration columns, in words, from the index (docs/api.md).
function describeRule(rule) {
  if (!rule) return "";
  return `An outlier lies more than ${rule.k} × ${rule.mad_scale} median absolute deviations from the median of ` +
    `the ok results of its device and setting (groups of ${rule.min_group} or more; “not judged” in smaller ones). ` +
    `“Corroborated by” counts the independent runs (another commit or contributor, or another source) within ` +
    `${rule.margin * 100} % of a result. Both are read on the workload’s headline metric.`;
}

function saveToUrl() {
  const p = new URLSearchParams(location.search);
  const values = { workload: state.workload, framework: controls.framework.value, device: controls.device.value, status: controls.status.value, ...chosenSettings(), metric: controls.metric.value, outliers: controls.hideOutliers.checked ? "hide" : "", curve: controls.curve.value === "throughput" ? "" : controls.curve.value, sort: state.sort.key, dir: state.sort.key ? state.sort.dir : "" };
  for (const [k, v] of Object.entries(values)) v ? p.set(k, v) : p.delete(k);
  const query = p.toString();
  history.replaceState(null, "", query ? `?${query}` : location.pathname);
}

// Draws `rows` in the table: the first FIRST_ROWS at once (a screenful and more), and once they are on
// screen (`shown()` is then called) the others, so a big workload's table appears at once. A later call
// stops the chunks of an earlier one.
function drawRows(rows, shown) {
  const token = ++state.drawing;
  const table = $("results");
  table.dataset.complete = "false";
  renderBody(table, rows.slice(0, FIRST_ROWS), state.columns, ctx);
  let next = FIRST_ROWS;
  const more = () => {
    if (token !== state.drawing) return;
    if (next < rows.length) {
      renderBody(table, rows.slice(next, next + CHUNK_ROWS), state.columns, ctx, true);
      next += CHUNK_ROWS;
      setTimeout(more, 0);
    } else {
      table.dataset.complete = "true";
      performance.mark("dlbench:table-complete", { detail: { workload: state.workload, shown: table.tBodies[0].rows.length } });
    }
  };
  // After the next frame is painted: the first rows are visible.
  requestAnimationFrame(() => setTimeout(() => {
    if (token !== state.drawing) return;
    shown?.();
    more();
  }, 0));
}

function update(shown) {
  const rows = filtered();
  const column = state.columns.find((c) => c.key === state.sort.key && c.sortable !== false);
  const sorted = sortRows(rows, column, state.sort.dir);
  renderHead($("results"), state.columns, state.sort, onSort);
  drawRows(sorted.slice(0, MAX_TABLE_ROWS), shown);
  renderChart($("chart"), $("chart-caption"), rows, state.metrics.get(controls.metric.value));
  renderSweeps($("sweep-figure"), $("sweep"), $("sweep-caption"), rows, controls.curve.value);
  const workload = state.workload;
  $("summary").textContent = `${rows.length} of ${state.rows.length} results of ${workload} match the filters.`;
  const truncated = $("truncated");
  truncated.hidden = sorted.length <= MAX_TABLE_ROWS;
  truncated.textContent = `The table shows the first ${MAX_TABLE_ROWS} of ${sorted.length} matching results: narrow the filters to see the others.`;
  saveToUrl();
}

function onSort(key) {
  state.sort = state.sort.key === key ? { key, dir: state.sort.dir === "asc" ? "desc" : "asc" } : { key, dir: "asc" };
  update();
  $("results").querySelector(`th[data-key="${key}"] button`)?.focus(); // the header was redrawn: keep focus on it
}

// The metric a workload is read on by default: the index's `headline_metric`, else the metric its rows are
// judged on (`outlier_metric`: the same headline, in indexes that predate `headline_metric`), else the
// first metric the rows have. The headline's definition takes the unit and direction the index states.
function readMetrics(entry, rows) {
  const metrics = metricsIn(rows);
  const named = [entry.headline_metric, entry.outlier_metric].find((k) => k && metrics.some((m) => m.key === k));
  const headline = named ?? metrics[0]?.key;
  const defs = metrics.map((m) => {
    if (m.key !== headline) return m;
    const better = typeof entry.higher_is_better === "boolean" ? (entry.higher_is_better ? "higher" : "lower") : m.better;
    return { ...m, better, unit: typeof entry.unit === "string" && entry.unit ? entry.unit : sourceUnit(rows, m.key), headline: true };
  });
  return { defs, headline };
}

// The unit every row's source states for a metric (the rows' `units`, such as "images/s"), when they agree.
function sourceUnit(rows, key) {
  const said = new Set(rows.map((r) => (r.units && typeof r.units[key] === "string" ? r.units[key] : "")));
  const [only] = said;
  return said.size === 1 && only ? only : undefined;
}

// What the chosen workload is and whose protocol it follows; the note MLPerf workloads carry.
function describeWorkload(entry, family) {
  const facts = [entry.model && `model ${entry.model}`, entry.scenario && `scenario ${entry.scenario}`].filter(Boolean);
  $("workload-about").textContent = `${entry.name}: ${family.title} (${family.source})` + (facts.length ? `; ${facts.join(", ")}` : "") + ".";
  const note = $("namespace-note");
  const text = family.namespace === "mlperf" ? MLPERF_NOTE : family.note ?? "";
  note.hidden = !text;
  note.textContent = text;
}

async function selectWorkload(name) {
  const workload = state.index.workloads.find((w) => w.name === name);
  const family = familyOf(workload, state.families);
  const token = ++state.loading;
  state.workload = name;
  picker.set(name);
  $("error").hidden = true;
  $("summary").textContent = `Loading ${name}…`;
  describeWorkload(workload, family);
  if (!cache.has(name)) {
    cache.set(name, loadWorkload(apiBase, workload, (done, total) => {
      if (token === state.loading && total > 1) $("summary").textContent = `Loading ${name}: part ${done} of ${total}…`;
    }));
  }
  let rows;
  try {
    rows = await cache.get(name);
  } catch (err) {
    cache.delete(name);
    showError(`Could not load ${name}: ${err.message}`);
    return;
  }
  if (token !== state.loading) return; // another workload was selected meanwhile
  const { defs, headline } = readMetrics(workload, rows);
  state.rows = rows;
  state.metrics = new Map(defs.map((m) => [m.key, m]));
  const mlperf = family.namespace === "mlperf";
  ctx.resultId = mlperf;
  ctx.sources = sourceNotes(rows);
  renderNotes($("sources"), $("source-notes"), ctx.sources.notes);
  const judged = rows.some((r) => r.corroborated_by !== undefined);
  state.columns = columnsFor(defs, judged ? { metric: workload.outlier_metric, rule: state.index.outlier_rule } : null, {
    headline,
    resultId: mlperf,
    license: ctx.sources.notes.length > 0,
    deviceCount: rows.some((r) => r.device_count !== undefined && r.device_count !== 1),
    compile: varies(rows, SETTINGS.find((s) => s.param === "compile")),
    layout: varies(rows, SETTINGS.find((s) => s.param === "layout")),
    globalBatch: rows.some((r) => Number.isInteger(r.global_batch_size)),
    energy: rows.some((r) => r.energy && typeof r.energy === "object"),
  });
  fillSettings(rows);
  const frameworks = [...new Set(rows.map((r) => r.framework))].sort();
  setOptions(controls.framework, frameworks.map((f) => [f, f]), true, initial.framework ?? controls.framework.value);
  setOptions(controls.metric, defs.map((m) => [m.key, m.headline ? `${m.label} (headline)` : m.label]), false, initial.metric ?? headline);
  initial.framework = initial.metric = null;
  update(() => {
    // On screen: markers for scripts that time the page (benchmarks/page_load.py), from navigation start.
    $("results").dataset.workload = name;
    performance.mark("dlbench:table-drawn", { detail: { workload: name, results: rows.length, shown: $("results").tBodies[0].rows.length } });
  });
}

// The device catalogue's attribution (devices.json `attribution`), fetched after the first table is drawn.
async function showCatalogueAttribution() {
  const file = state.index.catalogue?.file;
  if (!file) return;
  let catalogue;
  try {
    catalogue = await fetchJson(`${apiBase}/${file}`);
  } catch {
    return; // the results do not depend on it
  }
  const text = attributionText(catalogue.attribution);
  if (!text) return;
  const p = $("catalogue-attribution");
  p.textContent = `Device catalogue: ${text}`;
  p.hidden = false;
}

async function main() {
  try {
    state.index = await loadIndex(apiBase);
  } catch (err) {
    showError(`Could not load the results index: ${err.message}`);
    return;
  }
  const workloads = state.index.workloads;
  if (!workloads.length) {
    $("summary").textContent = "No results have been merged yet.";
    return;
  }
  // The workload with the most results is shown first, unless the address names another.
  const biggest = workloads.reduce((a, b) => (b.result_count > a.result_count ? b : a)).name;
  const named = params.get("workload");
  state.families = new Map((state.index.families ?? []).map((f) => [f.id, f]));
  picker = createPicker({
    input: controls.workload,
    listbox: $("workload-list"),
    count: $("workload-count"),
    items: prepare(workloads, state.index.families ?? []),
    limit: PICKER_LIMIT,
    onChoose: selectWorkload,
  });
  controls.device.value = params.get("device") || "";
  choose(controls.status, params.get("status"));
  controls.hideOutliers.checked = params.get("outliers") === "hide";
  choose(controls.curve, params.get("curve"));
  $("outlier-rule").textContent = describeRule(state.index.outlier_rule);
  for (const name of ["framework", "status", "metric", "hideOutliers", "curve"]) controls[name].addEventListener("change", () => update());
  for (const menu of settingMenus.values()) menu.addEventListener("change", () => update());
  controls.device.addEventListener("input", () => update());
  $("filters").addEventListener("submit", (e) => e.preventDefault());
  await selectWorkload(workloads.some((w) => w.name === named) ? named : biggest);
  await showCatalogueAttribution();
}

main();
