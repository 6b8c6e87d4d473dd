// Device A against device B over everything both ran: the page's port of dlbench/analysis/versus.py
// (`compare_devices`). Same rules, same field names, same ordering, same numbers; a test holds the page equal
// to `tools/versus.py --format json` on the same rows. Pure functions: no DOM. The rules are in the Python
// module's docstring and docs/versus.md; the comments here say only where JavaScript must take care to read as
// Python does (missing keys versus null, Python's str() and format specs, code-point ordering of strings).

export const SETTING = ["benchmark_version", "framework", "precision", "batch_size", "device_count", "compile",
  "channels_last", "epochs", "train_samples", "test_samples"];
const NEAREST_MAY_DIFFER = new Set(["batch_size", "benchmark_version", "compile", "channels_last", "epochs"]);
const UNKNOWN_PRECISIONS = [null, "unknown"];
export const TIE = 0.05;
const Z95 = 1.959963984540054;
const T95 = [12.706204736, 4.302652730, 3.182446305, 2.776445105, 2.570581836, 2.446911851, 2.364624252, 2.306004135,
  2.262157163, 2.228138852, 2.200985160, 2.178812830, 2.160368656, 2.144786688, 2.131449546, 2.119905299,
  2.109815578, 2.100922040, 2.093024054, 2.085963447, 2.079613845, 2.073873068, 2.068657610, 2.063898562,
  2.059538553, 2.055529439, 2.051830516, 2.048407142, 2.045229642, 2.042272456];
const PEAK_METRICS = ["achieved_flops_per_s", "bandwidth_bytes_per_s"];
const PEAK_KEY = { fp32: "fp32", tf32: "tf32", fp16: "fp16", "mixed-fp16": "fp16", bf16: "bf16", "mixed-bf16": "bf16",
  fp8: "fp8", int8: "int8", fp4: "fp4", int4: "int4", fp64: "fp64" };
const PEAK_ORDER = ["fp64", "fp32", "tf32", "fp16_plain", "fp16", "bf16", "fp8", "int8", "fp4", "int4"];
const DEVICE_PRECISIONS = ["fp64", "tf32", "fp16", "bf16", "fp8", "int8", "fp4", "int4"];
const DATASHEET = [["release_date", ""], ["price_usd", "USD"], ["tdp_w", "W"], ["memory_gb", "GB"], ["bandwidth_gb_s", "GB/s"]];
export const REASON_ORDER = { precision: 0, oom: 1, failed: 2, not_measured: 3 };
// dlbench/store/metrics.py
const EPOCH_METRICS = new Set(["total_s", "compute_s", "eval_s"]);
const HIGHER_IS_BETTER = new Set(["throughput_samples_per_s", "throughput_tokens_per_s", "throughput_queries_per_s",
  "accuracy", "achieved_flops_per_s", "bandwidth_bytes_per_s"]);
const RATE_UNITS = { throughput_samples_per_s: "samples/s", throughput_tokens_per_s: "tokens/s",
  throughput_queries_per_s: "queries/s", achieved_flops_per_s: "FLOP/s", bandwidth_bytes_per_s: "B/s" };

export class VersusError extends Error {
  constructor(message, status = 2) {
    super(message);
    this.status = status;
  }
}

// ---------------------------------------------------------------------------------------- reading as Python does

const own = (o, k) => o !== null && typeof o === "object" && Object.prototype.hasOwnProperty.call(o, k);
// dict.get(k, default): a key present with null gives null, an absent key the default.
const get = (o, k, dflt = null) => (own(o, k) ? o[k] : dflt);
const isNum = (v) => typeof v === "number";
// Python's truth value (an empty list or object is false).
const truthy = (v) => (Array.isArray(v) ? v.length > 0 : v && typeof v === "object" ? Object.keys(v).length > 0 : Boolean(v));

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

