// Metric definitions and how values are shown. Pure functions: no DOM.

const BYTES_PER_MIB = 2 ** 20;
const BYTES_PER_GIB = 2 ** 30;

// One formatter per format: `toLocaleString` with options builds a new one on every call (slow on big tables).
function fixed(digits) {
  const f = new Intl.NumberFormat("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
  return (v) => f.format(v);
}

export function formatBytes(v) {
  if (v >= BYTES_PER_GIB) return `${(v / BYTES_PER_GIB).toFixed(2)} GiB`;
  return `${(v / BYTES_PER_MIB).toFixed(1)} MiB`;
}

// A number with an SI prefix: 1.2e14 FLOP/s -> "120.0 TFLOP/s".
function scaled(unit) {
  return (v) => {
    const prefixes = [[1e15, "P"], [1e12, "T"], [1e9, "G"], [1e6, "M"], [1e3, "k"]];
    const [f, p] = prefixes.find(([f]) => Math.abs(v) >= f) ?? [1, ""];
    return `${(v / f).toFixed(1)} ${p}${unit}`;
  };
}

// A value of a metric the page does not know: up to four significant digits, grouped.
const generalFormat = new Intl.NumberFormat("en-US", { maximumSignificantDigits: 4 });
function general(v) {
  return generalFormat.format(v);
}

function percent(v) {
  return `${(v * 100).toFixed(2)} %`;
}

// Every scalar metric the page knows, in the order the table and the chart menu list them.
// `table`: shown as a table column when any loaded row has it; `better`: which way is better;
// `derive`: computed from the row's other metrics (as dlbench/store/metrics.py derives it).
export const METRICS = [
  { key: "total_s", label: "Total (s)", format: fixed(2), better: "lower", table: true },
  { key: "compute_s", label: "Compute (s)", format: fixed(2), better: "lower", table: true },
  { key: "throughput_samples_per_s", label: "Samples/s", format: fixed(0), better: "higher", table: true },
  { key: "throughput_tokens_per_s", label: "Tokens/s", format: fixed(0), better: "higher", table: true },
  { key: "throughput_queries_per_s", label: "Queries/s", format: fixed(2), better: "higher", table: true },
  { key: "latency_ms", label: "Latency (ms)", format: fixed(3), better: "lower", table: true },
  { key: "accuracy", label: "Accuracy", format: percent, better: "higher", table: true },
  { key: "forward_backward_ms", label: "Forward + backward (ms)", format: fixed(2), better: "lower", table: true,
    derive: (m) => (isNumber(m.forward_ms) && isNumber(m.backward_ms) ? m.forward_ms + m.backward_ms : undefined) },
  { key: "forward_ms", label: "Forward (ms)", format: fixed(2), better: "lower", table: true },
  { key: "backward_ms", label: "Backward (ms)", format: fixed(2), better: "lower", table: true },
  { key: "step_ms", label: "Step (ms)", format: fixed(2), better: "lower", table: true },
  { key: "peak_device_allocated_bytes", label: "Peak device mem.", format: formatBytes, better: "lower", table: true },
  { key: "peak_host_rss_bytes", label: "Peak host mem.", format: formatBytes, better: "lower", table: true },
  // Capacity, several devices and energy (dlbench/store/metrics.py says how each is read).
  { key: "largest_fitting_batch", label: "Largest batch that fits", format: (v) => String(v), better: "higher", table: true },
  { key: "memory_per_sample_bytes", label: "Memory per sample", format: (v) => (v >= BYTES_PER_MIB ? formatBytes(v) : `${(v / 1024).toFixed(1)} KiB`),
    better: "lower", table: true },
  { key: "scaling_efficiency", label: "Scaling efficiency", format: fixed(3), better: "higher", table: true },
  { key: "energy_j", label: "Energy (J)", format: general, better: "lower", table: true },
  { key: "average_power_w", label: "Average power (W)", format: fixed(1), better: "lower", table: true },
  { key: "samples_per_joule", label: "Samples/J", format: general, better: "higher", table: true },
  { key: "load_s", label: "Load (s)", format: fixed(2), better: "lower" },
  { key: "eval_s", label: "Evaluation (s)", format: fixed(2), better: "lower" },
  { key: "inference_load_s", label: "Inference load (s)", format: fixed(3), better: "lower" },
  { key: "inference_predict_s", label: "Inference predict (s)", format: fixed(3), better: "lower" },
  { key: "optimizer_ms", label: "Optimizer (ms)", format: fixed(2), better: "lower" },
  { key: "loss", label: "Loss", format: fixed(4), better: "lower" },
  { key: "achieved_flops_per_s", label: "Achieved FLOP/s", format: scaled("FLOP/s"), better: "higher" },
  { key: "bandwidth_bytes_per_s", label: "Bandwidth", format: scaled("B/s"), better: "higher" },
  { key: "peak_device_reserved_bytes", label: "Peak device reserved", format: formatBytes, better: "lower" },
  { key: "peak_device_used_bytes", label: "Peak device used", format: formatBytes, better: "lower" },
  // Fractions of the device's peak: joined with the device catalogue when the API is generated, so they
  // are keys of the row itself, not of `metrics` (docs/api.md, "Fractions of peak").
  { key: "peak_fraction_catalogue", label: "Of peak (catalogue)", format: percent, better: "higher", table: true, row: true },
  { key: "peak_fraction_measured", label: "Of peak (measured)", format: percent, better: "higher", table: true, row: true },
  { key: "bandwidth_fraction_catalogue", label: "Of peak bandwidth", format: percent, better: "higher", table: true, row: true },
];

export const METRIC_BY_KEY = new Map(METRICS.map((m) => [m.key, m]));

const isNumber = (v) => typeof v === "number" && Number.isFinite(v);

// A metric the page has no definition of (a new source's, e.g. `latency_p99_ms`): its key as its label,
// which way is better guessed from its name (a rate is better higher, a duration lower) unless told.
export function genericMetric(key) {
  const better = /_per_s$|accuracy|fraction/.test(key) ? "higher" : "lower";
  return { key, label: key, format: general, better, generic: true };
}

export function metricDef(key) {
  return METRIC_BY_KEY.get(key) ?? genericMetric(key);
}

export function metricValue(row, key) {
  const def = METRIC_BY_KEY.get(key);
  let v;
  if (def?.row) v = row[key];
  else if (row.metrics) v = row.metrics[key] ?? (def?.derive ? def.derive(row.metrics) : undefined);
  return isNumber(v) ? v : undefined;
}

// The metrics at least one of the rows has a value of: the known ones in METRICS order, then any other
// numeric metric of the rows by key (charted, not a table column unless it is the headline). One pass
// over the rows: a workload may have tens of thousands.
export function metricsIn(rows) {
  const found = new Set();
  const rowKeys = METRICS.filter((m) => m.row).map((m) => m.key);
  for (const r of rows) {
    const m = r.metrics;
    if (m) {
      for (const k in m) if (!found.has(k) && isNumber(m[k])) found.add(k);
    }
    for (const k of rowKeys) if (!found.has(k) && isNumber(r[k])) found.add(k);
  }
  const known = METRICS.filter((m) =>
    m.derive ? found.has("forward_ms") && found.has("backward_ms") && rows.some((r) => metricValue(r, m.key) !== undefined)
      : found.has(m.key));
  const others = [...found].filter((k) => !METRIC_BY_KEY.has(k)).sort().map(genericMetric);
  return [...known, ...others];
}

export function median(values) {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

// A command line as a shell would show it: arguments with unusual characters in single quotes.
export function shellJoin(args) {
  return args.map((a) => (/^[A-Za-z0-9_@%+=:,./-]+$/.test(a) ? a : `'${a.replaceAll("'", "'\\''")}'`)).join(" ");
}

// Only http(s) addresses become links; anything else (javascript:, data:) is shown as text.
export function safeHttpUrl(text) {
  try {
    const url = new URL(text);
    return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
  } catch {
    return null;
  }
}

export function commitUrl(repo, sha) {
  if (!/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/.test(repo || "") || !/^[0-9a-f]{40}([0-9a-f]{24})?$/.test(sha || "")) {
    return null;
  }
  return `https://github.com/${repo}/commit/${sha}`;
}
