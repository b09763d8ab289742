// A tiny client-side router: every page path is rendered here; the server answers index.html for them.
const routes = [
  [/^\/$/, () => "<h1>Home</h1><p>Client-side routing with the History API.</p>"],
  [/^\/about$/, () => "<h1>About</h1><p>Served by speck's SPA fallback.</p>"],
  [/^\/users\/(\d+)$/, (id) => `<h1>User ${id}</h1><p>Deep links work after a reload.</p>`],
];

function render() {
  const path = location.pathname;
  for (const [pattern, view] of routes) {
    const match = pattern.exec(path);
    if (match) {
      document.getElementById("app").innerHTML = view(...match.slice(1));
      document.title = `speck SPA: ${path}`;
      return;
    }
  }
  document.getElementById("app").innerHTML = "<h1>Not found</h1>";
}

document.addEventListener("click", (event) => {
  const link = event.target.closest("a[data-link]");
  if (!link) return;
  event.preventDefault();
  history.pushState(null, "", link.getAttribute("href"));
  render();
});
addEventListener("popstate", render);
render();
