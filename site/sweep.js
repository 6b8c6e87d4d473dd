// Batch-size sweeps (results of `runners/run.py --batch-sweep`; the rows' `batch_sweep`, docs/api.md): the
// throughput or the peak memory of every batch a sweep tried, against the batch size, one line per device.
// Only sweeps of one setting (precision, compile mode, layout, device count; the batch size is what a sweep
// varies) are drawn together: the most common among the matching rows. Device names are inserted as text.
import { formatBytes } from "./format.js";
import { NOT_STATED, SETTINGS } from "./settings.js";

const SVG = "http://www.w3.org/2000/svg";
const WIDTH = 900;
const HEIGHT = 340;
const LEFT = 80;
const RIGHT = 260;   // the legend
const TOP = 16;
const BOTTOM = 44;
const COLORS = ["#2f6fb3", "#d1495b", "#2e8b57", "#b7791f", "#7b4fa0", "#00798c", "#8c564b", "#555"];
const MAX_LABEL_CHARS = 30;

const grouped = new Intl.NumberFormat("en-US", { maximumSignificantDigits: 4 });
const isNumber = (v) => typeof v === "number" && Number.isFinite(v);

// What a curve can show of a point: its throughput, or its peak memory (the device's, else the host's).
export const CURVES = {
  throughput: { label: "Throughput (samples/s)", value: (p) => p.throughput_samples_per_s, format: (v) => grouped.format(v), step: (max) => niceStep(max) },
  memory: { label: "Peak memory (device, else host)", value: (p) => (isNumber(p.peak_device_bytes) ? p.peak_device_bytes : p.peak_host_rss_bytes), format: formatBytes,
    step: (max) => { const unit = max >= 2 ** 30 ? 2 ** 30 : 2 ** 20; return niceStep(max / unit) * unit; } },
};

const SWEEP_SETTINGS = SETTINGS.filter((s) => s.param !== "batch");
const keyOf = (row) => SWEEP_SETTINGS.map((s) => s.of(row)).join("\u0000");
const hasSweep = (row) => row.batch_sweep && typeof row.batch_sweep === "object" && Array.isArray(row.batch_sweep.points);

// The lines to draw for `rows` (the matching rows, in the workload's order): the sweeps of the most common
// setting among those that have one (ties to the earliest), each device's latest (last in merge order).
// {lines: [{device, row, points: [{batch, status, point}] in batch order}] by device name, text: the setting
// in words, mixed: whether the sweeps mix settings}.
export function sweepLines(rows) {
  const groups = new Map();
  for (const row of rows) {
    if (!hasSweep(row)) continue;
    const key = keyOf(row);
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key).push(row);
  }
  let best = null;
  for (const group of groups.values()) if (!best || group.length > best.length) best = group;
  if (!best) return { lines: [], text: "", mixed: false };
  const latest = new Map();
  for (const row of best) latest.set(row.device, row);
  const lines = [...latest.values()].map((row) => ({
    device: row.device,
    row,
    points: row.batch_sweep.points.filter((p) => p && Number.isInteger(p.batch_size))
      .map((p, i) => ({ batch: p.batch_size, status: p.status, tried: i + 1, point: p }))
      .sort((a, b) => a.batch - b.batch || a.tried - b.tried),
  }));
  lines.sort((a, b) => (a.device < b.device ? -1 : a.device > b.device ? 1 : 0));
  const said = SWEEP_SETTINGS.filter((s) => best.some((r) => s.of(r) !== NOT_STATED));
  const text = said.map((s) => (s.of(best[0]) === NOT_STATED ? `${s.label.toLowerCase()} not stated` : s.caption(s.of(best[0])))).join(", ");
  return { lines, text, mixed: groups.size > 1 };
}

// A round step (1, 2 or 5 times a power of ten) for about four ticks up to `max`.
function niceStep(max) {
  const raw = max / 4;
  const base = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 5, 10].map((m) => m * base).find((s) => s >= raw);
}

function el(name, attrs = {}) {
  const node = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  return node;
}

function text(parent, attrs, content) {
  const t = el("text", attrs);
  t.textContent = content;
  parent.append(t);
  return t;
}

