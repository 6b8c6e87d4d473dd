// The rules site/versus.js compares two devices by (the port of dlbench/analysis/versus_rules.py): constants,
// reading values as Python does, devices, settings, statistics, evidence. Pure functions: no DOM.

export const SETTING = ["benchmark_version", "framework", "precision", "batch_size", "device_count", "compile",
  "channels_last", "epochs", "train_samples", "test_samples"];
export const NEAREST_MAY_DIFFER = new Set(["batch_size", "benchmark_version", "compile", "channels_last", "epochs"]);
export const UNKNOWN_PRECISIONS = [null, "unknown"];
export const TIE = 0.05;
export const Z95 = 1.959963984540054;
export const T95 = [12.706204736, 4.302652730, 3.182446305, 2.776445105, 2.570581836, 2.446911851, 2.364624252, 2.306004135,
  2.262157163, 2.228138852, 2.200985160, 2.178812830, 2.160368656, 2.144786688, 2.131449546, 2.119905299,
  2.109815578, 2.100922040, 2.093024054, 2.085963447, 2.079613845, 2.073873068, 2.068657610, 2.063898562,
  2.059538553, 2.055529439, 2.051830516, 2.048407142, 2.045229642, 2.042272456];
export const PEAK_METRICS = ["achieved_flops_per_s", "bandwidth_bytes_per_s"];
export const PEAK_KEY = { fp32: "fp32", tf32: "tf32", fp16: "fp16", "mixed-fp16": "fp16", bf16: "bf16", "mixed-bf16": "bf16",
  fp8: "fp8", int8: "int8", fp4: "fp4", int4: "int4", fp64: "fp64" };
export const PEAK_ORDER = ["fp64", "fp32", "tf32", "fp16_plain", "fp16", "bf16", "fp8", "int8", "fp4", "int4"];
export const DEVICE_PRECISIONS = ["fp64", "tf32", "fp16", "bf16", "fp8", "int8", "fp4", "int4"];
export const DATASHEET = [["release_date", ""], ["price_usd", "USD"], ["tdp_w", "W"], ["memory_gb", "GB"], ["bandwidth_gb_s", "GB/s"]];
export const REASON_ORDER = { precision: 0, oom: 1, failed: 2, not_measured: 3 };
// dlbench/store/metrics.py
export const EPOCH_METRICS = new Set(["total_s", "compute_s", "eval_s"]);
export const HIGHER_IS_BETTER = new Set(["throughput_samples_per_s", "throughput_tokens_per_s", "throughput_queries_per_s",
  "accuracy", "achieved_flops_per_s", "bandwidth_bytes_per_s"]);
export const RATE_UNITS = { throughput_samples_per_s: "samples/s", throughput_tokens_per_s: "tokens/s",
  throughput_queries_per_s: "queries/s", achieved_flops_per_s: "FLOP/s", bandwidth_bytes_per_s: "B/s" };

export class VersusError extends Error {
  constructor(message, status = 2) {
    super(message);
    this.status = status;
  }
}

// ---------------------------------------------------------------------------------------- reading as Python does

export const own = (o, k) => o !== null && typeof o === "object" && Object.prototype.hasOwnProperty.call(o, k);
// dict.get(k, default): a key present with null gives null, an absent key the default.
export const get = (o, k, dflt = null) => (own(o, k) ? o[k] : dflt);
export const isNum = (v) => typeof v === "number";
// Python's truth value (an empty list or object is false).
export const truthy = (v) => (Array.isArray(v) ? v.length > 0 : v && typeof v === "object" ? Object.keys(v).length > 0 : Boolean(v));

// Strings ordered as Python orders them: by code point (UTF-16 order differs only above U+FFFF).
export function cmp(a, b) {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.codePointAt(i);
    const y = b.codePointAt(i);
    if (x !== y) return x < y ? -1 : 1;
    if (x > 0xffff) i++;
  }
  return a.length < b.length ? -1 : a.length > b.length ? 1 : 0;
}

// Python's str() of a JSON value (a number is shown as Python shows an int, or a float's repr).
export function pyStr(v) {
  if (v === null || v === undefined) return "None";
  if (v === true) return "True";
  if (v === false) return "False";
  if (isNum(v)) {
    const a = Math.abs(v);
    if (!Number.isInteger(v) && a !== 0 && (a >= 1e16 || a < 1e-4)) return expText(v.toExponential(), false);
    return String(v);
  }
  return String(v);
}

