// The results page: wires the filters, the table and the chart to the sharded JSON API.
import { loadIndex, loadWorkload } from "./api.js";
import { renderChart } from "./chart.js";
import { METRIC_BY_KEY, metricsIn } from "./format.js";
import { columnsFor, renderBody, renderHead, sortRows } from "./table.js";

const MAX_TABLE_ROWS = 1000;
const $ = (id) => document.getElementById(id);

const app = $("app");
const params = new URLSearchParams(location.search);
const apiBase = (params.get("api") || app.dataset.api || "data/api/v1").replace(/\/+$/, "");
const ctx = { repo: params.get("repo") || app.dataset.repo || "" };
const controls = { workload: $("workload"), framework: $("framework"), device: $("device"), status: $("status"), metric: $("metric"), hideOutliers: $("hide-outliers") };
const state = { index: null, rows: [], columns: [], sort: { key: params.get("sort") || "", dir: params.get("dir") === "desc" ? "desc" : "asc" }, loading: 0 };
const cache = new Map();
const initial = { framework: params.get("framework"), metric: params.get("metric") }; // used by the first load only

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

function filtered() {
  const framework = controls.framework.value;
  const status = controls.status.value;
  const device = controls.device.value.trim().toLowerCase();
  const hideOutliers = controls.hideOutliers.checked;
  return state.rows.filter(
    (r) =>
      (!framework || r.framework === framework) &&
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
  const values = { workload: controls.workload.value, framework: controls.framework.value, device: controls.device.value, status: controls.status.value, metric: controls.metric.value, outliers: controls.hideOutliers.checked ? "hide" : "", sort: state.sort.key, dir: state.sort.key ? state.sort.dir : "" };
  for (const [k, v] of Object.entries(values)) v ? p.set(k, v) : p.delete(k);
  const query = p.toString();
  history.replaceState(null, "", query ? `?${query}` : location.pathname);
}

function update() {
  const rows = filtered();
  const column = state.columns.find((c) => c.key === state.sort.key && c.sortable !== false);
  const sorted = sortRows(rows, column, state.sort.dir);
  renderHead($("results"), state.columns, state.sort, onSort);
  renderBody($("results"), sorted.slice(0, MAX_TABLE_ROWS), state.columns, ctx);
  renderChart($("chart"), $("chart-caption"), rows, METRIC_BY_KEY.get(controls.metric.value));
  const workload = controls.workload.value;
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

async function selectWorkload(name) {
  const workload = state.index.workloads.find((w) => w.name === name);
  const token = ++state.loading;
  $("error").hidden = true;
  $("summary").textContent = `Loading ${name}…`;
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
  const metrics = metricsIn(rows);
  state.rows = rows;
  const judged = rows.some((r) => r.corroborated_by !== undefined);
  state.columns = columnsFor(metrics, judged ? { metric: workload.outlier_metric, rule: state.index.outlier_rule } : null);
  const frameworks = [...new Set(rows.map((r) => r.framework))].sort();
  setOptions(controls.framework, frameworks.map((f) => [f, f]), true, initial.framework ?? controls.framework.value);
  const wantedMetric = initial.metric ?? (controls.metric.value || metrics[0]?.key);
  setOptions(controls.metric, metrics.map((m) => [m.key, m.label]), false, wantedMetric);
  initial.framework = initial.metric = null;
  update();
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
  setOptions(controls.workload, workloads.map((w) => [w.name, `${w.name} (${w.result_count} results)`]), false, params.get("workload") || biggest);
  controls.device.value = params.get("device") || "";
  choose(controls.status, params.get("status"));
  controls.hideOutliers.checked = params.get("outliers") === "hide";
  $("outlier-rule").textContent = describeRule(state.index.outlier_rule);
  controls.workload.addEventListener("change", () => selectWorkload(controls.workload.value));
  for (const name of ["framework", "status", "metric", "hideOutliers"]) controls[name].addEventListener("change", update);
  controls.device.addEventListener("input", update);
  $("filters").addEventListener("submit", (e) => e.preventDefault());
  await selectWorkload(controls.workload.value);
}

main();
