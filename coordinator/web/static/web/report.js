// The report form: multipart (the report as JSON in the `report` part, the photos in `photos`). Anyone
// without a reporter account sends it to the citizen submission API and goes on to the secret status
// page; a logged-in reporter account (`data-account`) sends it to the reports API as itself and goes on
// to 我的举报, where the report is listed with its feedback and the account's points.
"use strict";
(function () {
  const form = document.getElementById("report-form");
  if (!form) return;
  const asAccount = form.dataset.account === "true";
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const fields = new FormData(form);
    if (!fields.get("lon") || !fields.get("lat")) {
      window.jiaojie.flash(document.getElementById("use-gps").dataset.failed, true);
      return;
    }
    const phone = String(fields.get("phone") || "").trim();
    const consent = form.querySelector("input[name=notify_sms]");
    // Progress messages to the phone only with the citizen's consent (the box is unticked by default).
    if (consent.checked && !phone) {
      window.jiaojie.flash(consent.dataset.needsPhone, true);
      return;
    }
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    const reporter = {};
    if (phone) reporter.phone = phone;
    if (String(fields.get("name") || "").trim()) reporter.name = String(fields.get("name")).trim();
    const report = {
      category: fields.get("category"),
      description: String(fields.get("description")).trim(),
      lon: Number(fields.get("lon")),
      lat: Number(fields.get("lat")),
      crs: "wgs84", // the phone's GPS and the map's pin are both WGS-84
    };
    if (Object.keys(reporter).length) report.reporter = reporter;
    if (consent.checked) report.notify = { channel: "sms", consent: true };
    const body = new FormData();
    body.append("report", JSON.stringify(report));
    Array.from(form.querySelector("input[type=file]").files).forEach((file) => body.append("photos", file));
    try {
      const answer = await window.jiaojie.api("POST", form.dataset.url, body);
      if (asAccount) window.location.assign(`/my-reports#report-${answer.report_id}`);
      else window.location.assign(new URL(answer.status_url, window.location.origin).pathname);
    } catch (e) {
      window.jiaojie.flash(e.message, true);
      button.disabled = false;
    }
  });
})();
