// The citizen report form: multipart to the citizen submission API (the report as JSON in the `report`
// part, the photos in `photos`), then on to the secret status page.
"use strict";
(function () {
  const form = document.getElementById("report-form");
  if (!form) return;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const fields = new FormData(form);
    if (!fields.get("lon") || !fields.get("lat")) {
      window.jiaojie.flash(document.getElementById("use-gps").dataset.failed, true);
      return;
    }
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    const reporter = { phone: String(fields.get("phone")).trim() };
    if (String(fields.get("name") || "").trim()) reporter.name = String(fields.get("name")).trim();
    const report = {
      category: fields.get("category"),
      description: String(fields.get("description")).trim(),
      lon: Number(fields.get("lon")),
      lat: Number(fields.get("lat")),
      crs: "wgs84", // the phone's GPS and the map's pin are both WGS-84
      reporter,
    };
    // Progress messages to the phone only with the citizen's consent (the box is unticked by default).
    if (fields.get("notify_sms")) report.notify = { channel: "sms", consent: true };
    const body = new FormData();
    body.append("report", JSON.stringify(report));
    Array.from(form.querySelector("input[type=file]").files).forEach((file) => body.append("photos", file));
    try {
      const answer = await window.jiaojie.api("POST", form.dataset.url, body);
      window.location.assign(new URL(answer.status_url, window.location.origin).pathname);
    } catch (e) {
      window.jiaojie.flash(e.message, true);
      button.disabled = false;
    }
  });
})();
