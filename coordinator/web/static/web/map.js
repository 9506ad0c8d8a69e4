// Maps of the web app (Leaflet 1.9.4, vendored): the border map (/map), the case page's small map and
// the report form's pin. Data are WGS-84 GeoJSON from the API; the basemap is optional (config).
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

  async function addDistricts(map, fit) {
    const districts = await getJson("/api/v1/boundaries?level=district&member=true");
    const layer = L.geoJSON(districts, {
      style: { color: "#12355b", weight: 2, fillColor: "#dfe8f1", fillOpacity: 0.35 },
      onEachFeature: (feature, lyr) => {
        lyr.bindTooltip(text("span", feature.properties.name_zh || feature.properties.name || ""), { permanent: true, direction: "center", className: "district-label" });
      },
    }).addTo(map);
    if (fit) map.fitBounds(layer.getBounds());
    return layer;
  }

  async function addBorderZones(map) {
    const zones = await getJson("/api/v1/border-zones");
    return L.geoJSON(zones, { style: { color: "#e17055", weight: 1, fillColor: "#fab1a0", fillOpacity: 0.35 }, interactive: false }).addTo(map);
  }

  // Grid clustering in the browser, for when the server's cluster layer is not there: the same feature
  // shape as GET /api/v1/map/clusters (properties.cluster, count, status_counts).
  function clusterLocally(map, features) {
    const cell = 60; // px
    const cells = new Map();
    features.forEach((f) => {
      const p = map.project([f.geometry.coordinates[1], f.geometry.coordinates[0]]);
      const key = Math.floor(p.x / cell) + ":" + Math.floor(p.y / cell);
      if (!cells.has(key)) cells.set(key, []);
      cells.get(key).push(f);
    });
    const out = [];
    cells.forEach((group) => {
      if (group.length === 1 || map.getZoom() >= 16) { out.push(...group); return; }
      const counts = {};
      let lon = 0, lat = 0;
      group.forEach((f) => { counts[f.properties.status] = (counts[f.properties.status] || 0) + 1; lon += f.geometry.coordinates[0]; lat += f.geometry.coordinates[1]; });
      out.push({ type: "Feature", geometry: { type: "Point", coordinates: [lon / group.length, lat / group.length] }, properties: { cluster: true, count: group.length, status_counts: counts } });
    });
    return out;
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
        L.marker([lat, lon], { icon, title: count + " " + config.texts.cases })
          .on("click", () => map.setView([lat, lon], Math.min(map.getZoom() + 2, 18)))
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

  async function loadCases(map, layer, form) {
    const b = map.getBounds();
    const bbox = [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map((v) => v.toFixed(5)).join(",");
    const f = filters(form);
    const params = new URLSearchParams();
    let features;
    if (config.clusters) {
      params.set("bbox", bbox);
      params.set("zoom", String(map.getZoom()));
      Object.entries(f).forEach(([k, v]) => { if (v) params.set(k, v); });
      features = (await getJson("/api/v1/map/clusters?" + params)).features;
    } else {
      params.set("format", "geojson");
      params.set("bbox", bbox);
      params.set("per_page", "500");
      if (f.category) params.set("category", f.category);
      if (f.status) params.set("status", f.status);
      if (f.since) params.set("created_from", f.since + "T00:00:00+08:00");
      if (f.until) params.set("created_to", f.until + "T23:59:59+08:00");
      let raw = (await getJson("/api/v1/cases?" + params)).features;
      if (f.border) {
        const pair = f.border.split("-");
        raw = raw.filter((x) => x.properties.border_pair && pair.every((c) => x.properties.border_pair.includes(c)));
      }
      features = clusterLocally(map, raw);
    }
    drawCases(map, layer, features);
    document.getElementById("map").dataset.cases = String(features.length);
  }

  async function borderMap() {
    const map = baseMap("map");
    map.setView(CENTER, 10);
    const cases = L.layerGroup().addTo(map);
    const form = document.getElementById("map-filters");
    await addDistricts(map, true);
    await addBorderZones(map);
    const reload = () => loadCases(map, cases, form).catch((e) => window.jiaojie.flash(e.message, true));
    map.on("moveend", reload);
    form.addEventListener("change", reload);
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
      else marker = L.circleMarker(latlng, { radius: 9, color: "#fff", weight: 2, fillColor: "#c0392b", fillOpacity: 1 }).addTo(map);
      if (zoom) map.setView(latlng, 16);
      lon.dispatchEvent(new Event("change", { bubbles: true }));
    }
    map.on("click", (e) => place(e.latlng, false));
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

  if (document.getElementById("map")) borderMap().catch((e) => window.jiaojie.flash(e.message, true));
  const minimap = document.getElementById("case-map");
  if (minimap) caseMap(minimap).catch(() => {});
  const pin = document.getElementById("report-map");
  if (pin) pinMap(pin);
})();
