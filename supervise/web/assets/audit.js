// supervise cluster console: the audit trail, shown to admins only (the server answers
// api/audit with 403 to anyone else). Refreshed every few seconds while the page is open.
"use strict";

(() => {
  const body = document.body.dataset;
  if (body.mode !== "cluster" || body.role !== "admin") return;
  const section = document.getElementById("audit");
  const rows = document.querySelector("#audittable tbody");
  section.hidden = false;

  function cell(tr, text) {
    const td = document.createElement("td");
    td.textContent = text;
    tr.appendChild(td);
  }

  async function refresh() {
    try {
      const answer = await fetch("api/audit?count=200", { cache: "no-store" });
      if (!answer.ok) return;
      const { entries } = await answer.json();
      const fresh = document.createDocumentFragment();
      for (const entry of entries.slice().reverse()) {
        const tr = document.createElement("tr");
        tr.className = entry.result === "ok" ? "audit-ok" : "audit-bad";
        cell(tr, new Date(entry.time * 1000).toLocaleTimeString());
        cell(tr, entry.node);
        cell(tr, entry.who);
        cell(tr, entry.where);
        cell(tr, entry.door);
        cell(tr, `${entry.action} ${entry.targets.join(" ")}`);
        cell(tr, entry.result);
        fresh.appendChild(tr);
      }
      rows.replaceChildren(fresh);
    } catch (problem) {
      // The next refresh tries again; the table keeps what it showed.
    }
  }

  refresh();
  setInterval(refresh, 2000);
})();
