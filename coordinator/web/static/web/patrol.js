// The patroller's page: the phone's GPS (or the chosen hotspot's position), a check posted as multipart
// to the patrol-check API (the check as JSON in `check`, photos in `photos`); the answer is shown at
// once: the hotspot's last-checked time, and the check at the top of "my recent checks" with its case.
"use strict";
(function () {
  const form = document.getElementById("patrol-form");
  if (!form) return;
  const texts = JSON.parse(document.getElementById("patrol-texts").textContent);
  const status = document.getElementById("gps-status");
  const finding = document.getElementById("finding");
  const hotspotSelect = document.getElementById("check-hotspot");
  let fix = null;

  if (navigator.geolocation) {
    navigator.geolocation.getCurrentPosition(
      (position) => {
        fix = { lon: position.coords.longitude, lat: position.coords.latitude, accuracy_m: position.coords.accuracy };
        status.textContent = `GPS ${fix.lat.toFixed(5)}, ${fix.lon.toFixed(5)} (±${Math.round(fix.accuracy_m)} m)`;
      },
      () => { status.textContent = status.dataset.none; },
      { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 },
    );
  } else {
    status.textContent = status.dataset.none;
  }

  form.querySelectorAll("input[name=outcome]").forEach((radio) => {
    radio.addEventListener("change", () => { finding.hidden = form.elements.outcome.value !== "found"; });
  });
  document.querySelectorAll("button.check-here").forEach((button) => {
    button.addEventListener("click", () => {
      hotspotSelect.value = button.dataset.hotspot;
      form.scrollIntoView({ block: "start" });
    });
  });

  function pad(n) { return String(n).padStart(2, "0"); }
  function localTime(iso) {
    const d = new Date(iso);
    return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
  }

  function show(check) {
    const list = document.getElementById("my-checks");
    const empty = list.querySelector(".empty");
    if (empty) empty.remove();
    const item = document.createElement("li");
    item.className = `check outcome-${check.outcome}`;
    item.dataset.check = check.id;
    const time = document.createElement("time");
    time.textContent = localTime(check.checked_at);
    const where = document.createElement("span");
    where.className = "where";
    const option = check.hotspot_id ? hotspotSelect.querySelector(`option[value="${check.hotspot_id}"]`) : null;
    where.textContent = option ? option.textContent : texts.here;
    const badge = document.createElement("span");
    badge.className = "badge";
    badge.textContent = texts[check.outcome];
    item.append(time, " ", where, " ", badge);
    if (check.case_number) {
      const number = document.createElement("span");
      number.className = "case-number";
      number.textContent = ` ${texts.case} ${check.case_number} · ${texts.statuses[check.case_status] || check.case_status}`;
      item.append(" ", number);
    }
    if (check.note) {
      const note = document.createElement("p");
      note.className = "description";
      note.textContent = check.note;
      item.append(note);
    }
    list.prepend(item);
    if (check.hotspot_id) {
      const last = document.querySelector(`li.hotspot[data-hotspot="${check.hotspot_id}"] .last-checked`);
      if (last) last.textContent = localTime(check.checked_at);
    }
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const fields = new FormData(form);
    const option = hotspotSelect.selectedOptions[0];
    let position = fix;
    if (!position && option && option.value) {
      position = { lon: Number(option.dataset.lon), lat: Number(option.dataset.lat) };
    }
    if (!position) { window.jiaojie.flash(texts.no_position, true); return; }
    const check = {
      lon: position.lon,
      lat: position.lat,
      crs: "wgs84", // the phone's GPS
      checked_at: new Date().toISOString(),
      outcome: fields.get("outcome"),
    };
    if (position.accuracy_m !== undefined) check.accuracy_m = position.accuracy_m;
    if (option && option.value) check.hotspot_id = Number(option.value);
    if (check.outcome === "found") check.category = fields.get("category");
    const note = String(fields.get("note") || "").trim();
    if (note) check.note = note;
    const body = new FormData();
    body.append("check", JSON.stringify(check));
    Array.from(form.querySelector("input[type=file]").files).forEach((file) => body.append("photos", file));
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      const answer = await window.jiaojie.api("POST", form.dataset.url, body);
      show(answer);
      window.jiaojie.flash(answer.case_number ? `${texts.recorded}: ${texts.case} ${answer.case_number}` : texts.recorded);
      form.elements.note.value = "";
      form.querySelector("input[type=file]").value = "";
    } catch (e) {
      window.jiaojie.flash(e.message, true);
    } finally {
      button.disabled = false;
    }
  });
})();
