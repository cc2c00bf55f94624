// The edition page's visual editor: the front matter form and the blocks
// (Editor.js with the cards of editor-blocks.js), serialised on submit into
// the form's hidden "document" field as {"front", "document"}: the server
// alone writes the edition's text. It also keeps what is typed from being
// lost: a warning when leaving with changes, and a draft in localStorage
// offered back when the page is opened again. Without JavaScript the page
// works through its Source tab.
import { tools } from "./editor-blocks.js";

const form = document.getElementById("edition-form");
const dataNode = document.getElementById("editor-data");
if (form && dataNode) start(JSON.parse(dataNode.textContent));

function start(data) {
  const messages = data.messages || {};
  // t translates an editor.ui key; %s and %d take args in order, as the
  // Go catalogue's strings do.
  const t = (key, ...args) => {
    let i = 0;
    const s = messages["editor.ui." + key];
    if (s === undefined) return key;
    return s.replace(/%[sd]/g, () => (i < args.length ? args[i++] : ""));
  };
  const slug = (data.front && data.front.slug) || form.dataset.slug || location.pathname;
  const draftKey = "bulletin.draft." + slug;
  const visual = document.getElementById("visual");
  const source = document.getElementById("source");
  const docField = document.getElementById("document");
  const previewButton = document.getElementById("preview-button");

  let dirty = false;
  let leaving = false;
  let timer = 0;
  let serialize = null; // the visual tab's serialiser, once its editor runs

  // changed marks the page as changed, keeps a draft a second later and
  // asks the live preview to follow.
  function changed() {
    dirty = true;
    window.clearTimeout(timer);
    timer = window.setTimeout(keepDraft, 800);
    form.dispatchEvent(new CustomEvent("bulletin:change"));
  }

  async function keepDraft() {
    const draft = { at: new Date().toISOString() };
    if (serialize) Object.assign(draft, await serialize());
    else if (source) draft.source = source.value;
    try {
      localStorage.setItem(draftKey, JSON.stringify(draft));
    } catch (e) {
      // Storage full or refused: the warning on leaving still holds.
    }
  }

  window.addEventListener("beforeunload", (e) => {
    if (dirty && !leaving) {
      e.preventDefault();
      e.returnValue = "";
    }
  });

  // After a save that the server took (no errors shown), the draft is
  // what was saved: forget it.
  const saving = sessionStorage.getItem(draftKey);
  sessionStorage.removeItem(draftKey);
  if (saving && !document.querySelector("[data-edition-errors]")) localStorage.removeItem(draftKey);

  // Saving the blocks is asynchronous: a submission is held, the
  // document written, then the same button submits again and passes.
  let pass; // the button whose submission is serialised and may go
  form.addEventListener("submit", (e) => {
    const submitter = e.submitter || null;
    const preview = submitter !== null && submitter === previewButton;
    if (serialize && pass !== undefined && pass === submitter) {
      pass = undefined;
      return;
    }
    // A second submission of the form cancels the navigation the first
    // one planned: once staff save or switch tabs, no preview may follow.
    if (preview && leaving) {
      e.preventDefault();
      return;
    }
    if (!preview) leaving = true;
    if (submitter && submitter.value === "save") sessionStorage.setItem(draftKey, "1");
    if (!serialize) return;
    e.preventDefault();
    serialize().then((doc) => {
      if (preview && leaving) return;
      docField.value = JSON.stringify(doc);
      if (preview) {
        pass = submitter;
        form.requestSubmit(submitter);
        return;
      }
      // Staff leave the page: submit() without events or validation
      // (the fields were checked when they clicked), carrying the
      // button's action as a field.
      if (submitter && submitter.name) {
        const action = document.createElement("input");
        action.type = "hidden";
        action.name = submitter.name;
        action.value = submitter.value;
        form.append(action);
      }
      form.submit();
    }, (err) => {
      leaving = false;
      showProblem(t("save_failed", String(err && err.message ? err.message : err)));
    });
  });

  function showProblem(text) {
    const box = document.getElementById("editor-problem");
    if (box) {
      box.textContent = text;
      box.hidden = false;
    }
  }

  if (source) source.addEventListener("input", changed);

  // Enter in a one-line field would submit the form with its first
  // button, the tab switch: in the editor it only ends the typing.
  for (const type of ["keydown", "keypress"]) {
    form.addEventListener(type, (e) => {
      if (e.key === "Enter" && e.target instanceof HTMLInputElement && e.target.type !== "checkbox") e.preventDefault();
    }, true);
  }

  if (visual && window.EditorJS) {
    visual.hidden = false;
    startVisual(data, t, changed).then((s) => {
      serialize = s.serialize;
      visual.dataset.ready = "true"; // for the browser test and the curious
      offerDraft(s);
    });
  } else {
    offerDraft(null);
  }

  // offerDraft shows "a draft exists: resume / ignore" when a draft kept
  // for this edition differs from what the page shows.
  async function offerDraft(visualState) {
    let draft = null;
    try {
      draft = JSON.parse(localStorage.getItem(draftKey) || "null");
    } catch (e) {
      draft = null;
    }
    if (!draft) return;
    const fits = visualState ? draft.document : typeof draft.source === "string";
    if (!fits) return;
    if (visualState) {
      const now = await visualState.serialize();
      if (same(now, { front: draft.front, document: draft.document })) return;
    } else if (draft.source === source.value) {
      return;
    }
    const bar = document.getElementById("draft-bar");
    if (!bar) return;
    const when = new Date(draft.at);
    bar.querySelector("p").textContent = t("draft.found", isNaN(when) ? "" : when.toLocaleString(document.documentElement.lang || undefined));
    bar.hidden = false;
    bar.querySelector("[data-draft=resume]").addEventListener("click", async () => {
      if (visualState) await visualState.load(draft.front, draft.document);
      else source.value = draft.source;
      bar.hidden = true;
      changed();
    });
    bar.querySelector("[data-draft=ignore]").addEventListener("click", () => {
      localStorage.removeItem(draftKey);
      bar.hidden = true;
    });
  }
}

