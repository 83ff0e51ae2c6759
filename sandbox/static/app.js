/* Notification platform frontend: login, dashboard, notification settings and history. No inline script (CSP). */
(function () {
  "use strict";
  var API = (document.querySelector('meta[name="api-base-url"]') || {}).content || "";
  API = API.replace(/\/$/, "");
  var page = document.body.dataset.page;
  var strings = {};

  function t(key, fallback) { return strings[key] || fallback; }

  // the sandbox's fault switches that change what this script does (tokens of <body data-fault="...">)
  function hasFault(name) { return (document.body.dataset.fault || "").split(" ").indexOf(name) >= 0; }

  function token() { return window.localStorage.getItem("access_token"); }

  function signOut() {
    window.localStorage.removeItem("access_token");
    window.localStorage.removeItem("user");
    window.location.replace("/login");
  }

  function api(method, path, body) {
    var headers = { "Accept": "application/json" };
    if (token()) { headers["Authorization"] = "Bearer " + token(); }
    if (body !== undefined) { headers["Content-Type"] = "application/json"; }
    return fetch(API + path, { method: method, headers: headers, body: body === undefined ? undefined : JSON.stringify(body) })
      .then(function (r) {
        if (r.status === 401 && page !== "login") { signOut(); throw new Error("unauthenticated"); }
        return r.text().then(function (text) {
          var data = null;
          try { data = text ? JSON.parse(text) : null; } catch (e) { data = { detail: text }; }
          return { status: r.status, ok: r.ok, data: data };
        });
      });
  }

  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    return e;
  }

  function show(id, text) { var e = document.getElementById(id); e.textContent = text; e.hidden = false; }

  function applyI18n() {
    document.querySelectorAll("[data-i18n]").forEach(function (e) {
      var v = strings[e.getAttribute("data-i18n")];
      if (v) { e.textContent = v; }
    });
  }

  function loadI18n() {
    var lang = window.localStorage.getItem("lang") || ((navigator.language || "en").slice(0, 2) === "es" ? "es" : "en");
    document.documentElement.lang = lang;
    return fetch("/i18n/" + lang + ".json")
      .then(function (r) { return r.ok ? r.json() : {}; })
      .then(function (s) { strings = s || {}; applyI18n(); })
      .catch(function () { strings = {}; });
  }

  function initLogin() {
    var form = document.getElementById("login-form");
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      document.getElementById("login-error").hidden = true;
      var email = document.getElementById("email").value;
      var password = document.getElementById("password").value;
      api("POST", "/api/v1/auth/login", { email: email, password: password }).then(function (r) {
        if (!r.ok) { show("login-error", r.status === 401 ? t("login.invalid", "Invalid email or password") : t("login.failed", "Sign in failed") + " (" + r.status + ")"); return; }
        window.localStorage.setItem("access_token", r.data.access_token);
        window.localStorage.setItem("user", JSON.stringify(r.data.user));
        window.location.assign("/dashboard");
      }).catch(function () { show("login-error", t("login.unreachable", "The service is unreachable, try again later")); });
    });
  }

  function initDashboard() {
    api("GET", "/api/v1/users/me").then(function (r) {
      if (!r.ok) { show("dashboard-error", r.data && r.data.detail || "Error"); return; }
      document.getElementById("user-email").textContent = r.data.email;
      document.getElementById("user-role").textContent = r.data.role;
      document.getElementById("profile").hidden = false;
    });
    api("GET", "/api/v1/activity/notifications/unread-count").then(function (r) {
      if (r.ok) { document.getElementById("unread-count").textContent = r.data.unread_count; }
    });
  }

  function initSettings() {
    var form = document.getElementById("preferences-form");
    var userId = null;
    api("GET", "/api/v1/users/notification-preferences").then(function (r) {
      if (!r.ok) { show("settings-error", r.data && r.data.detail || "Error"); return; }
      userId = r.data.user_id;
      document.getElementById("staff_notifications_enabled").checked = !!r.data.staff_notifications_enabled;
      document.getElementById("email_enabled").checked = !!r.data.email_enabled;
      var user = JSON.parse(window.localStorage.getItem("user") || "{}");
      if (user.role === "customer") { document.getElementById("staff_notifications_enabled").disabled = true; }
      form.hidden = false;
      if (hasFault("js-error")) {
        // fault frontend_js_error: the page reads a field the API does not return
        var channels = r.data.channels;
        channels.map(function (c) { return c.name; });
      }
    });
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      document.getElementById("settings-saved").hidden = true;
      var body = { email_enabled: document.getElementById("email_enabled").checked };
      if (!document.getElementById("staff_notifications_enabled").disabled) {
        body.staff_notifications_enabled = document.getElementById("staff_notifications_enabled").checked;
      }
      api("PATCH", "/api/v1/users/" + userId + "/notification-preferences", body).then(function (r) {
        if (!r.ok) { show("settings-error", r.data && r.data.detail || "Error"); return; }
        show("settings-saved", t("settings.saved", "Preferences saved"));
      });
    });
  }

  function initHistory() {
    var params = new URLSearchParams(window.location.search);
    var q = "?page_size=50" + (params.get("status") ? "&status=" + encodeURIComponent(params.get("status")) : "");
    api("GET", "/api/v1/notifications/history" + q).then(function (r) {
      if (r.status === 403) { show("history-error", t("history.forbidden", "Only staff and administrators can see the notification history")); return; }
      if (!r.ok) { show("history-error", r.data && r.data.detail || "Error"); return; }
      var tbody = document.querySelector("#history-table tbody");
      r.data.items.forEach(function (n) {
        var tr = el("tr", { "data-notification-id": n.id });
        tr.appendChild(el("td", {}, new Date(n.created_at).toLocaleString()));
        tr.appendChild(el("td", {}, n.type));
        tr.appendChild(el("td", {}, n.recipient_email));
        tr.appendChild(el("td", {}, n.subject));
        var td = el("td");
        if (hasFault("plain-status")) {
          // fault history_badges_missing: the release renders the status as plain text, without the badge
          td.textContent = n.status;
        } else {
          td.appendChild(el("span", { "class": "badge badge-" + n.status }, n.status));
        }
        tr.appendChild(td);
        tr.appendChild(el("td", {}, n.error_type || ""));
        tbody.appendChild(tr);
      });
      document.getElementById("history-total").textContent = r.data.total;
      document.getElementById("history").hidden = false;
      if (!r.data.items.length) { document.getElementById("history-empty").hidden = false; }
    });
  }

  var pages = { login: initLogin, dashboard: initDashboard, settings: initSettings, history: initHistory };
  if (page !== "login" && !token()) { window.location.replace("/login"); return; }
  var signout = document.getElementById("sign-out");
  if (signout) { signout.addEventListener("click", signOut); }
  loadI18n().then(function () { (pages[page] || function () {})(); });
})();
