// A juror's panel (web/panels.py). A nominee's save or recusal answers htmx with the
// nominee's form again: swap it in when it was refused too (400, 403, 404, 409: the form says
// why), as long as the answer is that form (header X-Jury-Fragment). Any other failure (signed
// out, the server gone) leaves the form as typed and says so in it.
document.addEventListener("htmx:beforeSwap", function (event) {
  var xhr = event.detail.xhr;
  if (xhr.status >= 400 && xhr.getResponseHeader("X-Jury-Fragment") === "1") {
    event.detail.shouldSwap = true;
    event.detail.isError = false;
  }
});
function juryFailed(event) {
  var form = event.detail.elt;
  if (!form || !form.getAttribute) { return; }
  var xhr = event.detail.xhr;
  if (xhr && xhr.getResponseHeader && xhr.getResponseHeader("X-Jury-Fragment") === "1") { return; }
  var message = form.getAttribute("data-failed");
  var status = form.querySelector(".status");
  if (message && status) { status.textContent = message; status.className = "status error"; }
  else if (message) { window.alert(message); }
}
document.addEventListener("htmx:responseError", juryFailed);
document.addEventListener("htmx:sendError", juryFailed);
