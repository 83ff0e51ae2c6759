// Helpdesk single-page app: plain JavaScript, no build step. The server fills in BUILD (the API's URL and
// the build's switches) when it serves this file.
"use strict";
const BUILD = /*BUILD*/{"apiUrl": "http://localhost:8000", "tokenInUrl": false, "submitOnButtonClick": false}/*END*/;
const API = BUILD.apiUrl.replace(/\/$/, "");
const root = document.getElementById("app");

function accessToken() { return localStorage.getItem("access_token"); }

async function api(path, options = {}) {
  const headers = Object.assign({}, options.headers || {});
  const token = accessToken();
  if (token) headers["Authorization"] = "Bearer " + token;
  return fetch(API + path, Object.assign({}, options, { headers }));
}

async function errorText(response) {
  try {
    const body = await response.json();
    if (typeof body.detail === "string") return body.detail;
  } catch (e) { /* not JSON */ }
  return "Something went wrong (HTTP " + response.status + ")";
}

function navigate(path, replace = false) {
  if (replace) history.replaceState({}, "", path); else history.pushState({}, "", path);
  render();
}

window.addEventListener("popstate", render);
document.addEventListener("click", (event) => {
  const link = event.target.closest("a[data-link]");
  if (link) { event.preventDefault(); navigate(link.getAttribute("href")); }
});

function view(html, wide = false) {
  root.innerHTML = '<main' + (wide ? ' class="wide"' : "") + ">" + html + "</main>";
  return root.firstElementChild;
}

function say(element, text) { element.textContent = text; element.hidden = !text; }

function renderLogin() {
  document.title = "Log In - Helpdesk";
  const page = view(`
    <h1>Helpdesk</h1>
    <form id="login-form">
      <label for="email">Email</label>
      <input id="email" name="username" type="email" autocomplete="username" required>
      <label for="password">Password</label>
      <div class="password-row">
        <input id="password" name="password" type="password" autocomplete="current-password" required>
        <button type="button" class="toggle" aria-label="Show password">&#128065;</button>
      </div>
      <label class="checkbox"><input id="remember" type="checkbox"> Remember me</label>
      <p role="alert" hidden></p>
      <button>Log In</button>
    </form>
    <p><a href="/recover-password" data-link>Forgot password?</a></p>
    <p>Don't have an account? <a href="/signup" data-link>Sign Up</a></p>`);
  const form = page.querySelector("form");
  const email = page.querySelector("#email");
  const password = page.querySelector("#password");
  const remember = page.querySelector("#remember");
  const alert = page.querySelector("[role=alert]");
  const remembered = localStorage.getItem("remembered_email");
  if (remembered) { email.value = remembered; remember.checked = true; }
  page.querySelector(".toggle").addEventListener("click", (event) => {
    const shown = password.type === "text";
    password.type = shown ? "password" : "text";
    event.currentTarget.setAttribute("aria-label", shown ? "Show password" : "Hide password");
  });
  async function logIn(event) {
    event.preventDefault();
    say(alert, "");
    const body = new URLSearchParams({ username: email.value, password: password.value });
    let response;
    try {
      response = await fetch(API + "/api/v1/login/access-token", { method: "POST", body });
    } catch (e) {
      say(alert, "Cannot reach the server"); return;
    }
    if (!response.ok) { say(alert, await errorText(response)); return; }
    const token = (await response.json()).access_token;
    localStorage.setItem("access_token", token);
    if (remember.checked) localStorage.setItem("remembered_email", email.value);
    else localStorage.removeItem("remembered_email");
    navigate(BUILD.tokenInUrl ? "/?access_token=" + encodeURIComponent(token) : "/");
  }
  if (BUILD.submitOnButtonClick) {
    // the form's submit is swallowed; the handler waits for a click on a button id the markup no longer has
    form.addEventListener("submit", (event) => event.preventDefault());
    const button = document.getElementById("login-submit");
    if (button) button.addEventListener("click", logIn);
  } else {
    form.addEventListener("submit", logIn);
  }
}

async function renderDashboard() {
  if (!accessToken()) { navigate("/login", true); return; }
  document.title = "Dashboard - Helpdesk";
  const page = view(`
    <header><h1>Loading…</h1><button type="button" class="logout">Log Out</button></header>
    <p role="alert" hidden></p>
    <h2>Items</h2>
    <ul class="items"></ul>
    <form class="new-item">
      <label for="title">Title</label>
      <input id="title" type="text" required>
      <button>Add Item</button>
    </form>`, true);
  const heading = page.querySelector("h1");
  const alert = page.querySelector("[role=alert]");
  const list = page.querySelector("ul.items");
  page.querySelector(".logout").addEventListener("click", () => {
    localStorage.removeItem("access_token");
    navigate("/login");
  });
  const me = await api("/api/v1/users/me");
  if (me.status === 401 || me.status === 403 || me.status === 404) {
    localStorage.removeItem("access_token");
    navigate("/login", true);
    return;
  }
  if (!me.ok) { heading.textContent = "Dashboard"; say(alert, await errorText(me)); return; }
  const user = await me.json();
  heading.textContent = "Welcome, " + (user.full_name || user.email);
  async function loadItems() {
    const response = await api("/api/v1/items/");
    if (!response.ok) { say(alert, await errorText(response)); return; }
    const items = (await response.json()).data;
    list.replaceChildren(...items.map((item) => {
      const li = document.createElement("li");
      li.textContent = item.title;
      return li;
    }));
    if (!items.length) list.innerHTML = "<li>You don't have any items yet</li>";
  }
  page.querySelector("form.new-item").addEventListener("submit", async (event) => {
    event.preventDefault();
    const title = page.querySelector("#title");
    const response = await api("/api/v1/items/", {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ title: title.value, description: null }),
    });
    if (!response.ok) { say(alert, await errorText(response)); return; }
    title.value = "";
    await loadItems();
  });
  await loadItems();
}

