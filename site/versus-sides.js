// What one device can do that the other cannot, capacity and the datasheet (the port of
// dlbench/analysis/versus_sides.py), for site/versus.js. Pure functions: no DOM.

import { DATASHEET, DEVICE_PRECISIONS, PEAK_KEY, PEAK_ORDER, cmp, evidence, get, isNum, median, own, pyG, pyStr, settingKey, settingText, sortedSet, sourceUnit, truthy } from "./versus-rules.js";

export function withoutBatch(setting) {
  const rest = {};
  for (const k of Object.keys(setting)) if (k !== "batch_size") rest[k] = setting[k];
  return rest;
}

export const sameDict = (x, y) => {
  const kx = Object.keys(x);
  return kx.length === Object.keys(y).length && kx.every((k) => own(y, k) && x[k] === y[k]);
};

// The cells of the same setting but for the batch size (cells without a batch size are of none).
function alike(cells, setting) {
  const rest = withoutBatch(setting);
  return [...cells.values()].filter((c) => own(c.setting, "batch_size") && sameDict(withoutBatch(c.setting), rest));
}

const isInt = (v) => Number.isInteger(v);

// The batches a cell's ok results were measured to fit: their own, and the largest batch a batch-size sweep
// found (`batch_sweep.largest_fit`, or `metrics.largest_fitting_batch` where a result states only that).
function measuredFits(cell) {
  const fits = cell.ok.length ? [cell.setting.batch_size] : [];
  for (const [, row] of cell.ok) {
    const found = get(get(row, "batch_sweep") || {}, "largest_fit", get(get(row, "metrics", {}), "largest_fitting_batch"));
    if (isInt(found)) fits.push(found);
  }
  return fits;
}

export function largestFit(cells, setting) {
  const fits = alike(cells, setting).flatMap(measuredFits);
  return fits.length ? Math.max(...fits) : null;
}

// What the batch-size sweeps among the cells of the same setting but for the batch size found (as
// versus_sides.sweep_bounds): the largest batch that fitted, the smallest that ran out of memory, the finest resolution.
export function sweepBounds(cells, setting) {
  const fits = [];
  const ooms = [];
  const steps = [];
  for (const cell of alike(cells, setting)) {
    for (const row of [...cell.ok.map(([, r]) => r), ...cell.failed]) {
      const sweep = get(row, "batch_sweep");
      if (!truthy(sweep)) continue;
      steps.push(sweep.resolution);
      if (get(sweep, "largest_fit") !== null) fits.push(sweep.largest_fit);
      if (get(sweep, "smallest_oom") !== null) ooms.push(sweep.smallest_oom);
    }
  }
  if (!steps.length) return null;
  return { largest_fit: fits.length ? Math.max(...fits) : null, smallest_oom: ooms.length ? Math.min(...ooms) : null,
    resolution: Math.min(...steps) };
}

function fitDetail(fit) {
  return fit !== null ? `the largest batch measured to fit is ${fit}` : "no batch of this setting was measured to fit";
}

export function cannot(workload, metric, unit, mine, theirs, key, other, otherEntry) {
  const cell = theirs.get(key);
  const failed = cell !== undefined ? cell.failed : [];
  const item = { workload, setting: mine.setting, setting_text: mine.text, metric, unit: sourceUnit(mine.ok, metric, unit),
    value: median(mine.values), n: mine.ok.length,
    evidence: { can: mine.evidence(), cannot: sortedSet(failed.map(evidence)) }, largest_fit: null, prediction: null };
  const ooms = failed.filter((r) => r.status === "oom");
  const precision = get(mine.setting, "precision");
  const peak = own(PEAK_KEY, truthy(precision) ? precision : "") ? PEAK_KEY[precision] : null;
  const swept = own(mine.setting, "batch_size") ? sweepBounds(theirs, mine.setting) : null;
  const sweptOom = swept ? swept.smallest_oom : null;
  if (ooms.length) {
    const fit = largestFit(theirs, mine.setting);
    item.reason = "oom";
    item.largest_fit = fit;
    item.detail = `${other.label} ran out of memory at batch ${pyStr(get(mine.setting, "batch_size", "?"))}; ` + fitDetail(fit);
  } else if (!failed.length && sweptOom !== null && sweptOom <= mine.setting.batch_size) {
    const fit = largestFit(theirs, mine.setting);
    item.reason = "oom";
    item.largest_fit = fit;
    item.detail = `${other.label} ran out of memory at batch ${sweptOom} in a batch-size sweep, ` +
      `below this batch of ${mine.setting.batch_size}; ` + fitDetail(fit);
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

export function devicePrecisions(mine, theirs, otherLabel) {
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

export function datasheet(ea, eb) {
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

export function capacityOf(workload, cells) {
  const groups = new Map();
  for (const s of ["a", "b"]) {
    for (const cell of cells[s].values()) {
      if (!own(cell.setting, "batch_size")) continue;
      const rest = withoutBatch(cell.setting);
      const key = settingKey(rest);
      let g = groups.get(key);
      if (!g) {
        groups.set(key, (g = { workload, setting: rest, setting_text: settingText(rest), a_fit: null, a_oom: null, b_fit: null, b_oom: null,
          a_sweep: null, b_sweep: null }));
      }
      const bs = cell.setting.batch_size;
      for (const fit of measuredFits(cell)) g[`${s}_fit`] = Math.max(g[`${s}_fit`] || 0, fit);
      if (cell.failed.some((r) => r.status === "oom")) g[`${s}_oom`] = g[`${s}_oom`] === null ? bs : Math.min(g[`${s}_oom`], bs);
      if (g[`${s}_sweep`] === null) g[`${s}_sweep`] = sweepBounds(cells[s], cell.setting);
    }
  }
  for (const g of groups.values()) {
    for (const s of ["a", "b"]) {
      const swept = g[`${s}_sweep`];
      if (swept && swept.smallest_oom !== null) {
        const oom = g[`${s}_oom`];
        g[`${s}_oom`] = oom === null ? swept.smallest_oom : Math.min(oom, swept.smallest_oom);
      }
    }
  }
  return [...groups.keys()].sort(cmp).map((k) => groups.get(k))
    .filter((g) => g.a_oom !== null || g.b_oom !== null || g.a_sweep || g.b_sweep ||
      (g.a_fit !== null && g.b_fit !== null && g.a_fit !== g.b_fit));
}
