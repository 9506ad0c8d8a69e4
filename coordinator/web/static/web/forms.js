// 交界协同 web app: the edit forms of the meeting and roster pages. Each form.api-form sends its fields as
// the JSON body its API route documents (data-method, data-url), then the page reloads.
"use strict";
(function () {
  const { api, flash, texts } = window.jiaojie;

  function value(form, name) {
    const field = form.elements.namedItem(name);
    return field ? String(field.value).trim() : "";
  }

  const BODIES = {
    agenda(form) {
      const items = [];
      form.querySelectorAll(".agenda-row").forEach((row) => {
        const title = String(row.querySelector('[name="title"]').value).trim();
        if (!title) return;
        const item = { title, detail: String(row.querySelector('[name="detail"]').value) };
        if (row.dataset.id) item.id = Number(row.dataset.id);
        items.push(item);
      });
      return { items };
    },
    minutes(form) {
      const decisions = value(form, "decisions").split("\n").map((d) => d.trim()).filter((d) => d);
      return { minutes: value(form, "minutes"), decisions };
    },
    action_item(form) {
      const body = { title: value(form, "title"), owner_district: value(form, "owner_district"), due_date: value(form, "due_date") };
      const numbers = value(form, "case_numbers").split(/[,，、\s]+/).filter((n) => n);
      if (numbers.length) body.case_numbers = numbers;
      return body;
    },
    move_shift(form) {
      const body = {};
      ["night", "squad_a", "squad_b"].forEach((name) => { if (value(form, name)) body[name] = value(form, name); });
      return body;
    },
  };

  function url(form) {
    const shift = form.elements.namedItem("shift");
    return form.dataset.url.replace("{shift}", shift ? encodeURIComponent(shift.value) : "");
  }

  document.querySelectorAll("form.api-form").forEach((form) => {
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const button = form.querySelector('button[type="submit"]');
      if (button) button.disabled = true;
      try {
        await api(form.dataset.method, url(form), BODIES[form.dataset.kind](form));
        flash(texts.done || "done");
        window.location.reload();
      } catch (e) {
        // A refused roster change names each broken rule, its squads and nights: show them.
        const violations = (e.details && e.details.violations) || [];
        const reasons = violations.map((v) => [v.message, (v.squads || []).map((q) => q.name).join("、"), (v.nights || []).join("、")].filter((x) => x).join(" · "));
        flash([e.message, ...reasons].join("\n"), true);
        if (button) button.disabled = false;
      }
    });
  });
})();
