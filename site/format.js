// Metric definitions and how values are shown. Pure functions: no DOM.

const BYTES_PER_MIB = 2 ** 20;
const BYTES_PER_GIB = 2 ** 30;

function fixed(digits) {
  return (v) => v.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

export function formatBytes(v) {
  if (v >= BYTES_PER_GIB) return `${(v / BYTES_PER_GIB).toFixed(2)} GiB`;
  return `${(v / BYTES_PER_MIB).toFixed(1)} MiB`;
}

function percent(v) {
  return `${(v * 100).toFixed(2)} %`;
}

// Every scalar metric the page knows, in the order the table and the chart menu list them.
// `table`: shown as a table column when any loaded row has it; `better`: which way is better.
export const METRICS = [
  { key: "total_s", label: "Total (s)", format: fixed(2), better: "lower", table: true },
  { key: "compute_s", label: "Compute (s)", format: fixed(2), better: "lower", table: true },
  { key: "throughput_samples_per_s", label: "Samples/s", format: fixed(0), better: "higher", table: true },
  { key: "accuracy", label: "Accuracy", format: percent, better: "higher", table: true },
  { key: "forward_ms", label: "Forward (ms)", format: fixed(2), better: "lower", table: true },
  { key: "backward_ms", label: "Backward (ms)", format: fixed(2), better: "lower", table: true },
  { key: "peak_device_allocated_bytes", label: "Peak device mem.", format: formatBytes, better: "lower", table: true },
  { key: "peak_host_rss_bytes", label: "Peak host mem.", format: formatBytes, better: "lower", table: true },
  { key: "load_s", label: "Load (s)", format: fixed(2), better: "lower" },
  { key: "eval_s", label: "Evaluation (s)", format: fixed(2), better: "lower" },
  { key: "inference_load_s", label: "Inference load (s)", format: fixed(3), better: "lower" },
  { key: "inference_predict_s", label: "Inference predict (s)", format: fixed(3), better: "lower" },
  { key: "loss", label: "Loss", format: fixed(4), better: "lower" },
  { key: "peak_device_reserved_bytes", label: "Peak device reserved", format: formatBytes, better: "lower" },
  { key: "peak_device_used_bytes", label: "Peak device used", format: formatBytes, better: "lower" },
  // Fractions of the device's peak: joined with the device catalogue when the API is generated, so they
  // are keys of the row itself, not of `metrics` (docs/api.md, "Fractions of peak").
  { key: "peak_fraction_catalogue", label: "Of peak (catalogue)", format: percent, better: "higher", table: true, row: true },
  { key: "peak_fraction_measured", label: "Of peak (measured)", format: percent, better: "higher", table: true, row: true },
  { key: "bandwidth_fraction_catalogue", label: "Of peak bandwidth", format: percent, better: "higher", table: true, row: true },
];

export const METRIC_BY_KEY = new Map(METRICS.map((m) => [m.key, m]));

export function metricValue(row, key) {
  const v = METRIC_BY_KEY.get(key)?.row ? row[key] : row.metrics ? row.metrics[key] : undefined;
  return typeof v === "number" && Number.isFinite(v) ? v : undefined;
}

// The METRICS at least one of the rows has a value of, in METRICS order.
export function metricsIn(rows) {
  return METRICS.filter((m) => rows.some((r) => metricValue(r, m.key) !== undefined));
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
