// 交界协同 web app: the compounds page (小区登记). One form registers a compound
// (POST /api/v1/compounds, a GeoJSON Point from the map's pin or the typed longitude/latitude) or edits
// the one chosen in the list (PATCH /api/v1/compounds/{id}: the fields, the point only when it was moved —
// a compound's outline stays otherwise — and the managers); a row's 停用 retires the compound after a
// confirmation (POST …/retire). A refusal stays on the page in words; success reloads the list.
"use strict";
(function () {
  const { api, flash } = window.jiaojie;
  const form = document.getElementById("compound-form");
  if (!form) return;
  const texts = JSON.parse(document.getElementById("compound-texts").textContent);
  const compounds = JSON.parse(document.getElementById("compound-data").textContent);
  const title = document.getElementById("compound-form-title");
  const cancel = document.getElementById("compound-cancel");
  const kept = document.getElementById("outline-kept");
  const KEY = "jiaojie.compound-flash";
  let editing = null; // the compound being edited, or null: a new one

  const done = window.sessionStorage.getItem(KEY);
  if (done) {
    window.sessionStorage.removeItem(KEY);
    flash(done);
  }

  function field(name) { return form.elements.namedItem(name); }
  function managerBoxes() { return Array.from(form.querySelectorAll("input[name=managers]")); }
  function point() {
    const lon = String(field("lon").value).trim(), lat = String(field("lat").value).trim();
    if (lon === "" || lat === "" || !Number.isFinite(Number(lon)) || !Number.isFinite(Number(lat))) return null;
    return [Number(lon), Number(lat)];
  }

  function startEditing(compound) {
    editing = compound;
    title.textContent = `${texts.edit}: ${compound.name}`;
    field("name").value = compound.name;
    field("address").value = compound.address;
    managerBoxes().forEach((box) => { box.checked = compound.managers.includes(box.value); });
    window.jiaojie.pin.clear();
    window.jiaojie.pin.outline(compound.geometry.type === "Polygon" ? compound.geometry : null);
    window.jiaojie.pin.place(compound.lat, compound.lon);
    kept.hidden = compound.geometry.type !== "Polygon";
    cancel.hidden = false;
    form.dataset.id = String(compound.id);
    form.scrollIntoView({ block: "start" });
  }

  function startOver() {
    editing = null;
    form.reset();
    delete form.dataset.id;
    title.textContent = texts.new;
    window.jiaojie.pin.clear();
    kept.hidden = true;
    cancel.hidden = true;
  }

  document.querySelectorAll("button.edit-compound").forEach((button) => {
    button.addEventListener("click", () => {
      const compound = compounds.find((c) => String(c.id) === button.dataset.compound);
      if (compound) startEditing(compound);
    });
  });
  cancel.addEventListener("click", startOver);

  document.querySelectorAll("button.retire-compound").forEach((button) => {
    button.addEventListener("click", async () => {
      const compound = compounds.find((c) => String(c.id) === button.dataset.compound);
      if (!compound || !window.confirm(texts.retire_confirm.replace("{name}", compound.name))) return;
      button.disabled = true;
      try {
        await api("POST", `${form.dataset.url}/${compound.id}/retire`);
        window.sessionStorage.setItem(KEY, texts.retired);
        window.location.reload();
      } catch (e) {
        const filings = (e.details && e.details.filings) || [];
        flash(filings.length ? `${refusal(e)}: ${filings.join(", ")}` : refusal(e), true);
        button.disabled = false;
      }
    });
  });

  function refusal(e) {
    if (e.status === 403) return texts.forbidden;
    return texts[e.code] || e.message;
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const at = point();
    const body = {
      name: String(field("name").value).trim(),
      address: String(field("address").value).trim(),
      managers: managerBoxes().filter((box) => box.checked).map((box) => box.value),
    };
    if (editing) {
      // The point only when it moved: an unchanged pin keeps the compound's outline (polygon).
      const moved = at && (Math.abs(at[0] - editing.lon) > 1e-6 || Math.abs(at[1] - editing.lat) > 1e-6);
      if (moved) body.geometry = { type: "Point", coordinates: at };
    } else {
      if (!at) { flash(texts.no_point, true); return; }
      body.geometry = { type: "Point", coordinates: at };
    }
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      if (editing) await api("PATCH", `${form.dataset.url}/${editing.id}`, body);
      else await api("POST", form.dataset.url, body);
      window.sessionStorage.setItem(KEY, editing ? texts.saved : texts.created);
      window.location.reload();
    } catch (e) {
      flash(refusal(e), true);
      button.disabled = false;
    }
  });
})();
