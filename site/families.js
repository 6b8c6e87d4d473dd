// Workload families (whose protocol a workload follows) and the search behind the workload picker.
// Pure functions: no DOM.
//
// An index entry names its family when the API states it (`family`, `family_title`, `source`, `namespace`:
// docs/api.md); an index without them falls back to the rule of dlbench/contract/families.py: a workload id
// starts with its family's prefix, and an id with no known prefix is one of this project's own workloads.

export const MLPERF = "mlperf";

export const OWN = { id: "dlbench", title: "This project's own workloads", source: "dlbench", namespace: "open" };

// In the order the picker lists them, after this project's own workloads.
export const FAMILIES = [
  { id: "timm-infer", title: "timm inference benchmark", source: "timm", namespace: "open" },
  { id: "timm-train", title: "timm training benchmark", source: "timm", namespace: "open" },
  { id: "lambda-pytorch-2022", title: "Lambda PyTorch training benchmark, 2022 table", source: "Lambda", namespace: "open" },
  { id: "lambda-pytorch", title: "Lambda PyTorch training benchmark", source: "Lambda", namespace: "open" },
  { id: "lambda-tf", title: "Lambda TensorFlow training benchmark", source: "Lambda", namespace: "open" },
  { id: "mlperf-inference-v4-1", title: "MLPerf Inference v4.1 results", source: "MLPerf Inference v4.1", namespace: MLPERF },
  { id: "mlperf-inference-v6-1", title: "MLPerf Inference v6.1 results", source: "MLPerf Inference v6.1", namespace: MLPERF },
];

export const MLPERF_NOTE = "MLPerf results: not comparable with non-MLPerf results; per-chip figures are derived, not official.";

const KNOWN = new Map([OWN, ...FAMILIES].map((f) => [f.id, f]));
const BY_PREFIX = [...FAMILIES].sort((a, b) => b.id.length - a.id.length); // lambda-pytorch-2022- before lambda-pytorch-

// The family of a workload id by the prefix rule.
export function familyByPrefix(name) {
  return BY_PREFIX.find((f) => name.startsWith(`${f.id}-`)) ?? OWN;
}

// {id, title, source, namespace, note?} of an index entry: its own fields where present, else the prefix rule.
// `described` maps family ids to what the index's top-level `families` says of them, when it has that list.
export function familyOf(entry, described = new Map()) {
  const base = entry.family ? described.get(entry.family) ?? KNOWN.get(entry.family) ?? { id: entry.family } : familyByPrefix(entry.name);
  const family = {
    id: base.id,
    title: entry.family_title ?? base.title ?? base.id,
    source: entry.source ?? base.source ?? base.id,
    namespace: entry.namespace ?? base.namespace ?? "open",
  };
  if (typeof base.note === "string" && base.note) family.note = base.note;
  // The `mlperf-` prefix is reserved for MLPerf's families: such a workload is never read as an open one.
  if (entry.name.startsWith("mlperf-")) family.namespace = MLPERF;
  return family;
}

export function isMlperf(entry, described) {
  return familyOf(entry, described).namespace === MLPERF;
}

// The picker's model: each entry with its family, its group's rank and the lowercased text a query is
// matched against (id, family title and id, source, model), sorted by group then by name.
export function prepare(entries, families = []) {
  const described = new Map(families.map((f) => [f.id, f]));
  const order = [OWN, ...FAMILIES].map((f) => f.id);
  const items = entries.map((entry) => {
    const family = familyOf(entry, described);
    const known = order.indexOf(family.id);
    const hay = [entry.name, family.title, family.id, family.source, entry.model, entry.scenario]
      .filter((v) => typeof v === "string").join("\n").toLowerCase();
    return { entry, family, rank: known >= 0 ? known : order.length, hay };
  });
  // Families the page does not know come after the known ones, by source then id: a stable order.
  items.sort((a, b) =>
    a.rank - b.rank ||
    cmp(a.family.source, b.family.source) || cmp(a.family.id, b.family.id) ||
    cmp(a.entry.name, b.entry.name));
  return items;
}

const cmp = (a, b) => (a < b ? -1 : a > b ? 1 : 0);

// The prepared items matching `query` (case-insensitive; every whitespace-separated term a substring of
// the item's text), at most `limit` of them, grouped by family in the prepared order:
// {groups: [{family, total, items: [entry]}], shown, total}. `total` counts every match.
export function search(prepared, query, limit) {
  const terms = query.toLowerCase().split(/\s+/).filter(Boolean);
  const groups = [];
  let total = 0;
  let shown = 0;
  let group = null;
  for (const item of prepared) {
    if (!terms.every((t) => item.hay.includes(t))) continue;
    total++;
    if (!group || group.family.id !== item.family.id) {
      group = { family: item.family, total: 0, items: [] };
      groups.push(group);
    }
    group.total++;
    if (shown < limit) {
      group.items.push(item.entry);
      shown++;
    }
  }
  return { groups: groups.filter((g) => g.items.length), shown, total };
}