export function expText(text, strip) {
  let [mant, exp] = text.split("e");
  if (strip && mant.includes(".")) mant = mant.replace(/0+$/, "").replace(/\.$/, "");
  const sign = exp[0] === "-" ? "-" : "+";
  const digits = exp.replace(/^[+-]/, "");
  return `${mant}e${sign}${digits.padStart(2, "0")}`;
}

// Python's format(v, f".{precision}g").
export function pyG(v, precision = 6) {
  if (v === 0) return Object.is(v, -0) ? "-0" : "0";
  if (!Number.isFinite(v)) return Number.isNaN(v) ? "nan" : v > 0 ? "inf" : "-inf";
  const p = Math.max(precision, 1);
  const exp = Number(v.toExponential(p - 1).split("e")[1]);
  if (exp < -4 || exp >= p) return expText(v.toExponential(p - 1), true);
  const fixed = v.toFixed(Math.max(p - 1 - exp, 0));
  return fixed.includes(".") ? fixed.replace(/0+$/, "").replace(/\.$/, "") : fixed;
}

export function unitOf(metric) {
  if (own(RATE_UNITS, metric)) return RATE_UNITS[metric];
  for (const [suffix, unit] of [["_ms", "ms"], ["_s", "s"], ["_bytes", "bytes"]]) if (metric.endsWith(suffix)) return unit;
  return "";
}

export const textOf = (v) => (typeof v === "boolean" ? (v ? "true" : "false") : pyStr(v));

// ---------------------------------------------------------------------------------------------------- devices

export function labelOf(row) {
  return `${row.device} (${truthy(row.device_kind) ? row.device_kind : "other"})`;
}

// Map {label: result count} of the index's devices.
export function deviceLabels(index) {
  const labels = new Map();
  for (const device of get(index, "devices", [])) {
    const kinds = truthy(device.kinds) ? device.kinds : ["other"];
    for (const kind of kinds) labels.set(`${device.name} (${kind})`, get(device, "result_count", 0));
  }
  return labels;
}

// Python's repr() of a string (as an error message quotes a name).
export function pyQuote(s) {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  const body = s.replaceAll("\\", "\\\\").replaceAll("\n", "\\n").replaceAll("\r", "\\r").replaceAll("\t", "\\t");
  return quote + (quote === "'" ? body.replaceAll("'", "\\'") : body) + quote;
}

// [label, other candidates] of the device `wanted` names (see versus.py `resolve`).
export function resolve(labels, wanted, role) {
  const low = wanted.trim().toLowerCase();
  const all = [...labels.keys()];
  const exact = all.filter((lab) => { const l = lab.toLowerCase(); return l === low || l.slice(0, rfind(l)) === low; });
  const matches = exact.length ? exact : all.filter((lab) => lab.toLowerCase().includes(low));
  if (!matches.length) {
    throw new VersusError(`${role} ${pyQuote(wanted)} is not a device of the dataset; known devices: ${[...all].sort(cmp).join("; ")}`);
  }
  const ranked = matches.sort((x, y) => labels.get(y) - labels.get(x) || cmp(x, y));
  if (ranked.length > 1 && labels.get(ranked[0]) === labels.get(ranked[1])) {
    const listing = ranked.map((lab) => `${lab} (${labels.get(lab)} results)`).join("; ");
    throw new VersusError(`${role} ${pyQuote(wanted)} is ambiguous: it matches ${listing}: give one of them in full`);
  }
  return [ranked[0], ranked.slice(1)];
}

export const rfind = (l) => { const i = l.lastIndexOf(" ("); return i < 0 ? l.length : i; };

export function catalogueEntry(catalogue, device, kind) {
  for (const entry of get(catalogue, "devices", [])) {
    if (get(entry, "kind") === kind && get(entry, "matches", []).includes(device)) return entry;
  }
  return null;
}

// ------------------------------------------------------------------------------------------------ rows, values

export function metricOf(workload, rows) {
  if (workload && truthy(get(workload, "outlier_metric"))) return workload.outlier_metric;
  for (const name of PEAK_METRICS) if (rows.some((r) => r.status === "ok" && own(get(r, "metrics", {}), name))) return name;
  return null;
}

