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