// same compares two documents, ignoring Editor.js's block ids and times.
function same(a, b) {
  const strip = (d) => JSON.stringify(d, (k, v) => (k === "id" || k === "time" || k === "version" ? undefined : v));
  return strip(a) === strip(b);
}

// startVisual fills the front matter form, starts the editor and returns
// its serialiser and a loader (for a draft taken back).
async function startVisual(data, t, changed) {
  const front = { ...data.front };
  const frontForm = document.getElementById("front");
  const inputs = frontForm.querySelectorAll("[data-front]");
  const listsBox = document.getElementById("front-lists");

  function fillFront(f) {
    for (const input of inputs) {
      const v = f[input.dataset.front];
      input.value = v == null || v === 0 ? "" : v;
    }
    listsBox.replaceChildren();
    const names = [...new Set([...(data.lists || []), ...(f.lists || [])])];
    if (!names.length) {
      const p = document.createElement("p");
      p.className = "hint";
      p.textContent = t("front.no_lists");
      listsBox.append(p);
    }
    for (const name of names) {
      const label = document.createElement("label");
      label.className = "check";
      const box = document.createElement("input");
      box.type = "checkbox";
      box.value = name;
      box.checked = (f.lists || []).includes(name);
      box.addEventListener("change", changed);
      label.append(box, " " + name);
      listsBox.append(label);
    }
  }
  fillFront(front);
  for (const input of inputs) input.addEventListener("input", changed);

  function readFront() {
    const f = { ...front };
    for (const input of inputs) {
      const key = input.dataset.front;
      f[key] = key === "number" ? Number(input.value) || 0 : input.value;
    }
    f.lists = [...listsBox.querySelectorAll("input:checked")].map((b) => b.value);
    return f;
  }

  const i18n = { messages: editorMessages(t) };
  const ctx = { t, changed, i18n, mediaURL: data.media_url, mediaBase: data.media_base || "", csrf: data.csrf || "" };
  const toolSet = tools(ctx);
  const holder = document.getElementById("editor");
  const editor = new window.EditorJS({
    holder,
    tools: toolSet(),
    tunes: ["duplicate"],
    data: data.document || { blocks: [] },
    i18n,
    placeholder: t("placeholder"),
    minHeight: 80,
    onChange: () => changed(),
  });
  await editor.isReady;

  return {
    async serialize() {
      const out = await editor.save();
      return { front: readFront(), document: { blocks: out.blocks } };
    },
    async load(f, doc) {
      fillFront(f || front);
      await editor.render(doc || { blocks: [] });
    },
  };
}

// editorMessages is Editor.js's own dictionary (its menus, tunes and
// tools), from the catalogue.
function editorMessages(t) {
  return {
    ui: {
      blockTunes: { toggler: { "Click to tune": t("ej.click_to_tune"), "or drag to move": t("ej.drag_to_move") } },
      inlineToolbar: { converter: { "Convert to": t("ej.convert_to") } },
      toolbar: { toolbox: { Add: t("ej.add") } },
      popover: { Filter: t("ej.filter"), "Nothing found": t("ej.nothing_found"), "Convert to": t("ej.convert_to") },
    },
    toolNames: {
      Text: t("ej.text"),
      Heading: t("ej.heading"),
      "Unordered List": t("ej.unordered_list"),
      "Ordered List": t("ej.ordered_list"),
      Link: t("ej.link"),
      Bold: t("ej.bold"),
      Italic: t("ej.italic"),
    },
    tools: {
      link: { "Add a link": t("ej.add_link") },
      stub: { "The block can not be displayed correctly.": t("ej.stub") },
      header: { "Heading 1": t("ej.heading_1"), "Heading 2": t("ej.heading_2"), "Heading 3": t("ej.heading_3") },
      list: {
        Unordered: t("ej.unordered"),
        Ordered: t("ej.ordered"),
        "Start with": t("ej.start_with"),
        "Counter type": t("ej.counter_type"),
        Numeric: t("ej.numeric"),
      },
    },
    blockTunes: {
      delete: { Delete: t("ej.delete"), "Click to delete": t("ej.click_to_delete") },
      moveUp: { "Move up": t("ej.move_up") },
      moveDown: { "Move down": t("ej.move_down") },
    },
  };
}
