// The results table: columns, sorting and rows. Every value from the data is inserted as text.
import { commitUrl, metricValue, safeHttpUrl, shellJoin } from "./format.js";
import { licenseCell } from "./sources.js";

const text = (v) => (v === undefined || v === null ? undefined : String(v));

// Whether a row is an outlier of its group, in words: undefined for a row that takes no part (failed,
// or without the workload's headline metric), "not judged" when its group is too small.
export function outlierText(row) {
  if (row.outlier === true) return "outlier";
  if (row.outlier === false) return "no";
  return row.corroborated_by === undefined ? undefined : "not judged";
}

// The workload of a row; a train result on part of its dataset says which part (its figures are of that part).
export function workloadText(row) {
  if (row.train_samples === undefined && row.test_samples === undefined) return row.benchmark;
  const part = (n, split) => (n === undefined ? `all ${split}` : `first ${n} ${split}`);
  return `${row.benchmark} (${part(row.train_samples, "training")}, ${part(row.test_samples, "test")} samples)`;
}

// Columns for rows that have `metrics` (metricsIn(rows)): the fixed ones, the key metrics among them (and
// `extras.headline`, the workload's headline metric, always), the outlier and corroboration columns when
// `judgement` ({metric, rule} from the index, or null) is given, the MLPerf result ID when
// `extras.resultId`, the device count when `extras.deviceCount`, the compile mode when `extras.compile` and
// the memory layout when `extras.layout` (shown when the workload's rows differ on them), the global batch of
// multi-device runs when `extras.globalBatch`, what measured the energy (or why there is none) when
// `extras.energy`, status, the license when `extras.license`, and provenance.
export function columnsFor(metrics, judgement, extras = {}) {
  const metricCols = metrics.filter((m) => m.table || m.key === extras.headline).map((m) => ({
    key: m.key,
    label: m.unit && m.key === extras.headline ? `${m.label} [${m.unit}]` : m.label,
    numeric: true,
    value: (r) => metricValue(r, m.key),
    format: m.format,
  }));
  return [
    { key: "workload", label: "Workload", value: workloadText },
    ...(extras.resultId ? [{ key: "result_id", label: "MLPerf result ID", value: (r) => text(r.provenance?.source?.row) }] : []),
    { key: "device", label: "Device", value: (r) => text(r.device) },
    ...(extras.deviceCount ? [{ key: "device_count", label: "Devices", numeric: true, value: (r) => r.device_count, format: (v) => String(v) }] : []),
    { key: "framework", label: "Framework", value: (r) => [r.framework, r.framework_version].filter(Boolean).join(" ") },
    { key: "precision", label: "Precision", value: (r) => text(r.precision) },
    ...(extras.compile ? [{ key: "compile", label: "Compile", value: (r) => text(r.compile) }] : []),
    ...(extras.layout ? [{ key: "layout", label: "Layout", value: layoutText }] : []),
    { key: "batch_size", label: "Batch size", numeric: true, value: (r) => r.batch_size, format: (v) => String(v) },
    ...(extras.globalBatch ? [{ key: "global_batch_size", label: "Global batch", numeric: true, value: (r) => r.global_batch_size, format: (v) => String(v),
      title: "Samples per step over all devices (batch size is per device)" }] : []),
    ...metricCols,
    ...(extras.energy ? [{ key: "energy", label: "Energy sensor", value: energyText, cell: energyCell }] : []),
    ...(judgement ? judgementColumns(judgement) : []),
    { key: "status", label: "Status", value: (r) => text(r.status), cell: statusCell },
    ...(extras.license ? [{ key: "license", label: "License", value: (r) => text(r.provenance?.source?.license), cell: licenseCell }] : []),
    { key: "provenance", label: "Provenance", sortable: false, cell: provenanceCell },
  ];
}

// What measured a row's energy (`energy.sensor` and what it `covers`), or why it has none (`energy.missing`).
export function energyText(row) {
  const e = row.energy;
  if (!e || typeof e !== "object") return undefined;
  if (typeof e.missing === "string") return `none: ${e.missing}`;
  return typeof e.sensor === "string" ? `${e.sensor}${typeof e.covers === "string" ? ` (${e.covers})` : ""}` : undefined;
}

function energyCell(td, row) {
  const value = energyText(row);
  if (value === undefined) return;
  td.textContent = value;
  if (typeof row.energy.missing === "string") td.className = "energy-missing";
}

// The memory layout of a row's tensors: channels_last true is NHWC, false NCHW (the default).
export function layoutText(row) {
  return row.channels_last === true ? "NHWC" : row.channels_last === false ? "NCHW" : undefined;
}

function judgementColumns({ metric, rule }) {
  const on = metric ? ` on ${metric}` : "";
  return [
    {
      key: "outlier",
      label: "Outlier",
      value: outlierText,
      cell: outlierCell,
      title: rule
        ? `More than ${rule.k} × ${rule.mad_scale} median absolute deviations from the median of its group ` +
          `(same device and setting, at least ${rule.min_group} ok results)${on}`
        : undefined,
    },
    {
      key: "corroborated_by",
      label: "Corroborated by",
      numeric: true,
      value: (r) => r.corroborated_by,
      format: (v) => String(v),
      title: rule
        ? "Independent runs (another commit or contributor, or another source) " +
          `within ${rule.margin * 100} % of this result${on}`
        : undefined,
    },
  ];
}

