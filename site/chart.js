// The bar chart: the median of one metric per device, drawn as SVG. Device names are inserted as text.
// Only results of one setting are charted together (settings.js): when the matching results mix
// precisions, compile modes, layouts, batch sizes or device counts, the most common setting among them.
import { median, metricValue } from "./format.js";
import { mostCommonSetting } from "./settings.js";

const SVG = "http://www.w3.org/2000/svg";
const BAR_HEIGHT = 22;
const GAP = 6;
const LABEL_WIDTH = 260;
const VALUE_WIDTH = 110;
const WIDTH = 900;
const MAX_LABEL_CHARS = 40;
const AXIS_HEIGHT = 20;

// What the bars measure: the metric's label, with its unit (`metric.unit`, from the index) when known.
export function axisLabel(metric) {
  return `${metric.label}${metric.unit ? ` (${metric.unit})` : ""}`;
}

// Whether a row is a train result on part of its dataset: its figures are of that part, never charted with others.
export const onPart = (row) => row.train_samples !== undefined || row.test_samples !== undefined;

// [{device, median, count}] for rows with status ok and a value of the metric, best first (rows on part of
// their dataset left out).
export function medianByDevice(rows, metric) {
  const values = new Map();
  for (const row of rows) {
    const v = metricValue(row, metric.key);
    if (row.status !== "ok" || v === undefined || onPart(row)) continue;
    if (!values.has(row.device)) values.set(row.device, []);
    values.get(row.device).push(v);
  }
  const out = [...values].map(([device, vs]) => ({ device, median: median(vs), count: vs.length }));
  const sign = metric.better === "higher" ? -1 : 1;
  out.sort((a, b) => sign * (a.median - b.median) || (a.device < b.device ? -1 : 1));
  return out;
}

function el(name, attrs = {}) {
  const node = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  return node;
}

// The rows the chart can draw: ok, with a value of the metric, on a whole dataset; in the rows' order.
export function chartable(rows, metric) {
  return rows.filter((r) => r.status === "ok" && !onPart(r) && metricValue(r, metric.key) !== undefined);
}

export function renderChart(container, caption, rows, metric) {
  container.replaceChildren();
  if (!metric) {
    caption.textContent = "No metric to chart.";
    return;
  }
  const candidates = chartable(rows, metric);
  const setting = mostCommonSetting(candidates);
  const bars = medianByDevice(setting.rows, metric);
  const parts = rows.filter((r) => r.status === "ok" && onPart(r) && metricValue(r, metric.key) !== undefined).length;
  const leftOut = parts ? `${parts} result${parts > 1 ? "s" : ""} on part of a dataset left out of the chart` : "";
  const label = metric.label.toLowerCase();
  caption.textContent = !bars.length
    ? leftOut
      ? `No ok result with ${label} on a whole dataset matches the filters; ${leftOut}.`
      : `No ok result with ${label} matches the filters.`
    : setting.mixed
      ? `Median ${label} per device, ${setting.text} (${setting.rows.length} of ${candidates.length} matching ok ` +
        `results, the most common setting among them; ${metric.better} is better; choose the filters above to ` +
        `chart another setting)` + (leftOut ? `; ${leftOut}` : "")
      : `Median ${label} per device over the matching ok results (${metric.better} is better)` +
        (leftOut ? `; ${leftOut}` : "");
  container.dataset.setting = setting.mixed ? setting.text : "";
  if (!bars.length) return;
  const max = Math.max(...bars.map((b) => b.median)) || 1;
  const height = AXIS_HEIGHT + bars.length * (BAR_HEIGHT + GAP) + GAP;
  const svg = el("svg", { viewBox: `0 0 ${WIDTH} ${height}`, role: "img", "aria-labelledby": "chart-caption" });
  const span = WIDTH - LABEL_WIDTH - VALUE_WIDTH;
  const axis = el("text", { class: "axis-label", x: LABEL_WIDTH, y: AXIS_HEIGHT - 6 });
  axis.textContent = axisLabel(metric);
  svg.append(axis);
  bars.forEach((bar, i) => {
    const y = AXIS_HEIGHT + GAP + i * (BAR_HEIGHT + GAP);
    const g = el("g", { class: "bar-row" });
    g.dataset.device = bar.device;
    const title = el("title");
    title.textContent = `${bar.device}: ${metric.format(bar.median)} (median of ${bar.count})`;
    const label = el("text", { class: "label", x: LABEL_WIDTH - 8, y: y + BAR_HEIGHT / 2, "text-anchor": "end", "dominant-baseline": "middle" });
    label.textContent = bar.device.length > MAX_LABEL_CHARS ? `${bar.device.slice(0, MAX_LABEL_CHARS - 1)}…` : bar.device;
    const w = Math.max(1, (bar.median / max) * span);
    const rect = el("rect", { class: "bar", x: LABEL_WIDTH, y, width: w.toFixed(1), height: BAR_HEIGHT });
    rect.dataset.value = String(bar.median);
    const value = el("text", { class: "value", x: LABEL_WIDTH + w + 6, y: y + BAR_HEIGHT / 2, "dominant-baseline": "middle" });
    value.textContent = metric.format(bar.median);
    g.append(title, label, rect, value);
    svg.append(g);
  });
  container.append(svg);
}
