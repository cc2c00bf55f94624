// Block tools of the edition editor: each block of the edition format that
// is more than a line of text (edito, notice, article, timeline, Q&A,
// image, button, raw text) is a card with its own labelled fields, and
// rich text inside is a nested Editor.js. The data each tool saves is the
// contract of /work/notes/editor-contract.md; the Go side turns it into
// the edition's text.
//
// Editor.js (window.EditorJS), its header and list tools (window.Header,
// window.EditorjsList) are the vendored UMD files, loaded before this.

let uid = 0;

// el makes an element with attributes and children.
function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") e.className = v;
    else if (k === "text") e.textContent = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children) if (c) e.append(c);
  return e;
}

// icon draws a toolbox icon from an SVG path: Editor.js wants markup.
function icon(path) {
  return '<svg xmlns="http://www.w3.org/2000/svg" width="24" height="24" viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round">' + path + "</svg>";
}

const icons = {
  edito: icon('<path d="M4 20h4L19 9l-4-4L4 16z"/><path d="M13 7l4 4"/>'),
  notice: icon('<circle cx="12" cy="12" r="9"/><path d="M12 8v5M12 16h.01"/>'),
  article: icon('<rect x="4" y="4" width="16" height="16" rx="2"/><path d="M8 9h8M8 13h8M8 17h5"/>'),
  timeline: icon('<path d="M6 4v16"/><circle cx="6" cy="7" r="2"/><circle cx="6" cy="17" r="2"/><path d="M10 7h9M10 17h9"/>'),
  qa: icon('<path d="M5 5h14v10H9l-4 4z"/><path d="M10 9a2 2 0 1 1 2 2v1"/>'),
  image: icon('<rect x="3" y="5" width="18" height="14" rx="2"/><circle cx="9" cy="10" r="2"/><path d="M21 16l-5-5-8 8"/>'),
  button: icon('<rect x="3" y="8" width="18" height="8" rx="4"/><path d="M8 12h8"/>'),
  source: icon('<path d="M8 7l-5 5 5 5M16 7l5 5-5 5"/>'),
  duplicate: icon('<rect x="8" y="8" width="12" height="12" rx="2"/><path d="M16 8V5a1 1 0 0 0-1-1H5a1 1 0 0 0-1 1v10a1 1 0 0 0 1 1h3"/>'),
};

