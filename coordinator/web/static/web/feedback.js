// Reporters' pages (the status link /s/<token>, 我的举报 /my-reports): the rating and dispute forms post
// to the community API (form.dataset.url); the page then reloads to show what the server recorded. A
// refusal (window closed, already given, not dealt with yet) is shown in words by its error code.
"use strict";
(function () {
  const { api, flash } = window.jiaojie;
  const words = JSON.parse((document.getElementById("feedback-texts") || {}).textContent || "{}");
  const KEY = "jiaojie.feedback-flash";

  const done = window.sessionStorage.getItem(KEY);
  if (done) {
    window.sessionStorage.removeItem(KEY);
    flash(done);
  }

  function body(form) {
    const data = new FormData(form);
    if (form.dataset.kind === "rating") {
      const stars = Number(data.get("stars"));
      if (!stars) return { missing: words.stars_required };
      return { body: { stars, comment: String(data.get("comment") || "").trim() } };
    }
    const reason = String(data.get("reason") || "").trim();
    if (!reason) return { missing: words.reason_required };
    return { body: { reason } };
  }

  document.querySelectorAll("form.feedback-form").forEach((form) => {
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const { body: payload, missing } = body(form);
      if (missing) { flash(missing, true); return; }
      const button = form.querySelector('button[type="submit"]');
      button.disabled = true;
      try {
        await api("POST", form.dataset.url, payload);
        window.sessionStorage.setItem(KEY, form.dataset.kind === "rating" ? words.rated : words.disputed);
        window.location.reload();
      } catch (e) {
        flash(words[e.code] || e.message, true);
        button.disabled = false;
      }
    });
  });
})();
