// The regulator's search page: streams results (Server-Sent Events) as vendors answer, filters without a new
// search, keyboard navigation, a small SVG plot, and orientations (vendor slot, SAS-agenda slot, "en sus").
// No dependency; the page works without this script (server-rendered results, plain forms).
(function () {
  "use strict";
  var form = document.getElementById("form-recherche");
  if (!form || !window.EventSource || !window.fetch) return;
  var csrf = form.getAttribute("data-csrf") || "";
  var results = document.getElementById("resultats");
  var banner = document.getElementById("bandeau");
  var status = document.getElementById("etat");
  var filters = document.getElementById("filtres");
  var plot = document.getElementById("carte");
  var source = null;
  var state = null;
  var firstSlotMarked = false;

  var paris = "Europe/Paris";
  var dayFormat = new Intl.DateTimeFormat("fr-FR", { timeZone: paris, year: "numeric", month: "2-digit", day: "2-digit" });
  var timeFormat = new Intl.DateTimeFormat("fr-FR", { timeZone: paris, hour: "2-digit", minute: "2-digit" });
  var hourFormat = new Intl.DateTimeFormat("fr-FR", { timeZone: paris, hour: "2-digit", hour12: false });
  var longDay = new Intl.DateTimeFormat("fr-FR", { timeZone: paris, weekday: "long", day: "numeric", month: "long" });
  var typeLabels = { AMB: "Cabinet", HH: "Domicile", VR: "Téléconsultation" };
  var kindLabels = { PUBLIC: "Créneau visible du public", PRO: "Créneau réservé aux professionnels", SNP: "Créneau dédié au SAS (soins non programmés)", CPTS: "Créneau des structures CPTS" };

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    if (attrs) Object.keys(attrs).forEach(function (k) {
      if (k === "class") node.className = attrs[k]; else node.setAttribute(k, attrs[k]);
    });
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  // The Paris calendar day of an instant as a day number (days are counted on the calendar: around a
  // daylight-saving change, now + 24 h is not always tomorrow).
  function parisDay(date) {
    var y = 0, m = 0, d = 0;
    dayFormat.formatToParts(date).forEach(function (part) {
      if (part.type === "year") y = Number(part.value);
      else if (part.type === "month") m = Number(part.value);
      else if (part.type === "day") d = Number(part.value);
    });
    return Math.round(Date.UTC(y, m - 1, d) / 86400000);
  }

  function dayName(date) {
    var ahead = parisDay(date) - parisDay(new Date());
    if (ahead === 0) return "Aujourd'hui";
    if (ahead === 1) return "Demain";
    if (ahead === 2) return "Après-demain";
    var text = longDay.format(date);
    return text.charAt(0).toUpperCase() + text.slice(1);
  }

  function km(value) { return value.toFixed(1).replace(".", ",") + " km"; }

  // ---- suggestions (TRE_R38 labels and synonyms, places) ----
  function suggest(input, list, key) {
    var timer = null;
    input.addEventListener("input", function () {
      clearTimeout(timer);
      var value = input.value.trim();
      if (value.length < 2) return;
      timer = setTimeout(function () {
        fetch("/api/v1/search/suggest?" + key + "=" + encodeURIComponent(value), { credentials: "same-origin" })
          .then(function (r) { return r.ok ? r.json() : null; })
          .then(function (data) {
            if (!data) return;
            list.textContent = "";
            var items = key === "what" ? data.what : data.places.map(function (p) { return p.label; });
            items.forEach(function (label) { list.appendChild(el("option", { value: label })); });
          }).catch(function () {});
      }, 120);
    });
  }
  suggest(document.getElementById("what"), document.getElementById("liste-what"), "what");
  suggest(document.getElementById("where"), document.getElementById("liste-where"), "where");

  // ---- streaming search ----
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var params = new URLSearchParams(new FormData(form));
    ["from", "to", "medecin_traitant"].forEach(function (k) { if (!params.get(k)) params.delete(k); });
    var types = params.getAll("type");
    params.delete("type");
    if (types.length) params.set("type", types.join(","));
    history.replaceState(null, "", "/recherche?" + params.toString());
    start(params);
  });

  function start(params) {
    if (source) source.close();
    firstSlotMarked = false;
    performance.clearMarks();
    performance.mark("recherche-lancee");
    state = { params: params, candidates: {}, provisional: {}, query: null, final: null };
    results.textContent = "";
    banner.textContent = "";
    status.textContent = "Recherche en cours…";
    filters.hidden = true;
    source = new EventSource("/api/v1/search/stream?" + params.toString());
    source.addEventListener("query", function (e) {
      state.query = JSON.parse(e.data);
      status.textContent = state.query.what.label + " autour de " + state.query.place.label + " — recherche des créneaux…";
    });
    source.addEventListener("directory", function (e) {
      var data = JSON.parse(e.data);
      data.candidates.forEach(function (c) {
        if (c.idnps) state.candidates[c.idnps] = c;
        if (c.idnst) state.candidates[c.idnst] = state.candidates[c.idnst] || c;
      });
    });
    source.addEventListener("slots", function (e) { provisional(JSON.parse(e.data)); });
    source.addEventListener("final", function (e) {
      source.close();
      state.final = JSON.parse(e.data);
      render(state.final);
    });
    source.addEventListener("error", function (e) {
      if (e.data) {
        var problem = JSON.parse(e.data);
        status.textContent = "";
        results.textContent = "";
        results.appendChild(el("p", { class: "alerte", role: "alert" }, problem.message || "Recherche impossible."));
      } else if (!state.final) {
        status.textContent = "La connexion au serveur a été interrompue. Relancez la recherche.";
      }
      source.close();
    });
  }

  // Slots shown as soon as a source answers, before the final ranking (cards marked provisional).
  function provisional(arrival) {
    if (state.final) return;
    Object.keys(arrival.slots).forEach(function (subject) {
      var slots = arrival.slots[subject];
      if (!slots.length) return;
      var card = state.provisional[subject];
      if (!card) {
        var c = state.candidates[subject] || { distanceKm: 0 };
        card = el("article", { class: "offre provisoire", "data-id": subject });
        card.appendChild(el("h2", null, "Professionnel à " + km(c.distanceKm || 0)));
        card.appendChild(el("p", { class: "muted" }, "Classement en cours…"));
        card.appendChild(el("ul", { class: "creneaux" }));
        state.provisional[subject] = card;
        results.appendChild(card);
      }
      var list = card.querySelector("ul");
      slots.slice(0, 6).forEach(function (slot) {
        var li = el("li");
        var b = el("button", { class: "creneau", type: "button", disabled: "disabled" }, timeFormat.format(new Date(slot.start)));
        li.appendChild(b);
        list.appendChild(li);
      });
      markFirstSlot();
    });
  }

  function markFirstSlot() {
    if (firstSlotMarked) return;
    firstSlotMarked = true;
    performance.mark("premier-creneau");
    try { performance.measure("delai-premier-creneau", "recherche-lancee", "premier-creneau"); } catch (e) {}
  }

  function render(response) {
    results.textContent = "";
    var q = response.query;
    status.textContent = q.what.label + " autour de " + q.place.label + " — " + response.total + " résultat(s). " + response.radius.reason;
    renderBanner(response);
    (response.warnings || []).forEach(function (w) { results.appendChild(el("p", { class: "alerte" }, w.message)); });
    if (!response.results.length) {
      results.appendChild(el("p", null, "Aucune offre trouvée dans ce rayon."));
    }
    response.results.forEach(function (offer) { results.appendChild(card(offer)); });
    if (response.results.some(function (o) { return o.slots.length; })) markFirstSlot();
    filters.hidden = false;
    drawPlot(response);
    applyFilters();
    var first = results.querySelector("button.creneau:not([disabled])");
    if (first) first.focus();
  }

  function renderBanner(response) {
    banner.textContent = "";
    response.sources.filter(function (s) { return s.status !== "ok"; }).forEach(function (s) {
      var box = el("div", { class: "panne", "data-source": s.source });
      box.appendChild(el("span", null, s.message));
      var retry = el("button", { type: "button" }, "Réessayer " + s.name);
      retry.addEventListener("click", function () { start(state.params); });
      box.appendChild(retry);
      banner.appendChild(box);
    });
  }

  function card(offer) {
    var node = el("article", { class: "offre", "data-id": offer.id, "data-kind": offer.kind,
      "data-participe": offer.participates ? "1" : "0", "data-en-sus": offer.acceptsExtraPatients ? "1" : "0" });
    var title = el("h2", null, offer.name);
    if (offer.preferredDoctor) title.appendChild(el("span", { class: "badge" }, "Médecin traitant"));
    if (offer.kind === "cpts") title.appendChild(el("span", { class: "badge" }, "CPTS"));
    if (offer.kind === "sos") title.appendChild(el("span", { class: "badge" }, "SOS Médecins"));
    node.appendChild(title);
    var details = [offer.specialties.join(", "), km(offer.distanceKm), offer.address.join(", ")];
    if (offer.phone) details.push("☎ " + offer.phone);
    node.appendChild(el("p", { class: "muted" }, details.filter(Boolean).join(" · ")));
    if (offer.additionalInfo) node.appendChild(el("p", { class: "info-ps" }, offer.additionalInfo));
    var days = {};
    var order = [];
    offer.slots.forEach(function (slot) {
      var name = dayName(new Date(slot.start));
      if (!days[name]) { days[name] = []; order.push(name); }
      days[name].push(slot);
    });
    order.forEach(function (name) {
      var day = el("div", { class: "jour" });
      day.appendChild(el("h3", null, name));
      var list = el("ul", { class: "creneaux" });
      days[name].forEach(function (slot) { list.appendChild(slotItem(offer, slot)); });
      day.appendChild(list);
      node.appendChild(day);
    });
    if (!offer.slots.length && offer.acceptsExtraPatients) {
      var extra = el("button", { type: "button" }, "Orienter en sus");
      extra.addEventListener("click", function () {
        orient({ kind: "en_sus", idnps: offer.idnps || "", idnst: offer.idnst || "", name: offer.name, phone: offer.phone || "",
          categorie: categoryOf(offer) }, extra, null);
      });
      node.appendChild(extra);
    }
    (offer.members || []).forEach(function (member) {
      var sub = el("details");
      sub.appendChild(el("summary", null, member.name + " — " + km(member.distanceKm)));
      var list = el("ul", { class: "creneaux" });
      member.slots.forEach(function (slot) { list.appendChild(slotItem(member, slot, categoryOf(offer))); });
      sub.appendChild(list);
      node.appendChild(sub);
    });
    var why = el("p", { class: "pourquoi" });
    why.appendChild(el("strong", null, "Pourquoi ce rang : "));
    why.appendChild(document.createTextNode(offer.pourquoi));
    node.appendChild(why);
    return node;
  }

  // INT_L02 orientationCategory: a CPTS card (and its members), SOS Médecins, or an individual practitioner.
  function categoryOf(offer) {
    if (offer.kind === "cpts") return "CPTS";
    if (offer.kind === "sos") return "SOS";
    return "PS";
  }

  function slotItem(offer, slot, category) {
    var li = el("li", { "data-types": slot.consultationTypes.join(","), "data-heure": hourFormat.format(new Date(slot.start)) });
    var isAgenda = !!slot.agendaSlotID;
    var label = timeFormat.format(new Date(slot.start));
    var attrs = { class: "creneau", type: "button", "data-source": slot.source };
    if (slot.bookingURL) attrs["data-url"] = slot.bookingURL;
    var b = el("button", attrs, label);
    b.setAttribute("aria-label",
      label + " — " + offer.name + " — " + slot.consultationTypes.map(function (t) { return typeLabels[t] || t; }).join(", ") +
        (isAgenda ? " — agenda SAS" : " — " + slot.source) + (slot.bookingURL || isAgenda ? "" : " — sans réservation en ligne"));
    slot.consultationTypes.forEach(function (t) { b.appendChild(el("span", { class: "badge" }, t)); });
    (slot.kinds || []).forEach(function (k) { b.appendChild(el("span", { class: "badge type-creneau", title: kindLabels[k] || k }, k)); });
    if (isAgenda) {
      b.appendChild(el("span", { class: "badge" }, "SAS" + (slot.remaining > 1 ? " · " + slot.remaining + " places" : "")));
    }
    b.addEventListener("click", function () {
      var fields = { idnps: offer.idnps || "", idnst: offer.idnst || "", name: offer.name, phone: offer.phone || "",
        start: slot.start, end: slot.end, categorie: category || categoryOf(offer) };
      if (isAgenda) {
        fields.kind = "agenda"; fields.slot = slot.agendaSlotID;
        orient(fields, b, null);
      } else {
        fields.kind = "editeur"; fields.source = slot.source; fields.url = slot.bookingURL || "";
        // The tab is opened during the click (popup blockers), then sent to the vendor's page once recorded.
        var tab = slot.bookingURL ? window.open("about:blank", "_blank") : null;
        if (tab) tab.opener = null; // the vendor's page must not reach back into the regulator's tab
        orient(fields, b, tab);
      }
    });
    li.appendChild(b);
    return li;
  }

  function orient(fields, button, tab) {
    button.disabled = true;
    fetch("/orientations", {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf, "Accept": "application/json" },
      body: JSON.stringify(fields)
    }).then(function (r) {
      return r.json().then(function (body) { return { ok: r.ok, status: r.status, body: body }; });
    }).then(function (answer) {
      if (!answer.ok) {
        if (tab) tab.close();
        if (answer.status === 409) { button.textContent = "Complet"; } else { button.disabled = false; }
        notify(answer.body.message || "Orientation impossible.", true);
        return;
      }
      if (fields.kind === "agenda") button.textContent = "Réservé";
      notify(answer.body.message, false);
      if (answer.body.redirect) {
        if (tab) { tab.location.href = answer.body.redirect; }
        else {
          // The browser blocked the new tab: offer the link instead.
          var link = el("a", { href: answer.body.redirect, target: "_blank", rel: "noopener" }, " Ouvrir la page de réservation");
          document.getElementById("notification").appendChild(link);
        }
      }
    }).catch(function () {
      if (tab) tab.close();
      button.disabled = false;
      notify("Le serveur n'a pas répondu : l'orientation n'est pas enregistrée.", true);
    });
  }

  function notify(message, failed) {
    var box = el("p", { class: failed ? "alerte" : "confirmation", role: failed ? "alert" : "status" }, message);
    var old = document.getElementById("notification");
    if (old) old.remove();
    box.id = "notification";
    status.parentNode.insertBefore(box, status.nextSibling);
  }

  // ---- filters: applied to what is on screen, no new search ----
  filters.addEventListener("change", applyFilters);
  function applyFilters() {
    var types = Array.prototype.filter.call(filters.querySelectorAll("[data-filtre-type]"), function (c) { return c.checked; })
      .map(function (c) { return c.getAttribute("data-filtre-type"); });
    var hour = (filters.querySelector("input[name=filtre-heure]:checked") || {}).value || "";
    var onlySlots = document.getElementById("filtre-avec-creneaux").checked;
    var onlyExtra = document.getElementById("filtre-en-sus").checked;
    var onlyParticipants = document.getElementById("filtre-participe").checked;
    results.querySelectorAll("article.offre:not(.provisoire)").forEach(function (offer) {
      var visible = 0;
      offer.querySelectorAll("li[data-types]").forEach(function (li) {
        var slotTypes = li.getAttribute("data-types").split(",").filter(Boolean);
        var h = parseInt(li.getAttribute("data-heure"), 10);
        var typeOK = !slotTypes.length || slotTypes.some(function (t) { return types.indexOf(t) >= 0; });
        var hourOK = !hour || (hour === "matin" && h < 12) || (hour === "aprem" && h >= 12 && h < 18) || (hour === "soir" && h >= 18);
        li.classList.toggle("cache", !(typeOK && hourOK));
        if (typeOK && hourOK) visible++;
      });
      var hasSlots = offer.querySelectorAll("li[data-types]").length > 0;
      var hide = (onlySlots && visible === 0) || (onlyExtra && offer.getAttribute("data-en-sus") !== "1") ||
        (onlyParticipants && offer.getAttribute("data-participe") !== "1") || (hasSlots && visible === 0 && !onlyExtra);
      offer.classList.toggle("cachee", hide);
    });
  }

  // ---- keyboard: j/k or arrows move between slots, Enter opens (native on a focused button) ----
  document.addEventListener("keydown", function (event) {
    var target = event.target;
    if (target && (target.tagName === "INPUT" || target.tagName === "TEXTAREA" || target.tagName === "SELECT")) return;
    var forward = event.key === "j" || event.key === "ArrowDown";
    var backward = event.key === "k" || event.key === "ArrowUp";
    if (!forward && !backward) return;
    var buttons = Array.prototype.filter.call(results.querySelectorAll("button.creneau:not([disabled])"), function (b) {
      return b.offsetParent !== null;
    });
    if (!buttons.length) return;
    event.preventDefault();
    var index = buttons.indexOf(document.activeElement);
    var next = index < 0 ? 0 : Math.max(0, Math.min(buttons.length - 1, index + (forward ? 1 : -1)));
    buttons[next].focus();
  });

  // ---- SVG plot: the searched point in the centre, offers around it, the radius as a circle ----
  function drawPlot(response) {
    plot.textContent = "";
    var ns = "http://www.w3.org/2000/svg";
    var centre = response.query.place;
    var radius = Math.max(response.radius.km, 1);
    var scale = 100 / radius;
    var cos = Math.cos(centre.latitude * Math.PI / 180);
    function svg(tag, attrs) {
      var node = document.createElementNS(ns, tag);
      Object.keys(attrs).forEach(function (k) { node.setAttribute(k, attrs[k]); });
      return node;
    }
    plot.appendChild(svg("circle", { cx: 0, cy: 0, r: 100, fill: "none", stroke: "#d0d0dc", "stroke-dasharray": "4 3" }));
    plot.appendChild(svg("circle", { cx: 0, cy: 0, r: 4, fill: "#ce0500" }));
    response.results.forEach(function (offer, i) {
      var x = (offer.longitude - centre.longitude) * 111.32 * cos * scale;
      var y = -(offer.latitude - centre.latitude) * 110.57 * scale;
      var dot = svg("circle", { cx: x.toFixed(1), cy: y.toFixed(1), r: 3.5, fill: offer.slots.length ? "#000091" : "#8585f6" });
      var title = document.createElementNS(ns, "title");
      title.textContent = (i + 1) + ". " + offer.name + " — " + km(offer.distanceKm);
      dot.appendChild(title);
      plot.appendChild(dot);
    });
    var legend = svg("text", { x: -105, y: 106, "font-size": 9, fill: "#4a4a55" });
    legend.textContent = "Rayon " + km(radius);
    plot.appendChild(legend);
  }
})();
