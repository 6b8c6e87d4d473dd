// Reading the sharded JSON API (docs/api.md): the index, then the parts of one workload.

const CONCURRENT_FETCHES = 4;

export async function fetchJson(url) {
  let response;
  try {
    response = await fetch(url);
  } catch (err) {
    throw new Error(`${url}: could not be fetched (${err.message})`);
  }
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status} ${response.statusText}`);
  try {
    return await response.json();
  } catch {
    throw new Error(`${url}: is not valid JSON`);
  }
}

export function loadIndex(base) {
  return fetchJson(`${base}/index.json`).then((index) => {
    if (index.api_version !== 1 || !Array.isArray(index.workloads)) {
      throw new Error(`${base}/index.json: not a version 1 dlbench API index`);
    }
    return index;
  });
}

// Every row of a workload, in merge order; `progress(done, total)` is called as parts arrive. A part of
// another workload is an error: the page never shows rows of two workloads together (MLPerf's rows, in
// a namespace of their own, are thus never beside others).
export async function loadWorkload(base, workload, progress = () => {}) {
  const files = workload.files;
  const parts = new Array(files.length);
  let next = 0;
  let done = 0;
  async function worker() {
    while (next < files.length) {
      const i = next++;
      const part = await fetchJson(`${base}/${files[i]}`);
      if (part.benchmark !== workload.name) {
        throw new Error(`${base}/${files[i]}: holds results of ${part.benchmark}, not of ${workload.name}`);
      }
      parts[i] = part;
      progress(++done, files.length);
    }
  }
  await Promise.all(Array.from({ length: Math.min(CONCURRENT_FETCHES, files.length) }, worker));
  return parts.flatMap((p) => {
    for (const row of p.results) row.benchmark = p.benchmark; // freshly parsed: tag the rows in place, no copy
    return p.results;
  });
}

// --- The rows of one device, for the "compare two devices" view (site/versus.html) ---------------------------
// The site build writes the API's rows grouped by device (dlbench/store/by_device.py): `by-device.json` lists
// each device label's files, and an entry may name a file of predictions (`predicted`). Without that listing
// (a checkout's data/api/v1, or an older site) every workload part is read and its rows filtered, as
// dlbench/store/api_rows.py `device_rows` does: the same rows in the same order per device.

export const BY_DEVICE_NAME = "by-device.json";
const CONCURRENT_PART_FETCHES = 6; // the browser's connections per host

// The parsed files `names` (relative to `base`) in their order, fetched a few at a time.
async function fetchAll(base, names, progress = () => {}, limit = CONCURRENT_FETCHES) {
  const out = new Array(names.length);
  let next = 0;
  let done = 0;
  async function worker() {
    while (next < names.length) {
      const i = next++;
      out[i] = await fetchJson(`${base}/${names[i]}`);
      progress(++done, names.length);
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, names.length) }, worker));
  return out;
}

// by-device.json, or null when the API has none (HTTP 404).
export async function loadByDevice(base) {
  const url = `${base}/${BY_DEVICE_NAME}`;
  let response;
  try {
    response = await fetch(url);
  } catch (err) {
    throw new Error(`${url}: could not be fetched (${err.message})`);
  }
  if (response.status === 404) return null;
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status} ${response.statusText}`);
  let listing;
  try {
    listing = await response.json();
  } catch {
    throw new Error(`${url}: is not valid JSON`);
  }
  if (listing?.api_version !== 1 || !Array.isArray(listing.devices)) throw new Error(`${url}: not a version 1 per-device listing`);
  return listing;
}

// The rows of devices by label, loaded once each. `labelOf(row)`: a row's device label (site/versus.js).
// `rows(label, progress)` -> the device's rows, each tagged with its `benchmark`; `predictions(label)` -> the
// device's file of predictions ({"device", "predictions": [...]}) or null when the site has none for it.
export function deviceRowSource(base, index, labelOf) {
  let listing = null; // promise of by-device.json or null
  let everything = null; // without it: promise of Map label -> rows, from every workload part
  const cache = new Map();
  const getListing = () => (listing ??= loadByDevice(base));

  async function allRows(progress) {
    const names = [];
    const owners = [];
    for (const w of index.workloads) for (const f of w.files) names.push(f), owners.push(w.name);
    const parts = await fetchAll(base, names, progress, CONCURRENT_PART_FETCHES);
    const byLabel = new Map();
    parts.forEach((part, i) => {
      if (part.benchmark !== owners[i]) throw new Error(`${base}/${names[i]}: holds results of ${part.benchmark}, not of ${owners[i]}`);
      for (const row of part.results) {
        row.benchmark = part.benchmark;
        const label = labelOf(row);
        if (!byLabel.has(label)) byLabel.set(label, []);
        byLabel.get(label).push(row);
      }
    });
    return byLabel;
  }

  async function load(label, progress) {
    const found = await getListing();
    if (found === null) {
      everything ??= allRows(progress).catch((err) => { everything = null; throw err; });
      return (await everything).get(label) ?? [];
    }
    const entry = found.devices.find((e) => e.label === label);
    if (!entry) return [];
    const parts = await fetchAll(base, entry.files, progress);
    return parts.flatMap((p) => p.results); // the rows carry their `benchmark`
  }

  return {
    byDevice: async () => (await getListing()) !== null,
    rows(label, progress) {
      if (!cache.has(label)) cache.set(label, load(label, progress).catch((err) => { cache.delete(label); throw err; }));
      return cache.get(label);
    },
    async predictions(label) {
      const found = await getListing();
      const entry = found?.devices.find((e) => e.label === label);
      if (!entry || typeof entry.predicted !== "string" || !entry.predicted) return null;
      const file = await fetchJson(`${base}/${entry.predicted}`);
      if (file?.api_version !== 1 || !Array.isArray(file.predictions)) throw new Error(`${base}/${entry.predicted}: not a version 1 file of predictions`);
      return file;
    },
  };
}
