// The citizen report form: multipart to the citizen submission API, then on to the secret status page.
"use strict";
(function () {
  const form = document.getElementById("report-form");
  if (!form) return;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    const data = new FormData(form);
    if (!data.get("phone")) data.delete("phone");
    const files = form.querySelector("input[type=file]").files;
    data.delete("photos");
    Array.from(files).forEach((file) => data.append("photos", file));
    try {
      const answer = await window.jiaojie.api("POST", form.dataset.url, data);
      const url = new URL(answer.status_page || answer.status_url, window.location.origin);
      window.location.assign(url.pathname.startsWith("/s/") ? url.pathname : "/s/" + url.pathname.split("/").pop());
    } catch (e) {
      window.jiaojie.flash(e.message, true);
      button.disabled = false;
    }
  });
})();