// (For a row's own fields, Python's `row.get(key)` is `row[key] ?? null`: absent and null read alike.)
export function valueOf(row, metric) {
  const metrics = row.metrics ?? {};
  if (metric === "forward_backward_ms") {
    const f = metrics.forward_ms ?? null;
    const b = metrics.backward_ms ?? null;
    return f !== null && b !== null ? f + b : null;
  }
  const found = own(metrics, metric) ? metrics[metric] : null;
  return isNum(found) ? found : null;
}

// [the row's setting for `metric` (absent fields left out; a measured row's missing layout is NCHW), its key].
export function settingOf(row, epochs) {
  const setting = {};
  let key = "";
  for (const name of SETTING) {
    if (!epochs && name === "epochs") continue;
    let value = row[name] ?? null;
    if (value === null && name === "channels_last" && row.provenance?.kind === "measured") value = false;
    if (value !== null) {
      setting[name] = value;
      key += `${key ? "|" : ""}${name}=${textOf(value)}`;
    }
  }
  return [setting, key];
}

export function settingKey(setting) {
  return SETTING.filter((k) => own(setting, k)).map((k) => `${k}=${textOf(setting[k])}`).join("|");
}

// A setting for people: `torch mixed-bf16, batch 256, NHWC, compiled (inductor)`.
export function settingText(setting) {
  const parts = [];
  if (own(setting, "framework")) parts.push(pyStr(setting.framework));
  if (own(setting, "precision")) parts.push(pyStr(setting.precision));
  if (own(setting, "batch_size")) parts.push(`batch ${pyStr(setting.batch_size)}`);
  if (get(setting, "device_count", 1) !== 1) parts.push(`${pyStr(setting.device_count)} devices`);
  if (get(setting, "channels_last") === true) parts.push("NHWC");
  const compile = get(setting, "compile");
  if (compile !== null && compile !== "eager") parts.push(`compiled (${pyStr(compile)})`);
  if (own(setting, "epochs")) parts.push(`${pyStr(setting.epochs)} epochs`);
  if (own(setting, "train_samples") || own(setting, "test_samples")) {
    parts.push(`${pyStr(get(setting, "train_samples", "?"))}/${pyStr(get(setting, "test_samples", "?"))} samples`);
  }
  if (own(setting, "benchmark_version")) parts.push(`v${pyStr(setting.benchmark_version)}`);
  return parts.slice(0, 2).join(" ") + (parts.length > 2 ? `, ${parts.slice(2).join(", ")}` : "");
}

export function median(values) {
  const s = Float64Array.from(values).sort(); // numeric order
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

export const sum = (values) => { let t = 0; for (const v of values) t += v; return t; };

export function cvSquared(values) {
  const n = values.length;
  if (n < 2) return null;
  const mean = sum(values) / n;
  if (mean === 0) return null;
  let ss = 0;
  for (const v of values) ss += (v - mean) ** 2;
  return ss / (n - 1) / (mean * mean);
}

export const t95 = (df) => (df >= 1 && df <= T95.length ? T95[df - 1] : Z95);

// Where a result comes from, for a person to check: its run, or its source file and row (cached per row).
export const evidenceCache = new WeakMap();
export function evidence(row) {
  let text = evidenceCache.get(row);
  if (text === undefined) evidenceCache.set(row, (text = evidenceOf(row)));
  return text;
}

export function evidenceOf(row) {
  const source = get(get(row, "provenance", {}), "source") || {};
  if (truthy(get(source, "repository"))) {
    const commit = pyStr(get(source, "commit", ""));
    const short = /^[\x00-\uD7FF]*$/.test(commit) ? commit.slice(0, 8) : [...commit].slice(0, 8).join("");
    const where = `${source.repository}@${short}:${pyStr(get(source, "path", ""))}`;
    return truthy(get(source, "row")) ? `${where} (${pyStr(source.row)})` : where;
  }
  if (truthy(get(source, "title"))) return `run ${pyStr(row.run_id)} (${pyStr(source.title)})`;
  return `run ${pyStr(row.run_id)}`;
}

export const sortedSet = (values) => [...new Set(values)].sort(cmp);

// The unit the results' sources state for `metric` (their `units`, e.g. "images/s") when they all state the
// same one, else `unit`.
export function sourceUnit(ok, metric, unit) {
  const units = new Set(ok.map(([, r]) => get(get(r, "units") || {}, metric)));
  const [only] = units;
  return units.size === 1 && only !== null ? only : unit;
}
