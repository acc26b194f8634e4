// Newsdesk web page: ask (streamed answers with checkable citations), conversations kept in this
// browser, and the Sources view (list, delete, add by URL or file, feeds).
//
// Safety: every text that comes from the server (answers, quotes, titles, error messages) goes into
// the page with textContent / text nodes, never as HTML; links are followed only for http(s) urls.
// The page keeps no server state: a follow-up sends the conversation so far as `history`.
"use strict";

(() => {
  const KEY_STORAGE = "newsdesk.apiKey"; // sessionStorage: gone when the tab closes
  const CONVERSATIONS_STORAGE = "newsdesk.conversations"; // localStorage
  const CURRENT_STORAGE = "newsdesk.current";
  const MAX_HISTORY_TURNS = 40; // the server's default limit is 50 turns
  const DOC_PAGE_SIZE = 20;

  const $ = (id) => document.getElementById(id);

  /** An element with attributes (properties for on*, class, text) and children (strings become text nodes). */
  function el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs)) {
      if (value === null || value === undefined || value === false) continue;
      if (name === "class") node.className = value;
      else if (name === "text") node.textContent = value;
      else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
      else node.setAttribute(name, value === true ? "" : String(value));
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  /** The url when it is an http(s) link, else null (an article's url is data, never a script). */
  function safeUrl(url) {
    try {
      const parsed = new URL(url, window.location.href);
      return parsed.protocol === "http:" || parsed.protocol === "https:" ? parsed.href : null;
    } catch {
      return null;
    }
  }

  function newId() {
    return Date.now().toString(36) + Math.random().toString(36).slice(2, 8);
  }

  // ------------------------------------------------------------------------------------ API calls

  class ApiError extends Error {
    constructor(status, code, message) {
      super(message);
      this.status = status;
      this.code = code;
    }
  }

  let keyPrompt = null; // one prompt at a time, shared by every request that met a 401

  /** Shows the key dialog (with `problem` when the last key was refused); resolves once a key is given. */
  function askForKey(problem) {
    if (keyPrompt) return keyPrompt;
    keyPrompt = new Promise((resolve) => {
      const dialog = $("key-dialog");
      const form = $("key-form");
      $("key-error").textContent = problem || "";
      $("key-input").value = "";
      const onSubmit = (event) => {
        event.preventDefault();
        const key = $("key-input").value.trim();
        if (!key) return;
        sessionStorage.setItem(KEY_STORAGE, key);
        form.removeEventListener("submit", onSubmit);
        dialog.close();
        keyPrompt = null;
        resolve(key);
      };
      form.addEventListener("submit", onSubmit);
      dialog.addEventListener("cancel", (event) => event.preventDefault()); // no way on without a key
      dialog.showModal();
      $("key-input").focus();
    });
    return keyPrompt;
  }

  /** fetch() to the API with the bearer key; a 401 asks for a key (saying when one was refused) and retries. */
  async function api(path, options = {}) {
    for (;;) {
      const key = sessionStorage.getItem(KEY_STORAGE);
      const headers = new Headers(options.headers || {});
      if (key) headers.set("Authorization", `Bearer ${key}`);
      if (options.json !== undefined) headers.set("Content-Type", "application/json");
      const response = await fetch(path, {
        method: options.method || "GET",
        headers,
        body: options.json !== undefined ? JSON.stringify(options.json) : undefined,
      });
      if (response.status === 401) {
        if (key) sessionStorage.removeItem(KEY_STORAGE);
        await askForKey(key ? "That key was not accepted. Check it and try again." : "");
        continue;
      }
      return response;
    }
  }

  /** The JSON of a 2xx response; an ApiError with the server's message otherwise. */
  async function json(response) {
    let body = null;
    try {
      body = await response.json();
    } catch {
      body = null;
    }
    if (!response.ok) {
      const error = (body && body.error) || {};
      throw new ApiError(response.status, error.code || "http_error", error.message || `HTTP ${response.status}`);
    }
    return body;
  }

  async function apiJson(path, options) {
    return json(await api(path, options));
  }

  /** Server-Sent Events of a streamed response, as {event, data} with data parsed as JSON. */
  async function* readEvents(response) {
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value.replace(/\r\n?/g, "\n");
      let end;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        let event = "message";
        const data = [];
        for (const line of block.split("\n")) {
          if (line.startsWith(":")) continue;
          const colon = line.indexOf(":");
          const field = colon >= 0 ? line.slice(0, colon) : line;
          let text = colon >= 0 ? line.slice(colon + 1) : "";
          if (text.startsWith(" ")) text = text.slice(1);
          if (field === "event") event = text;
          else if (field === "data") data.push(text);
        }
        if (data.length) yield { event, data: JSON.parse(data.join("\n")) };
      }
    }
  }

  // -------------------------------------------------------------------------------- conversations

  function loadConversations() {
    try {
      const list = JSON.parse(localStorage.getItem(CONVERSATIONS_STORAGE) || "[]");
      return Array.isArray(list) ? list : [];
    } catch {
      return [];
    }
  }

  let conversations = loadConversations();
  let currentId = localStorage.getItem(CURRENT_STORAGE);

  function save() {
    localStorage.setItem(CONVERSATIONS_STORAGE, JSON.stringify(conversations));
    if (currentId) localStorage.setItem(CURRENT_STORAGE, currentId);
    else localStorage.removeItem(CURRENT_STORAGE);
  }

  function current() {
    return conversations.find((c) => c.id === currentId) || null;
  }

  function startConversation() {
    currentId = null;
    save();
    renderConversationList();
    renderThread();
    $("question").focus();
  }

  function renderConversationList() {
    const list = $("conversation-list");
    list.replaceChildren();
    for (const conversation of [...conversations].sort((a, b) => b.updated - a.updated)) {
      list.append(
        el(
          "li",
          {},
          el("button", {
            type: "button",
            text: conversation.title,
            title: conversation.title,
            "aria-current": conversation.id === currentId ? "true" : "false",
            onclick: () => {
              currentId = conversation.id;
              save();
              renderConversationList();
              renderThread();
            },
          })
        )
      );
    }
  }

  function renderThread() {
    hideTip();
    const thread = $("thread");
    thread.replaceChildren();
    const conversation = current();
    if (!conversation || !conversation.turns.length) {
      thread.append($("welcome-template").content.cloneNode(true));
      return;
    }
    for (const turn of conversation.turns) thread.append(renderTurn(turn, conversation));
    thread.scrollTop = thread.scrollHeight;
  }

  /** The conversation so far as the API's `history`: each answered turn's question and answer. */
  function historyOf(conversation) {
    const turns = [];
    for (const turn of conversation.turns) {
      if (!turn.answer) continue;
      turns.push({ role: "user", content: turn.question }, { role: "assistant", content: turn.answer.answer });
    }
    return turns.slice(-MAX_HISTORY_TURNS);
  }

  // ------------------------------------------------------------------------------------ rendering

  function sourceMeta(source) {
    const parts = [source.source, source.published_at, (source.authors || []).join(", ")];
    return parts.filter(Boolean).join(" · ");
  }

  function citationTarget(turn, n) {
    return `src-${turn.id}-${n}`;
  }

  /** Answer text with each [n] as a link to source n (its url, else its card), showing its quote on hover/focus. */
  function citedText(text, sources, turn) {
    const paragraph = el("p", { class: "answer-text" });
    const byNumber = new Map(sources.map((s) => [s.n, s]));
    const pattern = /\[(\d+)\]/g;
    let last = 0;
    for (const match of text.matchAll(pattern)) {
      paragraph.append(document.createTextNode(text.slice(last, match.index)));
      const source = byNumber.get(Number(match[1]));
      if (source) {
        const url = safeUrl(source.url);
        const link = el("a", {
          class: "cite",
          href: url || `#${citationTarget(turn, source.n)}`,
          target: url ? "_blank" : null,
          rel: url ? "noopener noreferrer" : null,
          "aria-label": `Source ${source.n}: ${source.title}${source.source ? `, ${source.source}` : ""}`,
          "aria-describedby": "cite-tip",
          "data-n": source.n,
          text: `[${source.n}]`,
        });
        link.addEventListener("mouseenter", () => showTip(link, source));
        link.addEventListener("focus", () => showTip(link, source));
        link.addEventListener("mouseleave", hideTip);
        link.addEventListener("blur", hideTip);
        paragraph.append(link);
      } else {
        paragraph.append(document.createTextNode(match[0]));
      }
      last = match.index + match[0].length;
    }
    paragraph.append(document.createTextNode(text.slice(last)));
    return paragraph;
  }

  function showTip(anchor, source) {
    const tip = $("cite-tip");
    tip.replaceChildren(
      el("p", { class: "tip-title", text: source.title || "(untitled)" }),
      el("p", { class: "tip-meta", text: sourceMeta(source) }),
      el("blockquote", { class: "tip-quote", text: source.quote })
    );
    tip.hidden = false;
    const box = anchor.getBoundingClientRect();
    const width = tip.offsetWidth;
    const left = Math.max(8, Math.min(window.scrollX + box.left, window.scrollX + document.documentElement.clientWidth - width - 8));
    let top = window.scrollY + box.bottom + 6;
    if (box.bottom + tip.offsetHeight + 12 > window.innerHeight) top = window.scrollY + box.top - tip.offsetHeight - 6;
    tip.style.left = `${left}px`;
    tip.style.top = `${Math.max(4, top)}px`;
  }

  function hideTip() {
    $("cite-tip").hidden = true;
  }

  function sourceCards(sources, turn) {
    return el(
      "ol",
      { class: "source-cards" },
      sources.map((source) => {
        const url = safeUrl(source.url);
        const title = url
          ? el("a", { class: "source-title", href: url, target: "_blank", rel: "noopener noreferrer", text: source.title || url })
          : el("span", { class: "source-title", text: source.title || source.article_id });
        const copies = (source.also_in || []).map((copy) => {
          const copyUrl = safeUrl(copy.url);
          const label = copy.source || copy.title;
          return copyUrl ? el("a", { href: copyUrl, target: "_blank", rel: "noopener noreferrer", title: copy.title, text: label }) : label;
        });
        return el(
          "li",
          { class: "source-card", id: citationTarget(turn, source.n) },
          el("span", { class: "source-n", "aria-hidden": "true", text: `${source.n}` }),
          title,
          el("p", { class: "source-meta", text: sourceMeta(source) }),
          source.quote ? el("blockquote", { class: "source-quote", text: source.quote }) : null,
          copies.length ? el("p", { class: "also-in" }, "Also in: ", copies.flatMap((c, i) => (i ? [", ", c] : [c]))) : null
        );
      })
    );
  }

  /** How a follow-up was understood (the engine's standalone question), as the CLI prints it; null when asked as is. */
  function understoodLine(question, standalone) {
    if (!standalone || standalone.trim() === question.trim()) return null;
    return el("p", { class: "understood", "data-testid": "understood", text: `Understood as: ${standalone}` });
  }

  /** What the engine searched: the question's own time window, and the filters sent. */
  function scopeLine(answer, filters) {
    const parts = [];
    const scope = answer.time_scope;
    if (scope) {
      if (scope.kind === "window" && !scope.applied) parts.push(`no article from ${scope.phrase}, so every date was searched`);
      else if (scope.since || scope.until) parts.push(`published ${scope.since || "…"} to ${scope.until || "…"} (“${scope.phrase}”)`);
      else parts.push(`newest first (“${scope.phrase}”)`);
    }
    if (filters) {
      if (filters.since || filters.until) parts.push(`filter: ${filters.since || "…"} to ${filters.until || "…"}`);
      if (filters.source) parts.push(`source: ${filters.source}`);
    }
    return parts.length ? el("p", { class: "scope", "data-testid": "scope", text: `Searched: ${parts.join("; ")}` }) : null;
  }

  function feedbackBar(turn, conversation) {
    const status = el("span", { class: "feedback-status", role: "status" });
    const buttons = [];
    const give = async (verdict) => {
      buttons.forEach((b) => (b.disabled = true));
      try {
        await apiJson("/v1/feedback", {
          method: "POST",
          json: {
            verdict,
            question: turn.question,
            answer: turn.answer.answer,
            answer_id: turn.id,
            conversation_id: conversation.id,
          },
        });
        turn.feedback = verdict;
        save();
        buttons.forEach((b) => b.setAttribute("aria-pressed", String(b.dataset.verdict === verdict)));
        status.textContent = "Thanks — feedback recorded.";
      } catch (error) {
        status.textContent = `Feedback not recorded: ${error.message}`;
      } finally {
        buttons.forEach((b) => (b.disabled = false));
      }
    };
    for (const [verdict, label, icon] of [
      ["up", "Good answer", "/web/thumb-up.svg"],
      ["down", "Bad answer", "/web/thumb-down.svg"],
    ]) {
      buttons.push(
        el("button", {
          type: "button",
          "aria-label": label,
          title: label,
          "aria-pressed": String(turn.feedback === verdict),
          "data-verdict": verdict,
          onclick: () => give(verdict),
        }, el("img", { src: icon, alt: "", width: 18, height: 18 }))
      );
    }
    return el("span", { class: "feedback" }, buttons, status);
  }

  /** One question and its answer (final, streaming or failed). */
  function renderTurn(turn, conversation) {
    const answerBox = el("section", { class: "answer", "aria-label": "Answer", "data-turn": turn.id });
    const node = el("article", { class: "turn" }, el("p", { class: "question", text: turn.question }), answerBox);
    fillAnswer(answerBox, turn, conversation);
    return node;
  }

  function fillAnswer(box, turn, conversation) {
    box.replaceChildren();
    box.removeAttribute("aria-busy");
    if (turn.error) {
      box.append(el("p", { class: "error", role: "alert", text: turn.error }));
      return;
    }
    const answer = turn.answer;
    if (!answer) {
      box.append(el("p", { class: "thinking", text: "Not answered (interrupted)." }));
      return;
    }
    box.dataset.state = answer.declined ? "declined" : "answered";
    const understood = understoodLine(turn.question, answer.standalone_question);
    if (understood) box.append(understood);
    if (answer.declined) {
      // The engine's own words say why (nothing ingested, no article on it): one message, not a second beside it.
      box.append(el("p", { class: "declined-note", text: answer.answer || "Newsdesk could not answer this from the articles it has." }));
    } else {
      box.append(citedText(answer.answer, answer.sources, turn));
    }
    const scope = scopeLine(answer, turn.filters);
    if (scope) box.append(scope);
    if (answer.sources.length) {
      box.append(el("h3", { class: "sources-title", text: answer.declined ? "Closest articles" : "Sources" }));
      box.append(sourceCards(answer.sources, turn));
    }
    const generator = answer.generator === "extractive" ? "quoted from the articles" : `written by ${answer.generator.replace(/^llm:/, "")}, checked`;
    box.append(el("div", { class: "answer-foot" }, feedbackBar(turn, conversation), el("span", { class: "generator", text: generator })));
  }

  // ------------------------------------------------------------------------------------------ ask

  function currentFilters() {
    const filters = {};
    const since = $("filter-since").value;
    const until = $("filter-until").value;
    const source = $("filter-source").value.trim();
    if (since) filters.since = since;
    if (until) filters.until = until;
    if (source) filters.source = source;
    return Object.keys(filters).length ? filters : null;
  }

  function showFiltersInUse() {
    const used = Object.keys(currentFilters() || {}).length;
    $("filters-toggle").textContent = used ? `Filters (${used} on)` : "Filters";
  }

  let asking = false;

  async function ask(question) {
    if (asking) return;
    asking = true;
    $("send").disabled = true;
    let conversation = current();
    if (!conversation) {
      conversation = { id: newId(), title: question.slice(0, 80), updated: Date.now(), turns: [] };
      conversations.push(conversation);
      currentId = conversation.id;
    }
    const history = historyOf(conversation);
    const filters = currentFilters();
    const turn = { id: newId(), question, filters, answer: null, feedback: null };
    conversation.turns.push(turn);
    conversation.updated = Date.now();
    save();
    renderConversationList();
    if (conversation.turns.length === 1) $("thread").replaceChildren();

    const node = renderTurn(turn, conversation);
    const box = node.querySelector(".answer");
    box.replaceChildren(el("p", { class: "thinking", text: "Searching the articles…" }));
    box.setAttribute("aria-busy", "true");
    box.dataset.state = "streaming";
    $("thread").append(node);
    node.scrollIntoView({ block: "end" });

    const started = performance.now();
    try {
      const body = { question, history, stream: true };
      if (filters) body.filters = filters;
      const response = await api("/v1/ask", { method: "POST", json: body, headers: { Accept: "text/event-stream" } });
      if (!response.ok) await json(response); // throws with the server's message
      let streamed = "";
      let text = null;
      for await (const { event, data } of readEvents(response)) {
        if (event === "sources") {
          const n = data.sources.length;
          box.replaceChildren(el("p", { class: "thinking", text: n ? `Reading ${n} passage${n === 1 ? "" : "s"}…` : "Nothing close found…" }));
        } else if (event === "delta") {
          if (text === null) {
            text = el("p", { class: "answer-text streaming" });
            box.replaceChildren(text);
            // Time to the first answer text shown, for bench/web (a performance mark, visible to no one).
            performance.mark("newsdesk:first-token", { detail: { ms: performance.now() - started } });
          }
          streamed += data.text;
          text.textContent = streamed;
        } else if (event === "done") {
          turn.answer = data; // the checked answer replaces what was streamed
          performance.mark("newsdesk:done");
        } else if (event === "error") {
          throw new ApiError(500, data.error.code, data.error.message);
        }
      }
      if (!turn.answer) throw new ApiError(0, "incomplete", "The answer stream ended early; ask again.");
    } catch (error) {
      turn.error = `Could not answer: ${error.message}`;
    } finally {
      save();
      fillAnswer(box, turn, conversation);
      asking = false;
      $("send").disabled = false;
    }
  }

  function setupAsk() {
    const form = $("ask-form");
    const input = $("question");
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const question = input.value.trim();
      if (!question || asking) return;
      input.value = "";
      ask(question);
    });
    input.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        form.requestSubmit();
      }
    });
    $("new-conversation").addEventListener("click", startConversation);
    $("clear-filters").addEventListener("click", () => {
      $("filter-since").value = "";
      $("filter-until").value = "";
      $("filter-source").value = "";
      showFiltersInUse();
    });
    // On a phone the filters fold behind one button (app.css), which says how many are in use.
    $("filters-toggle").addEventListener("click", () => {
      const open = $("filters").classList.toggle("open");
      $("filters-toggle").setAttribute("aria-expanded", String(open));
    });
    for (const id of ["filter-since", "filter-until", "filter-source"]) $(id).addEventListener("input", showFiltersInUse);
    document.addEventListener("keydown", (event) => {
      if (event.key === "Escape") hideTip();
    });
    window.addEventListener("scroll", hideTip, true);
  }

  // -------------------------------------------------------------------------------------- sources

  let documents = [];
  let docPage = 0;

  /** Every document (the API pages them; the list is filtered by title here). */
  async function loadDocuments() {
    const all = [];
    for (let offset = 0; ; offset += 500) {
      const page = await apiJson(`/v1/documents?offset=${offset}&limit=500`);
      all.push(...page.items);
      if (all.length >= page.total || !page.items.length) break;
    }
    documents = all;
    const outlets = [...new Set(all.map((d) => d.source).filter(Boolean))].sort();
    $("source-options").replaceChildren(...outlets.map((s) => el("option", { value: s })));
    renderDocuments();
  }

  function matchingDocuments() {
    const needle = $("doc-search").value.trim().toLowerCase();
    return needle ? documents.filter((d) => (d.title || "").toLowerCase().includes(needle)) : documents;
  }

  function renderDocuments() {
    const shown = matchingDocuments();
    const pages = Math.max(1, Math.ceil(shown.length / DOC_PAGE_SIZE));
    docPage = Math.min(docPage, pages - 1);
    const page = shown.slice(docPage * DOC_PAGE_SIZE, (docPage + 1) * DOC_PAGE_SIZE);
    $("doc-rows").replaceChildren(
      ...page.map((doc) => {
        const url = safeUrl(doc.url);
        const title = url
          ? el("a", { href: url, target: "_blank", rel: "noopener noreferrer", text: doc.title || doc.id })
          : el("span", { text: doc.title || doc.id });
        const remove = el("button", { type: "button", class: "danger", text: "Delete", "aria-label": `Delete ${doc.title || doc.id}` });
        let armed = false;
        remove.addEventListener("click", async () => {
          if (!armed) {
            armed = true; // a second click confirms: no dialog to dismiss, and no accidental deletes
            remove.textContent = "Confirm delete";
            return;
          }
          remove.disabled = true;
          try {
            await apiJson(`/v1/documents/${encodeURIComponent(doc.id)}`, { method: "DELETE" });
            $("add-status").textContent = `Deleted “${doc.title || doc.id}”.`;
            await loadDocuments();
          } catch (error) {
            $("add-status").textContent = `Could not delete “${doc.title || doc.id}”: ${error.message}`;
            remove.disabled = false;
          }
        });
        remove.addEventListener("blur", () => {
          armed = false;
          remove.textContent = "Delete";
        });
        return el(
          "tr",
          { "data-id": doc.id },
          el("td", {}, title),
          // The labels head the cells when a narrow screen stacks each row (app.css).
          el("td", { "data-label": "Outlet", text: doc.source }),
          el("td", { "data-label": "Published", text: doc.published_at }),
          el("td", { "data-label": "Chunks", text: doc.chunks }),
          el("td", {}, remove)
        );
      })
    );
    $("doc-count").textContent = `${shown.length} of ${documents.length} article${documents.length === 1 ? "" : "s"}`;
    $("doc-page").textContent = `Page ${docPage + 1} of ${pages}`;
    $("doc-prev").disabled = docPage === 0;
    $("doc-next").disabled = docPage >= pages - 1;
  }

  function ingestSummary(result, failures) {
    const lines = [`Added ${result.added}, updated ${result.updated}, unchanged ${result.unchanged}.`];
    for (const failure of failures) lines.push(`✗ ${failure}`);
    for (const warning of result.warnings || []) lines.push(`! ${warning.url}: ${warning.message}`);
    return lines.join("\n");
  }

  async function withBusy(button, status, work) {
    button.disabled = true;
    status.textContent = "Working…";
    try {
      status.textContent = await work();
    } catch (error) {
      status.textContent = `Failed: ${error.message}`;
    } finally {
      button.disabled = false;
    }
  }

  function setupSources() {
    $("doc-search").addEventListener("input", () => {
      docPage = 0;
      renderDocuments();
    });
    $("doc-prev").addEventListener("click", () => {
      docPage -= 1;
      renderDocuments();
    });
    $("doc-next").addEventListener("click", () => {
      docPage += 1;
      renderDocuments();
    });

    $("url-form").addEventListener("submit", (event) => {
      event.preventDefault();
      // One URL a line, sent as typed: the server trims, skips blank lines and reports a bad one by its line.
      const lines = $("urls").value.split(/\r?\n/);
      if (!lines.some((line) => line.trim())) return;
      withBusy(event.submitter || $("url-form").querySelector("button"), $("add-status"), async () => {
        const result = await apiJson("/v1/documents", { method: "POST", json: { url_lines: lines } });
        if (!result.failed.length) $("urls").value = ""; // else kept, for the bad lines to be mended
        await loadDocuments();
        const failures = [...result.failed]
          .sort((a, b) => (a.line ?? Infinity) - (b.line ?? Infinity))
          .map((f) => [f.line ? `line ${f.line}` : null, f.url, f.error].filter(Boolean).join(": "));
        return ingestSummary(result, failures);
      });
    });

    $("upload-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const picked = [...$("files").files];
      if (!picked.length) return;
      withBusy(event.submitter || $("upload-form").querySelector("button"), $("add-status"), async () => {
        const files = await Promise.all(picked.map(async (file) => ({ name: file.name, content: await file.text() })));
        const result = await apiJson("/v1/uploads", { method: "POST", json: { files } });
        $("files").value = "";
        await loadDocuments();
        // "name:line: error", as `newsdesk ingest` prints a bad row of a .jsonl file.
        return ingestSummary(result, result.failed.map((f) => `${f.file}${f.line ? `:${f.line}` : ""}: ${f.error}`));
      });
    });

    $("feed-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const url = $("feed-url").value.trim();
      const name = $("feed-name").value.trim();
      withBusy(event.submitter || $("feed-form").querySelector("button"), $("feed-status"), async () => {
        const feed = await apiJson("/v1/feeds", { method: "POST", json: { url, name } });
        $("feed-url").value = "";
        $("feed-name").value = "";
        await loadFeeds();
        return `Subscribed to ${feed.name || feed.url}. “Sync all now” fetches it.`;
      });
    });

    $("sync-feeds").addEventListener("click", (event) => {
      withBusy(event.currentTarget, $("feed-status"), async () => {
        const report = await apiJson("/v1/feeds/sync", { method: "POST" });
        await Promise.all([loadFeeds(), loadDocuments()]);
        const lines = [`Synced: added ${report.added}, updated ${report.updated}, unchanged ${report.unchanged}, failed ${report.failed}.`];
        for (const feed of report.feeds) if (feed.error) lines.push(`✗ ${feed.url}: ${feed.error}`);
        return lines.join("\n");
      });
    });
  }

  async function loadFeeds() {
    const list = await apiJson("/v1/feeds");
    $("feed-list").replaceChildren(
      ...list.items.map((feed) => {
        const remove = el("button", { type: "button", class: "danger", text: "Unsubscribe", "aria-label": `Unsubscribe from ${feed.name || feed.url}` });
        remove.addEventListener("click", () =>
          withBusy(remove, $("feed-status"), async () => {
            await apiJson(`/v1/feeds?url=${encodeURIComponent(feed.url)}`, { method: "DELETE" });
            await loadFeeds();
            return `Unsubscribed from ${feed.name || feed.url} (its articles stay).`;
          })
        );
        const detail = feed.last_error
          ? `Last error: ${feed.last_error} (${feed.failures} in a row)`
          : feed.last_success
            ? `Last synced ${feed.last_success} · ${feed.entries_seen} entries`
            : "Not synced yet";
        return el(
          "li",
          {},
          el("strong", { text: feed.name || feed.url }),
          feed.name ? el("span", { class: "muted", text: feed.url }) : null,
          el("span", { class: `feed-status ${feed.status}`, text: feed.status }),
          remove,
          el("span", { class: "feed-detail", text: detail })
        );
      })
    );
    if (!list.items.length) $("feed-list").append(el("li", { class: "muted", text: "No feeds yet." }));
  }

  // ---------------------------------------------------------------------------------------- views

  function showView(name) {
    for (const tab of document.querySelectorAll(".tab")) tab.setAttribute("aria-pressed", String(tab.dataset.view === name));
    $("view-ask").hidden = name !== "ask";
    $("view-sources").hidden = name !== "sources";
    hideTip();
    if (name === "sources") {
      loadDocuments().catch((error) => ($("doc-count").textContent = `Could not list articles: ${error.message}`));
      loadFeeds().catch((error) => ($("feed-status").textContent = `Could not list feeds: ${error.message}`));
    } else {
      $("question").focus();
    }
  }

  function start() {
    // The welcome text becomes a template, shown again for every empty conversation.
    const template = document.createElement("template");
    template.id = "welcome-template";
    template.content.append($("welcome"));
    document.body.append(template);

    for (const tab of document.querySelectorAll(".tab")) tab.addEventListener("click", () => showView(tab.dataset.view));
    setupAsk();
    setupSources();
    renderConversationList();
    renderThread();
    // The outlets for the source filter; with keys on, this is where the key is first asked for.
    loadDocuments().catch(() => {});
    $("question").focus();
  }

  start();
})();
