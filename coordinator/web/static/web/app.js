// 交界协同 web app: every change goes through the JSON API with the session's CSRF token; the page then
// reloads to show the case as the server now has it. No inline scripts (the CSP forbids them).
"use strict";
(function () {
  const csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
  const texts = JSON.parse((document.getElementById("texts") || {}).textContent || "{}");
  const flashBox = document.getElementById("flash");

  function flash(message, bad) {
    if (!flashBox) return;
    flashBox.textContent = message;
    flashBox.classList.toggle("bad", !!bad);
    flashBox.hidden = false;
    flashBox.scrollIntoView({ block: "nearest" });
  }

  async function api(method, url, body) {
    const headers = { "X-CSRF-Token": csrf, Accept: "application/json" };
    let payload;
    if (body instanceof FormData) payload = body;
    else if (body !== undefined) { headers["Content-Type"] = "application/json"; payload = JSON.stringify(body); }
    let response;
    try {
      response = await fetch(url, { method, headers, body: payload, credentials: "same-origin" });
    } catch (e) {
      throw new Error(texts.network || "network error");
    }
    const data = response.status === 204 ? null : await response.json().catch(() => null);
    if (!response.ok) {
      const err = (data && data.error) || {};
      const error = new Error((texts.failed || "failed") + ": " + (err.message || response.status));
      error.status = response.status;
      error.code = err.code;
      error.details = err.details;
      throw error;
    }
    return data;
  }
  window.jiaojie = { api, flash, texts };

  const ACTION_PATHS = {
    claim: "claim", start: "start", resolve: "resolve", verify: "verify", close: "close",
    reopen: "reopen", void: "void", transfer: "transfers",
  };
  function actionUrl(caseId, action, transferId) {
    if (action === "accept_transfer") return `/api/v1/cases/${caseId}/transfers/${transferId}/accept`;
    if (action === "decline_transfer") return `/api/v1/cases/${caseId}/transfers/${transferId}/decline`;
    return `/api/v1/cases/${caseId}/${ACTION_PATHS[action]}`;
  }
  const NO_BODY = new Set(["claim"]);

  async function run(button, caseId, action, body, transferId) {
    if (button) button.disabled = true;
    try {
      await api("POST", actionUrl(caseId, action, transferId), NO_BODY.has(action) ? undefined : body);
      flash(texts.done || "done");
      window.location.reload();
    } catch (e) {
      flash(e.message, true);
      if (button) button.disabled = false;
    }
  }

  // One-tap actions (claim, start, verify, close).
  document.querySelectorAll("button[data-action]").forEach((button) => {
    button.addEventListener("click", () => run(button, button.dataset.case, button.dataset.action, {}));
  });

  // Actions with a form (resolve, reopen, void, transfer, accept/decline).
  document.querySelectorAll("form.action-form").forEach((form) => {
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const submitter = event.submitter;
      const action = (submitter && submitter.dataset.submit) || form.dataset.action;
      const body = {};
      new FormData(form).forEach((value, key) => { if (String(value).trim() !== "") body[key] = String(value).trim(); });
      if (action === "decline_transfer" && !body.reason) { flash(texts.reason_required, true); return; }
      run(submitter, form.dataset.case, action, body, form.dataset.transfer);
    });
  });

  // Photo upload (multipart to the evidence API), then reload to show it and its audit entry.
  const evidenceForm = document.getElementById("evidence-form");
  if (evidenceForm) {
    evidenceForm.addEventListener("submit", async (event) => {
      event.preventDefault();
      const button = evidenceForm.querySelector("button");
      button.disabled = true;
      try {
        await api("POST", evidenceForm.dataset.url, new FormData(evidenceForm));
        flash(texts.done || "done");
        window.location.reload();
      } catch (e) {
        flash(e.message, true);
        button.disabled = false;
      }
    });
  }

  // Login (session + CSRF from the auth API), logout.
  const loginForm = document.getElementById("login-form");
  if (loginForm) {
    loginForm.addEventListener("submit", async (event) => {
      event.preventDefault();
      const data = new FormData(loginForm);
      const error = document.getElementById("login-error");
      try {
        await api("POST", "/api/v1/auth/login", { username: data.get("username"), password: data.get("password") });
        window.location.assign(loginForm.dataset.next || "/");
      } catch (e) {
        error.hidden = false;
        if (e.status !== 401) error.textContent = e.message;
      }
    });
  }
  const logout = document.getElementById("logout");
  if (logout) {
    logout.addEventListener("click", async () => {
      try { await api("POST", "/api/v1/auth/logout"); } catch (e) { /* the session is gone either way */ }
      window.location.assign("/login");
    });
  }
})();