function renderSignup() {
  document.title = "Sign Up - Helpdesk";
  const page = view(`
    <h1>Sign Up</h1>
    <form>
      <label for="full_name">Full Name</label>
      <input id="full_name" type="text" autocomplete="name" required>
      <label for="email">Email</label>
      <input id="email" type="email" autocomplete="email" required>
      <label for="password">Password</label>
      <input id="password" type="password" autocomplete="new-password" required>
      <label for="confirm_password">Confirm Password</label>
      <input id="confirm_password" type="password" autocomplete="new-password" required>
      <p role="alert" hidden></p>
      <p role="status" hidden></p>
      <button>Sign Up</button>
    </form>
    <p>Already have an account? <a href="/login" data-link>Log In</a></p>`);
  const alert = page.querySelector("[role=alert]");
  const status = page.querySelector("[role=status]");
  page.querySelector("form").addEventListener("submit", async (event) => {
    event.preventDefault();
    say(alert, ""); say(status, "");
    const value = (id) => page.querySelector("#" + id).value;
    if (value("password") !== value("confirm_password")) { say(alert, "The passwords do not match"); return; }
    const response = await fetch(API + "/api/v1/users/signup", {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ email: value("email"), password: value("password"), full_name: value("full_name") }),
    });
    if (!response.ok) { say(alert, await errorText(response)); return; }
    say(status, "Your account has been created. You can log in now.");
  });
}

function renderRecover() {
  document.title = "Password Recovery - Helpdesk";
  const page = view(`
    <h1>Password Recovery</h1>
    <p>A password recovery email will be sent to the registered account.</p>
    <form>
      <label for="email">Email</label>
      <input id="email" type="email" required>
      <p role="alert" hidden></p>
      <p role="status" hidden></p>
      <button>Continue</button>
    </form>
    <p><a href="/login" data-link>Back to Log In</a></p>`);
  const alert = page.querySelector("[role=alert]");
  const status = page.querySelector("[role=status]");
  page.querySelector("form").addEventListener("submit", async (event) => {
    event.preventDefault();
    say(alert, ""); say(status, "");
    const email = page.querySelector("#email").value;
    const response = await fetch(API + "/api/v1/password-recovery/" + encodeURIComponent(email), { method: "POST" });
    if (!response.ok) { say(alert, await errorText(response)); return; }
    say(status, "Password recovery email sent");
  });
}

function renderReset() {
  document.title = "Reset Password - Helpdesk";
  const token = new URLSearchParams(location.search).get("token") || "";
  const page = view(`
    <h1>Reset Password</h1>
    <form>
      <label for="new_password">New Password</label>
      <input id="new_password" type="password" autocomplete="new-password" required>
      <label for="confirm_password">Confirm Password</label>
      <input id="confirm_password" type="password" autocomplete="new-password" required>
      <p role="alert" hidden></p>
      <p role="status" hidden></p>
      <button>Reset Password</button>
    </form>
    <p><a href="/login" data-link>Back to Log In</a></p>`);
  const alert = page.querySelector("[role=alert]");
  const status = page.querySelector("[role=status]");
  if (!token) say(alert, "The reset link has no token");
  page.querySelector("form").addEventListener("submit", async (event) => {
    event.preventDefault();
    say(alert, ""); say(status, "");
    const password = page.querySelector("#new_password").value;
    if (password !== page.querySelector("#confirm_password").value) { say(alert, "The passwords do not match"); return; }
    const response = await fetch(API + "/api/v1/reset-password/", {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ token, new_password: password }),
    });
    if (!response.ok) { say(alert, await errorText(response)); return; }
    say(status, "Password updated successfully");
  });
}

function renderNotFound() {
  document.title = "Not Found - Helpdesk";
  view('<h1>Oops!</h1><p>The page you are looking for was not found.</p><p><a href="/" data-link>Go Back</a></p>');
}

function render() {
  const routes = { "/": renderDashboard, "/login": renderLogin, "/signup": renderSignup,
                   "/recover-password": renderRecover, "/reset-password": renderReset };
  (routes[location.pathname] || renderNotFound)();
}

render();
