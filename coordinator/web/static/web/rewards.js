// 交界协同 web app: the rewards page's forms. A rule's edit form sends the whole rule to
// PUT /api/v1/rewards/rules/{name}; the redemption form posts to POST /api/v1/rewards/redemptions. A
// refusal (e.g. 409 insufficient_points) stays on the page with the API's message; success reloads.
"use strict";
(function () {
  const { api, flash } = window.jiaojie;
  const texts = JSON.parse((document.getElementById("rewards-texts") || {}).textContent || "{}");

  function text(form, name) {
    const field = form.elements.namedItem(name);
    return field ? String(field.value).trim() : "";
  }
  function number(form, name) {
    const value = text(form, name);
    return value === "" ? null : Number(value);
  }

  // The API's refusals in the page's language where the page knows them; its own message otherwise.
  function refusal(e) {
    const d = e.details || {};
    if (e.status === 409 && d.balance !== undefined) {
      return texts.short.replace("{balance}", d.balance).replace("{requested}", d.requested);
    }
    if (e.status === 404) return texts.no_reporter;
    return e.message;
  }

  async function send(form, method, body, done) {
    const button = form.querySelector('button[type="submit"]');
    if (button) button.disabled = true;
    try {
      const answer = await api(method, form.dataset.url, body);
      flash(done(answer));
      window.setTimeout(() => window.location.reload(), 600);
    } catch (e) {
      flash(refusal(e), true);
      if (button) button.disabled = false;
    }
  }

  document.querySelectorAll("form.rule-form").forEach((form) => {
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const body = {
        priority: number(form, "priority"),
        category: text(form, "category") || null,
        source: text(form, "source") || null,
        points: number(form, "points"),
        first_k: number(form, "first_k"),
        daily_cap: number(form, "daily_cap"),
        burst_count: number(form, "burst_count"),
        burst_minutes: number(form, "burst_minutes"),
        active: form.elements.namedItem("active").checked,
      };
      if ((body.burst_count === null) !== (body.burst_minutes === null)) {
        flash(texts.burst_pair, true);
        return;
      }
      send(form, "PUT", body, () => texts.saved);
    });
  });

  const redeem = document.getElementById("redeem-form");
  if (redeem) {
    redeem.addEventListener("submit", (event) => {
      event.preventDefault();
      const body = { points: number(redeem, "points"), reference: text(redeem, "reference") };
      body[text(redeem, "by") === "phone" ? "phone" : "username"] = text(redeem, "who");
      if (text(redeem, "note")) body.note = text(redeem, "note");
      send(redeem, "POST", body, (answer) => `${texts.redeemed} ${answer.balance}`);
    });
  }
})();
