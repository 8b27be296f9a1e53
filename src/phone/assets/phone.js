// The phone page: dials the gateway exactly as an aggregator does. Africa's Talking posts a
// form whose `text` is every input so far joined by `*` and reads `CON`/`END`; Hubtel posts
// JSON with the latest input and a `Sequence`, and reads `Type`. Nothing is stored: a
// telco password lives in its field only while the page is open.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const display = $("display");
  const screen = $("screen");
  const entryView = $("entry");
  const DEFAULT_SCREEN_LIMIT = 182;

  const phone = {
    rootCode: "*152*00#",
    telcos: [],
    // idle: nothing dialled; waiting: a hop in flight; live: the gateway waits for input;
    // ended: the last screen of a dialogue is shown.
    state: "loading",
    entry: "",
    hops: 0,
    sessionId: "",
    dialled: "",
    typed: [],
    // The menu version this dialogue previews, or null for the published menus.
    preview: null,
  };

  const formatName = { africastalking: "Africa's Talking", hubtel: "Hubtel" };

  function setState(state) {
    phone.state = state;
    display.dataset.state = state;
    const version = $("version").value;
    const mode = formatName[$("format").value] + (version ? " · preview " + version : "");
    const suffix = { waiting: " …", ended: " · end" }[state] || "";
    $("status-mode").textContent = mode + suffix;
  }

  function showEntry() {
    entryView.textContent = phone.entry;
  }

  function screenLimit() {
    const telco = phone.telcos.find((t) => t.id === $("telco").value);
    return telco ? telco.screen_limit : DEFAULT_SCREEN_LIMIT;
  }

  function showScreen(text) {
    screen.textContent = text;
    screen.scrollTop = 0;
    const count = [...text].length;
    const limit = screenLimit();
    const counter = $("status-count");
    counter.textContent = count + "/" + limit;
    counter.classList.toggle("over", count > limit);
  }

  function showProblems(title, problems) {
    const box = $("problems-box");
    const list = $("problems");
    list.replaceChildren();
    if (!problems || problems.length === 0) {
      box.hidden = true;
      return;
    }
    $("problems-title").textContent = title;
    for (const problem of problems) {
      const item = document.createElement("li");
      item.textContent = problem;
      list.append(item);
    }
    box.hidden = false;
  }

  // ---- talking to the gateway -------------------------------------------------------

  function newSessionId() {
    const bytes = new Uint8Array(8);
    crypto.getRandomValues(bytes);
    return "phone-" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  function callbackUrl(format) {
    if (phone.preview) {
      const [service, version] = phone.preview.split("@");
      return "/phone/preview/" + format + "/" + encodeURIComponent(service) + "/" + encodeURIComponent(version);
    }
    return "/ussd/" + encodeURIComponent($("telco").value.trim() || format);
  }

  function headers(contentType) {
    const h = { "content-type": contentType };
    const password = $("password").value;
    if (password && !phone.preview) {
      h.authorization = "Basic " + btoa($("telco").value.trim() + ":" + password);
    }
    return h;
  }

  // Africa's Talking sends the registered code, and the extension of a longer dial string
  // (`*152*00*1*1#`) as the first inputs of `text`.
  function africasTalkingText() {
    const stem = phone.rootCode.replace(/#$/, "");
    const dialled = phone.dialled.replace(/#$/, "");
    let serviceCode = phone.dialled;
    const parts = [];
    if (dialled.startsWith(stem + "*")) {
      serviceCode = phone.rootCode;
      parts.push(...dialled.slice(stem.length + 1).split("*"));
    }
    parts.push(...phone.typed);
    return { serviceCode, text: parts.join("*") };
  }

  function hopRequest(format) {
    const msisdn = $("msisdn").value.trim();
    if (format === "hubtel") {
      const last = phone.typed.length;
      return {
        headers: headers("application/json"),
        body: JSON.stringify({
          Type: last === 0 ? "Initiation" : "Response",
          Mobile: msisdn,
          SessionId: phone.sessionId,
          ServiceCode: phone.dialled,
          Message: last === 0 ? phone.dialled : phone.typed[last - 1],
          Operator: "vodacom",
          Sequence: last + 1,
          ClientState: "",
        }),
      };
    }
    const { serviceCode, text } = africasTalkingText();
    return {
      headers: headers("application/x-www-form-urlencoded"),
      body: new URLSearchParams({
        sessionId: phone.sessionId,
        serviceCode,
        phoneNumber: "+" + msisdn.replace(/^\+/, ""),
        networkCode: "63902",
        text,
      }).toString(),
    };
  }

  // A screen from the gateway's answer, or an Error saying why there is none.
  async function readReply(format, response) {
    const body = await response.text();
    if (!response.ok) {
      let message = body;
      let problems = [];
      try {
        const json = JSON.parse(body);
        message = json.message || body;
        problems = json.problems || [];
      } catch (_) { /* not JSON: show it as it came */ }
      const error = new Error("The gateway answered " + response.status + ":\n" + message);
      error.problems = problems;
      throw error;
    }
    if (format === "hubtel") {
      const json = JSON.parse(body);
      return { text: json.Message || "", ends: json.Type === "Release" };
    }
    if (body.startsWith("CON ")) return { text: body.slice(4), ends: false };
    if (body.startsWith("END ")) return { text: body.slice(4), ends: true };
    throw new Error("Not a screen (neither CON nor END):\n" + body);
  }

  async function hop() {
    const format = $("format").value;
    const request = hopRequest(format);
    setState("waiting");
    try {
      const response = await fetch(callbackUrl(format), { method: "POST", ...request });
      const reply = await readReply(format, response);
      showProblems("", []);
      showScreen(reply.text);
      phone.entry = "";
      setState(reply.ends ? "ended" : "live");
    } catch (error) {
      // Nothing was applied: the input stays typed for another try.
      const input = phone.typed.pop();
      phone.entry = input === undefined ? phone.dialled : input;
      showScreen(error.message);
      showProblems("The menu would be refused:", error.problems);
      setState(phone.typed.length === 0 && input === undefined ? "idle" : "live");
    }
    showEntry();
    phone.hops += 1;
    display.dataset.hops = String(phone.hops);
  }

  function dial(code) {
    phone.preview = $("version").value || null;
    phone.sessionId = newSessionId();
    phone.dialled = code;
    phone.typed = [];
    return hop();
  }

  // Tells the gateway the citizen hung up, as the telco would: Hubtel's `Release`, Africa's
  // Talking's end-of-session notice.
  function hangUp() {
    if (phone.state !== "live") return;
    const format = $("format").value;
    const msisdn = $("msisdn").value.trim();
    const request = format === "hubtel"
      ? {
          headers: headers("application/json"),
          body: JSON.stringify({
            Type: "Release", Mobile: msisdn, SessionId: phone.sessionId,
            ServiceCode: phone.dialled, Message: "", Operator: "vodacom",
            Sequence: phone.typed.length + 2, ClientState: "",
          }),
        }
      : {
          headers: headers("application/x-www-form-urlencoded"),
          body: new URLSearchParams({
            sessionId: phone.sessionId, phoneNumber: "+" + msisdn.replace(/^\+/, ""),
            status: "Incomplete",
          }).toString(),
        };
    fetch(callbackUrl(format), { method: "POST", ...request }).catch(() => {});
  }

  // ---- keys -----------------------------------------------------------------------------

  function press(key) {
    if (phone.state === "waiting" || phone.state === "loading") return;
    if (key === "send") {
      if (phone.state === "live") {
        phone.typed.push(phone.entry);
        phone.entry = "";
        showEntry();
        hop();
      } else {
        dial(phone.entry || phone.rootCode);
      }
      return;
    }
    if (key === "end") {
      hangUp();
      goIdle(phone.state === "live" ? "Dialogue ended." : "");
      return;
    }
    if (phone.state === "ended") goIdle("");
    if (key === "clear") {
      phone.entry = phone.entry.slice(0, -1);
    } else if (phone.entry.length < DEFAULT_SCREEN_LIMIT) {
      phone.entry += key;
    }
    showEntry();
  }

  function goIdle(message) {
    phone.entry = phone.state === "ended" && !message ? "" : phone.rootCode;
    showScreen(message);
    setState("idle");
    showEntry();
  }

  function flash(key) {
    const button = document.querySelector('.key[data-key="' + CSS.escape(key) + '"]');
    if (!button) return;
    button.classList.add("pressed");
    setTimeout(() => button.classList.remove("pressed"), 120);
  }

  const keyboard = { Enter: "send", Backspace: "clear", Escape: "end", Delete: "clear" };

  document.addEventListener("keydown", (event) => {
    const target = event.target;
    if (target.closest("input, textarea, select") || event.ctrlKey || event.metaKey || event.altKey) return;
    const key = /^[0-9*#]$/.test(event.key) ? event.key : keyboard[event.key];
    if (!key) return;
    event.preventDefault();
    flash(key);
    press(key);
  });

  for (const button of document.querySelectorAll(".key[data-key]")) {
    button.addEventListener("click", () => press(button.dataset.key));
  }

  // ---- settings ---------------------------------------------------------------------------

  function defaultTelco(format) {
    const ofFormat = phone.telcos.filter((t) => t.format === format);
    const named = ofFormat.find((t) => t.id === format);
    return (named || ofFormat[0] || { id: format }).id;
  }

  function restart() {
    if (phone.state === "live") hangUp();
    if (phone.state !== "loading") goIdle("");
  }

  $("format").addEventListener("change", () => {
    $("telco").value = defaultTelco($("format").value);
    $("telco-path").textContent = $("telco").value;
    restart();
  });
  $("telco").addEventListener("input", () => { $("telco-path").textContent = $("telco").value; });
  $("msisdn").addEventListener("change", restart);

  const versionProblems = new Map();
  $("version").addEventListener("change", () => {
    const chosen = $("version").value;
    showProblems("This version would be refused:", versionProblems.get(chosen));
    restart();
  });

  function addVersionOption(group, value, label, problems) {
    const option = document.createElement("option");
    option.value = value;
    option.textContent = label;
    group.append(option);
    if (problems && problems.length) versionProblems.set(value, problems);
    return option;
  }

  function listVersions(services) {
    for (const service of services) {
      const group = document.createElement("optgroup");
      group.label = service.service;
      for (const v of service.versions) {
        const where = [];
        if (v.current) where.push("current");
        else if (v.loaded) where.push("loaded");
        if (v.on_disk) where.push("on disk");
        if (v.published_at) where.push("published " + v.published_at.slice(0, 16).replace("T", " "));
        if (v.problems.length) where.push(v.problems.length + " problem(s)");
        addVersionOption(group, service.service + "@" + v.version, v.version + " · " + where.join(", "), v.problems);
      }
      $("version").append(group);
    }
  }

  $("draft-check").addEventListener("click", async () => {
    const response = await fetch("/phone/drafts", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ toml: $("draft").value }),
    });
    const json = await response.json().catch(() => ({ message: "unreadable answer" }));
    if (!response.ok) {
      showProblems("The draft would be refused:", json.problems || [json.message]);
      showScreen("Draft refused.\nSee its problems beside the phone.");
      return;
    }
    let group = document.getElementById("pasted-drafts");
    if (!group) {
      group = document.createElement("optgroup");
      group.id = "pasted-drafts";
      group.label = "pasted drafts";
      $("version").append(group);
    }
    const value = json.service + "@" + json.version;
    if (![...$("version").options].some((o) => o.value === value)) {
      addVersionOption(group, value, value + " · pasted", []);
    }
    $("version").value = value;
    showProblems("", []);
    restart();
    showScreen("Draft " + value + " is ready.\nPress Send to dial it.");
  });

  async function start() {
    try {
      const response = await fetch("/phone/menus");
      if (!response.ok) throw new Error("versions: " + response.status);
      const listing = await response.json();
      phone.rootCode = listing.root_code;
      phone.telcos = listing.telcos;
      listVersions(listing.services);
    } catch (error) {
      showProblems("Menu versions could not be listed:", [String(error.message || error)]);
    }
    $("telco").value = defaultTelco($("format").value);
    $("telco-path").textContent = $("telco").value;
    phone.state = "idle";
    goIdle("");
  }

  start();
})();
