// The alert review page (/alerts): confirm → POST /api/v1/alerts/{id}/confirm, then the case page it
// opened or joined; dismiss → POST /api/v1/alerts/{id}/dismiss with the reason (required), then the alert
// leaves the queue. A refusal (4xx) is shown with the API's message.
"use strict";
(function () {
  const list = document.getElementById("alerts");
  if (!list) return;
  const { api, flash } = window.jiaojie;
  const texts = JSON.parse(document.getElementById("alert-texts").textContent);

  function failed(e, button) {
    flash(e.status === 409 ? texts.not_pending + "\n" + e.message : e.message, true);
    if (button) button.disabled = false;
  }

  function leaveQueue(card) {
    card.remove();
    const pending = document.getElementById("count-pending_review");
    if (pending) pending.textContent = String(Math.max(0, Number(pending.textContent) - 1));
    const dismissed = document.getElementById("count-dismissed");
    if (dismissed) dismissed.textContent = String(Number(dismissed.textContent) + 1);
    if (!list.querySelector("article")) flash(texts.dismissed + " · " + texts.empty);
  }

  list.querySelectorAll("button.alert-confirm").forEach((button) => {
    button.addEventListener("click", async () => {
      button.disabled = true;
      try {
        const alert = await api("POST", `/api/v1/alerts/${button.dataset.alert}/confirm`);
        flash(`${texts.confirmed} ${alert.case_number || ""}`);
        window.location.assign(`/cases/${alert.case_id}`);
      } catch (e) {
        failed(e, button);
      }
    });
  });

  list.querySelectorAll("form.alert-dismiss").forEach((form) => {
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const input = form.elements.namedItem("reason");
      const reason = String(input.value).trim();
      input.setAttribute("aria-invalid", reason ? "false" : "true");
      if (!reason) {
        flash(texts.reason_required, true);
        input.focus();
        return;
      }
      const button = form.querySelector('button[type="submit"]');
      button.disabled = true;
      try {
        await api("POST", `/api/v1/alerts/${form.dataset.alert}/dismiss`, { reason });
        flash(texts.dismissed);
        leaveQueue(form.closest("article"));
      } catch (e) {
        failed(e, button);
      }
    });
  });
})();
