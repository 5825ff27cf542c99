// The web app's one script of its own (no inline scripts: the pages' CSP forbids them).
// htmx requests carry the page's CSRF token, as the forms do in their "csrf" field.
document.addEventListener("htmx:configRequest", function (event) {
  var meta = document.querySelector('meta[name="csrf-token"]');
  if (meta) { event.detail.headers["X-CSRF-Token"] = meta.content; }
});
// A form marked data-confirm asks first (submitting a ballot, closing a jury).
document.addEventListener("submit", function (event) {
  var message = event.target.getAttribute && event.target.getAttribute("data-confirm");
  if (message && !window.confirm(message)) { event.preventDefault(); }
}, true);
