// The renovation-filing pages: like forms.js, each form sends the JSON body its API route documents
// (data-url; the session's CSRF token through window.jiaojie.api), files go as multipart to the
// documents and inspection-photo routes; a refused request shows the API's message (e.g. 415 for a
// file that is not a PDF or an image, 413 for one too large).
"use strict";
(function () {
  const { api, flash, texts } = window.jiaojie;
  const pageTexts = JSON.parse((document.getElementById("filing-texts") || {}).textContent || "{}");

  function value(form, name) {
    const field = form.elements.namedItem(name);
    return field ? String(field.value).trim() : "";
  }

  function filingBody(form) {
    return {
      compound_id: Number(value(form, "compound_id")),
      flat: { building: value(form, "building"), unit: value(form, "unit"), room: value(form, "room") },
      owner: { name: value(form, "owner_name"), phone: value(form, "owner_phone") },
      contractor: { name: value(form, "contractor_name"), qualification: value(form, "contractor_qualification") },
      planned_start: value(form, "planned_start"),
      planned_end: value(form, "planned_end"),
      waste_plan: { hauler: value(form, "waste_hauler"), schedule: value(form, "waste_schedule"), destination: value(form, "waste_destination") },
      description: value(form, "description"),
    };
  }

  const BODIES = {
    note(form) { return { note: value(form, "note") }; },
    return(form) { return { reasons: value(form, "reasons").split("\n").map((r) => r.trim()).filter((r) => r) }; },
    resubmit(form) {
      const body = filingBody(form);
      const out = {
        contractor: body.contractor, planned_start: body.planned_start, planned_end: body.planned_end,
        waste_plan: body.waste_plan, description: body.description, note: value(form, "note"),
      };
      if (body.owner.name || body.owner.phone) out.owner = body.owner; // blank: the owner stays
      return out;
    },
  };

  function files(form, name) {
    const input = form.querySelector(`input[type=file][name="${name}"]`);
    return input ? Array.from(input.files) : [];
  }

  // Files as multipart (`part`: the API's file field), with the form's other fields named in `extra`.
  function upload(url, part, chosen, extra) {
    const body = new FormData();
    Object.entries(extra || {}).forEach(([key, v]) => body.append(key, v));
    chosen.forEach((file) => body.append(part, file));
    return api("POST", url, body);
  }

  function guard(form, work) {
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const button = form.querySelector('button[type="submit"]');
      if (button) button.disabled = true;
      try {
        await work();
      } catch (e) {
        flash(e.message, true);
      } finally {
        if (button) button.disabled = false;
      }
    });
  }

  // The filing actions (accept, return, resubmit, start, close): the JSON body, then the page reloads.
  document.querySelectorAll("form.filing-form").forEach((form) => {
    guard(form, async () => {
      await api("POST", form.dataset.url, BODIES[form.dataset.kind](form));
      flash(texts.done || "done");
      window.location.reload();
    });
  });

  // Documents and inspection photos on the filing's page.
  document.querySelectorAll("form.upload-form").forEach((form) => {
    guard(form, async () => {
      const extra = form.elements.namedItem("purpose") ? { purpose: value(form, "purpose") } : {};
      await upload(form.dataset.url, form.dataset.part, files(form, form.dataset.part), extra);
      flash(texts.done || "done");
      window.location.reload();
    });
  });

  // A new filing: file it, then upload its documents. A refused file leaves the filing filed: the form
  // then only uploads documents to it until they pass, and the filing's page is linked.
  const filingForm = document.getElementById("filing-form");
  if (filingForm) {
    const filed = document.getElementById("filed");
    guard(filingForm, async () => {
      let id = filingForm.dataset.filing;
      if (!id) {
        const filing = await api("POST", filingForm.dataset.url, filingBody(filingForm));
        id = String(filing.id);
        filingForm.dataset.filing = id;
        filingForm.querySelectorAll("fieldset.group, .row2, select[name=compound_id], textarea").forEach((el) => {
          if (!el.closest(".documents-group")) el.setAttribute("disabled", "");
        });
        const link = document.createElement("a");
        link.href = `/filings/${id}`;
        link.textContent = filing.number;
        filed.replaceChildren(pageTexts.filed || "", " ", link);
        filed.hidden = false;
      }
      const chosen = files(filingForm, "documents");
      if (chosen.length) {
        await upload(`${filingForm.dataset.url}/${id}/documents`, "documents", chosen, { purpose: value(filingForm, "purpose") });
      }
      window.location.assign(`/filings/${id}`);
    });
  }

  // The inspection form: the violation is asked for a failed check; photos follow the recorded check.
  const inspection = document.getElementById("inspection-form");
  if (inspection) {
    const violation = document.getElementById("violation");
    inspection.querySelectorAll("input[name=result]").forEach((radio) => {
      radio.addEventListener("change", () => { violation.hidden = inspection.elements.result.value !== "fail"; });
    });
    guard(inspection, async () => {
      const body = { kind: value(inspection, "kind"), result: inspection.elements.result.value, notes: value(inspection, "notes") };
      if (body.result === "fail") body.violation = value(inspection, "violation");
      const recorded = await api("POST", inspection.dataset.url, body);
      const chosen = files(inspection, "photos");
      if (chosen.length) {
        try {
          await upload(inspection.dataset.photos.replace("{id}", recorded.id), "photos", chosen);
        } catch (e) {
          flash(`${pageTexts.recorded_without_photos || ""} ${e.message}`, true);
          return;
        }
      }
      flash(texts.done || "done");
      window.location.reload();
    });
  }
})();
