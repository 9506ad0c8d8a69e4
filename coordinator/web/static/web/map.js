// Maps of the web app (Leaflet 1.9.4, vendored): the border map (/map), the case page's small map, the
// pin of the report form and of the compound form (/compounds), and the committee dashboard's hotspot map. Data are WGS-84 GeoJSON from the API; the basemap is optional (config).
// When the view changes while a case layer is loading, only the newest answer is drawn.
"use strict";
(function () {
  const COLORS = {
    reported: "#7f8c8d", routed: "#2e86de", claimed: "#8e44ad", in_progress: "#e67e22",
    resolved: "#27ae60", verified: "#16a085", closed: "#34495e", void: "#b2bec3",
  };
  const CENTER = [30.85, 121.4];
  const configNode = document.getElementById("map-config");
  const config = configNode ? JSON.parse(configNode.textContent) : {};

  function baseMap(id, options) {
    const map = L.map(id, Object.assign({ zoomControl: true, zoomSnap: 0.25 }, options || {}));
    map.attributionControl.setPrefix("Leaflet");
    const basemap = config.basemap;
    if (basemap) {
      basemap.layers.forEach((url) => L.tileLayer(url, { subdomains: "01234567", maxZoom: 18, attribution: basemap.attribution }).addTo(map));
    }
    L.control.scale({ imperial: false }).addTo(map);
    return map;
  }

  function text(tag, value, className) {
    const el = document.createElement(tag);
    el.textContent = value;
    if (className) el.className = className;
    return el;
  }

  async function getJson(url) {
    const response = await fetch(url, { headers: { Accept: "application/geo+json, application/json" }, credentials: "same-origin" });
    if (!response.ok) throw new Error(url + ": " + response.status);
    return response.json();
  }

  async function addDistricts(map, fit, style) {
    const districts = await getJson("/api/v1/boundaries?level=district&member=true");
    const layer = L.geoJSON(districts, {
      style: style || { color: "#12355b", weight: 2, fillColor: "#dfe8f1", fillOpacity: 0.35 },
      onEachFeature: (feature, lyr) => {
        lyr.bindTooltip(text("span", feature.properties.name_zh || feature.properties.name || ""), { permanent: true, direction: "center", className: "district-label" });
      },
    }).addTo(map);
    if (fit) map.fitBounds(layer.getBounds());
    return layer;
  }

  async function addBorderZones(map, style) {
    const zones = await getJson("/api/v1/border-zones");
    return L.geoJSON(zones, { style: style || { color: "#e17055", weight: 1, fillColor: "#fab1a0", fillOpacity: 0.35 }, interactive: false }).addTo(map);
  }

  function showCard(props) {
    const card = document.getElementById("case-card");
    if (!card) return;
    card.replaceChildren();
    const head = document.createElement("p");
    const link = text("a", props.number, "number");
    link.href = "/cases/" + props.id;
    head.append(link, " ", text("span", config.statuses[props.status] || props.status, "badge status-" + props.status));
    card.append(head, text("p", props.category_name + (props.district ? " · " + props.district.name : "")));
    if (props.lead_squad) card.append(text("p", config.texts.lead + ": " + props.lead_squad.name));
    if (props.resolve_by) card.append(text("p", config.texts.deadline + ": " + props.resolve_by.slice(0, 16).replace("T", " ")));
    if (props.in_border_zone) card.append(text("p", config.texts.border_zone + (props.border_pair ? ": " + props.border_pair.join("–") : ""), "muted"));
    const open = text("a", config.texts.open_case, "button primary");
    open.href = "/cases/" + props.id;
    card.append(open);
    card.hidden = false;
  }

  function drawCases(map, layer, features) {
    layer.clearLayers();
    features.forEach((f) => {
      const [lon, lat] = f.geometry.coordinates;
      if (f.properties.cluster) {
        const count = Number(f.properties.count) || 0;
        const size = 28 + Math.min(24, Math.round(Math.log10(count + 1) * 10));
        const icon = L.divIcon({ className: "cluster-icon", html: String(count), iconSize: [size, size] });
        const cell = f.properties.cell; // west, south, east, north: zoom to it to split the cluster
        L.marker([lat, lon], { icon, title: count + " " + config.texts.cases })
          .on("click", () => (cell ? map.fitBounds([[cell[1], cell[0]], [cell[3], cell[2]]]) : map.setView([lat, lon], map.getZoom() + 2)))
          .addTo(layer);
      } else {
        L.circleMarker([lat, lon], { radius: 8, color: "#fff", weight: 2, fillColor: COLORS[f.properties.status] || "#555", fillOpacity: 0.95 })
          .on("click", () => showCard(f.properties))
          .addTo(layer);
      }
    });
  }

  function filters(form) {
    const data = new FormData(form);
    return { category: data.get("category"), status: data.get("status"), since: data.get("since"), until: data.get("until"), border: data.get("border") };
  }

  // The case layer of the view: GET /api/v1/map/clusters (server-side clusters, single cases when
  // zoomed in), with the form's filters.
  let latest = 0;
  async function loadCases(map, layer, form) {
    const mine = ++latest;
    const b = map.getBounds();
    const clamp = (v, lo, hi) => Math.min(hi, Math.max(lo, v));
    const bbox = [clamp(b.getWest(), -180, 180), clamp(b.getSouth(), -85, 85), clamp(b.getEast(), -180, 180), clamp(b.getNorth(), -85, 85)]
      .map((v) => v.toFixed(5)).join(",");
    const f = filters(form);
    const params = new URLSearchParams({ bbox, zoom: String(Math.floor(map.getZoom())) });
    if (f.category) params.set("category", f.category);
    if (f.status) params.set("status", f.status);
    if (f.since) params.set("since", f.since + "T00:00:00+08:00");
    if (f.until) params.set("until", f.until + "T23:59:59+08:00");
    if (f.border) params.set("border", f.border);
    const answer = await getJson("/api/v1/map/clusters?" + params);
    if (mine !== latest) return; // the view moved on while this answer was on its way
    drawCases(map, layer, answer.features);
    const el = document.getElementById("map");
    el.dataset.cases = String(answer.total);
    el.dataset.mode = answer.mode;
  }

  // The view in the address: #zoom/lat/lon (shareable; kept up to date while the map moves).
  function viewFromHash() {
    const m = /^#(\d{1,2}(?:\.\d+)?)\/(-?\d+(?:\.\d+)?)\/(-?\d+(?:\.\d+)?)$/.exec(window.location.hash);
    return m ? { zoom: Number(m[1]), center: [Number(m[2]), Number(m[3])] } : null;
  }

  async function borderMap() {
    const map = baseMap("map");
    const view = viewFromHash();
    map.setView(view ? view.center : CENTER, view ? view.zoom : 10);
    const cases = L.layerGroup().addTo(map);
    const form = document.getElementById("map-filters");
    await addDistricts(map, !view);
    await addBorderZones(map);
    const reload = () => loadCases(map, cases, form).catch((e) => window.jiaojie.flash(e.message, true));
    map.on("moveend", () => {
      const c = map.getCenter();
      history.replaceState(null, "", `#${map.getZoom()}/${c.lat.toFixed(5)}/${c.lng.toFixed(5)}`);
      reload();
    });
    form.addEventListener("change", reload);
    window.addEventListener("hashchange", () => {
      const next = viewFromHash();
      if (next) map.setView(next.center, next.zoom);
    });
    await reload();
    document.getElementById("map").dataset.ready = "true";
  }

  async function caseMap(el) {
    const lat = Number(el.dataset.lat), lon = Number(el.dataset.lon);
    const map = baseMap(el.id);
    map.setView([lat, lon], 14);
    await addDistricts(map, false);
    L.circleMarker([lat, lon], { radius: 9, color: "#fff", weight: 2, fillColor: "#c0392b", fillOpacity: 1 }).addTo(map);
    el.dataset.ready = "true";
  }

  const PIN = { radius: 9, color: "#fff", weight: 2, fillColor: "#c0392b", fillOpacity: 1, className: "pin-marker" };

  function pinMap(el) {
    const map = baseMap(el.id);
    map.setView(CENTER, 10);
    addDistricts(map, true).catch(() => {});
    const lon = document.getElementById("lon"), lat = document.getElementById("lat");
    let marker = null;
    function place(latlng, zoom) {
      lat.value = latlng.lat.toFixed(6);
      lon.value = latlng.lng.toFixed(6);
      if (marker) marker.setLatLng(latlng);
      else marker = L.circleMarker(latlng, PIN).addTo(map);
      if (zoom) map.setView(latlng, 16);
      lon.dispatchEvent(new Event("change", { bubbles: true }));
    }
    map.on("click", (e) => place(e.latlng, false));
    // Typed coordinates (the compound form's fields are not read-only) move the pin too.
    function typed() {
      const a = Number(lat.value), o = Number(lon.value);
      if (lat.value.trim() === "" || lon.value.trim() === "" || !(Math.abs(a) <= 90 && Math.abs(o) <= 180)) return;
      const latlng = L.latLng(a, o);
      if (marker) marker.setLatLng(latlng);
      else marker = L.circleMarker(latlng, PIN).addTo(map);
    }
    if (!lon.readOnly) { lon.addEventListener("input", typed); lat.addEventListener("input", typed); }
    // For other scripts (the compound form): put the pin, draw an outline, start over.
    let outline = null;
    window.jiaojie.pin = {
      place: (a, o) => place(L.latLng(a, o), true),
      outline: (geometry) => {
        if (outline) outline.remove();
        outline = geometry ? L.geoJSON(geometry, { style: { color: "#c0392b", weight: 2, fillOpacity: 0.1 }, interactive: false }).addTo(map) : null;
      },
      clear: () => {
        if (marker) marker.remove();
        if (outline) outline.remove();
        marker = outline = null;
        lon.value = lat.value = "";
      },
    };
    const gps = document.getElementById("use-gps");
    if (gps) {
      gps.addEventListener("click", () => {
        if (!navigator.geolocation) return;
        navigator.geolocation.getCurrentPosition(
          (pos) => place(L.latLng(pos.coords.latitude, pos.coords.longitude), true),
          () => window.jiaojie.flash(gps.dataset.failed, true),
          { enableHighAccuracy: true, timeout: 15000 },
        );
      });
    }
    el.dataset.ready = "true";
  }

  // The committee dashboard's hotspot map: the hotspots of the page's period and border pair (in the
  // page's JSON), a circle each sized by its cases this period and coloured by its trend; districts and
  // border zones drawn lightly beneath.
  const TREND_COLORS = { rising: "#c0392b", flat: "#7f8c8d", falling: "#27ae60" };

  function hotspotPopup(h) {
    const box = document.createElement("div");
    box.className = "hotspot-popup";
    box.append(text("strong", h.name, "name"));
    box.append(text("p", h.kind + " · " + ((config.pairs || {})[h.border_pair] || h.border_pair) + (h.active ? "" : " · " + config.texts.retired), "muted"));
    box.append(text("p", config.texts.this_period + ": " + h.cases + " · " + config.texts.previous_period + ": " + h.previous));
    box.append(text("p", config.texts.trend + ": " + (config.trends[h.trend] || h.trend), "trend trend-" + h.trend));
    return box;
  }

  async function hotspotMap(el) {
    const map = baseMap(el.id);
    map.setView(CENTER, 10);
    const hotspots = config.hotspots || [];
    const layer = L.featureGroup();
    hotspots.forEach((h) => {
      const radius = Math.min(22, 5 + 3 * Math.sqrt(h.cases));
      const color = TREND_COLORS[h.trend] || TREND_COLORS.flat;
      L.circleMarker([h.lat, h.lon], { radius, color: "#fff", weight: 2, fillColor: color, fillOpacity: 0.85, className: "hotspot-marker trend-" + h.trend })
        .bindPopup(() => hotspotPopup(h))
        .addTo(layer);
    });
    await addDistricts(map, hotspots.length === 0, { color: "#12355b", weight: 1, fillColor: "#dfe8f1", fillOpacity: 0.15 });
    await addBorderZones(map, { color: "#e17055", weight: 1, opacity: 0.5, fillColor: "#fab1a0", fillOpacity: 0.2 });
    layer.addTo(map);
    // Not animated: the view is final when the map says it is ready (an animated fit starts on the next
    // frame and moves the circles under a click that came right after `data-ready`).
    if (hotspots.length) map.fitBounds(layer.getBounds(), { padding: [30, 30], maxZoom: 15, animate: false });
    el.dataset.markers = String(hotspots.length);
    el.dataset.ready = "true";
  }

  if (document.getElementById("map")) borderMap().catch((e) => window.jiaojie.flash(e.message, true));
  const minimap = document.getElementById("case-map");
  if (minimap) caseMap(minimap).catch(() => {});
  const pin = document.getElementById("report-map") || document.getElementById("compound-map");
  if (pin) pinMap(pin);
  const hotmap = document.getElementById("hotspot-map");
  if (hotmap) hotspotMap(hotmap).catch((e) => window.jiaojie.flash(e.message, true));
})();