function expText(text, strip) {
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

function unitOf(metric) {
  if (own(RATE_UNITS, metric)) return RATE_UNITS[metric];
  for (const [suffix, unit] of [["_ms", "ms"], ["_s", "s"], ["_bytes", "bytes"]]) if (metric.endsWith(suffix)) return unit;
  return "";
}

const textOf = (v) => (typeof v === "boolean" ? (v ? "true" : "false") : pyStr(v));

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
function pyQuote(s) {
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

const rfind = (l) => { const i = l.lastIndexOf(" ("); return i < 0 ? l.length : i; };

export function catalogueEntry(catalogue, device, kind) {
  for (const entry of get(catalogue, "devices", [])) {
    if (get(entry, "kind") === kind && get(entry, "matches", []).includes(device)) return entry;
  }
  return null;
}

// ------------------------------------------------------------------------------------------------ rows, values

function metricOf(workload, rows) {
  if (workload && truthy(get(workload, "outlier_metric"))) return workload.outlier_metric;
  for (const name of PEAK_METRICS) if (rows.some((r) => r.status === "ok" && own(get(r, "metrics", {}), name))) return name;
  return null;
}

// (For a row's own fields, Python's `row.get(key)` is `row[key] ?? null`: absent and null read alike.)
function valueOf(row, metric) {
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
function settingOf(row, epochs) {
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

const sum = (values) => { let t = 0; for (const v of values) t += v; return t; };

function cvSquared(values) {
  const n = values.length;
  if (n < 2) return null;
  const mean = sum(values) / n;
  if (mean === 0) return null;
  let ss = 0;
  for (const v of values) ss += (v - mean) ** 2;
  return ss / (n - 1) / (mean * mean);
}

const t95 = (df) => (df >= 1 && df <= T95.length ? T95[df - 1] : Z95);

// Where a result comes from, for a person to check: its run, or its source file and row (cached per row).
const evidenceCache = new WeakMap();
export function evidence(row) {
  let text = evidenceCache.get(row);
  if (text === undefined) evidenceCache.set(row, (text = evidenceOf(row)));
  return text;
}

function evidenceOf(row) {
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

const sortedSet = (values) => [...new Set(values)].sort(cmp);

// ------------------------------------------------------------------------------------------------- selection

function keeper(index, filters) {
  const families = new Map(get(index, "families", []).map((f) => [f.id, f]));
  const familyOf = new Map(get(index, "workloads", []).map((w) => [w.name, get(w, "family")]));
  const unknown = filters.families.filter((f) => !families.has(f));
  if (unknown.length) {
    throw new VersusError(`--family ${pyQuote(unknown[0])}: no such workload family; known: ${[...families.keys()].sort(cmp).join(", ")}`);
  }
  const spaces = new Set(filters.families.map((f) => get(families.get(f), "namespace", "open")));
  if (spaces.size > 1) {
    throw new VersusError("the --family values mix MLPerf and other families: MLPerf results may not be compared " +
      "with non-MLPerf results, so compare each apart");
  }
  const mlperf = spaces.size === 1 && spaces.has("mlperf");
  const sources = filters.sources.map((s) => s.toLowerCase());

  function sourceMatches(row, family) {
    const prov = get(row, "provenance", {});
    const said = get(prov, "source") || {};
    const texts = [pyStr(get(family, "source", "")).toLowerCase(), pyStr(get(said, "title", "")).toLowerCase(),
      pyStr(get(said, "repository", "")).toLowerCase(), get(prov, "kind") === "measured" ? "measured" : ""];
    return sources.some((s) => s === texts[0] || texts.slice(1).some((t) => t && t.includes(s)));
  }

  function keep(row) {
    const fid = familyOf.has(row.benchmark) ? familyOf.get(row.benchmark) : "dlbench";
    const family = families.get(fid) ?? {};
    if ((get(family, "namespace", "open") === "mlperf") !== mlperf) return false;
    if (filters.families.length && !filters.families.includes(fid)) return false;
    if (sources.length && !sourceMatches(row, family)) return false;
    if (filters.frameworks.length && !filters.frameworks.includes(get(row, "framework"))) return false;
    if (filters.precisions.length && !filters.precisions.includes(get(row, "precision"))) return false;
    if (filters.scenarios.length && !filters.scenarios.includes(get(row, "scenario"))) return false;
    return true;
  }
  return [keep, mlperf];
}

// ------------------------------------------------------------------------------------------------- the pairs

class Cell {
  constructor(setting) {
    this.setting = setting;
    this.ok = []; // [value, row]
    this.failed = [];
  }

  get values() { return this.ok.map(([v]) => v); }

  get text() {
    if (this._text === undefined) this._text = settingText(this.setting);
    return this._text;
  }

  evidence() { return sortedSet(this.ok.map(([, r]) => evidence(r))); }

  fraction() {
    const found = this.ok.map(([, r]) => get(r, "peak_fraction_catalogue")).filter((v) => v !== null);
    return found.length ? median(found) : null;
  }
}

function cellsOf(rows, sides, metric) {
  const cells = { a: new Map(), b: new Map() };
  const epochs = EPOCH_METRICS.has(metric);
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i];
    const side = sides[i];
    const [setting, key] = settingOf(row, epochs);
    let cell = cells[side].get(key);
    if (!cell) cells[side].set(key, (cell = new Cell(setting)));
    if (row.status === "ok") {
      const value = valueOf(row, metric);
      if (value !== null && value > 0) cell.ok.push([value, row]);
    } else {
      cell.failed.push(row);
    }
  }
  return cells;
}

// The unit the results' sources state for `metric` (their `units`, e.g. "images/s") when they all state the
// same one, else `unit`.
function sourceUnit(ok, metric, unit) {
  const units = new Set(ok.map(([, r]) => get(get(r, "units") || {}, metric)));
  const [only] = units;
  return units.size === 1 && only !== null ? only : unit;
}

function pair(workload, family, metric, unit, higher, ca, cb, nearest) {
  const va = ca.values;
  const vb = cb.values;
  const aValue = median(va);
  const bValue = median(vb);
  const ratio = higher ? aValue / bValue : bValue / aValue;
  const cva = cvSquared(va);
  const cvb = cvSquared(vb);
  let interval = null;
  let ownVar = null;
  if (cva !== null && cvb !== null) {
    ownVar = cva / va.length + cvb / vb.length;
    const half = t95(Math.min(va.length, vb.length) - 1) * Math.sqrt(ownVar);
    interval = [ratio * Math.exp(-half), ratio * Math.exp(half)];
  }
  const off = Math.max(ratio, 1 / ratio) - 1 < TIE;
  const holdsOne = interval !== null && interval[0] <= 1 && 1 <= interval[1];
  const mark = off ? "=" : holdsOne ? "~" : "";
  const outcome = mark ? "tie" : ratio > 1 ? "win" : "loss";
  return {
    workload, family, setting: ca.setting, setting_text: ca.text, metric,
    unit: sourceUnit([...ca.ok, ...cb.ok], metric, unit), higher_is_better: higher, a_value: aValue, b_value: bValue,
    ratio, interval, n_a: va.length, n_b: vb.length, single: interval === null, tie: Boolean(mark), mark, outcome,
    a_fraction: ca.fraction(), b_fraction: cb.fraction(), a_evidence: ca.evidence(), b_evidence: cb.evidence(), nearest,
    _var: [ownVar, cva, cvb],
  };
}

// (fewest differing fields, nearest batch sizes, then the setting keys) as Python orders its rank tuples.
const rankCmp = (x, y) => x[0] - y[0] || x[1] - y[1] || cmp(x[2], y[2]) || cmp(x[3], y[3]);

function nearestPair(caCells, cbCells) {
  let best = null;
  const keysB = [...cbCells.keys()].sort(cmp);
  for (const ka of [...caCells.keys()].sort(cmp)) {
    const ca = caCells.get(ka);
    if (!ca.ok.length) continue;
    for (const kb of keysB) {
      const cb = cbCells.get(kb);
      if (!cb.ok.length) continue;
      let differs = {};
      for (const key of SETTING) {
        const x = get(ca.setting, key);
        const y = get(cb.setting, key);
        if (x === y) continue;
        if (NEAREST_MAY_DIFFER.has(key) || (key === "precision" && (UNKNOWN_PRECISIONS.includes(x) || UNKNOWN_PRECISIONS.includes(y)))) {
          differs[key] = [x, y];
        } else {
          differs = null;
          break;
        }
      }
      if (!differs || !Object.keys(differs).length) continue;
      const bsA = get(ca.setting, "batch_size");
      const bsB = get(cb.setting, "batch_size");
      const gap = truthy(bsA) && truthy(bsB) ? Math.abs(Math.log(bsA / bsB)) : 99.0;
      const rank = [Object.keys(differs).length, gap, ka, kb];
      if (best === null || rankCmp(rank, best[0]) < 0) best = [rank, ca, cb, differs];
    }
  }
  return best === null ? null : [best[1], best[2], best[3]];
}

// ----------------------------------------------------------------------------------------------- the whole view

function side(label, catalogue, wanted, others) {
  const i = label.lastIndexOf(" (");
  const device = label.slice(0, i);
  const kind = label.slice(i + 2, -1);
  const entry = catalogueEntry(catalogue, device, kind);
  return { label, device, kind, asked: wanted, other_matches: others, catalogue_name: entry ? entry.name : null };
}

function withoutBatch(setting) {
  const rest = {};
  for (const k of Object.keys(setting)) if (k !== "batch_size") rest[k] = setting[k];
  return rest;
}

const sameDict = (x, y) => {
  const kx = Object.keys(x);
  return kx.length === Object.keys(y).length && kx.every((k) => own(y, k) && x[k] === y[k]);
};

function largestFit(cells, setting) {
  const rest = withoutBatch(setting);
  const fits = [...cells.values()].filter((c) => c.ok.length && own(c.setting, "batch_size") && sameDict(withoutBatch(c.setting), rest))
    .map((c) => c.setting.batch_size);
  return fits.length ? Math.max(...fits) : null;
}

function cannot(workload, metric, unit, mine, theirs, key, other, otherEntry) {
  const cell = theirs.get(key);
  const failed = cell !== undefined ? cell.failed : [];
  const item = { workload, setting: mine.setting, setting_text: mine.text, metric, unit: sourceUnit(mine.ok, metric, unit),
    value: median(mine.values), n: mine.ok.length,
    evidence: { can: mine.evidence(), cannot: sortedSet(failed.map(evidence)) }, largest_fit: null, prediction: null };
  const ooms = failed.filter((r) => r.status === "oom");
  const precision = get(mine.setting, "precision");
  const peak = own(PEAK_KEY, truthy(precision) ? precision : "") ? PEAK_KEY[precision] : null;
  if (ooms.length) {
    const fit = largestFit(theirs, mine.setting);
    item.reason = "oom";
    item.largest_fit = fit;
    item.detail = `${other.label} ran out of memory at batch ${pyStr(get(mine.setting, "batch_size", "?"))}; ` +
      (fit !== null ? `the largest batch measured to fit is ${fit}` : "no batch of this setting was measured to fit");
  } else if (failed.length) {
    const first = failed[0];
    item.reason = "failed";
    item.detail = `${other.label} failed (${pyStr(first.status)}): ${truthy(get(first, "message")) ? first.message : "no message"}`;
  } else if (peak && otherEntry !== null && !own(get(otherEntry, "peak_tflops", {}), peak)) {
    item.reason = "precision";
    item.detail = `the catalogue lists no ${peak} peak for ${otherEntry.name} (the device lacks it, ` +
      "or its datasheet does not state it)";
    item.evidence.cannot = [`catalogue: ${otherEntry.name}`];
  } else {
    const elsewhere = [...theirs.values()].filter((c) => c.ok.length).map((c) => c.text).sort(cmp);
    item.reason = "not_measured";
    item.detail = `${other.label} has no result in this setting` +
      (elsewhere.length ? ` (measured in: ${elsewhere.slice(0, 3).join("; ")}${elsewhere.length > 3 ? "; ..." : ""})` : "");
  }
  return item;
}

function devicePrecisions(mine, theirs, otherLabel) {
  if (mine === null || theirs === null) return [];
  const items = [];
  const peaksMine = get(mine, "peak_tflops", {});
  const peaksTheirs = get(theirs, "peak_tflops", {});
  for (const p of DEVICE_PRECISIONS) {
    if (own(peaksMine, p) && !own(peaksTheirs, p)) {
      items.push({ workload: null, setting: {}, setting_text: "", reason: "precision",
        detail: `${mine.name} has a ${p} peak of ${pyG(peaksMine[p])} TFLOP/s; the catalogue lists none for ${theirs.name} (${otherLabel})`,
        evidence: { can: [`catalogue: ${mine.name}`], cannot: [`catalogue: ${theirs.name}`] },
        metric: null, unit: null, value: null, n: 0, largest_fit: null, prediction: null });
    }
  }
  return items;
}

function summarize(pairs, noiseCv2, union, shared, ea, eb) {
  const k = pairs.length;
  const summary = { comparable: k, shared, union, wins: pairs.filter((p) => p.outcome === "win").length,
    ties: pairs.filter((p) => p.outcome === "tie").length, losses: pairs.filter((p) => p.outcome === "loss").length,
    noise_cv: noiseCv2 ? Math.sqrt(noiseCv2) : null, geomean: null, interval: null, interval_basis: null, spread: null,
    per_watt: null, per_dollar: null };
  if (!k) return summary;
  const logs = pairs.map((p) => Math.log(p.ratio));
  const mean = sum(logs) / k;
  summary.geomean = Math.exp(mean);
  const variances = [];
  let ownCount = 0;
  for (const p of pairs) {
    const [ownVar, cva, cvb] = p._var;
    if (ownVar !== null) {
      variances.push(ownVar);
      ownCount++;
    } else if (noiseCv2 !== null) {
      variances.push((cva !== null ? cva : noiseCv2) / p.n_a + (cvb !== null ? cvb : noiseCv2) / p.n_b);
    }
  }
  if (variances.length === k) {
    const half = Z95 * Math.sqrt(sum(variances)) / k;
    summary.interval = [Math.exp(mean - half), Math.exp(mean + half)];
    summary.interval_basis = ownCount < k ? `${ownCount} of ${k} pairs from their own repeated results, the others from the two ` +
      "devices' pooled repeat noise" : "every pair's repeated results";
  } else {
    summary.interval_basis = "unknown: single results, and no repeated result to estimate the noise from";
  }
  let ss = 0;
  for (const x of logs) ss += (x - mean) ** 2;
  const sd = k > 1 ? Math.sqrt(ss / (k - 1)) : 0.0;
  let min = Infinity;
  let max = -Infinity;
  for (const p of pairs) {
    if (p.ratio < min) min = p.ratio;
    if (p.ratio > max) max = p.ratio;
  }
  summary.spread = { gsd: Math.exp(sd), min, max };
  if (ea && eb && truthy(get(ea, "tdp_w")) && truthy(get(eb, "tdp_w"))) summary.per_watt = summary.geomean * eb.tdp_w / ea.tdp_w;
  if (ea && eb && truthy(get(ea, "price_usd")) && truthy(get(eb, "price_usd"))) summary.per_dollar = summary.geomean * eb.price_usd / ea.price_usd;
  return summary;
}

function datasheet(ea, eb) {
  const rows = [];
  const fields = DATASHEET.map(([k, unit]) => [k, unit, get(ea || {}, k), get(eb || {}, k)]);
  const peaksA = get(ea || {}, "peak_tflops", {});
  const peaksB = get(eb || {}, "peak_tflops", {});
  for (const p of PEAK_ORDER) {
    if (own(peaksA, p) || own(peaksB, p)) fields.push([`peak_tflops.${p}`, "TFLOP/s", get(peaksA, p), get(peaksB, p)]);
  }
  for (const [name, unit, a, b] of fields) {
    if (a === null && b === null) continue;
    const numeric = isNum(a) && isNum(b) && b !== 0;
    rows.push({ field: name, unit, a, b, ratio: numeric ? a / b : null, differs: a !== b });
  }
  return rows;
}

function capacityOf(workload, cells) {
  const groups = new Map();
  for (const s of ["a", "b"]) {
    for (const cell of cells[s].values()) {
      if (!own(cell.setting, "batch_size")) continue;
      const rest = withoutBatch(cell.setting);
      const key = settingKey(rest);
      let g = groups.get(key);
      if (!g) groups.set(key, (g = { workload, setting: rest, setting_text: settingText(rest), a_fit: null, a_oom: null, b_fit: null, b_oom: null }));
      const bs = cell.setting.batch_size;
      if (cell.ok.length) g[`${s}_fit`] = Math.max(g[`${s}_fit`] || 0, bs);
      if (cell.failed.some((r) => r.status === "oom")) g[`${s}_oom`] = g[`${s}_oom`] === null ? bs : Math.min(g[`${s}_oom`], bs);
    }
  }
  return [...groups.keys()].sort(cmp).map((k) => groups.get(k))
    .filter((g) => g.a_oom !== null || g.b_oom !== null || (g.a_fit !== null && g.b_fit !== null && g.a_fit !== g.b_fit));
}

export function emptyFilters() {
  return { families: [], sources: [], frameworks: [], precisions: [], scenarios: [], measured_only: false };
}

// Pairs sorted as Python sorts them by (-|log r|, workload, setting_text).
function bySize(pairs) {
  const sizes = new Map(pairs.map((p) => [p, Math.abs(Math.log(p.ratio))]));
  return pairs.sort((p, q) => sizes.get(q) - sizes.get(p) || cmp(p.workload, q.workload) || cmp(p.setting_text, q.setting_text));
}

// The comparison of device A with device B as versus.py's `compare_devices` makes it. `rows`: API rows tagged with
// `benchmark` (at least every row of the two devices); `predictor`: {predictMany(label, [[workload, precision]])}
// or null.
export function compareDevices(rows, index, catalogue, a, b, filters = null, predictor = null) {
  filters = { ...emptyFilters(), ...(filters || {}) };
  const labels = deviceLabels(index);
  const [aLabel, aOthers] = resolve(labels, a, "A");
  const [bLabel, bOthers] = resolve(labels, b, "B");
  if (aLabel === bLabel) throw new VersusError(`A and B are the same device (${aLabel}): name two different devices`);
  const sideA = side(aLabel, catalogue, a, aOthers);
  const sideB = side(bLabel, catalogue, b, bOthers);
  const ea = catalogueEntry(catalogue, sideA.device, sideA.kind);
  const eb = catalogueEntry(catalogue, sideB.device, sideB.kind);
  const [keep, mlperf] = keeper(index, filters);
  const sideOf = new Map([[aLabel, "a"], [bLabel, "b"]]);
  const byWorkload = new Map(); // name -> {rows, sides}
  const leftOutMlperf = new Set();
  for (const row of rows) {
    const s = sideOf.get(labelOf(row));
    if (s === undefined) continue;
    if (keep(row)) {
      let list = byWorkload.get(row.benchmark);
      if (!list) byWorkload.set(row.benchmark, (list = { rows: [], sides: [] }));
      list.rows.push(row);
      list.sides.push(s);
    } else if (!mlperf && row.benchmark.startsWith("mlperf-") && !filters.families.length) {
      leftOutMlperf.add(row.benchmark);
    }
  }
  const workloads = new Map(get(index, "workloads", []).map((w) => [w.name, w]));
  const readings = get(index, "metrics", {});
  const pairs = [];
  const nearest = [];
  const capacity = [];
  const only = { a: [], b: [] };
  const repeatCv2 = [];
  const measured = { a: new Set(), b: new Set() }; // [workload, precision] each device has an ok result of
  let union = 0;
  let shared = 0;
  const noMetric = [];
  for (const name of [...byWorkload.keys()].sort(cmp)) {
    const { rows: wrows, sides } = byWorkload.get(name);
    const metric = metricOf(workloads.get(name) ?? null, wrows);
    if (metric === null) {
      noMetric.push(name);
      continue;
    }
    const reading = get(readings, metric, {}) ?? {};
    const higher = get(reading, "higher_is_better", HIGHER_IS_BETTER.has(metric));
    const unit = get(reading, "unit", unitOf(metric));
    const family = get(workloads.get(name) ?? {}, "family");
    const cells = cellsOf(wrows, sides, metric);
    for (const s of ["a", "b"]) {
      for (const cell of cells[s].values()) {
        const c = cvSquared(cell.values);
        if (c !== null) repeatCv2.push(c);
      }
    }
    const okA = new Set([...cells.a].filter(([, c]) => c.ok.length).map(([k]) => k));
    const okB = new Set([...cells.b].filter(([, c]) => c.ok.length).map(([k]) => k));
    union += new Set([...okA, ...okB]).size;
    shared += okA.size && okB.size ? 1 : 0;
    const common = [...okA].filter((k) => okB.has(k)).sort(cmp);
    for (const key of common) pairs.push(pair(name, family, metric, unit, higher, cells.a.get(key), cells.b.get(key), null));
    if (!common.length && okA.size && okB.size) {
      const found = nearestPair(cells.a, cells.b);
      if (found) {
        const [ca, cb, differs] = found;
        nearest.push(pair(name, family, metric, unit, higher, ca, cb, { differs, b_setting: cb.setting }));
      }
    }
    for (const [s, other, mine, theirs, otherSide, otherEntry] of [["a", "b", okA, okB, sideB, eb], ["b", "a", okB, okA, sideA, ea]]) {
      for (const key of [...mine].filter((k) => !theirs.has(k)).sort(cmp)) {
        only[s].push(cannot(name, metric, unit, cells[s].get(key), cells[other], key, otherSide, otherEntry));
      }
    }
    capacity.push(...capacityOf(name, cells));
    for (const s of ["a", "b"]) {
      for (const c of cells[s].values()) if (c.ok.length) measured[s].add(JSON.stringify([name, get(c.setting, "precision") ?? null]));
    }
  }
  const noiseCv2 = repeatCv2.length ? median(repeatCv2) : null;
  let predicted = [];
  if (predictor !== null && predictor !== undefined) predicted = predict(predictor, only, sideA, sideB, measured);
  only.a = [...devicePrecisions(ea, eb, bLabel), ...only.a];
  only.b = [...devicePrecisions(eb, ea, aLabel), ...only.b];
  for (const s of ["a", "b"]) {
    only[s].sort((x, y) => REASON_ORDER[x.reason] - REASON_ORDER[y.reason] || cmp(x.workload || "", y.workload || "") ||
      cmp(x.setting_text, y.setting_text));
  }
  const summary = summarize(pairs, noiseCv2, union, shared, ea, eb);
  summary.nearest = nearest.length;
  summary.fraction_of_peak = { a: medianOrNull(pairs.map((p) => p.a_fraction)), b: medianOrNull(pairs.map((p) => p.b_fraction)) };
  const ordered = [...bySize(pairs), ...bySize(nearest)];
  for (const p of ordered) delete p._var;
  const chosen = {};
  for (const [k, v] of Object.entries(filters)) if (truthy(v)) chosen[k] = v;
  return {
    versus_version: 1, a: sideA, b: sideB, filters: chosen, summary, workloads: ordered, only_a: only.a, only_b: only.b,
    predicted, capacity: { memory_gb: { a: get(ea || {}, "memory_gb"), b: get(eb || {}, "memory_gb") }, workloads: capacity },
    datasheet: datasheet(ea, eb), left_out: { mlperf_workloads: leftOutMlperf.size, no_metric: noMetric },
    attribution: get(catalogue, "attribution"),
  };
}

function medianOrNull(values) {
  const found = values.filter((v) => v !== null);
  return found.length ? median(found) : null;
}

// Predictions for the workloads the other device did not measure at that precision in any setting (where it did,
// its measured setting is the answer: the nearest comparable pair); never in the summary.
function predict(predictor, only, sideA, sideB, measured) {
  const predicted = [];
  for (const [s, other, missingOn] of [["a", "b", sideB], ["b", "a", sideA]]) {
    const items = only[s].filter((i) => i.reason === "not_measured"
      && !measured[other].has(JSON.stringify([i.workload, get(i.setting, "precision") ?? null])));
    const asks = items.map((i) => [i.workload, get(i.setting, "precision")]);
    const answers = asks.length ? predictor.predictMany(missingOn.label, asks) : [];
    items.forEach((item, i) => {
      const answer = answers[i];
      // A prediction for another device count answers another question (a system total): none then.
      if (!truthy(answer) || ((get(answer, "predicted_setting") ?? {}).device_count || 1)
        !== (get(item.setting, "device_count") || 1)) return;
      predicted.push({ device: s === "a" ? "b" : "a", label: missingOn.label, workload: item.workload, setting: item.setting,
        setting_text: item.setting_text, ...answer });
      item.prediction = answer;
    });
  }
  return predicted;
}

// A predictor over the site's prediction files ({label: file body}; the compact layout of
// dlbench/analysis/site_predictions.py: errors, units and [workload, precision, value, method, error key, device
// count] rows): the answer for (workload, precision) as the predictor gives it; none when the file has none.
export function filePredictor(files) {
  const lookup = new Map();
  for (const [label, body] of Object.entries(files || {})) {
    const map = new Map();
    const errors = get(body, "errors", {}) ?? {};
    const units = get(body, "units", {}) ?? {};
    for (const [workload, precision, value, method, key, count] of get(body, "predictions", []) ?? []) {
      const id = JSON.stringify([workload, precision ?? null]);
      if (map.has(id)) continue;
      const [metric, unit] = get(units, workload, [null, null]);
      map.set(id, { value, metric, unit, method, error: key !== null && key !== undefined ? get(errors, key) : null,
        predicted_setting: { device_count: count } });
    }
    lookup.set(label, map);
  }
  return {
    size: [...lookup.values()].reduce((n, m) => n + m.size, 0),
    predictMany(label, asks) {
      const map = lookup.get(label);
      return asks.map(([w, p]) => (map ? map.get(JSON.stringify([w, p ?? null])) ?? null : null));
    },
  };
}

// ---------------------------------------------------------------------------------------------- for people

// A ratio as the command shows it: three significant digits and "×".
export const times = (v) => (v === null || v === undefined ? "-" : `${pyG(v, 3)}×`);
export const pct = (v) => (v === null || v === undefined ? "-" : `${(v * 100).toFixed(1)} %`);

// An interval's two ends with as few significant digits (3 to 6) as tell them apart.
export function intervalText(lo, hi) {
  let d = 3;
  while (d < 6 && pyG(lo, d) === pyG(hi, d)) d++;
  return [`${pyG(lo, d)}×`, `${pyG(hi, d)}×`];
}

// A ratio as a bar's label: how much better (+) or worse (−) A is than B, in per cent of B.
export function percentText(ratio) {
  const x = (ratio - 1) * 100;
  const digits = Math.abs(x) < 10 ? 1 : 0;
  const text = Math.abs(x).toFixed(digits);
  return `${x < 0 && Number(text) !== 0 ? "−" : "+"}${text}%`;
}
