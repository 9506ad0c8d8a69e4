"use strict";
function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
  for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return node;
}
function resolve(spec, schema) {
  if (schema && schema.$ref) return spec.components.schemas[schema.$ref.split("/").pop()] || schema;
  return schema;
}
function typeOf(schema) {
  if (!schema) return "";
  if (schema.$ref) return schema.$ref.split("/").pop();
  if (schema.anyOf) return schema.anyOf.map(typeOf).join(" | ");
  if (schema.enum) return schema.enum.join(" | ");
  if (schema.type === "array") return typeOf(schema.items) + "[]";
  return schema.type || "";
}
fetch("/api/openapi.json").then(r => r.json()).then(spec => {
  document.getElementById("title").textContent = spec.info.title + " " + spec.info.version;
  document.getElementById("desc").textContent = spec.info.description;
  const byTag = {};
  for (const [path, methods] of Object.entries(spec.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      (byTag[(op.tags || ["other"])[0]] ||= []).push([path, method, op]);
    }
  }
  const root = document.getElementById("ops");
  root.textContent = "";
  for (const [tag, ops] of Object.entries(byTag)) {
    root.append(el("h2", {}, tag));
    for (const [path, method, op] of ops) {
      const body = el("div", {class: "body"});
      if (op.description) body.append(el("p", {}, op.description));
      if (op.parameters && op.parameters.length) {
        const table = el("table", {}, el("tr", {}, el("th", {}, "parameter"), el("th", {}, "in"),
          el("th", {}, "type"), el("th", {}, "required"), el("th", {}, "description")));
        for (const p of op.parameters) {
          table.append(el("tr", {}, el("td", {}, p.name), el("td", {}, p.in), el("td", {}, typeOf(p.schema)),
            el("td", {}, p.required ? "yes" : ""), el("td", {}, p.description || "")));
        }
        body.append(table);
      }
      if (op.requestBody) {
        const schema = op.requestBody.content["application/json"].schema;
        body.append(el("p", {}, "Request body:"), el("pre", {}, JSON.stringify(resolve(spec, schema), null, 2)));
      }
      for (const [status, resp] of Object.entries(op.responses)) {
        const content = resp.content ? Object.entries(resp.content)[0] : null;
        body.append(el("p", {}, `${status} — ${resp.description}` + (content ? ` (${content[0]}, ${typeOf(content[1].schema)})` : "")));
      }
      root.append(el("details", {}, el("summary", {}, el("span", {class: "m " + method}, method.toUpperCase()), " ", path, " — ", op.summary), body));
    }
  }
  const schemas = el("details", {}, el("summary", {}, "Schemas"), el("pre", {class: "body"}, JSON.stringify(spec.components.schemas, null, 2)));
  root.append(el("h2", {}, "schemas"), schemas);
}).catch(err => { document.getElementById("ops").textContent = "无法加载 OpenAPI 文档: " + err; });
