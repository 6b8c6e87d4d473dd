// The settings a result was measured in (precision, compile mode, memory layout, batch size, device count):
// the filters that choose one, and the setting the chart draws when the matching rows mix several.
// Pure functions: no DOM.

// A row without the field: its own value in a menu, "not stated".
export const NOT_STATED = "-";

const plural = (n, one, many) => `${n} ${n === "1" ? one : many}`;
const numeric = (a, b) => Number(a) - Number(b);

// Each setting: `param` (its key in the address and its menu's id), `label` (the menu's), `of(row)` (the
// row's value as a string, NOT_STATED when the row has none), `option(value)` (the menu's text for it),
// `caption(value)` (how the chart's caption names it), and how its values are ordered in the menu.
export const SETTINGS = [
  {
    param: "precision",
    label: "Precision",
    of: (r) => (typeof r.precision === "string" ? r.precision : NOT_STATED),
    option: (v) => v,
    caption: (v) => v,
  },
  {
    param: "compile",
    label: "Compile",
    of: (r) => (typeof r.compile === "string" ? r.compile : NOT_STATED),
    option: (v) => v,
    caption: (v) => v,
  },
  {
    param: "layout",
    label: "Layout",
    of: (r) => (r.channels_last === true ? "nhwc" : r.channels_last === false ? "nchw" : NOT_STATED),
    option: (v) => (v === "nhwc" ? "channels-last (NHWC)" : "NCHW"),
    caption: (v) => (v === "nhwc" ? "NHWC" : "NCHW"),
    order: (a, b) => (a === b ? 0 : a === "nchw" ? -1 : 1),
  },
  {
    param: "batch",
    label: "Batch size",
    of: (r) => (Number.isInteger(r.batch_size) ? String(r.batch_size) : NOT_STATED),
    option: (v) => v,
    caption: (v) => `batch ${v}`,
    order: numeric,
  },
  {
    param: "devices",
    label: "Devices",
    of: (r) => (Number.isInteger(r.device_count) ? String(r.device_count) : NOT_STATED),
    option: (v) => v,
    // A result on N > 1 devices holds the system's total (docs/api.md).
    caption: (v) => (v === "1" ? "1 device" : `${plural(v, "device", "devices")} (system totals)`),
    order: numeric,
  },
];

const STATED_TEXT = { precision: "precision", compile: "compile mode", layout: "layout", batch: "batch size", devices: "device count" };

// The values the rows have of a setting, in menu order (the "not stated" one last): [[value, text]].
export function valuesOf(rows, setting) {
  const seen = new Set();
  for (const r of rows) seen.add(setting.of(r));
  const stated = [...seen].filter((v) => v !== NOT_STATED).sort(setting.order ?? ((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
  const out = stated.map((v) => [v, setting.option(v)]);
  if (seen.has(NOT_STATED)) out.push([NOT_STATED, "not stated"]);
  return out;
}

// Whether the rows differ on a setting (a row that does not state it differs from one that does).
export function varies(rows, setting) {
  const first = rows.length ? setting.of(rows[0]) : undefined;
  return rows.some((r) => setting.of(r) !== first);
}

// A predicate: whether a row has the `chosen` values ({param: value}; "" or absent: any value).
export function matcher(chosen) {
  const active = SETTINGS.filter((s) => chosen[s.param]);
  return (r) => active.every((s) => s.of(r) === chosen[s.param]);
}

// The setting of a row as one key (the values of SETTINGS, in order).
const keyOf = (row) => SETTINGS.map((s) => s.of(row)).join("\u0000");

// The setting the chart draws for `rows` (the rows it could chart, in the workload's order): the most common
// one, ties going to the setting of the earliest row among them. {rows: the rows of that setting, mixed:
// whether `rows` mix settings, text: the setting in words, e.g. "mixed-fp16, eager, NCHW, batch 1024, 1 device",
// leaving out the settings none of `rows` states}.
export function mostCommonSetting(rows) {
  const groups = new Map(); // in the order of first appearance
  for (const row of rows) {
    const key = keyOf(row);
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key).push(row);
  }
  let best = null;
  for (const group of groups.values()) if (!best || group.length > best.length) best = group;
  if (!best) return { rows: [], mixed: false, text: "" };
  // A setting none of the rows states (the compile mode of a Lambda table, say) goes unsaid.
  const said = SETTINGS.filter((s) => rows.some((r) => s.of(r) !== NOT_STATED));
  const text = said.map((s) => {
    const v = s.of(best[0]);
    return v === NOT_STATED ? `${STATED_TEXT[s.param]} not stated` : s.caption(v);
  }).join(", ");
  return { rows: best, mixed: groups.size > 1, text };
}