function outlierCell(td, row) {
  const value = outlierText(row);
  if (value === undefined) return;
  td.textContent = value;
  td.className = value === "outlier" ? "outlier-yes" : value === "no" ? "outlier-no" : "outlier-unjudged";
}

// Rows sorted by a column; rows without a value come last in both directions; ties keep merge order.
export function sortRows(rows, column, dir) {
  if (!column) return rows;
  const sign = dir === "desc" ? -1 : 1;
  const keyed = rows.map((row, i) => ({ row, i, v: column.value(row) }));
  keyed.sort((a, b) => {
    const am = a.v === undefined || a.v === "";
    const bm = b.v === undefined || b.v === "";
    if (am || bm) return am === bm ? a.i - b.i : am ? 1 : -1;
    const c = column.numeric ? a.v - b.v : a.v < b.v ? -1 : a.v > b.v ? 1 : 0;
    return c ? sign * c : a.i - b.i;
  });
  return keyed.map((k) => k.row);
}

export function renderHead(table, columns, sort, onSort) {
  const tr = table.tHead.rows[0];
  tr.replaceChildren();
  for (const col of columns) {
    const th = document.createElement("th");
    th.scope = "col";
    th.dataset.key = col.key;
    if (col.numeric) th.className = "num";
    if (col.title) th.title = col.title;
    if (col.sortable === false) {
      th.textContent = col.label;
    } else {
      th.setAttribute("aria-sort", sort.key === col.key ? (sort.dir === "desc" ? "descending" : "ascending") : "none");
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = col.label;
      button.addEventListener("click", () => onSort(col.key));
      th.append(button);
    }
    tr.append(th);
  }
}

// The rows as the table's body; with `append`, added after the rows already there.
export function renderBody(table, rows, columns, ctx, append = false) {
  const tbody = table.tBodies[0];
  const frag = document.createDocumentFragment();
  for (const row of rows) {
    const tr = document.createElement("tr");
    tr.dataset.runId = row.run_id;
    if (row.outlier === true) tr.className = "outlier";
    for (const col of columns) {
      const td = document.createElement("td");
      td.dataset.key = col.key;
      if (col.cell) {
        col.cell(td, row, ctx);
      } else {
        const v = col.value(row);
        if (v !== undefined) {
          td.textContent = col.format ? col.format(v) : v;
          if (col.numeric) td.dataset.value = String(v);
        }
        if (col.numeric) td.className = "num";
      }
      tr.append(td);
    }
    frag.append(tr);
  }
  if (append) tbody.append(frag);
  else tbody.replaceChildren(frag);
}

function statusCell(td, row) {
  td.className = `status-${row.status}`;
  td.append(document.createTextNode(row.status));
  if (row.message) {
    const msg = document.createElement("span");
    msg.className = "message";
    msg.textContent = row.message;
    td.append(msg);
  }
}

function line(parent, className) {
  const span = document.createElement("span");
  span.className = `provenance ${className}`;
  parent.append(span);
  return span;
}

function link(parent, href, label) {
  const a = document.createElement("a");
  a.href = href;
  a.rel = "noopener noreferrer";
  a.textContent = label;
  parent.append(a);
  return a;
}

function provenanceCell(td, row, ctx) {
  const prov = row.provenance || {};
  if (prov.source) {
    const src = line(td, "source");
    src.append(document.createTextNode("Source: "));
    const url = prov.source.url ? safeHttpUrl(prov.source.url) : null;
    if (url) link(src, url, prov.source.title);
    else src.append(document.createTextNode(prov.source.title));
    const details = [prov.source.section, prov.source.published, !ctx.resultId && prov.source.row && `row ${prov.source.row}`]
      .filter(Boolean).join(", ");
    if (details) src.append(document.createTextNode(` (${details})`));
  }
  if (prov.git_commit) {
    const commit = line(td, "commit");
    const url = commitUrl(ctx.repo, prov.git_commit);
    const label = `commit ${prov.git_commit.slice(0, 10)}`;
    if (url) link(commit, url, label);
    else commit.textContent = label;
    if (prov.git_dirty) commit.append(document.createTextNode(" (with uncommitted changes)"));
  }
  if (prov.command) {
    const code = document.createElement("code");
    code.className = "command";
    code.textContent = shellJoin(prov.command) + (prov.command_truncated ? " …" : "");
    line(td, "command").append(code);
  }
  const run = line(td, "run");
  run.textContent = `${prov.kind || "run"} · run ${row.run_id}`;
  if (prov.contributor) run.append(document.createTextNode(` · by ${prov.contributor}`));
  if (prov.notes) line(td, "notes").textContent = prov.notes;
}