// Draws the sweeps of `rows` in `container` (hiding `figure` when there is none), the curve `curveKey` of CURVES.
export function renderSweeps(figure, container, caption, rows, curveKey) {
  container.replaceChildren();
  const curve = CURVES[curveKey] ?? CURVES.throughput;
  const { lines, text: setting, mixed } = sweepLines(rows);
  figure.hidden = !lines.length;
  if (!lines.length) return;
  const notes = [setting, `each device's latest sweep${mixed ? " of the most common setting among the matching sweeps" : ""}`,
    "× marks a batch that ran out of memory or failed"].filter(Boolean);
  caption.textContent = `Batch-size sweeps: ${curve.label.toLowerCase()} against the batch size, one line per device ` +
    `(${notes.join("; ")})`;
  const batches = lines.flatMap((l) => l.points.map((p) => p.batch));
  const values = lines.flatMap((l) => l.points.filter((p) => p.status === "ok").map((p) => curve.value(p.point)).filter(isNumber));
  const lo = Math.log2(Math.min(...batches));
  const hi = Math.max(Math.log2(Math.max(...batches)), lo + 1);
  const step = curve.step(Math.max(0, ...values) || 1);
  const top = Math.max(step, Math.ceil(((Math.max(0, ...values) || 1) * 1.02) / step) * step);
  const plotW = WIDTH - LEFT - RIGHT;
  const plotH = HEIGHT - TOP - BOTTOM;
  const x = (b) => LEFT + ((Math.log2(b) - lo) / (hi - lo)) * plotW;
  const y = (v) => TOP + plotH - (v / top) * plotH;
  const svg = el("svg", { viewBox: `0 0 ${WIDTH} ${HEIGHT}`, role: "img", "aria-labelledby": "sweep-caption" });
  svg.append(el("line", { class: "axis", x1: LEFT, y1: TOP + plotH, x2: LEFT + plotW, y2: TOP + plotH }));
  svg.append(el("line", { class: "axis", x1: LEFT, y1: TOP, x2: LEFT, y2: TOP + plotH }));
  for (let e = Math.ceil(lo); e <= Math.floor(hi); e++) {
    text(svg, { class: "tick", x: x(2 ** e), y: TOP + plotH + 16, "text-anchor": "middle" }, String(2 ** e));
  }
  for (let v = 0; v <= top * (1 + 1e-9); v += step) {
    text(svg, { class: "tick", x: LEFT - 6, y: y(v), "text-anchor": "end", "dominant-baseline": "middle" }, curve.format(v));
  }
  text(svg, { class: "axis-label", x: LEFT + plotW / 2, y: HEIGHT - 6, "text-anchor": "middle" }, "batch size per device (log scale)");
  text(svg, { class: "axis-label", x: LEFT, y: TOP - 4 }, curve.label);
  lines.forEach((line, i) => {
    const color = COLORS[i % COLORS.length];
    const g = el("g", { class: "sweep-line", stroke: color, fill: color });
    g.dataset.device = line.device;
    const title = el("title");
    const fit = line.row.batch_sweep.largest_fit;
    title.textContent = `${line.device}: largest batch that fits ${Number.isInteger(fit) ? fit : "none"}`;
    g.append(title);
    const ok = line.points.filter((p) => p.status === "ok" && isNumber(curve.value(p.point)));
    g.append(el("polyline", { class: "sweep-path", fill: "none", points: ok.map((p) => `${x(p.batch).toFixed(1)},${y(curve.value(p.point)).toFixed(1)}`).join(" ") }));
    for (const p of ok) {
      const dot = el("circle", { class: "sweep-point", cx: x(p.batch).toFixed(1), cy: y(curve.value(p.point)).toFixed(1), r: 3.5 });
      dot.dataset.batch = String(p.batch);
      dot.dataset.value = String(curve.value(p.point));
      const tip = el("title");
      tip.textContent = `${line.device}, batch ${p.batch}: ${curve.format(curve.value(p.point))}`;
      dot.append(tip);
      g.append(dot);
    }
    for (const p of line.points.filter((q) => q.status !== "ok")) {
      const cx = x(p.batch);
      const cy = TOP + plotH;
      const cross = el("path", { class: "sweep-fail", d: `M${(cx - 4).toFixed(1)},${cy - 4} l8,8 m0,-8 l-8,8`, "stroke-width": 2 });
      cross.dataset.batch = String(p.batch);
      cross.dataset.status = String(p.status);
      const tip = el("title");
      tip.textContent = `${line.device}, batch ${p.batch}: ${p.status}${p.point.message ? ` (${p.point.message})` : ""}`;
      cross.append(tip);
      g.append(cross);
    }
    const ly = TOP + 8 + i * 20;
    g.append(el("rect", { class: "swatch", x: WIDTH - RIGHT + 16, y: ly - 6, width: 12, height: 12, stroke: "none" }));
    const name = line.device.length > MAX_LABEL_CHARS ? `${line.device.slice(0, MAX_LABEL_CHARS - 1)}…` : line.device;
    text(g, { class: "legend", x: WIDTH - RIGHT + 34, y: ly, "dominant-baseline": "middle", stroke: "none" },
      `${name}${Number.isInteger(fit) ? `: fits ${fit}` : ""}`);
    svg.append(g);
  });
  container.append(svg);
}
