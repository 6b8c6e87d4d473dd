// Device A against device B over everything both ran: the page's port of dlbench/analysis/versus.py
// (`compare_devices`). Same rules, same field names, same ordering, same numbers; a test holds the page equal
// to `tools/versus.py --format json` on the same rows. Pure functions: no DOM. The rules are in the Python
// module's docstring and docs/versus.md; the comments here say only where JavaScript must take care to read as
// Python does (missing keys versus null, Python's str() and format specs, code-point ordering of strings).

import { EPOCH_METRICS, HIGHER_IS_BETTER, NEAREST_MAY_DIFFER, REASON_ORDER, SETTING, TIE, UNKNOWN_PRECISIONS, VersusError, Z95, catalogueEntry, cmp, cvSquared, deviceLabels, evidence, get, labelOf, median, metricOf, own, pyG, pyQuote, pyStr, resolve, settingOf, settingText, sortedSet, sourceUnit, sum, t95, truthy, unitOf, valueOf } from "./versus-rules.js";
import { cannot, capacityOf, datasheet, devicePrecisions } from "./versus-sides.js";

export { REASON_ORDER, VersusError, deviceLabels, labelOf, pyG, resolve } from "./versus-rules.js";

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
