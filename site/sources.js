// Licenses and attributions: one footnote per published source of the loaded rows, and the device
// catalogue's attribution. Every string from the data is inserted as text.
import { safeHttpUrl } from "./format.js";

// The source of a row that states a license or an attribution (`provenance.source`), else null.
function licensed(row) {
  const src = row.provenance?.source;
  return src && (src.license || src.attribution) ? src : null;
}

const keyOf = (src) => JSON.stringify([src.title ?? "", src.url ?? "", src.license ?? "", src.attribution ?? ""]);

// {notes: [{n, source}], numberOf(row) -> n or undefined}: the distinct sources with a license or an
// attribution among `rows`, numbered in the order they first appear.
export function sourceNotes(rows) {
  const byKey = new Map();
  const notes = [];
  for (const row of rows) {
    const src = licensed(row);
    if (!src) continue;
    const key = keyOf(src);
    if (!byKey.has(key)) {
      byKey.set(key, notes.length + 1);
      notes.push({ n: notes.length + 1, source: src });
    }
  }
  return { notes, numberOf: (row) => { const src = licensed(row); return src ? byKey.get(keyOf(src)) : undefined; } };
}

export const noteId = (n) => `source-note-${n}`;

// The License column's cell: the SPDX id (or what the source says) and a link to its footnote.
export function licenseCell(td, row, ctx) {
  const src = licensed(row);
  if (!src) return;
  td.append(document.createTextNode(src.license || "see note"));
  const n = ctx.sources?.numberOf(row);
  if (n === undefined) return;
  const a = document.createElement("a");
  a.href = `#${noteId(n)}`;
  a.className = "note-ref";
  a.textContent = `[${n}]`;
  a.setAttribute("aria-label", `source note ${n}`);
  td.append(document.createTextNode(" "), a);
}

export function renderNotes(section, list, notes) {
  section.hidden = notes.length === 0;
  const frag = document.createDocumentFragment();
  for (const { n, source } of notes) {
    const li = document.createElement("li");
    li.id = noteId(n);
    li.value = n;
    const url = source.url ? safeHttpUrl(source.url) : null;
    const title = source.title || source.repository || "source";
    if (url) {
      const a = document.createElement("a");
      a.href = url;
      a.rel = "noopener noreferrer";
      a.textContent = title;
      li.append(a);
    } else {
      li.append(document.createTextNode(title));
    }
    if (source.commit) li.append(document.createTextNode(` at ${String(source.commit).slice(0, 10)}`));
    li.append(document.createTextNode(`. License: ${source.license || "none declared"}.`));
    if (source.attribution) li.append(document.createTextNode(` Attribution: ${source.attribution}`));
    frag.append(li);
  }
  list.replaceChildren(frag);
}

// The catalogue's `attribution` as text: a string, a list of them, or objects with text/title, license, url.
export function attributionText(value) {
  if (value === undefined || value === null) return "";
  if (typeof value === "string") return value;
  if (Array.isArray(value)) return value.map(attributionText).filter(Boolean).join(" ");
  if (typeof value === "object") {
    const main = value.text ?? value.attribution ?? value.title ?? "";
    const extra = [value.license && `License: ${value.license}`, value.url && safeHttpUrl(value.url)].filter(Boolean);
    return [main, ...extra].filter(Boolean).join(". ");
  }
  return String(value);
}