// Tools builds the tool sets of the editor from the page's context:
// ctx.t(key) translates, ctx.changed() tells the page something changed,
// ctx.i18n is Editor.js's own dictionary, ctx.mediaURL/mediaBase/csrf are
// the image upload's endpoints.
export function tools(ctx) {
  const t = ctx.t;
  const inline = ["bold", "italic", "link"];

  // Duplicate is a block tune: it copies the block's saved data into a new
  // block just below.
  class Duplicate {
    static get isTune() { return true; }
    constructor({ api, block }) { this.api = api; this.block = block; }
    render() {
      return {
        icon: icons.duplicate,
        title: t("duplicate"),
        onActivate: async () => {
          const saved = await this.block.save();
          const index = this.api.blocks.getBlockIndex(this.block.id);
          this.api.blocks.insert(this.block.name, structuredClone(saved.data), undefined, index + 1, true);
          ctx.changed();
        },
      };
    }
  }

  // List without the checklist style, which the edition format has not.
  class List extends window.EditorjsList {
    static get toolbox() {
      return super.toolbox.filter((b) => b.data.style !== "checklist");
    }
    renderSettings() {
      return super.renderSettings().filter((s) => s.label !== this.api.i18n.t("Checklist"));
    }
  }

  const base = {
    paragraph: { inlineToolbar: inline, tunes: ["duplicate"] },
    list: { class: List, inlineToolbar: inline, tunes: ["duplicate"], config: { defaultStyle: "unordered", maxLevel: 1, counterTypes: ["numeric"] } },
    duplicate: Duplicate,
  };
  const header = (levels, def) => ({ class: window.Header, inlineToolbar: inline, tunes: ["duplicate"], config: { levels, defaultLevel: def, placeholder: t("heading") } });

  // nested starts an Editor.js inside a card for a body of blocks.
  function nested(holder, blocks, set, placeholder) {
    const editor = new window.EditorJS({
      holder,
      tools: set(),
      data: { blocks: blocks || [] },
      minHeight: 30,
      placeholder,
      i18n: ctx.i18n,
      onChange: () => ctx.changed(),
    });
    return {
      async save() {
        await editor.isReady;
        const out = await editor.save();
        return { blocks: out.blocks.map((b) => ({ type: b.type, data: b.data })) };
      },
    };
  }

  // head is a card's first line: its kind, and buttons that move it up
  // and down, so that the keyboard can reorder blocks (dragging the
  // block's handle does it with the mouse).
  function head(name, api, block) {
    const move = (d, button) => {
      const i = api.blocks.getBlockIndex(block.id);
      const j = i + d;
      if (j < 0 || j >= api.blocks.getBlocksCount()) return;
      api.blocks.move(j, i);
      ctx.changed();
      button.focus();
    };
    return el("div", { class: "card-head" },
      el("p", { class: "card-kind", text: t("block." + name) }),
      el("button", { type: "button", class: "icon-button", "aria-label": t("move_up", t("block." + name)), title: t("ej.move_up"), text: "↑", onclick: (e) => move(-1, e.currentTarget) }),
      el("button", { type: "button", class: "icon-button", "aria-label": t("move_down", t("block." + name)), title: t("ej.move_down"), text: "↓", onclick: (e) => move(1, e.currentTarget) }));
  }

  // guard keeps the outer editor from acting on what happens inside a
  // card: its keys (Enter would split the card), pastes and drops belong
  // to the card's fields and nested editor.
  function guard(card) {
    for (const type of ["keydown", "keyup", "paste", "drop", "dragover", "input", "mousedown", "cut", "copy"]) {
      card.addEventListener(type, (e) => {
        e.stopPropagation();
        if (type === "input") ctx.changed();
      });
    }
    return card;
  }

  // field is a labelled one-line input (or textarea) bound to data[key].
  function field(data, key, label, opts) {
    opts = opts || {};
    const id = "f" + ++uid;
    const input = opts.multiline
      ? el("textarea", { id, class: "source-block", spellcheck: "false", rows: "8" })
      : el("input", { id, type: opts.type || "text", placeholder: opts.placeholder, inputmode: opts.inputmode });
    input.value = data[key] == null || (opts.number && !data[key]) ? "" : data[key];
    input.addEventListener("input", () => {
      data[key] = opts.number ? Number(input.value) || 0 : input.value;
    });
    return el("div", { class: "card-field" + (opts.wide ? " wide" : "") },
      el("label", { for: id, text: label }), opts.hint ? el("span", { class: "hint", text: opts.hint }) : null, input);
  }

  // cardTool makes the class of a card block: fields, then an optional
  // body of nested blocks.
  function cardTool(name, fields, bodySet) {
    return class {
      static get toolbox() { return { title: t("block." + name), icon: icons[name] }; }
      static get enableLineBreaks() { return true; }
      static get sanitize() {
        const s = { body: true };
        for (const f of fields) s[f[0]] = true;
        return s;
      }
      constructor({ data, api, block }) {
        this.api = api;
        this.block = block;
        this.data = { ...data };
        for (const f of fields) if (this.data[f[0]] == null) this.data[f[0]] = "";
      }
      render() {
        const card = guard(el("div", { class: "card card-" + name, role: "group", "aria-label": t("block." + name) },
          head(name, this.api, this.block)));
        const row = el("div", { class: "card-fields" });
        for (const [key, label, opts] of fields) row.append(field(this.data, key, t(label), opts));
        card.append(row);
        if (bodySet) {
          const holder = el("div", { class: "card-body", "aria-label": t("body") });
          card.append(el("p", { class: "card-label", text: t("body") }), holder);
          this.body = nested(holder, (this.data.body || {}).blocks, bodySet, t("body_placeholder"));
        }
        return card;
      }
      async save() {
        const out = { ...this.data };
        if (this.body) out.body = await this.body.save();
        return out;
      }
    };
  }

  // entriesTool makes the class of a timeline or a Q&A: a title, then
  // entries of a heading and a nested body, added, removed and moved with
  // buttons (keyboard reachable).
  function entriesTool(name, headingLabel, addLabel, bodySet) {
    return class {
      static get toolbox() { return { title: t("block." + name), icon: icons[name] }; }
      static get enableLineBreaks() { return true; }
      static get sanitize() { return { title: true, entries: true }; }
      constructor({ data, api, block }) {
        this.api = api;
        this.block = block;
        this.data = { title: "", ...data };
        this.entries = [];
      }
      render() {
        const card = guard(el("div", { class: "card card-" + name, role: "group", "aria-label": t("block." + name) },
          head(name, this.api, this.block)));
        card.append(el("div", { class: "card-fields" }, field(this.data, "title", t("title"), { wide: true })));
        this.list = el("ol", { class: "entries" });
        card.append(this.list);
        card.append(el("button", { type: "button", class: "button secondary small", text: t(addLabel), onclick: () => {
          this.add({ heading: "", body: { blocks: [] } }, true);
          ctx.changed();
        } }));
        for (const e of this.data.entries || []) this.add(e, false);
        return card;
      }
      add(entry, focus) {
        const data = { heading: entry.heading || "" };
        const li = el("li", { class: "entry" });
        const tools = el("div", { class: "entry-tools" });
        const item = { li, data };
        // move keeps the focus on the button pressed: moving its entry
        // takes it out of the page for a moment, which drops the focus.
        const move = (d, button) => {
          const i = this.entries.indexOf(item);
          const j = i + d;
          if (j < 0 || j >= this.entries.length) return;
          this.entries.splice(i, 1);
          this.entries.splice(j, 0, item);
          if (d < 0) this.list.insertBefore(li, this.entries[j + 1].li);
          else this.list.insertBefore(li, this.entries[j - 1].li.nextSibling);
          ctx.changed();
          button.focus();
        };
        tools.append(
          el("button", { type: "button", class: "icon-button", "aria-label": t("entry_up"), title: t("entry_up"), text: "↑", onclick: (e) => move(-1, e.currentTarget) }),
          el("button", { type: "button", class: "icon-button", "aria-label": t("entry_down"), title: t("entry_down"), text: "↓", onclick: (e) => move(1, e.currentTarget) }),
          el("button", { type: "button", class: "icon-button", "aria-label": t("entry_remove"), title: t("entry_remove"), text: "✕", onclick: () => {
            this.entries.splice(this.entries.indexOf(item), 1);
            li.remove();
            ctx.changed();
          } }));
        const head = field(data, "heading", t(headingLabel), { wide: true });
        const holder = el("div", { class: "card-body" });
        li.append(el("div", { class: "entry-head" }, head, tools), holder);
        item.body = nested(holder, (entry.body || {}).blocks, bodySet, t("body_placeholder"));
        this.entries.push(item);
        this.list.append(li);
        if (focus) head.querySelector("input").focus();
      }
      async save() {
        const entries = [];
        for (const e of this.entries) entries.push({ heading: e.data.heading, body: await e.body.save() });
        return { title: this.data.title, entries };
      }
    };
  }

  // Image is an image of the edition's media: chosen with a file picker
  // or dropped on the card, sent to the server with its alt text (asked
  // before sending), shown from the edition's folder.
  class Image {
    static get toolbox() { return { title: t("block.image"), icon: icons.image }; }
    static get enableLineBreaks() { return true; }
    static get sanitize() { return { src: true, alt: true, link: true, caption: true, width: true }; }
    constructor({ data, api, block }) {
      this.api = api;
      this.block = block;
      this.data = { src: "", alt: "", link: "", width: 0, caption: "", ...data };
    }
    render() {
      this.card = guard(el("div", { class: "card card-image", role: "group", "aria-label": t("block.image") },
        head("image", this.api, this.block)));
      this.draw();
      return this.card;
    }
    draw() {
      const card = this.card;
      card.replaceChildren(card.firstChild);
      if (this.data.src) {
        card.append(el("img", { class: "card-preview", src: ctx.mediaBase + encodeURI(this.data.src), alt: this.data.alt }));
        card.append(el("div", { class: "card-fields" },
          field(this.data, "alt", t("image.alt"), { wide: true, hint: t("image.alt_hint") }),
          field(this.data, "caption", t("image.caption"), { wide: true }),
          field(this.data, "link", t("image.link"), { inputmode: "url", placeholder: "https://" }),
          field(this.data, "width", t("image.width"), { number: true, inputmode: "numeric", hint: t("image.width_hint") })));
        card.append(el("button", { type: "button", class: "button secondary small", text: t("image.replace"), onclick: () => {
          this.data.src = "";
          this.draw();
          ctx.changed();
        } }));
        return;
      }
      const fileID = "f" + ++uid;
      const file = el("input", { id: fileID, type: "file", accept: "image/jpeg,image/png,image/gif,image/webp", class: "visually-hidden" });
      const zone = el("div", { class: "dropzone" },
        el("p", { text: t("image.drop") }),
        el("label", { for: fileID, class: "button secondary small", text: t("image.choose") }), file);
      const status = el("p", { class: "upload-status", role: "status" });
      card.append(zone, status);
      file.addEventListener("change", () => { if (file.files[0]) this.ask(file.files[0], status); });
      zone.addEventListener("dragover", (e) => { e.preventDefault(); zone.classList.add("over"); });
      zone.addEventListener("dragleave", () => zone.classList.remove("over"));
      zone.addEventListener("drop", (e) => {
        e.preventDefault();
        zone.classList.remove("over");
        const f = e.dataTransfer.files[0];
        if (f) this.ask(f, status);
      });
    }
    // ask shows the chosen file's name and asks for its alt text; the
    // file is sent only with it.
    ask(f, status) {
      const card = this.card;
      for (const old of card.querySelectorAll(".alt-ask")) old.remove();
      const id = "f" + ++uid;
      const alt = el("input", { id, type: "text", "aria-required": "true" });
      const error = el("p", { class: "field-error", role: "alert" });
      const send = el("button", { type: "button", class: "button small", text: t("image.upload") });
      const box = el("div", { class: "alt-ask" },
        el("p", { class: "muted", text: t("image.chosen", f.name) }),
        el("label", { for: id, text: t("image.alt") }),
        el("span", { class: "hint", text: t("image.alt_hint") }), alt, error, send);
      card.append(box);
      alt.focus();
      const go = async () => {
        error.textContent = "";
        if (!alt.value.trim()) {
          error.textContent = t("image.alt_needed");
          alt.focus();
          return;
        }
        send.disabled = true;
        status.textContent = t("image.sending");
        const body = new FormData();
        body.append("file", f);
        body.append("alt", alt.value.trim());
        body.append("csrf", ctx.csrf);
        let answer = {};
        try {
          const r = await fetch(ctx.mediaURL, { method: "POST", body, headers: { "X-CSRF-Token": ctx.csrf }, credentials: "same-origin" });
          answer = await r.json().catch(() => ({ error: t("image.failed", String(r.status)) }));
          if (!r.ok && !answer.error) answer.error = t("image.failed", String(r.status));
        } catch (err) {
          answer = { error: t("image.failed", String(err.message || err)) };
        }
        send.disabled = false;
        status.textContent = "";
        if (answer.error || !answer.src) {
          error.textContent = answer.error || t("image.failed", "");
          return;
        }
        this.data.src = answer.src;
        this.data.alt = alt.value.trim();
        this.draw();
        status.textContent = t("image.sent", String(answer.width || ""), String(answer.height || ""));
        this.card.append(status);
        ctx.changed();
      };
      send.addEventListener("click", go);
      alt.addEventListener("keydown", (e) => {
        if (e.key === "Enter") {
          e.preventDefault();
          go();
        }
      });
    }
    save() { return { ...this.data, width: Number(this.data.width) || 0 }; }
  }

  const Button = cardTool("button", [
    ["label", "button.label"],
    ["href", "button.href", { inputmode: "url", placeholder: "https://" }],
  ]);
  const Source = cardTool("source", [["text", "source.text", { multiline: true, wide: true, hint: t("source.hint") }]]);

  // The sets of tools: what each kind of body may hold.
  const simple = () => ({ ...base, header: header([2, 3], 2), image: Image, button: Button });
  const noticeSet = () => simple();
  const Notice = cardTool("notice", [["title", "title", { wide: true }]], noticeSet);
  const entrySet = () => simple();
  const Timeline = entriesTool("timeline", "timeline.heading", "timeline.add", entrySet);
  const QA = entriesTool("qa", "qa.heading", "qa.add", entrySet);
  const editoSet = () => ({ ...simple(), notice: Notice });
  const articleSet = () => ({ ...simple(), notice: Notice, timeline: Timeline, qa: QA });
  const Edito = cardTool("edito", [["title", "title", { wide: true }], ["signature", "edito.signature"], ["role", "edito.role"]], editoSet);
  const Article = cardTool("article", [["title", "title", { wide: true }], ["author", "article.author"]], articleSet);

  return () => ({
    ...base,
    header: header([1, 2, 3], 1),
    edito: Edito,
    article: Article,
    notice: Notice,
    timeline: Timeline,
    qa: QA,
    image: Image,
    button: Button,
    source: Source,
  });
}
