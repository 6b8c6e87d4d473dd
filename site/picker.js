// The workload picker: a text box with a list of matching workloads, grouped by family (the ARIA 1.2
// combobox pattern with a listbox popup). Type to narrow, arrow keys to move, Enter to choose, Escape to
// close. Only the first `limit` matches are drawn, so a few thousand workloads cost nothing to search.
import { search } from "./families.js";

let uid = 0;
const numberFormat = new Intl.NumberFormat("en-US");
const num = (n) => numberFormat.format(n);

// `input`: the <input role=combobox>; `listbox`: its <div role=listbox>; `count`: a polite live region for
// the number of matches; `items`: families.prepare(entries); `onChoose(name)` when a workload is chosen.
export function createPicker({ input, listbox, count, items, limit = 50, onChoose, noun = "workload" }) {
  const prefix = `${listbox.id || "picker"}-${++uid}`;
  let chosen = "";
  let edited = false; // the text differs from the chosen workload: the list follows the text
  let options = []; // the drawn, choosable option elements
  let active = -1;

  input.setAttribute("role", "combobox");
  input.setAttribute("aria-autocomplete", "list");
  input.setAttribute("aria-controls", listbox.id);
  input.setAttribute("aria-expanded", "false");
  listbox.setAttribute("role", "listbox");
  listbox.hidden = true;

  function isOpen() {
    return !listbox.hidden;
  }

  function setActive(i) {
    if (active >= 0 && options[active]) options[active].setAttribute("aria-selected", "false");
    active = i;
    const option = options[i];
    if (option) {
      option.setAttribute("aria-selected", "true");
      input.setAttribute("aria-activedescendant", option.id);
      option.scrollIntoView({ block: "nearest" });
    } else {
      input.removeAttribute("aria-activedescendant");
    }
  }

  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function draw() {
    const query = edited ? input.value.trim() : "";
    const found = search(items, query, limit);
    const frag = document.createDocumentFragment();
    options = [];
    found.groups.forEach((group, g) => {
      const box = element("div", "picker-group");
      box.setAttribute("role", "group");
      const label = element("div", "picker-group-label");
      label.id = `${prefix}-g${g}`;
      label.setAttribute("role", "presentation");
      label.title = group.family.title;
      label.append(element("span", "picker-source", group.family.source));
      // The family's id, unless the source says it already (this project's own: "dlbench")
      label.append(element("span", group.family.id === group.family.source ? "picker-family same" : "picker-family", group.family.id));
      label.append(element("span", "picker-total", num(group.total)));
      box.setAttribute("aria-labelledby", label.id);
      box.append(label);
      for (const entry of group.items) {
        const option = element("div", "picker-option");
        option.id = `${prefix}-o${options.length}`;
        option.setAttribute("role", "option");
        option.setAttribute("aria-selected", "false");
        option.dataset.name = entry.name;
        option.append(element("span", "picker-name", entry.name));
        if (typeof entry.result_count === "number") {
          option.append(element("span", "picker-count", ` ${num(entry.result_count)} result${entry.result_count === 1 ? "" : "s"}`));
        }
        if (entry.name === chosen) option.classList.add("current");
        options.push(option);
        box.append(option);
      }
      frag.append(box);
    });
    const more = found.total - found.shown;
    if (more > 0 || found.total === 0) {
      const note = element("div", "picker-more", found.total === 0 ? `No ${noun} matches: change the text`
        : `${num(more)} more: type to narrow`);
      note.setAttribute("role", "option");
      note.setAttribute("aria-disabled", "true");
      note.id = `${prefix}-more`;
      frag.append(note);
    }
    listbox.replaceChildren(frag);
    count.textContent = found.total === 0 ? `No ${noun} matches.`
      : more > 0 ? `${num(found.total)} ${noun}s match; the first ${found.shown} are listed.`
        : `${num(found.total)} ${noun}${found.total === 1 ? "" : "s"} match.`;
    active = -1;
    const current = options.findIndex((o) => o.dataset.name === chosen);
    setActive(edited ? (options.length ? 0 : -1) : current);
  }

  function open() {
    listbox.hidden = false;
    input.setAttribute("aria-expanded", "true");
    draw();
  }

  function close() {
    listbox.hidden = true;
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
    active = -1;
  }

  function restore() {
    input.value = chosen;
    edited = false;
  }

  function choose(name) {
    const changed = name !== chosen;
    chosen = name;
    restore();
    close();
    if (changed) onChoose(name);
  }

  function move(step) {
    if (!isOpen()) {
      open();
      return;
    }
    if (!options.length) return;
    setActive(active < 0 ? (step > 0 ? 0 : options.length - 1) : (active + step + options.length) % options.length);
  }

  input.addEventListener("input", () => {
    edited = true;
    if (isOpen()) draw();
    else open();
  });
  input.addEventListener("keydown", (e) => {
    if (e.key === "ArrowDown") {
      e.preventDefault();
      move(1);
    } else if (e.key === "ArrowUp") {
      e.preventDefault();
      move(-1);
    } else if (e.key === "PageDown" && isOpen()) {
      e.preventDefault();
      setActive(Math.min(options.length - 1, active + 10));
    } else if (e.key === "PageUp" && isOpen()) {
      e.preventDefault();
      setActive(Math.max(0, active - 10));
    } else if (e.key === "Enter") {
      e.preventDefault(); // never submits the filters form
      if (isOpen() && options[active]) choose(options[active].dataset.name);
    } else if (e.key === "Escape") {
      if (isOpen() || edited) e.preventDefault();
      restore();
      close();
    }
  });
  input.addEventListener("click", () => {
    if (!isOpen()) open();
  });
  input.addEventListener("focus", () => input.select());
  input.addEventListener("blur", () => {
    restore();
    close();
  });
  // Keep the focus in the text box while an option is pressed, then choose it.
  listbox.addEventListener("mousedown", (e) => e.preventDefault());
  listbox.addEventListener("click", (e) => {
    const option = e.target.closest("[role=option]");
    if (option && option.dataset.name) choose(option.dataset.name);
  });

  return {
    // Shows `name` as the chosen workload without calling onChoose.
    set(name) {
      chosen = name;
      restore();
      if (isOpen()) draw();
    },
    get value() {
      return chosen;
    },
  };
}
